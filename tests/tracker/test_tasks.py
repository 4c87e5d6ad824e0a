"""Escalation of unacknowledged urgent alerts, with controlled time."""
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail

from kneerehab.notifications.models import Notification
from tests.factories import PatientFactory, PhysiotherapistFactory, UserFactory
from tracker.models import Alert
from tracker.services import alert_acknowledge, alerts_escalate, checkin_create
from tracker.tasks import escalate_overdue_alerts

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(username="ward-lead", is_staff=True)


def raise_alert(patient, **flags) -> Alert:
    checkin, _ = checkin_create(patient=patient, data={"pain_at_rest": 2, "pain_during_activity": 2, **flags})
    return Alert.objects.get(checkin=checkin)


def escalations(user) -> list[Notification]:
    return list(Notification.objects.filter(recipient=user, kind="escalation"))


def test_escalation_runs_every_minute_from_beat():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"] == escalate_overdue_alerts.name)
    assert entry["schedule"] == 60.0


def test_the_default_wait_is_two_hours():
    assert settings.ALERT_ESCALATION_MINUTES == 120


def test_an_unacknowledged_urgent_alert_escalates_after_the_wait_once(patient, physio, staff, time_machine,
                                                                      django_capture_on_commit_callbacks):
    time_machine.move_to(T0, tick=False)
    alert = raise_alert(patient, fever=True)

    time_machine.move_to(T0 + timedelta(minutes=119), tick=False)
    assert escalate_overdue_alerts.delay().get() == 0
    assert not escalations(physio)

    time_machine.move_to(T0 + timedelta(minutes=120), tick=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert escalate_overdue_alerts.delay().get() == 1
    alert.refresh_from_db()
    assert alert.escalated_at == T0 + timedelta(minutes=120)
    assert alert.status == "open"
    [to_physio] = escalations(physio)
    [to_staff] = escalations(staff)
    assert to_physio.dedupe_key == to_staff.dedupe_key == f"escalation:{alert.pk}"
    assert "120 minutes" in to_physio.body
    assert patient.username in to_staff.title
    assert {m.to[0] for m in mail.outbox if "Not yet acknowledged" in m.subject} == {physio.email, staff.email}

    time_machine.move_to(T0 + timedelta(hours=5), tick=False)
    assert alerts_escalate() == 0  # already escalated
    assert len(escalations(physio)) == 1


def test_the_wait_is_a_setting(patient, physio, settings, time_machine):
    settings.ALERT_ESCALATION_MINUTES = 15
    time_machine.move_to(T0, tick=False)
    raise_alert(patient, cannot_bear_weight=True)
    time_machine.move_to(T0 + timedelta(minutes=15), tick=False)
    assert alerts_escalate() == 1


def test_acknowledged_see_clinician_and_inactive_staff_do_not_escalate(patient, physio, staff, time_machine):
    UserFactory(username="gone", is_staff=True, is_active=False)
    time_machine.move_to(T0, tick=False)
    acknowledged = raise_alert(patient, fever=True)
    raise_alert(patient, limits_daily_activities=True)  # see_clinician: lower priority, never escalates
    emergency = raise_alert(patient, trouble_breathing=True)
    time_machine.move_to(T0 + timedelta(minutes=30), tick=False)
    alert_acknowledge(alert=acknowledged, user=physio, outcome="called_patient")
    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    assert alerts_escalate() == 1
    assert Alert.objects.filter(escalated_at__isnull=False).get() == emergency
    assert [n.dedupe_key for n in escalations(staff)] == [f"escalation:{emergency.pk}"]
    assert not Notification.objects.filter(recipient__username="gone").exists()


def test_an_acknowledgement_by_another_physiotherapist_of_the_patient_stops_escalation(patient, physio,
                                                                                      time_machine):
    colleague = PhysiotherapistFactory()
    patient.physiotherapists.add(colleague)
    time_machine.move_to(T0, tick=False)
    checkin, _ = checkin_create(patient=patient, data={"pain_at_rest": 9, "pain_during_activity": 9})
    alert_acknowledge(alert=Alert.objects.get(checkin=checkin, physiotherapist=colleague), user=colleague,
                      outcome="called_patient")
    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    assert alerts_escalate() == 0


def test_a_staff_member_who_is_the_physiotherapist_is_told_once(time_machine):
    lead = PhysiotherapistFactory(is_staff=True)
    patient = PatientFactory(physiotherapists=[lead])
    time_machine.move_to(T0, tick=False)
    raise_alert(patient, fever=True)
    time_machine.move_to(T0 + timedelta(hours=3), tick=False)
    assert alerts_escalate() == 1
    assert len(escalations(lead)) == 1

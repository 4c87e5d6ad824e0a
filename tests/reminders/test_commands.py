"""`manage.py dispatch_reminders`: one dispatch in-process, email and push sent before it returns."""
import datetime as dt
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from plans.models import PlanStatus, ReminderDelivery
from plans.reminders import materialise_due_reminders
from tests.factories import QuickPatientFactory, plan_with_exercises

from .conftest import NEW_YORK
from .fakes import dead_broker

pytestmark = pytest.mark.django_db

EIGHT_NY = dt.datetime(2026, 6, 15, 8, 0, tzinfo=NEW_YORK)


def run(*args) -> str:
    out = StringIO()
    call_command("dispatch_reminders", *args, stdout=out)
    return out.getvalue()


def new_york_plan(**patient_fields):
    patient = QuickPatientFactory(timezone="America/New_York", **patient_fields)
    Device.objects.create(user=patient, token=f"t-{patient.pk}", platform="ios")
    return plan_with_exercises(patient=patient, start_date=EIGHT_NY.date())


def test_it_sends_what_is_due_with_email_and_push_before_returning_and_only_once():
    plan = new_york_plan()
    assert run("--now", "2026-06-15T08:00:00-04:00").splitlines() == ["1 sent, 0 skipped"]
    reminder = Notification.objects.get(recipient=plan.patient, kind="reminder")
    assert set(ChannelDelivery.objects.filter(notification=reminder).values_list("channel", "status")) == {
        ("email", "sent"), ("push", "sent")}
    assert [m.to for m in mail.outbox] == [[plan.patient.email]]
    assert PushRecord.objects.filter(notification=reminder).exists()

    assert run("--now", "2026-06-15T08:00:00-04:00").splitlines() == ["0 sent, 0 skipped"]
    assert Notification.objects.filter(recipient=plan.patient).count() == 1


def test_it_reports_skips_with_their_reasons():
    new_york_plan()
    new_york_plan(reminders_enabled=False)
    paused = new_york_plan()
    materialise_due_reminders(now=EIGHT_NY)
    paused.status = PlanStatus.PAUSED
    paused.save()
    assert run("--now", "2026-06-15T12:00:00Z").splitlines() == [
        "1 sent, 2 skipped",
        "  skipped, plan is paused: 1",
        "  skipped, reminders are turned off: 1",
    ]


def test_a_time_without_offset_is_read_as_utc():
    plan = new_york_plan()
    assert run("--now", "2026-06-15T11:59:00").startswith("0 sent")
    assert run("--now", "2026-06-15T12:00:00").startswith("1 sent")
    assert ReminderDelivery.objects.get(plan=plan).due_at == EIGHT_NY


def test_nonsense_for_now_is_refused():
    with pytest.raises(CommandError, match="not an ISO 8601"):
        run("--now", "tomorrow at eight")


def test_it_needs_no_broker():
    plan = new_york_plan()
    with dead_broker():
        assert run("--now", "2026-06-15T12:00:00Z").startswith("1 sent")
    assert set(ChannelDelivery.objects.filter(notification__recipient=plan.patient)
               .values_list("status", flat=True)) == {"sent"}


def test_without_now_it_uses_the_current_time(time_machine):
    plan = new_york_plan()
    time_machine.move_to(EIGHT_NY, tick=False)
    assert run().startswith("1 sent")
    assert Notification.objects.get(recipient=plan.patient).created_at == EIGHT_NY

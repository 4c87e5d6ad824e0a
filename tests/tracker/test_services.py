"""Tracker services: storing and screening check-ins against the stored history, alerts, exercise logs."""
import uuid
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from kneerehab.errors import ApplicationError
from kneerehab.notifications.models import ChannelDelivery, Notification
from tests.factories import (
    MENISCUS_WARNINGS,
    CheckInFactory,
    ConditionFactory,
    PatientFactory,
    PhysiotherapistFactory,
    PlanExerciseFactory,
    PlanFactory,
)
from tracker import services
from tracker.models import Alert, AlertStatus, CheckIn, ExerciseLog, PromptLevel
from tracker.services import alert_acknowledge, checkin_create, checkin_fingerprint, exercise_log_create

pytestmark = pytest.mark.django_db


def benign(**values) -> dict:
    return {"pain_at_rest": 2, "pain_during_activity": 3, **values}


def test_a_checkin_is_stored_with_its_prompt(patient):
    checkin, created = checkin_create(patient=patient, data=benign(fever=True))
    assert created
    stored = CheckIn.objects.get(pk=checkin.pk)
    assert stored.prompt_level == PromptLevel.URGENT
    assert stored.prompt["level"] == "urgent"
    assert [r["code"] for r in stored.prompt["reasons"]] == ["fever"]
    assert stored.recorded_at <= timezone.now()
    assert stored.request_fingerprint == checkin_fingerprint(benign(fever=True))


def test_only_patients_record_checkins(physio):
    with pytest.raises(ApplicationError) as error:
        checkin_create(patient=physio, data=benign())
    assert error.value.status_code == 403
    assert not CheckIn.objects.exists()


def test_the_fingerprint_treats_left_out_answers_as_no():
    assert checkin_fingerprint(benign()) == checkin_fingerprint(benign(fever=False, swelling="none", notes=""))
    assert checkin_fingerprint(benign()) != checkin_fingerprint(benign(fever=True))
    at = timezone.now()
    assert checkin_fingerprint(benign(recorded_at=at)) != checkin_fingerprint(benign())
    assert checkin_fingerprint(benign(client_id=uuid.uuid4())) == checkin_fingerprint(benign())


def test_a_replay_returns_the_first_checkin_and_stores_nothing(patient, physio):
    key = uuid.uuid4()
    first, created = checkin_create(patient=patient, data=benign(client_id=key, fever=True))
    again, created_again = checkin_create(patient=patient, data=benign(client_id=key, fever=True))
    assert created and not created_again
    assert again.pk == first.pk
    assert CheckIn.objects.count() == 1
    assert Alert.objects.count() == 1


def test_the_same_key_for_a_different_checkin_is_refused(patient):
    key = uuid.uuid4()
    checkin_create(patient=patient, data=benign(client_id=key))
    with pytest.raises(ApplicationError) as error:
        checkin_create(patient=patient, data=benign(client_id=key, pain_at_rest=5))
    assert error.value.status_code == 422
    assert CheckIn.objects.count() == 1


def test_keys_belong_to_one_patient(patient, physio):
    other = PatientFactory(physiotherapists=[physio])
    key = uuid.uuid4()
    checkin_create(patient=patient, data=benign(client_id=key), idempotency_key="k-1")
    _, created = checkin_create(patient=other, data=benign(client_id=key), idempotency_key="k-1")
    assert created
    assert CheckIn.objects.count() == 2


def test_client_id_and_header_naming_two_checkins_is_refused(patient):
    a, b = uuid.uuid4(), uuid.uuid4()
    checkin_create(patient=patient, data=benign(client_id=a))
    checkin_create(patient=patient, data=benign(client_id=b), idempotency_key="second")
    with pytest.raises(ApplicationError) as error:
        checkin_create(patient=patient, data=benign(client_id=a), idempotency_key="second")
    assert error.value.status_code == 422
    assert error.value.code == "idempotency_key_mismatch"


def test_screening_reads_the_history_as_of_recorded_at(patient):
    now = timezone.now()
    # Three days at 2/10, then two days at 4/10...
    for days_ago, pain in ((6, 2), (5, 2), (4, 2), (3, 4), (2, 4)):
        CheckInFactory(patient=patient, recorded_at=now - timedelta(days=days_ago), pain_at_rest=pain)
    # ...and a later check-in that must not count for a check-in synced late from before it.
    CheckInFactory(patient=patient, recorded_at=now - timedelta(hours=1), pain_at_rest=0)
    late, _ = checkin_create(patient=patient, data=benign(pain_at_rest=4, recorded_at=now - timedelta(days=1)))
    assert late.prompt_level == PromptLevel.SEE_CLINICIAN
    assert [r["code"] for r in late.prompt["reasons"]] == ["pain_at_rest_getting_worse"]
    current, _ = checkin_create(patient=patient, data=benign(pain_at_rest=4))
    assert current.prompt_level == PromptLevel.NONE  # the 0 an hour ago pulls today's mean down


def test_condition_warnings_of_the_active_plan_are_screened(patient, physio):
    plan = PlanFactory(patient=patient, physiotherapist=physio,
                       condition=ConditionFactory(slug="meniscus-tear", warnings=MENISCUS_WARNINGS))
    checkin, _ = checkin_create(patient=patient, data=benign(knee_locking_or_giving_way=True))
    assert checkin.plan == plan
    assert [r["code"] for r in checkin.prompt["reasons"]] == ["meniscus_locking_or_giving_way"]


def test_a_plan_that_has_not_started_or_is_paused_does_not_count(patient, physio):
    today = timezone.localdate()
    PlanFactory(patient=patient, physiotherapist=physio, start_date=today + timedelta(days=3),
                condition=ConditionFactory(warnings=MENISCUS_WARNINGS))
    PlanFactory(patient=patient, physiotherapist=physio, status="paused",
                condition=ConditionFactory(warnings=MENISCUS_WARNINGS))
    checkin, _ = checkin_create(patient=patient, data=benign(knee_locking_or_giving_way=True))
    assert checkin.plan is None
    assert [r["code"] for r in checkin.prompt["reasons"]] == ["knee_locking_or_giving_way"]


def test_no_improvement_uses_the_first_checkins_on_the_plan(patient, physio):
    now = timezone.now()
    condition = ConditionFactory(recovery_weeks_min=6, name="Calf strain")
    PlanFactory(patient=patient, physiotherapist=physio, condition=condition,
                start_date=timezone.localdate() - timedelta(days=30))
    # Before the plan: much worse, and not the start it is compared with.
    CheckInFactory(patient=patient, recorded_at=now - timedelta(days=40), pain_at_rest=9, pain_during_activity=9)
    for days_ago in (29, 28, 27):
        CheckInFactory(patient=patient, recorded_at=now - timedelta(days=days_ago), pain_at_rest=4,
                       pain_during_activity=5)
    for days_ago in (2, 1):
        CheckInFactory(patient=patient, recorded_at=now - timedelta(days=days_ago), pain_at_rest=4,
                       pain_during_activity=5)
    checkin, _ = checkin_create(patient=patient, data=benign(pain_at_rest=4, pain_during_activity=5))
    assert [r["code"] for r in checkin.prompt["reasons"]] == ["no_improvement"]
    assert "Calf strain" in checkin.prompt["reasons"][0]["message"]


def test_urgent_checkin_raises_one_alert_per_physiotherapist_and_notifies_them(
        patient, physio, django_capture_on_commit_callbacks):
    second = PhysiotherapistFactory()
    patient.physiotherapists.add(second)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        checkin, _ = checkin_create(patient=patient, data=benign(cannot_bear_weight=True))
        # In the inbox at once, inside the transaction; nothing sent yet.
        assert Notification.objects.filter(kind="alert").count() == 2
        assert len(mail.outbox) == 0
    alerts = Alert.objects.filter(checkin=checkin)
    assert {a.physiotherapist_id for a in alerts} == {physio.pk, second.pk}
    assert all(a.level == PromptLevel.URGENT and a.status == AlertStatus.OPEN for a in alerts)
    assert alerts[0].reasons == checkin.prompt["reasons"]
    note = Notification.objects.get(recipient=physio, kind="alert")
    assert note.dedupe_key == f"alert:{alerts.get(physiotherapist=physio).pk}"
    assert patient.username in note.title and "Urgent" in note.title
    assert "cannot hold your weight" in note.body
    # Email goes out after commit (one per alert); the plans' progression is a row, not a task.
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert sorted(m.to[0] for m in mail.outbox) == sorted([physio.email, second.email])
    assert set(ChannelDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_the_patient_gets_the_prompt_in_the_inbox_only_when_there_is_one(patient):
    checkin_create(patient=patient, data=benign())
    assert not Notification.objects.filter(recipient=patient).exists()
    checkin, _ = checkin_create(patient=patient, data=benign(limits_daily_activities=True))
    note = Notification.objects.get(recipient=patient)
    assert note.kind == "prompt"
    assert note.dedupe_key == f"prompt:{checkin.pk}"
    assert "not a diagnosis" in note.body
    assert not note.deliveries.exists()  # the app showed it already: no email


def test_see_clinician_alerts_are_lower_priority_no_push(patient, physio):
    from kneerehab.notifications.models import Device

    Device.objects.create(user=physio, token="t-1", platform="ios")
    checkin_create(patient=patient, data=benign(limits_daily_activities=True))
    note = Notification.objects.get(recipient=physio)
    assert set(note.deliveries.values_list("channel", flat=True)) == {"email"}
    checkin_create(patient=patient, data=benign(fever=True))
    urgent = Notification.objects.filter(recipient=physio).order_by("-id").first()
    assert set(urgent.deliveries.values_list("channel", flat=True)) == {"email", "push"}


def test_a_patient_with_no_physiotherapist_gets_the_prompt_and_no_alert():
    loner = PatientFactory()
    checkin, _ = checkin_create(patient=loner, data=benign(trouble_breathing=True))
    assert checkin.prompt_level == PromptLevel.EMERGENCY
    assert not Alert.objects.exists()
    assert "physiotherapist know" not in checkin.prompt["message"]


def test_progression_is_asked_for_inside_the_transaction_and_cannot_lose_the_checkin(patient, monkeypatch):
    heard = []

    def broken_request(*, patient_id):
        heard.append((patient_id, CheckIn.objects.filter(patient_id=patient_id).exists()))
        raise RuntimeError("a broken progression request")

    monkeypatch.setattr(services, "progression_request_for_patient", broken_request)
    checkin, _ = checkin_create(patient=patient, data=benign(fever=True))
    assert heard == [(patient.pk, True)]
    assert CheckIn.objects.filter(pk=checkin.pk, prompt_level="urgent").exists()


def test_acknowledge_records_who_and_when_once(patient, physio):
    checkin_create(patient=patient, data=benign(fever=True))
    alert = Alert.objects.get()
    acknowledged = alert_acknowledge(alert=alert, user=physio, outcome="booked_visit", note="Seen Monday.")
    assert acknowledged.status == AlertStatus.ACKNOWLEDGED
    assert acknowledged.acknowledged_by == physio
    first_time = acknowledged.acknowledged_at
    assert Notification.objects.get(recipient=physio, kind="alert").read
    again = alert_acknowledge(alert=alert, user=PhysiotherapistFactory(), outcome="no_action_needed")
    assert again.acknowledged_by == physio
    assert again.acknowledged_at == first_time


# --- exercise logs ----------------------------------------------------------------------------

@pytest.fixture
def plan_exercise(patient, physio):
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=timezone.localdate() - timedelta(days=5))
    return PlanExerciseFactory(plan=plan)


def test_an_exercise_log_defaults_to_the_patients_local_today(patient, physio, time_machine):
    patient.timezone = "Pacific/Auckland"
    patient.save()
    time_machine.move_to("2026-03-10T20:00:00Z")  # already 11 March in Auckland
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=timezone.localdate() - timedelta(days=1))
    plan_exercise = PlanExerciseFactory(plan=plan)
    log, created = exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk, sets_done=3,
                                       reps_done=10, pain_during=2)
    assert created
    assert log.date.isoformat() == "2026-03-11"


def test_an_exercise_log_cannot_be_in_the_patients_future_or_before_the_plan(plan_exercise, patient):
    today = timezone.localdate(timezone=patient.tzinfo)
    with pytest.raises(ApplicationError) as error:
        exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk, date=today + timedelta(days=1),
                            sets_done=3, reps_done=10, pain_during=2)
    assert "future" in error.value.fields["date"][0]
    with pytest.raises(ApplicationError) as error:
        exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk,
                            date=plan_exercise.plan.start_date - timedelta(days=1),
                            sets_done=3, reps_done=10, pain_during=2)
    assert "started" in error.value.fields["date"][0]
    assert not ExerciseLog.objects.exists()


def test_another_patients_or_an_inactive_plans_exercise_is_the_same_unknown_id(plan_exercise, patient):
    other = PlanExerciseFactory()
    finished = PlanExerciseFactory(plan=PlanFactory(patient=patient, status="completed"))
    answers = set()
    for pk in (other.pk, finished.pk, 10**9):
        with pytest.raises(ApplicationError) as error:
            exercise_log_create(patient=patient, plan_exercise_id=pk, sets_done=1, reps_done=1, pain_during=0)
        answers.add((error.value.status_code, str(error.value.fields)))
    assert len(answers) == 1
    assert answers.pop()[0] == 400


def test_an_exercise_log_retry_is_stored_once_and_asks_for_progression_once(plan_exercise, patient, monkeypatch):
    heard = []
    monkeypatch.setattr(services, "progression_request", lambda *, plan_id: heard.append(plan_id))
    key = uuid.uuid4()
    first, created = exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk, sets_done=3,
                                         reps_done=10, pain_during=2, client_id=key)
    again, created_again = exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk,
                                               sets_done=3, reps_done=10, pain_during=2, client_id=key)
    assert created and not created_again and first.pk == again.pk
    assert heard == [plan_exercise.plan_id]
    with pytest.raises(ApplicationError) as error:
        exercise_log_create(patient=patient, plan_exercise_id=plan_exercise.pk, sets_done=1, reps_done=10,
                            pain_during=2, client_id=key)
    assert error.value.status_code == 422

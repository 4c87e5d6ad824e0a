"""The safety hold (issue 12, item 8): after an urgent or emergency prompt the plan stops until a
physiotherapist clears it. Through HTTP, as the patient and the physiotherapist meet it."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import IntegrityError, transaction
from django.utils import timezone

from kneerehab.notifications.models import Notification
from plans.models import PlanStatus, Progression, ReminderDelivery, SafetyHold
from plans.reminders import dispatch_due_reminders
from plans.services import plan_update
from plans.tasks import send_reminder_batch

from .conftest import record_checkin

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
BENIGN = {"pain_at_rest": 2, "pain_during_activity": 3}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def check_in(client, **answers):
    response = client.post("/api/v1/checkins/", {**BENIGN, **answers}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_an_urgent_prompt_puts_the_running_plan_on_hold_and_today_shows_the_advice(patient_client, make_plan):
    plan = make_plan()
    assert patient_client.get("/api/v1/today/").json()["exercises"]

    prompt = check_in(patient_client, fever=True)["prompt"]

    today = patient_client.get("/api/v1/today/").json()
    assert today["exercises"] == []
    hold = today["safety_hold"]
    assert (hold["plan"], hold["level"]) == (plan.pk, "urgent")
    assert hold["advice"] == prompt["message"]
    assert [r["code"] for r in hold["reasons"]] == [r["code"] for r in prompt["reasons"]]
    assert today["plans"][0]["safety_hold"] == hold
    # The plan itself says so, to the patient and to the physiotherapist.
    assert patient_client.get(f"/api/v1/plans/{plan.pk}/").json()["safety_hold"] == hold


def test_see_clinician_and_none_place_no_hold(patient_client, make_plan):
    make_plan()
    check_in(patient_client, limits_daily_activities=True)
    check_in(patient_client)
    assert SafetyHold.objects.count() == 0
    assert patient_client.get("/api/v1/today/").json()["safety_hold"] is None


def test_an_emergency_raises_an_open_urgent_hold_and_a_repeat_keeps_one_hold(patient_client, make_plan):
    plan = make_plan()
    check_in(patient_client, fever=True)
    check_in(patient_client, fever=True)
    assert SafetyHold.objects.filter(plan=plan).count() == 1
    emergency = check_in(patient_client, trouble_breathing=True)
    [hold] = SafetyHold.objects.filter(plan=plan)
    assert hold.level == "emergency"
    assert hold.advice == emergency["prompt"]["message"]
    assert hold.checkin_id == emergency["id"]
    # A later urgent prompt does not lower it.
    check_in(patient_client, fever=True)
    hold.refresh_from_db()
    assert hold.level == "emergency"


def test_only_one_open_hold_per_plan_is_possible_in_the_database(make_plan):
    plan = make_plan()
    SafetyHold.objects.create(plan=plan, level="urgent", advice="Stop.")
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyHold.objects.create(plan=plan, level="urgent", advice="Stop.")
    with pytest.raises(IntegrityError), transaction.atomic():  # cleared without a note or by nobody
        SafetyHold.objects.filter(plan=plan).update(cleared_at=timezone.now())


def test_a_paused_plan_is_held_too_so_resuming_it_does_not_skip_the_hold(patient_client, physio, make_plan):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={"status": PlanStatus.PAUSED})
    check_in(patient_client, fever=True)
    plan_update(plan=plan, changed_by=physio, data={"status": PlanStatus.ACTIVE})
    assert patient_client.get("/api/v1/today/").json()["safety_hold"]["plan"] == plan.pk


def test_no_progression_while_on_hold_and_advancing_is_refused_with_409(patient_client, physio_client, make_plan):
    plan = make_plan(auto_advance=True)
    check_in(patient_client, fever=True)
    # Days of good check-ins meet the rice phase's exit criteria but neither suggest nor move anything.
    for day in range(1, 7):
        record_checkin(plan.patient, NOW + timedelta(days=day), pain_at_rest=0, pain_during_activity=1)
    plan.refresh_from_db()
    assert (plan.current_phase, plan.progression) == ("rice", Progression.NONE)
    assert plan.progression_reasons[0]["code"] == "safety_hold"

    refused = physio_client.post(f"/api/v1/plans/{plan.pk}/advance/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "safety_hold"
    assert "Clear the hold" in refused.json()["message"]
    plan.refresh_from_db()
    assert plan.current_phase == "rice"


def test_the_physiotherapist_clears_the_hold_with_a_note_and_history_is_kept(patient_client, physio_client, physio,
                                                                          make_plan):
    plan = make_plan()
    check_in(patient_client, fever=True)

    no_note = physio_client.post(f"/api/v1/plans/{plan.pk}/clear-hold/", {"note": "  "}, format="json")
    assert no_note.status_code == 400
    assert "note" in no_note.json()["fields"]
    assert patient_client.post(f"/api/v1/plans/{plan.pk}/clear-hold/", {"note": "me"}, format="json"
                               ).status_code == 403

    cleared = physio_client.post(f"/api/v1/plans/{plan.pk}/clear-hold/",
                                 {"note": "Seen by the GP: no infection. Restart gently."}, format="json")
    assert cleared.status_code == 200, cleared.content
    assert cleared.json()["safety_hold"] is None
    [hold] = SafetyHold.objects.filter(plan=plan)
    assert (hold.cleared_by, hold.clear_note) == (physio, "Seen by the GP: no infection. Restart gently.")
    assert patient_client.get("/api/v1/today/").json()["exercises"]
    again = physio_client.post(f"/api/v1/plans/{plan.pk}/clear-hold/", {"note": "again"}, format="json")
    assert (again.status_code, again.json()["code"]) == (409, "no_safety_hold")
    # A new urgent prompt places a new hold; the cleared one stays as history.
    check_in(patient_client, fever=True)
    assert SafetyHold.objects.filter(plan=plan).count() == 2
    assert physio_client.post(f"/api/v1/plans/{plan.pk}/advance/", {}, format="json").status_code == 409


def test_a_plan_on_hold_sends_no_reminder_nor_follow_up(patient_client, make_plan, django_capture_on_commit_callbacks):
    plan = make_plan(reminder_times=["11:00"])
    check_in(patient_client, fever=True)
    for day in range(4):  # several days without a log would earn a follow-up; none may go out on hold
        with (time_machine.travel(datetime(2026, 6, 15 + day, 11, 0, tzinfo=UTC), tick=False),
              django_capture_on_commit_callbacks(execute=True)):
            dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay)
    kinds = set(Notification.objects.filter(recipient=plan.patient).values_list("kind", flat=True))
    assert kinds == {"prompt"}
    assert not Notification.objects.filter(recipient=plan.patient, title="Time for your knee exercises").exists()
    rows = ReminderDelivery.objects.filter(plan=plan)
    assert rows.count() >= 4
    assert {row.status for row in rows} == {"skipped"}
    assert all(row.skip_reason.startswith("safety hold") for row in rows)


def test_after_the_hold_is_cleared_reminders_go_out_again(patient_client, physio_client, make_plan,
                                                          django_capture_on_commit_callbacks):
    plan = make_plan(reminder_times=["11:00"])
    check_in(patient_client, fever=True)
    physio_client.post(f"/api/v1/plans/{plan.pk}/clear-hold/", {"note": "Checked, fine."}, format="json")
    with (time_machine.travel(datetime(2026, 6, 15, 11, 0, tzinfo=UTC), tick=False),
          django_capture_on_commit_callbacks(execute=True)):
        dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay)
    assert Notification.objects.filter(recipient=plan.patient, title="Time for your knee exercises").count() == 1

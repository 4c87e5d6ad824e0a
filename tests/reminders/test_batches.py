"""A claimed batch is decided and sent as a whole: once, in a number of queries that does not grow with its size."""
import datetime as dt

import pytest
from django.core import mail

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from plans.models import ReminderDelivery
from plans.reminders import claim_due_reminders, deliver_reminders, dispatch_due_reminders, materialise_due_reminders
from plans.tasks import send_reminder_batch
from tests.factories import ExerciseLogFactory, QuickPatientFactory, log_all_of_today, plan_with_exercises

from .conftest import NEW_YORK

pytestmark = pytest.mark.django_db

EIGHT_NY = dt.datetime(2026, 6, 15, 8, 0, tzinfo=NEW_YORK)
DAY = EIGHT_NY.date()


def plan_for(kind: str):
    """A New York plan due at 08:00 on DAY whose row ends up as `kind`: reminder, follow_up or all_logged."""
    patient = QuickPatientFactory(timezone="America/New_York")
    Device.objects.create(user=patient, token=f"phone-{patient.pk}", platform="ios")
    plan = plan_with_exercises(patient=patient, start_date=DAY - dt.timedelta(days=10))
    if kind == "reminder":  # logged yesterday: an adherent patient, so a plain reminder
        ExerciseLogFactory(plan_exercise=plan.exercises.first(), date=DAY - dt.timedelta(days=1))
    elif kind == "all_logged":
        log_all_of_today(plan, day=DAY)
    # follow_up: nothing logged since the plan started ten days ago
    return plan


def claimed_batch(kinds: list[str]) -> list[int]:
    for kind in kinds:
        plan_for(kind)
    materialise_due_reminders(now=EIGHT_NY)
    ids = claim_due_reminders(now=EIGHT_NY, limit=len(kinds))
    assert len(ids) == len(kinds)
    return ids


def test_a_batch_run_twice_sends_nothing_twice(clock, django_capture_on_commit_callbacks):
    ids = claimed_batch(["reminder"] * 4 + ["follow_up"] * 2 + ["all_logged"] * 2)
    clock.at(EIGHT_NY)  # the task decides as of the time it runs
    with django_capture_on_commit_callbacks(execute=True):
        first = send_reminder_batch.delay(ids).get()
    # A reminder replaced by a follow-up counts as skipped (the follow-up is a row of its own).
    assert first == {"sent": 4, "skipped": 4}
    with django_capture_on_commit_callbacks(execute=True):
        second = send_reminder_batch.delay(ids).get()
    assert second == {"taken": 8}

    assert Notification.objects.filter(kind="reminder").count() == 4
    assert Notification.objects.filter(kind="follow_up").count() == 2
    assert len(mail.outbox) == 6
    assert PushRecord.objects.count() == 6
    assert set(ChannelDelivery.objects.values_list("status", flat=True)) == {"sent"}
    rows = ReminderDelivery.objects.filter(kind="reminder")
    assert sorted(rows.values_list("status", "skip_reason", "attempts")) == sorted(
        [("sent", "", 1)] * 4 + [("skipped", "a follow-up went out in its place", 1)] * 2
        + [("skipped", "today's exercises are all logged", 1)] * 2)
    assert list(ReminderDelivery.objects.filter(kind="follow_up").values_list("status", "attempts")) == [
        ("sent", 1)] * 2


@pytest.mark.parametrize("size", [10, 100])
def test_a_batch_costs_the_same_queries_whatever_its_size(size, django_assert_max_num_queries):
    # A third each: plain reminders, follow-ups in their place, and days already done (skipped).
    kinds = ["reminder", "follow_up", "all_logged"] * (size // 3) + ["reminder"] * (size % 3)
    ids = claimed_batch(kinds)
    with django_assert_max_num_queries(19):
        outcomes = deliver_reminders(ids=ids, now=EIGHT_NY)
    assert sum(o.status == "sent" for o in outcomes.values()) == kinds.count("reminder")
    assert Notification.objects.count() == kinds.count("reminder") + kinds.count("follow_up")
    assert ChannelDelivery.objects.count() == 2 * Notification.objects.count()  # email and push, each


def test_the_dispatcher_queues_one_task_per_claimed_batch(clock, monkeypatch, django_capture_on_commit_callbacks):
    for _ in range(7):
        plan_for("reminder")
    queued = []
    monkeypatch.setattr(send_reminder_batch, "delay", lambda ids: queued.append(list(ids)))
    clock.at(EIGHT_NY)
    with django_capture_on_commit_callbacks(execute=True):
        result = dispatch_due_reminders(now=EIGHT_NY, batch_size=3, publish=send_reminder_batch.delay)
    assert [len(batch) for batch in queued] == [3, 3, 1]
    assert (result.claimed, result.queued) == (7, 7)
    assert len({pk for batch in queued for pk in batch}) == 7


def test_one_row_that_breaks_the_batch_does_not_hold_back_the_others(monkeypatch):
    ids = claimed_batch(["reminder"] * 3)
    broken = ReminderDelivery.objects.get(pk=ids[1]).plan.patient

    from plans import reminders

    real = reminders.notify_many

    def failing_for_one_patient(*, requests, **kwargs):
        if any(r.recipient.pk == broken.pk for r in requests):
            raise RuntimeError("inbox unavailable for this patient")
        return real(requests=requests, **kwargs)

    monkeypatch.setattr(reminders, "notify_many", failing_for_one_patient)
    outcomes = deliver_reminders(ids=ids, now=EIGHT_NY)
    assert [outcomes[pk].status for pk in ids] == ["sent", "error", "sent"]
    row = ReminderDelivery.objects.get(pk=ids[1])
    assert (row.status, row.attempts, row.last_error) == (
        "pending", 1, "RuntimeError: inbox unavailable for this patient")
    assert not Notification.objects.filter(recipient=broken).exists()
    assert Notification.objects.count() == 2


def test_two_slots_of_a_quiet_plan_in_one_batch_get_one_follow_up(clock):
    patient = QuickPatientFactory(timezone="America/New_York")
    plan = plan_with_exercises(patient=patient, start_date=DAY - dt.timedelta(days=10),
                               reminder_times=["08:00", "09:00"])
    # The service was down over both slots; both are still inside the missed window and go in one batch.
    outcomes = dispatch_due_reminders(now=EIGHT_NY + dt.timedelta(hours=1, minutes=30))
    assert (outcomes.claimed, outcomes.sent, outcomes.skipped) == (2, 1, 1)
    assert list(Notification.objects.filter(recipient=plan.patient).order_by("pk").values_list("kind", flat=True)
                ) == ["follow_up", "reminder"]
    assert ReminderDelivery.objects.get(plan=plan, kind="reminder", slot="08:00").skip_reason == (
        "a follow-up went out in its place")

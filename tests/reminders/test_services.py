"""The reminder dispatcher, as a patient experiences it: what lands in the inbox, when, and how often."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kneerehab.notifications.models import Notification
from plans.models import PlanStatus, ReminderDelivery
from plans.reminders import (
    claim_due_reminders,
    deliver_reminder,
    dispatch_due_reminders,
    materialise_due_reminders,
)
from tests.factories import ExerciseLogFactory, log_all_of_today, plan_with_exercises
from tests.factories import QuickPatientFactory as PatientFactory

from .conftest import NEW_YORK, TOKYO

pytestmark = pytest.mark.django_db

UTC = dt.UTC
SUMMER_DAY = dt.date(2026, 6, 15)


def local(day: dt.date, hour: int, minute: int = 0, tz: ZoneInfo = NEW_YORK) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)


def reminders_of(patient, kind="reminder"):
    return Notification.objects.filter(recipient=patient, kind=kind)


def new_york_plan(*, times=("08:00",), **fields):
    """A plan starting on SUMMER_DAY (so no follow-up is due unless a test makes one), with two exercises."""
    patient = fields.pop("patient", None) or PatientFactory(timezone="America/New_York")
    return plan_with_exercises(patient=patient, reminder_times=list(times),
                               start_date=fields.pop("start_date", SUMMER_DAY), **fields)


def test_new_york_patient_gets_exactly_one_reminder_at_8_new_york_time_even_if_run_twice(clock, dispatch):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    dispatch()
    clock.at(local(SUMMER_DAY, 8, 1))
    dispatch()

    [reminder] = reminders_of(plan.patient)
    assert reminder.title == "Time for your knee exercises"
    assert "2 exercises" in reminder.body
    assert reminder.created_at == local(SUMMER_DAY, 8)
    row = ReminderDelivery.objects.get(plan=plan)
    assert (row.local_date, row.slot, row.status) == (SUMMER_DAY, "08:00", "sent")
    assert row.due_at == dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)  # 08:00 EDT


def test_a_minute_before_the_slot_nothing_is_sent(clock, dispatch):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 7, 59))
    dispatch()
    assert not reminders_of(plan.patient).exists()
    assert not ReminderDelivery.objects.exists()


def test_tokyo_patient_gets_none_at_8_new_york_time_and_one_at_8_tokyo_time(clock, dispatch):
    tokyo_plan = plan_with_exercises(patient=PatientFactory(timezone="Asia/Tokyo"), reminder_times=["08:00"],
                                     start_date=SUMMER_DAY)
    new_york = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))  # 21:00 in Tokyo
    dispatch()
    assert reminders_of(new_york.patient).count() == 1
    assert not reminders_of(tokyo_plan.patient).exists()

    clock.at(local(SUMMER_DAY + dt.timedelta(days=1), 8, tz=TOKYO))  # 23:00 UTC on the 15th
    dispatch()
    [reminder] = reminders_of(tokyo_plan.patient)
    assert reminder.created_at == dt.datetime(2026, 6, 15, 23, 0, tzinfo=UTC)
    assert reminders_of(new_york.patient).count() == 1


@pytest.mark.parametrize("status", [PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.CANCELLED])
def test_a_plan_that_is_not_running_gets_no_reminder(clock, dispatch, status):
    plan = new_york_plan(status=status)
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert not reminders_of(plan.patient).exists()


def test_a_plan_paused_after_its_slot_was_queued_is_skipped_with_the_reason(clock, dispatch):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))
    materialise_due_reminders(now=local(SUMMER_DAY, 8))
    plan.status = PlanStatus.PAUSED
    plan.save()
    dispatch()
    row = ReminderDelivery.objects.get(plan=plan)
    assert (row.status, row.skip_reason) == ("skipped", "plan is paused")
    assert not reminders_of(plan.patient).exists()


def test_no_reminder_for_the_evening_slot_once_the_days_exercises_are_logged(clock, dispatch):
    plan = new_york_plan(times=("08:00", "18:00"))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert reminders_of(plan.patient).count() == 1
    log_all_of_today(plan, day=SUMMER_DAY)

    clock.at(local(SUMMER_DAY, 18))
    dispatch()
    assert reminders_of(plan.patient).count() == 1
    evening = ReminderDelivery.objects.get(plan=plan, slot="18:00")
    assert (evening.status, evening.skip_reason) == ("skipped", "today's exercises are all logged")


def test_the_evening_reminder_names_only_what_is_left_to_do(clock, dispatch):
    plan = new_york_plan(times=("18:00",))
    first, second = plan.exercises.order_by("pk")
    ExerciseLogFactory(plan_exercise=first, date=SUMMER_DAY)
    clock.at(local(SUMMER_DAY, 18))
    dispatch()
    [reminder] = reminders_of(plan.patient)
    assert "1 exercise" in reminder.body
    assert second.exercise.name in reminder.body
    assert first.exercise.name not in reminder.body


def test_a_log_for_another_day_does_not_count_for_today(clock, dispatch):
    plan = new_york_plan(times=("18:00",))
    log_all_of_today(plan, day=SUMMER_DAY - dt.timedelta(days=1))
    clock.at(local(SUMMER_DAY, 18))
    dispatch()
    assert reminders_of(plan.patient).count() == 1


def test_no_reminder_before_the_plan_starts(clock, dispatch):
    plan = new_york_plan(start_date=SUMMER_DAY + dt.timedelta(days=1))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert not ReminderDelivery.objects.exists()
    clock.at(local(SUMMER_DAY + dt.timedelta(days=1), 8))
    dispatch()
    assert reminders_of(plan.patient).count() == 1


def test_a_start_date_moved_later_after_the_row_was_made_skips_it(clock, dispatch):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))
    materialise_due_reminders(now=local(SUMMER_DAY, 8))
    plan.start_date = SUMMER_DAY + dt.timedelta(days=3)
    plan.save()
    dispatch()
    assert ReminderDelivery.objects.get(plan=plan).skip_reason == "plan has not started"
    assert not reminders_of(plan.patient).exists()


def test_a_reminder_time_removed_after_the_row_was_made_is_skipped(clock, dispatch):
    plan = new_york_plan(times=("08:00", "18:00"))
    clock.at(local(SUMMER_DAY, 8))
    materialise_due_reminders(now=local(SUMMER_DAY, 8))
    plan.reminder_times = ["18:00"]
    plan.save()
    dispatch()
    assert ReminderDelivery.objects.get(plan=plan).skip_reason == "reminder time removed from the plan"
    assert not reminders_of(plan.patient).exists()


def test_reminders_turned_off_by_the_patient_are_skipped(clock, dispatch):
    plan = new_york_plan(patient=PatientFactory(timezone="America/New_York", reminders_enabled=False))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert not reminders_of(plan.patient).exists()
    assert ReminderDelivery.objects.get(plan=plan).skip_reason == "reminders are turned off"


@pytest.mark.parametrize(
    ("quiet", "slot", "sent"),
    [
        ((dt.time(22, 0), dt.time(7, 0)), "06:30", False),  # wraps past midnight
        ((dt.time(22, 0), dt.time(7, 0)), "07:00", True),  # the end is not quiet any more
        ((dt.time(22, 0), dt.time(7, 0)), "22:00", False),
        ((dt.time(12, 0), dt.time(14, 0)), "13:00", False),
        ((dt.time(12, 0), dt.time(14, 0)), "14:30", True),
        ((None, None), "03:00", True),  # none by default
    ],
)
def test_quiet_hours(clock, dispatch, quiet, slot, sent):
    patient = PatientFactory(timezone="America/New_York", quiet_hours_start=quiet[0], quiet_hours_end=quiet[1])
    plan = new_york_plan(patient=patient, times=(slot,))
    hour, minute = map(int, slot.split(":"))
    clock.at(local(SUMMER_DAY, hour, minute))
    dispatch()
    assert reminders_of(plan.patient).exists() is sent
    if not sent:
        assert ReminderDelivery.objects.get(plan=plan).skip_reason == "quiet hours"


def test_a_late_reminder_is_not_sent_once_quiet_hours_have_begun(clock, dispatch):
    patient = PatientFactory(timezone="America/New_York", quiet_hours_start=dt.time(22, 0),
                             quiet_hours_end=dt.time(7, 0))
    plan = new_york_plan(patient=patient, times=("21:30",))
    clock.at(local(SUMMER_DAY, 21, 29))
    dispatch()  # the service ran, then was down over the slot
    clock.at(local(SUMMER_DAY, 22, 10))
    dispatch()
    assert not reminders_of(plan.patient).exists()
    assert ReminderDelivery.objects.get(plan=plan).skip_reason == "quiet hours"


# --- The missed window -------------------------------------------------------------------

@pytest.mark.parametrize(("back_at", "sent"), [((9, 59), True), ((10, 0), True), ((10, 1), False), ((15, 0), False)])
def test_a_slot_missed_while_the_service_was_down_is_sent_within_the_window_and_skipped_after(
    clock, dispatch, back_at, sent
):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 7, 59))
    dispatch()  # last run before the outage
    clock.at(local(SUMMER_DAY, *back_at))
    dispatch()
    assert reminders_of(plan.patient).exists() is sent
    row = ReminderDelivery.objects.get(plan=plan)
    assert row.status == ("sent" if sent else "skipped")
    if not sent:
        assert row.skip_reason.startswith("missed: due ")
        assert "120-minute window" in row.skip_reason


def test_the_window_is_a_setting(clock, dispatch, settings):
    settings.REMINDER_MISSED_WINDOW_MINUTES = 15
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 7, 59))
    dispatch()
    clock.at(local(SUMMER_DAY, 8, 20))
    dispatch()
    assert not reminders_of(plan.patient).exists()
    assert "15-minute window" in ReminderDelivery.objects.get(plan=plan).skip_reason


def test_a_reminder_waiting_in_the_queue_past_the_window_is_skipped_not_sent_late(clock):
    plan = new_york_plan()
    materialise_due_reminders(now=local(SUMMER_DAY, 8))
    [pk] = claim_due_reminders(now=local(SUMMER_DAY, 8), limit=10)
    # The send task only runs hours later (a backlog); it judges lateness when it runs.
    outcome = deliver_reminder(delivery_id=pk, now=local(SUMMER_DAY, 11))
    assert outcome.status == "skipped"
    assert not reminders_of(plan.patient).exists()


def test_after_a_day_long_outage_only_the_last_day_is_recorded(clock, dispatch):
    plan = new_york_plan(times=("08:00", "20:00"))
    clock.at(local(SUMMER_DAY, 7))
    dispatch()
    for day in range(3):  # the patient kept logging while the service was down
        ExerciseLogFactory(plan_exercise=plan.exercises.first(), date=SUMMER_DAY + dt.timedelta(days=day))
    clock.at(local(SUMMER_DAY + dt.timedelta(days=3), 9))
    dispatch()
    rows = ReminderDelivery.objects.filter(plan=plan).order_by("due_at")
    # 24 hours back from 09:00 on the 18th: 20:00 on the 17th (missed), 08:00 on the 18th (sent).
    assert [(r.local_date.day, r.slot, r.status) for r in rows] == [(17, "20:00", "skipped"), (18, "08:00", "sent")]
    assert reminders_of(plan.patient).count() == 1


# --- Daylight saving ---------------------------------------------------------------------

def run_every_minute(dispatch, clock, start: dt.datetime, end: dt.datetime) -> None:
    moment = start
    while moment <= end:
        clock.at(moment)
        dispatch()
        moment += dt.timedelta(minutes=1)


def test_spring_forward_a_slot_in_the_skipped_hour_fires_once_just_after_the_jump(clock, dispatch):
    # 2026-03-08 in New York: 02:00 EST jumps to 03:00 EDT, so 02:30 never happens.
    plan = new_york_plan(times=("02:30",), start_date=dt.date(2026, 3, 7))
    run_every_minute(dispatch, clock, dt.datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
                     dt.datetime(2026, 3, 8, 9, 0, tzinfo=UTC))

    [row] = ReminderDelivery.objects.filter(plan=plan)
    assert row.local_date == dt.date(2026, 3, 8)
    assert row.due_at == dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)  # 03:30 EDT
    [reminder] = reminders_of(plan.patient)
    assert reminder.created_at.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:30 EDT"


def test_fall_back_a_slot_in_the_repeated_hour_fires_once_at_its_first_occurrence(clock, dispatch):
    # 2026-11-01 in New York: 02:00 EDT goes back to 01:00 EST, so 01:30 happens twice.
    plan = new_york_plan(times=("01:30",), start_date=dt.date(2026, 10, 31))
    run_every_minute(dispatch, clock, dt.datetime(2026, 11, 1, 4, 0, tzinfo=UTC),
                     dt.datetime(2026, 11, 1, 8, 0, tzinfo=UTC))

    [row] = ReminderDelivery.objects.filter(plan=plan)
    assert row.due_at == dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT, not 01:30 EST
    [reminder] = reminders_of(plan.patient)
    assert reminder.created_at.astimezone(NEW_YORK).strftime("%H:%M %Z") == "01:30 EDT"


def test_the_days_around_a_transition_keep_their_wall_clock_time(clock, dispatch):
    plan = new_york_plan(times=("08:00",), start_date=dt.date(2026, 3, 7))
    first = plan.exercises.first()
    for day in (7, 8, 9):
        clock.at(local(dt.date(2026, 3, day), 8))
        dispatch()
        ExerciseLogFactory(plan_exercise=first, date=dt.date(2026, 3, day))
    sent = [n.created_at.astimezone(UTC).hour for n in reminders_of(plan.patient).order_by("created_at")]
    assert sent == [13, 12, 12]  # 08:00 EST, then 08:00 EDT


# --- Time zone changes ---------------------------------------------------------------

def test_a_pending_row_follows_the_patient_to_a_new_time_zone(clock, dispatch):
    plan = new_york_plan()
    day = SUMMER_DAY
    # A row made for 08:00 New York time and not yet sent (say, its send never ran).
    row = ReminderDelivery.objects.create(plan=plan, local_date=day, slot="08:00",
                                          due_at=local(day, 8).astimezone(UTC))
    plan.patient.timezone = "Asia/Tokyo"
    plan.patient.save()

    clock.at(local(day, 8, tz=TOKYO))  # 19:00 New York time the day before
    assert dispatch().rescheduled == 1
    row.refresh_from_db()
    assert row.due_at == local(day, 8, tz=TOKYO)
    assert row.status == "sent"
    assert reminders_of(plan.patient).get().created_at == local(day, 8, tz=TOKYO)


def test_a_claimed_row_whose_slot_moved_later_waits_for_the_new_time(clock, dispatch):
    plan = new_york_plan(patient=PatientFactory(timezone="Asia/Tokyo"))
    clock.at(local(SUMMER_DAY, 8, tz=TOKYO))
    materialise_due_reminders(now=local(SUMMER_DAY, 8, tz=TOKYO))
    [pk] = claim_due_reminders(now=local(SUMMER_DAY, 8, tz=TOKYO), limit=10)
    plan.patient.timezone = "America/New_York"  # the patient flew east to west meanwhile
    plan.patient.save()

    outcome = deliver_reminder(delivery_id=pk, now=local(SUMMER_DAY, 8, tz=TOKYO))
    assert outcome.status == "rescheduled"
    assert not reminders_of(plan.patient).exists()

    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    row = ReminderDelivery.objects.get(pk=pk)
    assert (row.status, row.due_at) == ("sent", local(SUMMER_DAY, 8).astimezone(UTC))
    assert reminders_of(plan.patient).count() == 1


def test_after_moving_west_the_same_local_date_is_not_reminded_twice(clock, dispatch):
    plan = new_york_plan(patient=PatientFactory(timezone="Asia/Tokyo"))
    clock.at(local(SUMMER_DAY, 8, tz=TOKYO))
    dispatch()
    plan.patient.timezone = "America/New_York"
    plan.patient.save()
    clock.at(local(SUMMER_DAY, 8))  # 08:00 on the same local date, 13 hours later
    dispatch()
    assert reminders_of(plan.patient).count() == 1
    clock.at(local(SUMMER_DAY + dt.timedelta(days=1), 8))
    dispatch()
    assert reminders_of(plan.patient).count() == 2


# --- Follow-ups -----------------------------------------------------------------------

def test_follow_up_once_after_two_quiet_days_then_plain_reminders(clock, dispatch):
    plan = new_york_plan(times=("08:00", "18:00"), start_date=SUMMER_DAY - dt.timedelta(days=30))
    [first, _] = plan.exercises.order_by("pk")
    ExerciseLogFactory(plan_exercise=first, date=SUMMER_DAY - dt.timedelta(days=3))

    # Nothing on the 13th and 14th: the follow-up goes out on the 15th, in place of the morning reminder.
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    [follow_up] = reminders_of(plan.patient, "follow_up")
    assert follow_up.title == "How is your knee doing?"
    assert not reminders_of(plan.patient).exists()
    morning = ReminderDelivery.objects.get(plan=plan, slot="08:00", kind="reminder")
    assert morning.skip_reason == "a follow-up went out in its place"

    clock.at(local(SUMMER_DAY, 18))
    dispatch()
    for day in (1, 2):
        clock.at(local(SUMMER_DAY + dt.timedelta(days=day), 8))
        dispatch()
    assert reminders_of(plan.patient, "follow_up").count() == 1  # once per quiet streak, not daily
    assert reminders_of(plan.patient).count() == 3


def test_a_new_quiet_streak_earns_a_new_follow_up(clock, dispatch):
    plan = new_york_plan(start_date=SUMMER_DAY - dt.timedelta(days=30))
    [first, _] = plan.exercises.order_by("pk")
    ExerciseLogFactory(plan_exercise=first, date=SUMMER_DAY - dt.timedelta(days=3))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    ExerciseLogFactory(plan_exercise=first, date=SUMMER_DAY + dt.timedelta(days=1))
    follow_ups_by_day = {}
    for day in range(1, 6):
        clock.at(local(SUMMER_DAY + dt.timedelta(days=day), 8))
        dispatch()
        follow_ups_by_day[day] = reminders_of(plan.patient, "follow_up").count()
    # Logged on day 1; days 2 and 3 quiet; the second follow-up comes on day 4, and only then.
    assert follow_ups_by_day == {1: 1, 2: 1, 3: 1, 4: 2, 5: 2}


def test_one_quiet_day_is_no_reason_for_a_follow_up(clock, dispatch):
    plan = new_york_plan(start_date=SUMMER_DAY - dt.timedelta(days=30))
    [first, _] = plan.exercises.order_by("pk")
    ExerciseLogFactory(plan_exercise=first, date=SUMMER_DAY - dt.timedelta(days=2))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert not reminders_of(plan.patient, "follow_up").exists()
    assert reminders_of(plan.patient).count() == 1


def test_a_plan_that_only_started_yesterday_gets_no_follow_up(clock, dispatch):
    plan = new_york_plan(start_date=SUMMER_DAY - dt.timedelta(days=1))
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert not reminders_of(plan.patient, "follow_up").exists()
    clock.at(local(SUMMER_DAY + dt.timedelta(days=1), 8))
    dispatch()
    assert reminders_of(plan.patient, "follow_up").count() == 1


# --- Robustness -----------------------------------------------------------------------

def test_an_error_while_sending_is_recorded_retried_after_the_lease_and_finally_failed(
    clock, dispatch, monkeypatch, settings
):
    settings.REMINDER_MAX_ATTEMPTS = 3
    settings.REMINDER_CLAIM_LEASE_MINUTES = 10
    plan = new_york_plan()

    def broken(**kwargs):
        raise RuntimeError("inbox unavailable")

    monkeypatch.setattr("plans.reminders.notify_many", broken)
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    row = ReminderDelivery.objects.get(plan=plan)
    assert (row.status, row.attempts, row.last_error) == ("pending", 1, "RuntimeError: inbox unavailable")

    clock.at(local(SUMMER_DAY, 8, 5))
    dispatch()  # still under the first claim's lease: left alone
    row.refresh_from_db()
    assert row.attempts == 1

    for minute in (11, 22):
        clock.at(local(SUMMER_DAY, 8, minute))
        dispatch()
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 3)
    assert not reminders_of(plan.patient).exists()


def test_a_bad_reminder_time_or_time_zone_does_not_stop_the_others(clock, dispatch):
    broken_time = new_york_plan(times=("25:00", "8:00"))
    broken_zone = new_york_plan()
    type(broken_zone.patient).objects.filter(pk=broken_zone.patient.pk).update(timezone="Mars/Olympus_Mons")
    fine = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))
    dispatch()
    assert reminders_of(fine.patient).count() == 1
    assert reminders_of(broken_time.patient).count() == 1  # "8:00" is read as "08:00"
    assert ReminderDelivery.objects.get(plan=broken_time).slot == "08:00"
    assert not ReminderDelivery.objects.filter(plan=broken_zone).exists()


def test_sending_one_row_twice_sends_once(clock):
    plan = new_york_plan()
    clock.at(local(SUMMER_DAY, 8))
    materialise_due_reminders(now=local(SUMMER_DAY, 8))
    pk = ReminderDelivery.objects.get(plan=plan).pk
    assert deliver_reminder(delivery_id=pk, now=local(SUMMER_DAY, 8)).status == "sent"
    assert deliver_reminder(delivery_id=pk, now=local(SUMMER_DAY, 8)).status == "taken"
    assert reminders_of(plan.patient).count() == 1


def test_claims_come_in_batches_and_a_claimed_row_is_not_claimed_again():
    plans = [new_york_plan() for _ in range(5)]
    now = local(SUMMER_DAY, 8)
    materialise_due_reminders(now=now)
    first = claim_due_reminders(now=now, limit=3)
    second = claim_due_reminders(now=now, limit=3)
    third = claim_due_reminders(now=now, limit=3)
    assert (len(first), len(second), third) == (3, 2, [])
    assert set(first) | set(second) == set(ReminderDelivery.objects.filter(plan__in=plans).values_list("pk", flat=True))


def test_an_in_process_dispatch_works_through_every_batch(clock):
    plans = [new_york_plan() for _ in range(7)]
    clock.at(local(SUMMER_DAY, 8))
    result = dispatch_due_reminders(now=local(SUMMER_DAY, 8), batch_size=3)
    assert (result.claimed, result.sent) == (7, 7)
    assert all(reminders_of(p.patient).count() == 1 for p in plans)


@pytest.mark.parametrize("plans", [3, 40])
def test_materialising_costs_the_same_queries_whatever_the_number_of_plans(
    plans, django_assert_max_num_queries
):
    for _ in range(plans):
        new_york_plan(times=("08:00", "12:00", "18:00"))
    with django_assert_max_num_queries(8):
        made = materialise_due_reminders(now=local(SUMMER_DAY, 8))
    assert made == plans
    assert ReminderDelivery.objects.count() == plans

"""Exercise reminders and follow-ups: slots become rows, a dispatcher claims the due rows, each is sent once.

How it fits together:

1. `materialise_due_reminders` turns every active plan's reminder times (local
   "HH:MM" in the patient's time zone) that fell due since the last run into
   ReminderDelivery rows. The unique (plan, local date, slot, kind) constraint
   plus `ignore_conflicts` makes a second run, or a second dispatcher, harmless.
   It is set-based: a watermark (ReminderDispatchState) bounds the window to
   the time since the last run, the database returns only the plans whose
   patient's zone has one of their slots in that window, the local-time
   arithmetic is done once per (time zone, slot), and the rows go in with bulk
   inserts: a constant number of queries whatever the number of plans.
2. `claim_due_reminders` takes a batch of due pending rows with
   `select_for_update(skip_locked=True)` and stamps them claimed, so two
   dispatchers never hand the same row on.
3. `deliver_reminders` (run by the `send_reminder_batch` task, one per claimed
   batch, or in-process by the management command) locks the batch's rows
   again, decides for each whether it should go out at all (plan state, start
   date, preferences, quiet hours, the missed window, what was logged today)
   and either puts a notification in the inbox or marks the row skipped with
   the reason: a fixed number of queries and one transaction per batch. The
   notification's dedupe key names the row, a third guard against sending twice.

Follow-ups: when nothing has been logged on a plan for two full local days, the
next reminder is replaced by a gentle follow-up, once per quiet streak (a log
ends the streak).

Daylight saving: a local time is read with `fold=0`, so a slot inside the hour
that is skipped in spring fires once, shifted by the length of the jump (02:30
becomes 03:30), and a slot inside the hour that repeats in autumn fires once,
at its first occurrence. A patient who changes time zone has their
pending rows recomputed; rows for later slots are only made when they fall due,
so they follow the new zone by construction.
"""
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial, reduce
from operator import or_
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, TextField
from django.db.models.functions import Cast, Greatest

from kneerehab.notifications.models import ChannelDelivery, ChannelDeliveryStatus
from kneerehab.notifications.services import NotificationRequest, deliver_channel, notify_many
from tracker.models import ExerciseLog

from .models import (
    DeliveryStatus,
    Plan,
    PlanExercise,
    PlanStatus,
    ReminderDelivery,
    ReminderDispatchState,
    SafetyHold,
)

logger = logging.getLogger(__name__)

REMINDER = "reminder"
FOLLOW_UP = "follow_up"
# Full local days without any exercise logged before a follow-up goes out.
FOLLOW_UP_AFTER_DAYS = 2
# However long the service was down, slots further back than this are not even recorded.
MAX_LOOKBACK = timedelta(hours=24)
TODAY_LINK = "/api/v1/today/"

_SLOT = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2})?$")


# --- Local time -------------------------------------------------------------

def normalise_slot(value: str) -> str | None:
    """'8:00', '08:00' and '08:00:00' all mean the slot '08:00'; anything else is not a slot."""
    match = _SLOT.match(str(value).strip())
    if not match:
        return None
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def reminder_instant(*, local_date: date, slot: str, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local date and "HH:MM" slot in a time zone.

    fold=0 picks the first of two readings of a repeated wall-clock time, and
    reads a wall-clock time that does not exist with the offset in force before
    the jump, which lands it just after the jump by the length of the gap.
    """
    hour, minute = (int(part) for part in slot.split(":"))
    local = datetime.combine(local_date, time(hour, minute), tzinfo=tz).replace(fold=0)
    return local.astimezone(UTC)


def occurrences_between(*, tz: ZoneInfo, slot: str, start: datetime, end: datetime) -> list[tuple[date, datetime]]:
    """Every (local date, instant) of a slot with start < instant <= end."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    found = []
    day = first
    while day <= last:
        instant = reminder_instant(local_date=day, slot=slot, tz=tz)
        if start < instant <= end:
            found.append((day, instant))
        day += timedelta(days=1)
    return found


def in_quiet_hours(*, start: time | None, end: time | None, at: time) -> bool:
    """Quiet hours are local times; they may wrap past midnight (22:00–07:00). None or equal ends: no quiet hours."""
    if start is None or end is None or start == end:
        return False
    if start < end:
        return start <= at < end
    return at >= start or at < end


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --- 1. Materialise ----------------------------------------------------------

def _window_start(*, now: datetime) -> datetime:
    """Slots due after this instant (and by `now`) have not been turned into rows yet."""
    missed_window = timedelta(minutes=settings.REMINDER_MISSED_WINDOW_MINUTES)
    state = ReminderDispatchState.objects.filter(key=ReminderDispatchState.KEY).first()
    if state is None or state.materialised_until > now:
        # First run ever, or a run for an earlier moment (an operator's --now):
        # only slots that may still be sent are worth a row.
        return now - missed_window
    # After downtime the slots missed meanwhile get rows too, so that they are
    # recorded as skipped rather than silently forgotten.
    return max(state.materialised_until, now - max(missed_window, MAX_LOOKBACK))


def _advance_watermark(*, now: datetime) -> None:
    updated = ReminderDispatchState.objects.filter(key=ReminderDispatchState.KEY).update(
        materialised_until=Greatest("materialised_until", now)
    )
    if not updated:
        ReminderDispatchState.objects.bulk_create(
            [ReminderDispatchState(key=ReminderDispatchState.KEY, materialised_until=now)], ignore_conflicts=True
        )


# Up to this wide a window, the database picks the plans with a slot in it; wider (after long downtime), every
# running plan is read.
PREFILTER_MAX_WINDOW = timedelta(hours=3)


def candidate_slots(*, tz: ZoneInfo, start: datetime, end: datetime) -> set[str]:
    """A superset of the "HH:MM" slots that occur in (start, end] in a time zone: the wall-clock readings of each
    minute, plus each minute read with the offset of a day before (that is how a slot in a skipped hour is read).
    """
    found = set()
    minute = start.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
    while minute <= end:
        found.add(minute.astimezone(tz).strftime("%H:%M"))
        earlier_offset = (minute - timedelta(days=1)).astimezone(tz).utcoffset()
        found.add((minute + earlier_offset).strftime("%H:%M"))
        minute += timedelta(minutes=1)
    return found


def _slot_spellings(slot: str) -> list[str]:
    """The ways a slot may be stored that normalise_slot reads as it: "08:00", "8:00", "08:00:00", "8:00:00"."""
    short = slot[1:] if slot.startswith("0") else slot
    return sorted({slot, short, f"{slot}:00", f"{short}:00"})


def _has_any_slot(slots: set[str]) -> Q:
    spellings = sorted({spelling for slot in slots for spelling in _slot_spellings(slot)})
    if connection.vendor == "postgresql":
        # jsonb ?| : is any of these strings an element of the array. As cheap as reading the row.
        return Q(reminder_times__has_any_keys=spellings)
    # Elsewhere (SQLite), match the JSON text: a quoted element.
    return Q(reminder_text__regex='"(' + "|".join(re.escape(s) for s in spellings) + ')"')


def _with_a_slot_in_window(plans, *, start: datetime, end: datetime):
    """Narrow running plans to those whose patient's zone has one of their reminder times in (start, end].

    Per minute that is a slot or two per zone, so the database returns the few
    plans due instead of every plan. The exact check happens afterwards in Python.
    """
    if end - start > PREFILTER_MAX_WINDOW:
        return plans
    condition = Q(pk__in=[])
    # Every zone any user is in: a cheap superset of the zones of patients with running plans.
    for tz_name in get_user_model().objects.values_list("timezone", flat=True).distinct().order_by():
        tz = _zone(tz_name)
        if tz is None:
            continue
        slots = candidate_slots(tz=tz, start=start, end=end)
        if slots:
            condition |= Q(patient__timezone=tz_name) & _has_any_slot(slots)
    if connection.vendor != "postgresql":
        plans = plans.annotate(reminder_text=Cast("reminder_times", output_field=TextField()))
    return plans.filter(condition)


def materialise_due_reminders(*, now: datetime, batch_size: int = 2000) -> int:
    """Create the reminder rows for every slot of every active plan that fell due since the last run.

    Returns how many rows were attempted (conflicts with existing rows are ignored).
    A constant number of queries whatever the number of plans.
    """
    start = _window_start(now=now)
    occurrences: dict[tuple[str, str], list[tuple[date, datetime]]] = {}
    zones: dict[str, ZoneInfo | None] = {}
    rows: list[ReminderDelivery] = []
    running = Plan.objects.filter(status=PlanStatus.ACTIVE, start_date__lte=(now + timedelta(days=1)).date())
    plans = _with_a_slot_in_window(running, start=start, end=now).values_list(
        "id", "reminder_times", "start_date", "patient__timezone"
    )
    for plan_id, reminder_times, start_date, tz_name in plans.iterator(chunk_size=batch_size):
        if not reminder_times:
            continue
        if tz_name not in zones:
            zones[tz_name] = _zone(tz_name)
        tz = zones[tz_name]
        if tz is None:
            logger.warning("plan %s: patient time zone %r is unknown; no reminders", plan_id, tz_name)
            continue
        for raw in reminder_times:
            slot = normalise_slot(raw)
            if slot is None:
                logger.warning("plan %s: reminder time %r is not HH:MM; ignored", plan_id, raw)
                continue
            key = (tz_name, slot)
            if key not in occurrences:
                occurrences[key] = occurrences_between(tz=tz, slot=slot, start=start, end=now)
            for local_date, due_at in occurrences[key]:
                if local_date >= start_date:
                    rows.append(ReminderDelivery(
                        plan_id=plan_id, local_date=local_date, slot=slot, kind=REMINDER, due_at=due_at,
                    ))
    # The same order in every dispatcher, so that two of them inserting at once
    # wait for each other on the unique index instead of deadlocking.
    rows.sort(key=lambda r: (r.plan_id, r.local_date, r.slot))
    with transaction.atomic():
        ReminderDelivery.objects.bulk_create(rows, batch_size=batch_size, ignore_conflicts=True)
        _advance_watermark(now=now)
    return len(rows)


def reschedule_pending_reminders(*, now: datetime) -> int:
    """Recompute the instant of unclaimed pending rows from the patient's current time zone.

    A patient who moves from New York to Tokyo keeps the local "08:00" they chose;
    the row's due_at follows. Returns how many rows moved.
    """
    lease_expired = now - timedelta(minutes=settings.REMINDER_CLAIM_LEASE_MINUTES)
    pending = (
        ReminderDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_expired))
        .values_list("id", "local_date", "slot", "due_at", "plan__patient__timezone")
    )
    moved = 0
    for pk, local_date, slot, due_at, tz_name in list(pending):
        tz = _zone(tz_name)
        if tz is None:
            continue
        instant = reminder_instant(local_date=local_date, slot=slot, tz=tz)
        if instant != due_at:
            # One update per moved row (only rows of patients who changed time zone), and only if nobody
            # has taken or changed the row since it was read.
            moved += ReminderDelivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING, due_at=due_at).update(
                due_at=instant, claimed_at=None
            )
    return moved


# --- 2. Claim -----------------------------------------------------------------

def claim_due_reminders(*, now: datetime, limit: int) -> list[int]:
    """Claim up to `limit` due pending rows nobody else holds; returns their ids.

    Rows locked by another dispatcher are skipped, not waited for; a claim that
    was never finished (a worker died) expires after the lease and is taken again.
    Unclaimed rows are read through a partial index in claim order (no sort of
    the whole backlog); claims past their lease, rare, come second.
    """
    lease_expired = now - timedelta(minutes=settings.REMINDER_CLAIM_LEASE_MINUTES)
    due = ReminderDelivery.objects.select_for_update(skip_locked=True).filter(
        status=DeliveryStatus.PENDING, due_at__lte=now
    )
    with transaction.atomic():
        if connection.vendor == "postgresql":
            ids = _claim_unclaimed_in_one_statement(now=now, limit=limit)
        else:
            ids = list(
                due.filter(claimed_at__isnull=True).order_by("due_at", "id").values_list("id", flat=True)[:limit]
            )
            if ids:
                ReminderDelivery.objects.filter(pk__in=ids).update(claimed_at=now)
        if len(ids) < limit:
            ids += (expired := list(
                due.filter(claimed_at__lt=lease_expired).order_by("due_at", "id")
                .values_list("id", flat=True)[:limit - len(ids)]
            ))
            if expired:
                ReminderDelivery.objects.filter(pk__in=expired).update(claimed_at=now)
    return ids


def _claim_unclaimed_in_one_statement(*, now: datetime, limit: int) -> list[int]:
    """PostgreSQL: lock, stamp and return a batch of unclaimed due rows in one round trip (the partial index
    reminder_unclaimed_due_idx serves the inner query in order)."""
    assert ReminderDelivery._meta.db_table == "plans_reminderdelivery"
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE plans_reminderdelivery SET claimed_at = %s WHERE id IN (
                    SELECT id FROM plans_reminderdelivery
                    WHERE status = %s AND claimed_at IS NULL AND due_at <= %s
                    ORDER BY due_at, id LIMIT %s
                    FOR UPDATE SKIP LOCKED)
                RETURNING id""",
            [now, DeliveryStatus.PENDING, now, limit],
        )
        return sorted(row[0] for row in cursor.fetchall())


def release_claims(*, ids: list[int]) -> None:
    """Give claimed rows back, e.g. when they could not be handed to the broker."""
    ReminderDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(claimed_at=None)


# --- 3. Deliver ---------------------------------------------------------------
#
# A claimed batch is decided as a whole: a fixed number of queries load what
# every row needs (plans and patients, the current phase's exercises, the logs
# around the rows' dates, the follow-ups already sent), each row is decided in
# Python, the inbox items and their email/push rows go in with bulk inserts, and
# the rows' outcomes are written with a few updates, all in one transaction.
# Only rows still pending in the locked re-read are acted on, so a batch run
# twice sends nothing twice.

@dataclass(frozen=True)
class Outcome:
    status: str  # sent | skipped | failed | error | rescheduled | taken (another worker has it, or it is done)
    reason: str = ""
    notification_ids: tuple[int, ...] = ()


FOLLOW_UP_TITLE = "How is your knee doing?"
FOLLOW_UP_BODY = (
    "Nothing has been logged on your plan for two days. A short session still helps. "
    "If pain or swelling is what is stopping you, record a check-in so your physiotherapist can adjust the plan."
)


class _Prescribed(NamedTuple):
    """What a reminder needs of a prescribed exercise (tuples: a batch reads thousands)."""

    id: int
    times_per_day: int
    name: str


def _reminder_text(remaining: list[_Prescribed]) -> tuple[str, str]:
    names = ", ".join(e.name for e in remaining[:4])
    more = f" and {len(remaining) - 4} more" if len(remaining) > 4 else ""
    count = "1 exercise" if len(remaining) == 1 else f"{len(remaining)} exercises"
    body = (
        f"Still on today's plan: {count} ({names}{more}). "
        "Move at a pace your knee accepts, and stop any exercise that makes the pain sharply worse."
    )
    return "Time for your knee exercises", body


def _cheap_skip_reason(row: ReminderDelivery, *, now: datetime, tz: ZoneInfo) -> str | None:
    """Why a row is skipped, from the row, its plan and its patient alone; None if it may go out."""
    plan, patient = row.plan, row.plan.patient
    if plan.status != PlanStatus.ACTIVE:
        return f"plan is {plan.status}"
    if getattr(row, "plan_on_hold", False):
        # After an urgent or emergency prompt the patient was told to stop exercising: neither a reminder nor
        # a follow-up ("a short session still helps") may say otherwise until a physiotherapist clears the hold.
        return "safety hold: the plan is stopped until a physiotherapist clears it"
    if row.local_date < plan.start_date:
        return "plan has not started"
    if row.kind == REMINDER and row.slot not in {normalise_slot(t) for t in plan.reminder_times or []}:
        return "reminder time removed from the plan"
    if not patient.reminders_enabled:
        return "reminders are turned off"
    late = now - row.due_at
    window = settings.REMINDER_MISSED_WINDOW_MINUTES
    if late > timedelta(minutes=window):
        return f"missed: due {int(late.total_seconds() // 60)} minutes earlier, beyond the {window}-minute window"
    if in_quiet_hours(start=patient.quiet_hours_start, end=patient.quiet_hours_end, at=now.astimezone(tz).time()):
        return "quiet hours"
    return None


class _PlanActivity:
    """What a batch needs to know about its plans' exercises and logs, loaded in a few queries.

    `follow_up_due` is the rule: nothing logged on the plan for
    FOLLOW_UP_AFTER_DAYS full local days, and no follow-up sent yet in this
    streak. The streak starts the day after the last log (or on the start date);
    a log ends it, so the next quiet stretch earns a follow-up of its own.
    """

    def __init__(self, plans: list[Plan], dates: set[date]):
        plan_ids = [p.pk for p in plans]
        self.exercises: dict[int, list[_Prescribed]] = defaultdict(list)
        self.done: dict[tuple[int, date], int] = {}  # (plan exercise, date) -> times logged
        self.log_dates: dict[int, set[date]] = defaultdict(set)  # plan -> dates logged in the recent range
        self.older_last_log: dict[int, date] = {}
        self.last_follow_up: dict[int, date] = {}
        if not plans:
            return
        by_phase: dict[str, list[int]] = defaultdict(list)
        for plan in plans:
            by_phase[plan.current_phase].append(plan.pk)
        current = reduce(or_, (Q(plan_id__in=ids, phase=phase) for phase, ids in by_phase.items()))
        prescribed = PlanExercise.objects.filter(current).order_by("plan_id", "order", "id").values_list(
            "plan_id", "id", "times_per_day", "exercise__name"
        )
        for plan_id, *exercise in prescribed:
            self.exercises[plan_id].append(_Prescribed(*exercise))
        # Every log that decides a row: on its date, or in the days before it that make a streak.
        self.recent_from = min(dates) - timedelta(days=FOLLOW_UP_AFTER_DAYS)
        recent = (
            ExerciseLog.objects.filter(plan_exercise__plan_id__in=plan_ids, date__gte=self.recent_from,
                                       date__lte=max(dates))
            .order_by().values_list("plan_exercise_id", "plan_exercise__plan_id", "date").annotate(n=Count("id"))
        )
        for plan_exercise_id, plan_id, day, times in recent:
            self.done[(plan_exercise_id, day)] = times
            self.log_dates[plan_id].add(day)

    def load_streaks(self, plan_ids: set[int]) -> None:
        """The last log before the recent range and the last follow-up sent, for plans that may need a follow-up."""
        if not plan_ids:
            return
        self.older_last_log = dict(
            ExerciseLog.objects.filter(plan_exercise__plan_id__in=plan_ids, date__lt=self.recent_from)
            .order_by().values("plan_exercise__plan_id").annotate(last=Max("date"))
            .values_list("plan_exercise__plan_id", "last")
        )
        self.last_follow_up = dict(
            ReminderDelivery.objects.filter(plan_id__in=plan_ids, kind=FOLLOW_UP, status=DeliveryStatus.SENT)
            .order_by().values("plan_id").annotate(last=Max("local_date")).values_list("plan_id", "last")
        )

    def remaining(self, plan: Plan, local_date: date) -> list[_Prescribed]:
        return [e for e in self.exercises[plan.pk] if self.done.get((e.id, local_date), 0) < e.times_per_day]

    def quiet_since(self, plan: Plan, local_date: date) -> date:
        """The first day of the quiet streak that `local_date` is in."""
        logged = [d for d in self.log_dates[plan.pk] if d <= local_date]
        last = max(logged) if logged else self.older_last_log.get(plan.pk)
        if last is not None and last >= plan.start_date:
            return last + timedelta(days=1)
        return plan.start_date

    def may_need_follow_up(self, plan: Plan, local_date: date) -> bool:
        """Cheap first test (no streak data needed): false when the recent logs already rule a follow-up out."""
        return (local_date - self.quiet_since(plan, local_date)).days >= FOLLOW_UP_AFTER_DAYS

    def follow_up_due(self, plan: Plan, local_date: date) -> bool:
        streak_start = self.quiet_since(plan, local_date)
        if (local_date - streak_start).days < FOLLOW_UP_AFTER_DAYS:
            return False
        last_sent = self.last_follow_up.get(plan.pk)
        return last_sent is None or last_sent < streak_start

    def follow_up_sent(self, plan: Plan, local_date: date) -> None:
        """A follow-up decided in this batch counts for the plan's later rows in the same batch."""
        self.last_follow_up[plan.pk] = max(local_date, self.last_follow_up.get(plan.pk, local_date))


@dataclass
class _Send:
    row: ReminderDelivery
    title: str
    body: str
    in_place_of: ReminderDelivery | None = None


def _follow_up_rows(wanted: list[ReminderDelivery], *, now: datetime) -> dict[tuple, ReminderDelivery]:
    """The follow-up rows to send in place of these reminder rows: made if missing, locked, still pending.

    A follow-up row that exists and is already done, or is held by another
    worker, is not returned: that reminder goes out as a plain reminder.
    """
    if not wanted:
        return {}
    keys = {(r.plan_id, r.local_date, r.slot) for r in wanted}
    ReminderDelivery.objects.bulk_create(
        [ReminderDelivery(plan_id=r.plan_id, local_date=r.local_date, slot=r.slot, kind=FOLLOW_UP, due_at=r.due_at,
                          claimed_at=now) for r in sorted(wanted, key=lambda r: (r.plan_id, r.local_date, r.slot))],
        ignore_conflicts=True,
    )
    found = (
        ReminderDelivery.objects.select_for_update(skip_locked=True)
        .filter(plan_id__in={k[0] for k in keys}, local_date__in={k[1] for k in keys}, kind=FOLLOW_UP,
                status=DeliveryStatus.PENDING)
    )
    return {key: row for row in found if (key := (row.plan_id, row.local_date, row.slot)) in keys}


# What deciding a row reads of it, its plan and its patient (a batch loads a thousand of each).
_ROW_FIELDS = (
    "id", "plan_id", "local_date", "slot", "kind", "due_at", "status", "attempts", "claimed_at",
    "plan__id", "plan__status", "plan__start_date", "plan__reminder_times", "plan__current_phase",
    "plan__patient_id", "plan__patient__id", "plan__patient__timezone", "plan__patient__email",
    "plan__patient__reminders_enabled", "plan__patient__quiet_hours_start", "plan__patient__quiet_hours_end",
)


def _deliver_batch(ids: list[int], *, now: datetime, enqueue_channels: bool) -> dict[int, Outcome]:
    outcomes = {pk: Outcome("taken") for pk in ids}
    rows = list(
        ReminderDelivery.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("plan__patient")
        .only(*_ROW_FIELDS)
        .annotate(plan_on_hold=Exists(SafetyHold.objects.filter(plan_id=OuterRef("plan_id"),
                                                                cleared_at__isnull=True)))
        .filter(pk__in=ids, status=DeliveryStatus.PENDING)
        .order_by("pk")
    )
    skips: list[tuple[ReminderDelivery, str]] = []
    moved: list[ReminderDelivery] = []
    candidates: list[ReminderDelivery] = []
    for row in rows:
        tz = _zone(row.plan.patient.timezone)
        if tz is None:
            skips.append((row, f"unknown time zone {row.plan.patient.timezone!r}"))
            continue
        # The patient may have changed time zone since the row was made.
        instant = reminder_instant(local_date=row.local_date, slot=row.slot, tz=tz)
        if instant != row.due_at:
            row.due_at = instant
            moved.append(row)
        if instant > now:
            row.claimed_at = None
            outcomes[row.pk] = Outcome("rescheduled")
            continue
        row.attempts += 1
        reason = _cheap_skip_reason(row, now=now, tz=tz)
        if reason:
            skips.append((row, reason))
        else:
            candidates.append(row)

    sends: list[_Send] = []
    if candidates:
        plans = {row.plan_id: row.plan for row in candidates}
        activity = _PlanActivity(list(plans.values()), {row.local_date for row in candidates})
        candidates.sort(key=lambda r: (r.due_at, r.pk))
        quiet = {r.plan_id for r in candidates if activity.may_need_follow_up(r.plan, r.local_date)}
        if quiet:
            # Follow-ups are decided one batch at a time per plan, so two batches holding slots of the same plan
            # cannot both send one: the plans that may need one are locked (in id order, so that two batches
            # never wait on each other in a circle) before the follow-ups already sent are read.
            list(Plan.objects.select_for_update().filter(pk__in=quiet).order_by("pk").values_list("pk", flat=True))
        activity.load_streaks(quiet)
        in_place: list[tuple[ReminderDelivery, list[_Prescribed]]] = []
        for row in candidates:
            plan = row.plan
            if not activity.exercises[plan.pk]:
                skips.append((row, "no exercises prescribed in the current phase"))
            elif row.kind == FOLLOW_UP:
                if activity.follow_up_due(plan, row.local_date):
                    activity.follow_up_sent(plan, row.local_date)
                    sends.append(_Send(row, FOLLOW_UP_TITLE, FOLLOW_UP_BODY))
                else:
                    skips.append((row, "exercises were logged"))
            elif not (remaining := activity.remaining(plan, row.local_date)):
                skips.append((row, "today's exercises are all logged"))
            elif activity.follow_up_due(plan, row.local_date):
                # The follow-up replaces this reminder (one message, not two).
                activity.follow_up_sent(plan, row.local_date)
                in_place.append((row, remaining))
            else:
                sends.append(_Send(row, *_reminder_text(remaining)))
        follow_ups = _follow_up_rows([row for row, _ in in_place], now=now)
        for row, remaining in in_place:
            follow_up = follow_ups.get((row.plan_id, row.local_date, row.slot))
            if follow_up is None:
                sends.append(_Send(row, *_reminder_text(remaining)))
            else:
                follow_up.plan = row.plan
                sends.append(_Send(follow_up, FOLLOW_UP_TITLE, FOLLOW_UP_BODY, in_place_of=row))
                skips.append((row, "a follow-up went out in its place"))

    # Into the inbox in the order the slots fell due.
    sends.sort(key=lambda s: (s.row.due_at, (s.in_place_of or s.row).pk))
    notification_ids = notify_many(
        requests=[NotificationRequest(recipient=s.row.plan.patient, kind=s.row.kind, title=s.title, body=s.body,
                                      link=TODAY_LINK, dedupe_key=f"{s.row.kind}:{s.row.pk}") for s in sends],
        enqueue=enqueue_channels,
    )
    _record_outcomes(sends=sends, skips=skips, moved=moved, now=now)

    for send, notification_id in zip(sends, notification_ids, strict=True):
        if send.in_place_of is not None:
            outcomes[send.in_place_of.pk] = Outcome("skipped", "a follow-up went out in its place", (notification_id,))
        else:
            outcomes[send.row.pk] = Outcome("sent", notification_ids=(notification_id,))
    for row, reason in skips:
        if outcomes[row.pk].status != "skipped":
            outcomes[row.pk] = Outcome("skipped", reason)
    return outcomes


def _record_outcomes(*, sends: list[_Send], skips: list[tuple[ReminderDelivery, str]],
                     moved: list[ReminderDelivery], now: datetime) -> None:
    """A few updates for the whole batch: one per kind of outcome, not one per row."""
    if moved:  # only rows of patients who changed time zone
        ReminderDelivery.objects.bulk_update(moved, ["due_at", "claimed_at"])
    if sends:
        # attempts were counted on the locked rows in Python; a new follow-up row counts its first attempt here.
        for send in sends:
            if send.row.kind == FOLLOW_UP and send.in_place_of is not None:
                send.row.attempts += 1
        by_attempts: dict[int, list[int]] = defaultdict(list)
        for send in sends:
            by_attempts[send.row.attempts].append(send.row.pk)
        for attempts, pks in by_attempts.items():
            ReminderDelivery.objects.filter(pk__in=pks).update(
                status=DeliveryStatus.SENT, sent_at=now, last_error="", attempts=attempts
            )
    by_reason: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row, reason in skips:
        by_reason[(reason, row.attempts)].append(row.pk)
    for (reason, attempts), pks in by_reason.items():
        ReminderDelivery.objects.filter(pk__in=pks).update(
            status=DeliveryStatus.SKIPPED, skip_reason=reason[:200], attempts=attempts
        )


def _record_error(delivery_id: int, exc: Exception) -> Outcome:
    """An unexpected error stays on the row, which keeps its claim so that a later dispatch retries it."""
    error = f"{exc.__class__.__name__}: {exc}"[:2000]
    with transaction.atomic():
        row = ReminderDelivery.objects.select_for_update().filter(
            pk=delivery_id, status=DeliveryStatus.PENDING
        ).first()
        if row is None:
            return Outcome("taken")
        row.attempts += 1
        row.last_error = error
        if row.attempts >= settings.REMINDER_MAX_ATTEMPTS:
            row.status = DeliveryStatus.FAILED
        row.save(update_fields=["attempts", "last_error", "status"])
    return Outcome("failed" if row.status == DeliveryStatus.FAILED else "error", error)


def deliver_reminders(*, ids: list[int], now: datetime, enqueue_channels: bool = True) -> dict[int, Outcome]:
    """Decide about a batch of reminder rows and send or skip each, once; returns each row's outcome.

    Safe to call twice or from two workers: the rows are locked (rows another
    worker holds are left to it, "taken") and only pending rows are acted on.
    If the batch raises, each row is tried on its own, so that one bad row
    neither holds back the others nor hides which row it was; its error is
    recorded on it and a later dispatch retries it, until REMINDER_MAX_ATTEMPTS.
    """
    try:
        with transaction.atomic():
            return _deliver_batch(ids, now=now, enqueue_channels=enqueue_channels)
    except Exception as exc:
        if len(ids) > 1:
            logger.warning("a batch of %s reminders failed; trying them one by one", len(ids), exc_info=True)
            outcomes = {}
            for pk in ids:
                outcomes.update(deliver_reminders(ids=[pk], now=now, enqueue_channels=enqueue_channels))
            return outcomes
        logger.exception("reminder %s could not be delivered", ids[0])
        return {ids[0]: _record_error(ids[0], exc)}


def deliver_reminder(*, delivery_id: int, now: datetime, enqueue_channels: bool = True) -> Outcome:
    """`deliver_reminders` for one row."""
    return deliver_reminders(ids=[delivery_id], now=now, enqueue_channels=enqueue_channels)[delivery_id]


def send_channels_now(*, notification_ids: list[int] | tuple[int, ...]) -> None:
    """Send notifications' pending email and push in this process instead of through the broker."""
    pending = ChannelDelivery.objects.filter(
        notification_id__in=notification_ids, status=ChannelDeliveryStatus.PENDING
    ).order_by("pk").values_list("pk", flat=True)
    for pk in list(pending):
        deliver_channel(delivery_id=pk)


# --- The dispatcher -------------------------------------------------------------

@dataclass
class DispatchResult:
    materialised: int = 0
    rescheduled: int = 0
    claimed: int = 0
    queued: int = 0
    broker_unreachable: bool = False
    outcomes: Counter = field(default_factory=Counter)
    skip_reasons: Counter = field(default_factory=Counter)

    @property
    def sent(self) -> int:
        return self.outcomes["sent"]

    @property
    def skipped(self) -> int:
        return self.outcomes["skipped"]

    def as_dict(self) -> dict:
        return {
            "materialised": self.materialised, "rescheduled": self.rescheduled, "claimed": self.claimed,
            "queued": self.queued, "broker_unreachable": self.broker_unreachable, **dict(self.outcomes),
        }


def _hand_off(ids: list[int], result: DispatchResult, publish: Callable[[list[int]], object]) -> None:
    """Queue one send task for a claimed batch (one publish, whatever its size).

    If the broker is unreachable the batch is released, so that the next run takes it again.
    """
    try:
        publish(ids)
    except Exception:
        logger.warning("broker unreachable; %s reminders stay pending for the next dispatch", len(ids),
                       exc_info=True)
        release_claims(ids=ids)
        result.broker_unreachable = True
        return
    result.queued += len(ids)


def dispatch_due_reminders(*, now: datetime, publish: Callable[[list[int]], object] | None = None,
                           batch_size: int | None = None) -> DispatchResult:
    """One dispatcher run: make the rows that fell due, then claim them in batches and send each batch.

    `publish` hands a claimed batch to a worker (the task passes `send_reminder_batch.delay`, so this module
    never imports the tasks that call it), once its claim has committed. Without it (the management
    command) each batch is decided, and its email and push sent, in this process.
    """
    batch_size = batch_size or settings.REMINDER_DISPATCH_BATCH_SIZE
    result = DispatchResult()
    # Rows left pending from earlier runs first: the rows made just now already follow the current time zones.
    result.rescheduled = reschedule_pending_reminders(now=now)
    result.materialised = materialise_due_reminders(now=now)
    while True:
        ids = claim_due_reminders(now=now, limit=batch_size)
        result.claimed += len(ids)
        if publish is None and ids:
            outcomes = deliver_reminders(ids=ids, now=now, enqueue_channels=False)
            for outcome in outcomes.values():
                result.outcomes[outcome.status] += 1
                if outcome.status == "skipped":
                    result.skip_reasons[outcome.reason.split(":")[0]] += 1
            send_channels_now(notification_ids=[pk for o in outcomes.values() for pk in o.notification_ids])
        elif ids:
            transaction.on_commit(partial(_hand_off, ids, result, publish))
            if result.broker_unreachable:  # no point claiming more now; the next run tries again
                break
        if len(ids) < batch_size:
            break
    return result

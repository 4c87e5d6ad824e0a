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
3. `deliver_reminder` (run by the `send_reminder` task, or in-process by the
   management command) locks one row again, decides whether it should go out
   at all (plan state, start date, preferences, quiet hours, the missed window,
   what was logged today) and either puts a notification in the inbox or marks
   the row skipped with the reason. The notification's dedupe key names the
   row, a third guard against sending twice.

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
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Max, Q, TextField
from django.db.models.functions import Cast, Greatest

from kneerehab.notifications.models import ChannelDelivery, ChannelDeliveryStatus
from kneerehab.notifications.services import deliver_channel, notify
from tracker.models import ExerciseLog

from .models import (
    DeliveryStatus,
    Plan,
    PlanExercise,
    PlanStatus,
    ReminderDelivery,
    ReminderDispatchState,
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
    """
    lease_expired = now - timedelta(minutes=settings.REMINDER_CLAIM_LEASE_MINUTES)
    with transaction.atomic():
        ids = list(
            ReminderDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, due_at__lte=now)
            .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_expired))
            .order_by("due_at", "id")
            .values_list("id", flat=True)[:limit]
        )
        if ids:
            ReminderDelivery.objects.filter(pk__in=ids).update(claimed_at=now)
    return ids


def release_claims(*, ids: list[int]) -> None:
    """Give claimed rows back, e.g. when they could not be handed to the broker."""
    ReminderDelivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(claimed_at=None)


# --- 3. Deliver ---------------------------------------------------------------

@dataclass(frozen=True)
class Outcome:
    status: str  # sent | skipped | failed | error | rescheduled | taken (another worker has it, or it is done)
    reason: str = ""
    notification_ids: tuple[int, ...] = ()


def _remaining_today(*, plan: Plan, local_date: date) -> tuple[list[PlanExercise], int]:
    """The current phase's exercises logged fewer times than prescribed on that local date, and how many there are."""
    exercises = list(
        PlanExercise.objects.filter(plan=plan, phase=plan.current_phase).select_related("exercise").order_by("order")
    )
    done = dict(
        ExerciseLog.objects.filter(plan_exercise__in=exercises, date=local_date)
        .values("plan_exercise_id").annotate(n=Count("id")).values_list("plan_exercise_id", "n")
    )
    return [e for e in exercises if done.get(e.pk, 0) < e.times_per_day], len(exercises)


def follow_up_due(*, plan: Plan, local_date: date) -> bool:
    """Nothing logged on the plan for FOLLOW_UP_AFTER_DAYS full local days, and no follow-up sent yet in this streak.

    The streak starts the day after the last log (or on the start date); a log
    ends it, so the next quiet stretch earns a follow-up of its own.
    """
    last_logged = ExerciseLog.objects.filter(plan_exercise__plan=plan, date__lte=local_date).aggregate(
        last=Max("date")
    )["last"]
    streak_start = plan.start_date
    if last_logged is not None and last_logged >= streak_start:
        streak_start = last_logged + timedelta(days=1)
    if (local_date - streak_start).days < FOLLOW_UP_AFTER_DAYS:
        return False
    return not ReminderDelivery.objects.filter(
        plan=plan, kind=FOLLOW_UP, status=DeliveryStatus.SENT, local_date__gte=streak_start
    ).exists()


def _reminder_text(remaining: list[PlanExercise]) -> tuple[str, str]:
    names = ", ".join(e.exercise.name for e in remaining[:4])
    more = f" and {len(remaining) - 4} more" if len(remaining) > 4 else ""
    count = "1 exercise" if len(remaining) == 1 else f"{len(remaining)} exercises"
    body = (
        f"Still on today's plan: {count} ({names}{more}). "
        "Move at a pace your knee accepts, and stop any exercise that makes the pain sharply worse."
    )
    return "Time for your knee exercises", body


FOLLOW_UP_TITLE = "How is your knee doing?"
FOLLOW_UP_BODY = (
    "Nothing has been logged on your plan for two days. A short session still helps. "
    "If pain or swelling is what is stopping you, record a check-in so your physiotherapist can adjust the plan."
)


def _skip(row: ReminderDelivery, *, reason: str) -> Outcome:
    row.status = DeliveryStatus.SKIPPED
    row.skip_reason = reason
    row.save(update_fields=["status", "skip_reason", "attempts", "due_at"])
    return Outcome("skipped", reason)


def _send(row: ReminderDelivery, *, now: datetime, title: str, body: str, enqueue_channels: bool) -> int:
    notification = notify(
        recipient=row.plan.patient, kind=row.kind, title=title, body=body, link=TODAY_LINK,
        dedupe_key=f"{row.kind}:{row.pk}", enqueue=enqueue_channels,
    )
    row.status = DeliveryStatus.SENT
    row.sent_at = now
    row.last_error = ""
    row.save(update_fields=["status", "sent_at", "attempts", "due_at", "last_error"])
    return notification.pk


def _follow_up_in_place_of(row: ReminderDelivery, *, now: datetime, enqueue_channels: bool) -> int | None:
    """When a follow-up is due it replaces this reminder (one message, not two); returns its notification id."""
    # Decide follow-ups one at a time per plan, so two slots handled at once cannot both send one.
    Plan.objects.select_for_update().filter(pk=row.plan_id).values_list("pk").first()
    if not follow_up_due(plan=row.plan, local_date=row.local_date):
        return None
    follow_up, created = ReminderDelivery.objects.get_or_create(
        plan=row.plan, local_date=row.local_date, slot=row.slot, kind=FOLLOW_UP,
        defaults={"due_at": row.due_at, "claimed_at": now},
    )
    if not created and follow_up.status != DeliveryStatus.PENDING:
        return None
    follow_up.plan = row.plan
    follow_up.attempts += 1
    return _send(follow_up, now=now, title=FOLLOW_UP_TITLE, body=FOLLOW_UP_BODY, enqueue_channels=enqueue_channels)


def _decide_and_send(row: ReminderDelivery, *, now: datetime, enqueue_channels: bool) -> Outcome:
    plan = row.plan
    patient = plan.patient
    tz = _zone(patient.timezone)
    if tz is None:
        return _skip(row, reason=f"unknown time zone {patient.timezone!r}")

    # The patient may have changed time zone since the row was made.
    row.due_at = reminder_instant(local_date=row.local_date, slot=row.slot, tz=tz)
    if row.due_at > now:
        row.claimed_at = None
        row.save(update_fields=["due_at", "claimed_at"])
        return Outcome("rescheduled")

    row.attempts += 1
    if plan.status != PlanStatus.ACTIVE:
        return _skip(row, reason=f"plan is {plan.status}")
    if row.local_date < plan.start_date:
        return _skip(row, reason="plan has not started")
    if row.kind == REMINDER and row.slot not in {normalise_slot(t) for t in plan.reminder_times or []}:
        return _skip(row, reason="reminder time removed from the plan")
    if not patient.reminders_enabled:
        return _skip(row, reason="reminders are turned off")
    late = now - row.due_at
    window = settings.REMINDER_MISSED_WINDOW_MINUTES
    if late > timedelta(minutes=window):
        return _skip(row, reason=f"missed: due {int(late.total_seconds() // 60)} minutes earlier, "
                                 f"beyond the {window}-minute window")
    if in_quiet_hours(start=patient.quiet_hours_start, end=patient.quiet_hours_end, at=now.astimezone(tz).time()):
        return _skip(row, reason="quiet hours")

    remaining, prescribed = _remaining_today(plan=plan, local_date=row.local_date)
    if prescribed == 0:
        return _skip(row, reason="no exercises prescribed in the current phase")

    if row.kind == FOLLOW_UP:
        if not follow_up_due(plan=plan, local_date=row.local_date):
            return _skip(row, reason="exercises were logged")
        sent = _send(row, now=now, title=FOLLOW_UP_TITLE, body=FOLLOW_UP_BODY, enqueue_channels=enqueue_channels)
        return Outcome("sent", notification_ids=(sent,))

    if not remaining:
        return _skip(row, reason="today's exercises are all logged")
    follow_up = _follow_up_in_place_of(row, now=now, enqueue_channels=enqueue_channels)
    if follow_up is not None:
        outcome = _skip(row, reason="a follow-up went out in its place")
        return Outcome(outcome.status, outcome.reason, notification_ids=(follow_up,))
    title, body = _reminder_text(remaining)
    sent = _send(row, now=now, title=title, body=body, enqueue_channels=enqueue_channels)
    return Outcome("sent", notification_ids=(sent,))


def deliver_reminder(*, delivery_id: int, now: datetime, enqueue_channels: bool = True) -> Outcome:
    """Decide about one reminder row and send it or skip it, once.

    Safe to call twice or from two workers: the row is locked (a row another
    worker holds is left to it) and only a pending row is acted on. An
    unexpected error is recorded on the row, which stays pending under its
    claim so that a later dispatch retries it, until REMINDER_MAX_ATTEMPTS.
    """
    try:
        with transaction.atomic():
            row = (
                ReminderDelivery.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plan__patient")
                .filter(pk=delivery_id, status=DeliveryStatus.PENDING)
                .first()
            )
            if row is None:
                return Outcome("taken")
            return _decide_and_send(row, now=now, enqueue_channels=enqueue_channels)
    except Exception as exc:  # recorded on the row and retried by a later dispatch
        logger.exception("reminder %s could not be delivered", delivery_id)
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


def send_channels_now(*, notification_ids: tuple[int, ...]) -> None:
    """Send a notification's pending email and push in this process instead of through the broker."""
    pending = ChannelDelivery.objects.filter(
        notification_id__in=notification_ids, status=ChannelDeliveryStatus.PENDING
    ).values_list("pk", flat=True)
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


def _hand_off(ids: list[int], result: DispatchResult) -> None:
    """Queue one send task per claimed row.

    If the broker is unreachable the rest are released, so that the next run takes them again.
    """
    from .tasks import send_reminder

    for index, pk in enumerate(ids):
        try:
            send_reminder.delay(pk)
        except Exception:
            logger.warning("broker unreachable; %s reminders stay pending for the next dispatch",
                           len(ids) - index, exc_info=True)
            release_claims(ids=ids[index:])
            result.broker_unreachable = True
            return
        result.queued += 1


def dispatch_due_reminders(*, now: datetime, inline: bool = False, batch_size: int | None = None) -> DispatchResult:
    """One dispatcher run: make the rows that fell due, then claim them in batches and send each.

    With `inline` (the management command) each row is decided, and its email
    and push sent, in this process; otherwise each row goes to the
    `send_reminder` task once the claim has committed.
    """
    batch_size = batch_size or settings.REMINDER_DISPATCH_BATCH_SIZE
    result = DispatchResult()
    # Rows left pending from earlier runs first: the rows made just now already follow the current time zones.
    result.rescheduled = reschedule_pending_reminders(now=now)
    result.materialised = materialise_due_reminders(now=now)
    while True:
        ids = claim_due_reminders(now=now, limit=batch_size)
        result.claimed += len(ids)
        if inline:
            for pk in ids:
                outcome = deliver_reminder(delivery_id=pk, now=now, enqueue_channels=False)
                result.outcomes[outcome.status] += 1
                if outcome.status == "skipped":
                    result.skip_reasons[outcome.reason.split(":")[0]] += 1
                send_channels_now(notification_ids=outcome.notification_ids)
        elif ids:
            transaction.on_commit(partial(_hand_off, ids, result))
            if result.broker_unreachable:  # no point claiming more now; the next run tries again
                break
        if len(ids) < batch_size:
            break
    return result

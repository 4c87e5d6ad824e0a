"""The patient's exercise sessions as an iCalendar feed (RFC 5545), for a phone's calendar to subscribe to.

Each reminder time of each active plan is one event a day, at the same instant the reminder is sent
(plans.reminders.reminder_instant: a time in the spring-forward gap moves by the jump, a repeated autumn time
is its first occurrence), written in the patient's own time zone with its VTIMEZONE, so the phone shows the
local time whatever zone it is in.
"""
import hashlib
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone
from icalendar import Calendar, Event

from conditions.models import PhaseKey
from kneerehab.users.models import User

from .models import CalendarFeed, Plan, PlanExercise, PlanStatus
from .reminders import reminder_instant

# A calendar app polls every few hours: a week back and four weeks ahead is what it shows without surprises.
DAYS_BEFORE = 7
DAYS_AHEAD = 28
SESSION_MINUTES = 20
PRODUCT_ID = "-//kneerehab//exercise sessions//EN"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_for_token(token: str) -> CalendarFeed | None:
    """The live feed of this secret, or None (unknown or revoked: the caller answers 404 either way)."""
    return CalendarFeed.objects.select_related("patient").filter(token_hash=token_hash(token),
                                                                 revoked_at__isnull=True).first()


def sessions_calendar(*, patient: User, checkin_url: str, now: datetime | None = None) -> bytes:
    now = now or timezone.now()
    tz = patient.tzinfo
    today = now.astimezone(tz).date()
    first, last = today - timedelta(days=DAYS_BEFORE), today + timedelta(days=DAYS_AHEAD)
    plans = list(Plan.objects.filter(patient=patient, status=PlanStatus.ACTIVE, start_date__lte=last)
                 .select_related("condition").order_by("created_at", "id"))
    exercises: dict[int, list[PlanExercise]] = {plan.pk: [] for plan in plans}
    for pe in (PlanExercise.objects.filter(plan__in=plans).select_related("exercise")
               .order_by("plan_id", "order", "id")):
        if pe.phase == next(p.current_phase for p in plans if p.pk == pe.plan_id):
            exercises[pe.plan_id].append(pe)

    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Knee exercises")
    calendar.add("x-wr-timezone", patient.timezone)
    # Ask subscribers to look again every few hours (a changed plan or reminder time shows up the same day).
    calendar.add("refresh-interval", timedelta(hours=6), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT6H")
    for plan in plans:
        description = _description(plan, exercises[plan.pk], checkin_url)
        day = max(first, plan.start_date)
        while day <= last:
            for slot in plan.reminder_times:
                calendar.add_component(_session(plan, day, slot, tz, description, now))
            day += timedelta(days=1)
    calendar.add_missing_timezones()
    return calendar.to_ical()


def _session(plan: Plan, day: date, slot: str, tz: ZoneInfo, description: str, now: datetime) -> Event:
    start = reminder_instant(local_date=day, slot=slot, tz=tz).astimezone(tz)
    event = Event()
    event.add("uid", f"plan-{plan.pk}-{day.isoformat()}-{slot.replace(':', '')}@kneerehab")
    event.add("dtstamp", now)
    event.add("dtstart", start)
    event.add("duration", timedelta(minutes=SESSION_MINUTES))
    event.add("summary", f"Knee exercises ({plan.condition.name})")
    event.add("description", description)
    return event


def _description(plan: Plan, exercises: list[PlanExercise], checkin_url: str) -> str:
    lines = [f"Phase: {PhaseKey(plan.current_phase).label}."]
    for pe in exercises:
        hold = f", hold {pe.hold_seconds} s" if pe.hold_seconds else ""
        lines.append(f"- {pe.exercise.name}: {pe.sets} x {pe.reps}{hold}")
    lines.append(f"Daily check-in: {checkin_url}")
    return "\n".join(lines)

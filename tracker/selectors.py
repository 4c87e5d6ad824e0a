"""Reads of the tracker, each scoped to what the asking user may see."""
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from kneerehab.users.models import User
from kneerehab.users.selectors import patients_visible_to
from plans.models import PhaseChange, Plan, PlanStatus

from .adherence import adherence_by_day, adherence_percent
from .models import SYMPTOM_FLAGS, Alert, AlertStatus, CheckIn, ExerciseLog, PromptLevel, Swelling
from .questions import QUESTIONS
from .screening import FIRST_ON_PLAN, HISTORY_SIZE, PlanFacts, ScreeningContext

MAX_PROGRESS_DAYS = 366
DEFAULT_PROGRESS_DAYS = 30


def checkins_visible_to(*, user: User) -> QuerySet[CheckIn]:
    """A patient's own check-ins; a physiotherapist's caseload's; nobody else's."""
    if user.is_patient:
        return CheckIn.objects.filter(patient=user)
    return CheckIn.objects.filter(patient__in=patients_visible_to(user=user))


def answered_yes(checkin: CheckIn) -> list[dict]:
    """The yes/no questions the patient answered yes, as they read them: what a clinician acts on."""
    return [{"name": flag, "question": QUESTIONS[flag]} for flag in SYMPTOM_FLAGS if getattr(checkin, flag)]


def exercise_logs_visible_to(*, user: User) -> QuerySet[ExerciseLog]:
    qs = ExerciseLog.objects.select_related("plan_exercise__exercise")
    if user.is_patient:
        return qs.filter(patient=user)
    return qs.filter(patient__in=patients_visible_to(user=user))


def _level_priority():
    return Case(*[When(level=level, then=Value(PromptLevel.rank(level))) for level in PromptLevel.values],
                default=Value(0), output_field=IntegerField())


def alerts_for(*, physiotherapist: User) -> QuerySet[Alert]:
    """The physiotherapist's own alerts about patients still on their caseload: open first, most urgent first."""
    if not physiotherapist.is_physiotherapist:
        return Alert.objects.none()
    return (
        Alert.objects.filter(physiotherapist=physiotherapist, patient__in=physiotherapist.caseload.all())
        .select_related("patient", "acknowledged_by", "checkin", "exercise_log__plan_exercise__exercise")
        .annotate(
            priority=_level_priority(),
            is_open=Case(When(status=AlertStatus.OPEN, then=Value(1)), default=Value(0),
                         output_field=IntegerField()),
        )
        .order_by("-is_open", "-priority", "-created_at", "-id")
    )


def progress_default_range(*, patient: User) -> tuple[date, date]:
    """The last DEFAULT_PROGRESS_DAYS local days of the patient, today included."""
    until = timezone.localdate(timezone=patient.tzinfo)
    return until - timedelta(days=DEFAULT_PROGRESS_DAYS - 1), until


def _mean(values: list[int]) -> float | None:
    return round(sum(values) / len(values), 1) if values else None


def patient_progress(*, patient: User, viewer: User, since: date, until: date) -> dict:
    """Pain, swelling and adherence per local day from `since` to `until`, phase history, open alerts and the
    latest prompt. A fixed number of queries whatever the range."""
    tz = patient.tzinfo
    start = datetime.combine(since, time.min, tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=tz)
    rows = CheckIn.objects.filter(patient=patient, recorded_at__gte=start, recorded_at__lt=end).values_list(
        "recorded_at", "pain_at_rest", "pain_during_activity", "swelling"
    )
    per_day: dict[date, list[tuple]] = defaultdict(list)
    for recorded_at, rest, activity, swelling in rows:
        per_day[recorded_at.astimezone(tz).date()].append((rest, activity, swelling))

    days = [since + timedelta(days=i) for i in range((until - since).days + 1)]
    pain, swelling_series = [], []
    for day in days:
        entries = per_day.get(day, [])
        rest = [e[0] for e in entries]
        activity = [e[1] for e in entries]
        pain.append({
            "date": day, "checkins": len(entries),
            "rest_mean": _mean(rest), "rest_max": max(rest, default=None),
            "activity_mean": _mean(activity), "activity_max": max(activity, default=None),
        })
        worst = max((e[2] for e in entries), key=Swelling.rank, default=None)
        swelling_series.append({"date": day, "worst": worst})

    adherence_days = adherence_by_day(patient_ids=[patient.pk], start=since, end=until)[patient.pk]
    weeks: dict[tuple[int, int], list] = defaultdict(list)
    for entry in adherence_days:
        iso = entry.date.isocalendar()
        weeks[(iso.year, iso.week)].append(entry)
    adherence = {
        "percent": adherence_percent(adherence_days),
        "days": [{"date": d.date, "prescribed": d.prescribed, "logged": d.logged, "percent": d.percent}
                 for d in adherence_days],
        "weeks": [
            {"week": f"{year}-W{week:02d}", "start": date.fromisocalendar(year, week, 1),
             "prescribed": round(sum(d.prescribed for d in entries), 2),
             "logged": sum(d.logged for d in entries), "percent": adherence_percent(entries)}
            for (year, week), entries in sorted(weeks.items())
        ],
    }

    phase_history = [
        {"plan": change.plan_id, "condition": change.plan.condition.slug, "kind": change.kind,
         "from_phase": change.from_phase or None, "to_phase": change.to_phase or None,
         "changed_by": change.changed_by.username if change.changed_by else None,
         "reason": change.reason, "created_at": change.created_at}
        for change in PhaseChange.objects.filter(plan__patient=patient)
        .select_related("plan__condition", "changed_by").order_by("created_at", "id")
    ]

    return {
        "patient": {"id": patient.pk, "username": patient.username, "timezone": patient.timezone},
        "since": since,
        "until": until,
        "pain": pain,
        "swelling": swelling_series,
        "adherence": adherence,
        "phase_history": phase_history,
        "open_alerts": _open_alerts(patient=patient, viewer=viewer),
        "latest_prompt": _latest_prompt(patient=patient),
    }


def _open_alerts(*, patient: User, viewer: User) -> list[dict]:
    """A physiotherapist sees their own open alerts; the patient sees each alerted check-in that no
    physiotherapist has acknowledged yet, once."""
    qs = Alert.objects.filter(patient=patient, status=AlertStatus.OPEN)
    if viewer.is_physiotherapist:
        qs = qs.filter(physiotherapist=viewer)
    else:
        acknowledged = Alert.objects.filter(checkin=OuterRef("checkin"), status=AlertStatus.ACKNOWLEDGED)
        qs = qs.exclude(Exists(acknowledged))
    rows = qs.annotate(reported_at=Coalesce("checkin__recorded_at", "exercise_log__created_at")).order_by(
        "-reported_at", "-id").values("checkin_id", "exercise_log_id", "level", "reasons", "reported_at", "created_at")
    seen, result = set(), []
    for row in rows:
        source = (row["checkin_id"], row["exercise_log_id"])
        if source in seen:
            continue
        seen.add(source)
        result.append({"checkin": row["checkin_id"], "exercise_log": row["exercise_log_id"], "level": row["level"],
                       "reasons": row["reasons"], "recorded_at": row["reported_at"], "created_at": row["created_at"]})
    return result


def _latest_prompt(*, patient: User) -> dict | None:
    latest = (CheckIn.objects.filter(patient=patient).order_by("-recorded_at", "-id")
              .values("id", "recorded_at", "prompt", "prompt_level").first())
    if latest is None:
        return None
    prompt = latest["prompt"] or {}
    return {"checkin": latest["id"], "recorded_at": latest["recorded_at"],
            "level": prompt.get("level", latest["prompt_level"]), "message": prompt.get("message", ""),
            "reasons": prompt.get("reasons", []), "emergency_number": prompt.get("emergency_number")}


# --- what screening reads ------------------------------------------------------------

class PastCheckIn(NamedTuple):
    """What screening reads of an earlier check-in (a row, not a model: no prompt JSON to decode)."""

    id: int
    recorded_at: datetime
    pain_at_rest: int
    pain_during_activity: int
    swelling: str


PAST_FIELDS = PastCheckIn._fields


@dataclass(frozen=True)
class RunningPlan:
    """A running plan as screening and the check-in row need it (one query, no full plan or condition)."""

    plan_id: int
    start_date: date
    condition_name: str
    recovery_weeks_min: int
    warnings: tuple
    surgery_date: date | None = None
    clot_risk_factors: tuple[str, ...] = ()
    immunosuppressed: bool = False


def running_plans(*, patient, as_of: datetime) -> list[RunningPlan]:
    """The patient's active plans that had started by `as_of` (patient's local date), newest first."""
    local_date = as_of.astimezone(patient.tzinfo).date()
    rows = (
        Plan.objects.filter(patient=patient, status=PlanStatus.ACTIVE, start_date__lte=local_date)
        .order_by("-start_date", "-id")
        .values_list("id", "start_date", "condition__name", "condition__recovery_weeks_min", "condition__warnings",
                     "surgery_date", "clot_risk_factors", "immunosuppressed")
    )
    return [RunningPlan(plan_id, start, name, weeks, tuple(warnings or ()), surgery, tuple(risks or ()), immuno)
            for plan_id, start, name, weeks, warnings, surgery, risks, immuno in rows]


def screening_context(*, patient, recorded_at: datetime, plans: Sequence[RunningPlan], has_physiotherapist: bool,
                      exclude_id: int | None = None) -> ScreeningContext:
    """The patient's check-ins up to `recorded_at` (oldest first) and the first ones on each plan, in one query.

    The query reads the union of the latest HISTORY_SIZE check-ins and each plan's first FIRST_ON_PLAN
    (id IN sliced subqueries on the (patient, recorded_at) index), so its cost does not grow with the
    history. Every row read is an earlier check-in, hence the newest HISTORY_SIZE of them are the latest
    ones, and the oldest at or after a plan's start are that plan's first.
    """
    earlier = CheckIn.objects.filter(patient=patient, recorded_at__lte=recorded_at)
    if exclude_id is not None:
        earlier = earlier.exclude(pk=exclude_id)
    starts = [datetime.combine(plan.start_date, time.min, tzinfo=patient.tzinfo) for plan in plans]
    wanted = Q(pk__in=earlier.order_by("-recorded_at", "-id").values("pk")[:HISTORY_SIZE])
    for start in starts:
        wanted |= Q(pk__in=earlier.filter(recorded_at__gte=start).order_by("recorded_at", "id")
                    .values("pk")[:FIRST_ON_PLAN])
    rows = [PastCheckIn(*row) for row in
            earlier.filter(wanted).order_by("recorded_at", "id").values_list(*PAST_FIELDS)]
    history = rows[-HISTORY_SIZE:]
    facts = []
    for plan, start in zip(plans, starts, strict=True):
        facts.append(PlanFacts(
            plan_id=plan.plan_id,
            condition_name=plan.condition_name,
            recovery_weeks_min=plan.recovery_weeks_min,
            warnings=plan.warnings,
            start_date=plan.start_date,
            first_checkins=tuple(row for row in rows if row.recorded_at >= start)[:FIRST_ON_PLAN],
            surgery_date=plan.surgery_date,
            clot_risk_factors=plan.clot_risk_factors,
            immunosuppressed=plan.immunosuppressed,
        ))
    return ScreeningContext(tz=patient.tzinfo, history=history, plans=facts,
                            has_physiotherapist=has_physiotherapist)

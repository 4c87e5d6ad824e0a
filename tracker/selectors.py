"""Reads of the tracker, each scoped to what the asking user may see."""
from collections import defaultdict
from datetime import date, datetime, time, timedelta

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When
from django.utils import timezone

from kneerehab.users.models import User
from kneerehab.users.selectors import patients_visible_to
from plans.models import PhaseChange

from .adherence import adherence_by_day, adherence_percent
from .models import Alert, AlertStatus, CheckIn, ExerciseLog, PromptLevel, Swelling

MAX_PROGRESS_DAYS = 366
DEFAULT_PROGRESS_DAYS = 30


def checkins_visible_to(*, user: User) -> QuerySet[CheckIn]:
    """A patient's own check-ins; a physiotherapist's caseload's; nobody else's."""
    if user.is_patient:
        return CheckIn.objects.filter(patient=user)
    return CheckIn.objects.filter(patient__in=patients_visible_to(user=user))


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
        .select_related("patient", "acknowledged_by", "checkin")
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
    rows = qs.order_by("-checkin__recorded_at", "-id").values(
        "checkin_id", "level", "reasons", "checkin__recorded_at", "created_at"
    )
    seen, result = set(), []
    for row in rows:
        if row["checkin_id"] in seen:
            continue
        seen.add(row["checkin_id"])
        result.append({"checkin": row["checkin_id"], "level": row["level"], "reasons": row["reasons"],
                       "recorded_at": row["checkin__recorded_at"], "created_at": row["created_at"]})
    return result


def _latest_prompt(*, patient: User) -> dict | None:
    latest = (CheckIn.objects.filter(patient=patient).order_by("-recorded_at", "-id")
              .values("id", "recorded_at", "prompt", "prompt_level").first())
    if latest is None:
        return None
    prompt = latest["prompt"] or {}
    return {"checkin": latest["id"], "recorded_at": latest["recorded_at"],
            "level": prompt.get("level", latest["prompt_level"]), "message": prompt.get("message", ""),
            "reasons": prompt.get("reasons", [])}

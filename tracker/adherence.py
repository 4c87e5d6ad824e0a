"""Adherence: exercise sessions logged against sessions prescribed.

A plan exercise prescribes `times_per_day` sessions on `days_per_week` days, so
a day expects times_per_day × days_per_week / 7 sessions of it (a weekly budget
spread evenly, because the plan does not say which weekdays). Logged sessions
count up to times_per_day per exercise and day, so doing one exercise five
times does not make up for skipping another. Only running plans (active) and
their current phase count, from the plan's start date.
"""
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count

from plans.models import PlanExercise, PlanStatus

from .models import ExerciseLog


@dataclass(frozen=True)
class DayAdherence:
    date: date
    prescribed: float
    logged: int

    @property
    def percent(self) -> float | None:
        if self.prescribed <= 0:
            return None
        return round(min(100.0, 100.0 * self.logged / self.prescribed), 1)


def _days(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def adherence_by_day(*, patient_ids: list[int], start: date, end: date) -> dict[int, list[DayAdherence]]:
    """Per patient, one entry per day from start to end inclusive. Two queries whatever the range."""
    exercises = list(
        PlanExercise.objects.filter(plan__patient_id__in=patient_ids, plan__status=PlanStatus.ACTIVE)
        .values("id", "plan__patient_id", "plan__start_date", "phase", "plan__current_phase",
                "times_per_day", "days_per_week")
    )
    current = [e for e in exercises if e["phase"] == e["plan__current_phase"]]
    counts = (
        ExerciseLog.objects.filter(plan_exercise_id__in=[e["id"] for e in current], date__gte=start, date__lte=end)
        .values("plan_exercise_id", "date")
        .annotate(n=Count("id"))
    )
    logged: dict[tuple[int, date], int] = {(row["plan_exercise_id"], row["date"]): row["n"] for row in counts}

    result: dict[int, list[DayAdherence]] = {}
    by_patient: dict[int, list[dict]] = defaultdict(list)
    for e in current:
        by_patient[e["plan__patient_id"]].append(e)
    for patient_id in patient_ids:
        days = []
        for day in _days(start, end):
            prescribed = 0.0
            done = 0
            for e in by_patient.get(patient_id, []):
                if day < e["plan__start_date"]:
                    continue
                prescribed += e["times_per_day"] * e["days_per_week"] / 7
                done += min(logged.get((e["id"], day), 0), e["times_per_day"])
            days.append(DayAdherence(date=day, prescribed=round(prescribed, 2), logged=done))
        result[patient_id] = days
    return result


def adherence_percent(days: list[DayAdherence]) -> float | None:
    """Logged over prescribed across several days, as a percentage (None when nothing was prescribed)."""
    prescribed = sum(d.prescribed for d in days)
    if prescribed <= 0:
        return None
    return round(min(100.0, 100.0 * sum(d.logged for d in days) / prescribed), 1)

"""Evaluating a plan's progression: are the current phase's exit criteria met, or is the patient getting worse?

The exit criteria are data on the catalogue's TreatmentPhase (see conditions/catalog/FORMAT.md):

    {metric: pain_at_rest | pain_during_activity | swelling, op, value, consecutive_checkins: N}
    {metric: adherence_percent, op, value, days: N}
    {metric: days_in_phase, op, value}

Only what happened in the current phase counts (check-ins recorded since the phase began), so every phase
change starts the count again. The evaluation only reads; `plans.services.plan_evaluate_progression` stores
the outcome on the plan and acts on it.

Safety choices:
- missing data is never a pass: fewer check-ins than a criterion asks for, an unknown metric or nothing
  prescribed to measure adherence against all leave the criterion unmet;
- a worsening trend always wins over "ready to advance": a patient getting worse is never moved up;
- a plan on a safety hold (after an urgent or emergency prompt) suggests nothing and never advances by
  itself, until a physiotherapist clears the hold.
"""
import operator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise

from conditions.models import PhaseKey, TreatmentPhase
from tracker.adherence import adherence_by_day, adherence_percent
from tracker.models import CheckIn, Swelling

from .models import Plan, Progression, SafetyHold

OPERATORS = {
    "lt": (operator.lt, "below"),
    "lte": (operator.le, "at most"),
    "eq": (operator.eq, "exactly"),
    "gte": (operator.ge, "at least"),
    "gt": (operator.gt, "above"),
}
CHECKIN_METRICS = {
    "pain_at_rest": "Pain at rest",
    "pain_during_activity": "Pain during activity",
    "swelling": "Swelling",
}
# How many check-ins a worsening trend is judged over, and by how much pain must have risen across them.
TREND_CHECKINS = 3
PAIN_RISE = 2


@dataclass(frozen=True)
class Finding:
    """One statement about the plan, and whether it holds."""

    code: str
    met: bool
    message: str

    def as_dict(self) -> dict:
        return {"code": self.code, "met": self.met, "message": self.message}


@dataclass(frozen=True)
class Evaluation:
    suggestion: str
    criteria: tuple[Finding, ...]
    worsening: tuple[Finding, ...]
    evaluated_at: datetime

    @property
    def all_met(self) -> bool:
        return bool(self.criteria) and all(c.met for c in self.criteria)

    @property
    def reasons(self) -> list[dict]:
        """What the suggestion rests on: the worsening signs for a step back, else the criteria (and any
        worsening seen in the first phase, where there is nowhere to step back to)."""
        if self.suggestion == Progression.STEP_BACK:
            return [f.as_dict() for f in self.worsening]
        return [f.as_dict() for f in (*self.worsening, *self.criteria)]


HOLD_FINDING = Finding("safety_hold", True, "On a safety hold after an urgent or emergency prompt: no progression "
                                            "until a physiotherapist clears the hold.")


def _pain(value) -> str:
    return f"{value}/10"


def _metric_value(metric: str, raw):
    return Swelling.rank(raw) if metric == "swelling" else raw


def _shown(metric: str, raw) -> str:
    return str(raw) if metric == "swelling" else _pain(raw)


def _checkin_criterion(criterion: dict, checkins: list[dict]) -> Finding:
    metric, op_name, target = criterion["metric"], criterion["op"], criterion["value"]
    needed = int(criterion.get("consecutive_checkins", 1))
    compare, op_words = OPERATORS[op_name]
    label = CHECKIN_METRICS[metric]
    wanted = f"{label.lower()} {op_words} {_shown(metric, target)} on {needed} check-ins in a row"
    recent = checkins[:needed]  # newest first
    if len(recent) < needed:
        return Finding(metric, False, f"Needs {wanted}; only {len(recent)} check-in(s) in this phase so far.")
    values = [c[metric] for c in reversed(recent)]  # oldest to newest, as a person reads a trend
    target_value = _metric_value(metric, target)
    failing = [v for v in values if not compare(_metric_value(metric, v), target_value)]
    shown = ", ".join(_shown(metric, v) for v in values)
    if failing:
        return Finding(metric, False, f"Needs {wanted}; the last {needed} were {shown}.")
    return Finding(metric, True, f"{label} {op_words} {_shown(metric, target)} on the last {needed} "
                                 f"check-ins ({shown}).")


def recent_adherence(days) -> float | None:
    """Adherence over days ending today, where today counts only if it helps: the day is not over yet, so
    sessions still to come must not count as missed."""
    with_today = adherence_percent(days)
    without_today = adherence_percent(days[:-1]) if len(days) > 1 else None
    candidates = [p for p in (with_today, without_today) if p is not None]
    return max(candidates) if candidates else None


def _adherence_criterion(criterion: dict, *, plan: Plan, today: date, phase_start: date) -> Finding:
    compare, op_words = OPERATORS[criterion["op"]]
    days = int(criterion.get("days", 7))
    target = criterion["value"]
    # Days before this phase prescribed other exercises: they say nothing about this phase's adherence.
    start = max(today - timedelta(days=days - 1), phase_start, plan.start_date)
    if start > today:
        return Finding("adherence_percent", False, "The plan has not started yet.")
    by_day = adherence_by_day(patient_ids=[plan.patient_id], start=start, end=today)[plan.patient_id]
    percent = recent_adherence(by_day)
    span = len(by_day)
    over = f"the last {span} days" if span == days else f"the {span} day(s) of this phase so far"
    if percent is None:
        return Finding("adherence_percent", False, f"Needs adherence {op_words} {target}%; no sessions were "
                                                   f"prescribed over {over}.")
    if compare(percent, target):
        return Finding("adherence_percent", True, f"Adherence {percent:g}% over {over} ({op_words} {target}%).")
    return Finding("adherence_percent", False, f"Needs adherence {op_words} {target}%; it was {percent:g}% "
                                               f"over {over}.")


def _days_criterion(criterion: dict, *, days_in_phase: int) -> Finding:
    compare, op_words = OPERATORS[criterion["op"]]
    target = criterion["value"]
    if compare(days_in_phase, target):
        return Finding("days_in_phase", True, f"{days_in_phase} day(s) in this phase ({op_words} {target}).")
    return Finding("days_in_phase", False, f"Needs {op_words} {target} day(s) in this phase; "
                                           f"{days_in_phase} so far.")


def _worsening(checkins: list[dict]) -> list[Finding]:
    """Sustained worsening over the latest check-ins of the phase: pain that kept rising by PAIN_RISE or more,
    or swelling that kept rising and reached moderate or severe."""
    if len(checkins) < TREND_CHECKINS:
        return []
    trend = list(reversed(checkins[:TREND_CHECKINS]))  # oldest to newest
    findings = []
    for metric in ("pain_at_rest", "pain_during_activity"):
        values = [c[metric] for c in trend]
        rising = all(a <= b for a, b in pairwise(values))
        if rising and values[-1] - values[0] >= PAIN_RISE:
            findings.append(Finding(
                f"worsening_{metric}", True,
                f"{CHECKIN_METRICS[metric]} rose over the last {TREND_CHECKINS} check-ins "
                f"({', '.join(_pain(v) for v in values)}).",
            ))
    ranks = [Swelling.rank(c["swelling"]) for c in trend]
    rising = all(a <= b for a, b in pairwise(ranks))
    if rising and ranks[-1] > ranks[0] and ranks[-1] >= Swelling.rank(Swelling.MODERATE):
        findings.append(Finding(
            "worsening_swelling", True,
            f"Swelling rose to {trend[-1]['swelling']} over the last {TREND_CHECKINS} check-ins "
            f"({', '.join(c['swelling'] for c in trend)}).",
        ))
    return findings


def _criterion(criterion: dict, *, plan, checkins, today, phase_start, days_in_phase) -> Finding:
    metric = criterion.get("metric", "")
    if criterion.get("op") not in OPERATORS:
        return Finding(str(metric), False, f"The criterion {criterion!r} has an unknown comparison; "
                                           "it cannot be evaluated.")
    if metric in CHECKIN_METRICS:
        return _checkin_criterion(criterion, checkins)
    if metric == "adherence_percent":
        return _adherence_criterion(criterion, plan=plan, today=today, phase_start=phase_start)
    if metric == "days_in_phase":
        return _days_criterion(criterion, days_in_phase=days_in_phase)
    return Finding(str(metric), False, f"Unknown metric {metric!r}; this criterion cannot be evaluated.")


def evaluate(*, plan: Plan, now: datetime) -> Evaluation:
    """The current phase's exit criteria and the worsening signs, as of `now`. Reads only."""
    criteria_data = (
        TreatmentPhase.objects.filter(condition_id=plan.condition_id, key=plan.current_phase)
        .values_list("exit_criteria", flat=True).first()
    ) or []
    needed = max([TREND_CHECKINS] + [int(c.get("consecutive_checkins", 1)) for c in criteria_data
                                     if c.get("metric") in CHECKIN_METRICS])
    checkins = list(
        CheckIn.objects.filter(
            patient_id=plan.patient_id, recorded_at__gt=plan.phase_started_at, recorded_at__lte=now
        ).order_by("-recorded_at", "-id").values(*CHECKIN_METRICS)[:needed]
    )
    tz = plan.patient.tzinfo
    today = now.astimezone(tz).date()
    phase_start = plan.phase_started_at.astimezone(tz).date()
    days_in_phase = max(0, (now - plan.phase_started_at) // timedelta(days=1))

    criteria = tuple(
        _criterion(c, plan=plan, checkins=checkins, today=today, phase_start=phase_start,
                   days_in_phase=days_in_phase)
        for c in criteria_data
    )
    worsening = tuple(_worsening(checkins))
    on_hold = SafetyHold.objects.filter(plan_id=plan.pk, cleared_at__isnull=True).exists()

    if on_hold:
        worsening = (HOLD_FINDING, *worsening)
        suggestion = Progression.NONE
    elif worsening:
        # In the first phase there is nowhere to step back to; screening raises the concern instead.
        first_phase = PhaseKey.before(plan.current_phase) is None
        suggestion = Progression.NONE if first_phase else Progression.STEP_BACK
    elif criteria and all(c.met for c in criteria):
        suggestion = Progression.ADVANCE
    else:
        # No criteria (the last phase): the physiotherapist decides when the plan is done.
        suggestion = Progression.NONE
    return Evaluation(suggestion=suggestion, criteria=criteria, worsening=worsening, evaluated_at=now)

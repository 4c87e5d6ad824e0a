"""Screening of a check-in against the rules of `tracker.rules`.

`screen()` is pure: it judges a check-in given the patient's earlier check-ins
and running plans, so it can be tested (and property-tested) without a
database. `screening_context()` reads that history as of the check-in's
`recorded_at`, so a check-in synced late from an offline phone is judged on
what had happened by then, not on what came after.
"""
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple, Protocol

from django.db.models import Q

from plans.models import Plan, PlanStatus

from .models import CheckIn, PromptLevel, Swelling
from .rules import (
    FLAG_WORDS,
    LEVEL_MESSAGES,
    METRIC_WORDS,
    NOT_A_DIAGNOSIS,
    PHYSIOTHERAPIST_TOLD,
    RULES,
    AllOf,
    AnyFlag,
    ConditionWarnings,
    Flag,
    NoImprovement,
    PainAtLeast,
    RisingTrend,
    Rule,
    SwellingAtLeast,
)

logger = logging.getLogger(__name__)

# Earlier check-ins read for trends; at least the largest RisingTrend window.
HISTORY_SIZE = max([r.when.window for r in RULES if isinstance(r.when, RisingTrend)] + [2])
TREND_METRICS = ("pain_at_rest", "pain_during_activity", "swelling")


class CheckInLike(Protocol):
    recorded_at: datetime
    pain_at_rest: int
    pain_during_activity: int
    swelling: str


@dataclass(frozen=True)
class PlanFacts:
    """What screening needs to know about one running plan."""

    plan_id: int
    condition_name: str
    recovery_weeks_min: int
    warnings: tuple = ()
    # The first check-in on the plan (recorded on or after its start date), if any.
    baseline: Any = None


@dataclass(frozen=True)
class ScreeningContext:
    tz: tzinfo
    history: Sequence = ()  # earlier check-ins, oldest first, none recorded after the one judged
    plans: Sequence[PlanFacts] = ()
    has_physiotherapist: bool = False


@dataclass(frozen=True)
class Reason:
    code: str
    level: str
    message: str


@dataclass(frozen=True)
class Prompt:
    level: str
    message: str
    reasons: tuple[Reason, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict:
        return {
            "level": self.level,
            "message": self.message,
            "reasons": [{"code": r.code, "message": r.message} for r in self.reasons],
        }


def metric_value(checkin: CheckInLike, metric: str) -> int:
    value = getattr(checkin, metric)
    return Swelling.rank(value) if metric == "swelling" else int(value)


def _metric_words(metric: str, value: int) -> str:
    if metric == "swelling":
        return [s.value for s in Swelling][value]
    return str(value)


def _signs(names: list[str]) -> str:
    words = [FLAG_WORDS.get(n, n.replace("_", " ")) for n in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


# --- trigger evaluation: each returns the facts it matched on, or None --------------

def _flag(trigger: Flag, checkin, context) -> dict | None:
    return {} if getattr(checkin, trigger.name, False) else None


def _any_flag(trigger: AnyFlag, checkin, context) -> dict | None:
    present = [name for name in trigger.names if getattr(checkin, name, False)]
    return {"signs": _signs(present)} if present else None


def _all_of(trigger: AllOf, checkin, context) -> dict | None:
    facts: dict = {}
    for part in trigger.parts:
        matched = evaluate(part, checkin, context)
        if matched is None:
            return None
        facts.update(matched)
    return facts


def _pain_at_least(trigger: PainAtLeast, checkin, context) -> dict | None:
    metric = max(trigger.metrics, key=lambda m: getattr(checkin, m))
    value = getattr(checkin, metric)
    if value >= trigger.value:
        return {"metric": METRIC_WORDS[metric], "value": value}
    return None


def _swelling_at_least(trigger: SwellingAtLeast, checkin, context) -> dict | None:
    return {} if Swelling.rank(checkin.swelling) >= Swelling.rank(trigger.value) else None


def _rising_trend(trigger: RisingTrend, checkin, context) -> dict | None:
    series = [*list(context.history)[-(trigger.window - 1):], checkin]
    values = [metric_value(c, trigger.metric) for c in series]
    # The run ending at this check-in in which the metric never went down.
    start = len(values) - 1
    while start > 0 and values[start - 1] <= values[start]:
        start -= 1
    run = series[start:]
    first, last = values[start], values[-1]
    days = {c.recorded_at.astimezone(context.tz).date() for c in run}
    if len(run) >= trigger.min_checkins and len(days) >= trigger.min_days and last - first >= trigger.by:
        return {
            "first": _metric_words(trigger.metric, first),
            "last": _metric_words(trigger.metric, last),
            "count": len(run),
        }
    return None


def _no_improvement(trigger: NoImprovement, checkin, context) -> dict | None:
    for plan in context.plans:
        baseline = plan.baseline
        if baseline is None:
            continue
        weeks = min(trigger.cap_weeks, max(trigger.floor_weeks, plan.recovery_weeks_min))
        if checkin.recorded_at - baseline.recorded_at < timedelta(weeks=weeks):
            continue
        not_lower = (checkin.pain_at_rest >= baseline.pain_at_rest
                     and checkin.pain_during_activity >= baseline.pain_during_activity)
        if not_lower and max(checkin.pain_at_rest, checkin.pain_during_activity) >= trigger.min_pain:
            return {"weeks": weeks, "condition": plan.condition_name}
    return None


EVALUATORS = {
    Flag: _flag,
    AnyFlag: _any_flag,
    AllOf: _all_of,
    PainAtLeast: _pain_at_least,
    SwellingAtLeast: _swelling_at_least,
    RisingTrend: _rising_trend,
    NoImprovement: _no_improvement,
}


def evaluate(trigger, checkin, context: ScreeningContext) -> dict | None:
    return EVALUATORS[type(trigger)](trigger, checkin, context)


def _warning_matches(trigger: dict, checkin, context: ScreeningContext) -> bool:
    if "flag" in trigger:
        return bool(getattr(checkin, trigger["flag"], False)) if trigger["flag"] in FLAG_WORDS else False
    if "rise" in trigger:
        rise = trigger["rise"]
        metric, by = rise.get("metric"), rise.get("by", 1)
        if metric not in TREND_METRICS or not context.history:
            return False
        return metric_value(checkin, metric) - metric_value(context.history[-1], metric) >= by
    return False


def condition_warnings(checkin, context: ScreeningContext) -> list[tuple[dict, str | None]]:
    """The catalogue warnings of the running plans that this check-in sets off, with the flag each is about."""
    matched, seen = [], set()
    for plan in context.plans:
        for warning in plan.warnings:
            trigger = warning.get("trigger") if isinstance(warning, dict) else None
            if not isinstance(trigger, dict) or not warning.get("code"):
                logger.warning("ignoring a malformed warning of plan %s: %r", plan.plan_id, warning)
                continue
            if warning["code"] in seen:
                continue
            if _warning_matches(trigger, checkin, context):
                seen.add(warning["code"])
                matched.append((warning, trigger.get("flag")))
    return matched


def _format(template: str, facts: dict) -> str:
    return template.format(**facts) if facts else template


def screen(checkin: CheckInLike, context: ScreeningContext) -> Prompt:
    """Judge a check-in: the highest level of every rule that holds, with every reason, highest first."""
    warnings = condition_warnings(checkin, context)
    flags_covered = {flag for _, flag in warnings if flag}
    reasons: list[tuple[int, int, Reason]] = []
    for order, rule in enumerate(RULES):
        rank = PromptLevel.rank(rule.level)
        if isinstance(rule.when, ConditionWarnings):
            for warning, _flag_name in warnings:
                message = _format(rule.message, {"message": str(warning.get("message") or "") or rule.reason})
                reasons.append((rank, order, Reason(str(warning["code"]), rule.level, message)))
            continue
        if rule.yields_to_condition_flag and rule.yields_to_condition_flag in flags_covered:
            continue
        facts = evaluate(rule.when, checkin, context)
        if facts is not None:
            reasons.append((rank, order, Reason(rule.code, rule.level, _format(rule.message, facts))))
    reasons.sort(key=lambda item: (-item[0], item[1]))
    ordered, codes = [], set()
    for _, _, reason in reasons:
        if reason.code not in codes:  # a catalogue warning may reuse a rule's code: list it once, highest first
            codes.add(reason.code)
            ordered.append(reason)
    ordered = tuple(ordered)
    level = ordered[0].level if ordered else PromptLevel.NONE
    return Prompt(level=str(level), message=prompt_message(level, has_physiotherapist=context.has_physiotherapist),
                  reasons=ordered)


def prompt_message(level: str, *, has_physiotherapist: bool) -> str:
    parts = [LEVEL_MESSAGES[level]]
    if level != PromptLevel.NONE and has_physiotherapist:
        parts.append(PHYSIOTHERAPIST_TOLD)
    parts.append(NOT_A_DIAGNOSIS)
    return " ".join(parts)


def rule_by_code(code: str) -> Rule | None:
    return next((rule for rule in RULES if rule.code == code), None)


# --- reading the history ------------------------------------------------------------

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


def running_plans(*, patient, as_of: datetime) -> list[RunningPlan]:
    """The patient's active plans that had started by `as_of` (patient's local date), newest first."""
    local_date = as_of.astimezone(patient.tzinfo).date()
    rows = (
        Plan.objects.filter(patient=patient, status=PlanStatus.ACTIVE, start_date__lte=local_date)
        .order_by("-start_date", "-id")
        .values_list("id", "start_date", "condition__name", "condition__recovery_weeks_min", "condition__warnings")
    )
    return [RunningPlan(plan_id, start, name, weeks, tuple(warnings or ()))
            for plan_id, start, name, weeks, warnings in rows]


def screening_context(*, patient, recorded_at: datetime, plans: Sequence[RunningPlan], has_physiotherapist: bool,
                      exclude_id: int | None = None) -> ScreeningContext:
    """The patient's check-ins up to `recorded_at` (oldest first) and the first one on each plan, in one query.

    The query reads the union of the latest HISTORY_SIZE check-ins and each plan's first one (id IN
    sliced subqueries on the (patient, recorded_at) index), so its cost does not grow with the history.
    Every row read is an earlier check-in, hence the newest HISTORY_SIZE of them are the latest ones, and
    the oldest at or after a plan's start is that plan's first.
    """
    earlier = CheckIn.objects.filter(patient=patient, recorded_at__lte=recorded_at)
    if exclude_id is not None:
        earlier = earlier.exclude(pk=exclude_id)
    starts = [datetime.combine(plan.start_date, time.min, tzinfo=patient.tzinfo) for plan in plans]
    wanted = Q(pk__in=earlier.order_by("-recorded_at", "-id").values("pk")[:HISTORY_SIZE])
    for start in starts:
        wanted |= Q(pk__in=earlier.filter(recorded_at__gte=start).order_by("recorded_at", "id").values("pk")[:1])
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
            baseline=next((row for row in rows if row.recorded_at >= start), None),
        ))
    return ScreeningContext(tz=patient.tzinfo, history=history, plans=facts,
                            has_physiotherapist=has_physiotherapist)

"""Screening of a check-in against the rules of `tracker.rules`.

`screen()` is pure: it judges a check-in given the patient's earlier check-ins
and running plans, so it can be tested (and property-tested) without a
database. `tracker.selectors.screening_context()` reads that history as of the
check-in's `recorded_at`, so a check-in synced late from an offline phone is
judged on what had happened by then, not on what came after.
"""
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from functools import cache
from statistics import mean, median
from typing import Protocol

from .models import PromptLevel, Swelling
from .questions import QUESTIONS
from .rules import (
    CLINIC_TEAM_TOLD,
    FLAG_WORDS,
    LEVEL_MESSAGES,
    METRIC_WORDS,
    NEGATION_FILLERS,
    NEGATION_REACH,
    NEGATIONS,
    NOT_A_DIAGNOSIS,
    NOTE_KEYWORDS,
    PHYSIOTHERAPIST_TOLD,
    PLAN_FACT_ANSWERS,
    RECENT_SURGERY_DAYS,
    RULES,
    AllOf,
    AnyFlag,
    AnyOf,
    ConditionWarnings,
    Flag,
    NoImprovement,
    NoteMentions,
    PainAtLeast,
    PlanContext,
    Rule,
    SwellingAtLeast,
    Worsening,
)

logger = logging.getLogger(__name__)

# Earlier check-ins read for trends: enough to cover the trend's days even with several check-ins a day.
TREND_DAYS_READ = max(r.when.within_days for r in RULES if isinstance(r.when, Worsening))
HISTORY_SIZE = 60
# The first check-ins on a plan, the start that "no improvement" compares with.
FIRST_ON_PLAN = max(r.when.count for r in RULES if isinstance(r.when, NoImprovement))
TREND_METRICS = ("pain_at_rest", "pain_during_activity", "swelling")
CLOT_RISK_WORDS = {
    "recent_surgery": "recent surgery",
    "immobilised": "a leg kept still (cast, brace or bed rest)",
    "cancer": "cancer",
    "pregnancy_or_postpartum": "pregnancy or a recent birth",
    "oestrogen_therapy": "oestrogen treatment",
    "previous_clot": "an earlier blood clot",
    "history_of_clots": "an earlier blood clot",
}

# What the note's reason advises, by the level of the question the note seems to answer.
NOTE_ADVICE = {
    PromptLevel.EMERGENCY: "if it is happening now, call emergency services without waiting.",
    PromptLevel.URGENT: "if it is happening now, get medical attention today.",
    PromptLevel.SEE_CLINICIAN: "tell your physiotherapist at your next visit.",
}


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
    start_date: date | None = None
    # The first check-ins on the plan (recorded on or after its start date), oldest first.
    first_checkins: tuple = ()
    # The clinical context the physiotherapist recorded: it may raise a level, never lower one.
    surgery_date: date | None = None
    clot_risk_factors: tuple[str, ...] = ()
    immunosuppressed: bool = False


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


def _metric_words(metric: str, value: float) -> str:
    if metric == "swelling":
        return [s.value for s in Swelling][round(value)]
    return f"{value:.1f}".removesuffix(".0")


def _signs_words(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _signs(names: list[str]) -> str:
    return _signs_words([FLAG_WORDS.get(n, n.replace("_", " ")) for n in names])


def flag_level(flag: str) -> str:
    """The level the rule that this answer sets off alone reaches (see_clinician when none does)."""
    levels = [rule.level for rule in RULES if isinstance(rule.when, Flag) and rule.when.name == flag]
    levels += [rule.level for rule in RULES if isinstance(rule.when, AnyFlag) and flag in rule.when.names]
    return max(levels, key=PromptLevel.rank, default=PromptLevel.SEE_CLINICIAN)


@cache
def _keyword_patterns() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(rf"(?<![\w'])(?:{pattern})", re.IGNORECASE), flag) for pattern, flag in NOTE_KEYWORDS)


_CLAUSE_BREAK = re.compile(r"[.;:!?\n]|,\s*(?:but|and|though|although)\b|\bbut\b", re.IGNORECASE)
_WORD = re.compile(r"[\w']+")


def _negated(before: str) -> bool:
    """Whether the clause text before a phrase ends in a negation that reaches the phrase."""
    words = _WORD.findall(before.rsplit(",", 1)[-1].lower())
    for word in reversed(words[-NEGATION_REACH:]):
        if word in NEGATIONS:
            return True
        if word not in NEGATION_FILLERS:
            return False
    return False


def note_red_flags(note: str) -> list[tuple[str, str]]:
    """The red flags a free-text note mentions, as (phrase, question), without negated mentions.

    A mention counts unless a negation ("no", "not", "haven't", ...) stands shortly before it in the same
    clause with only filler words between (NEGATION_FILLERS): "no chest pain" and "I have not fainted" do
    not count; "no idea why my chest hurts", "no, my chest hurts" and "chest pain, no fever" count the
    chest pain. When unsure, it counts: a missed red flag costs more than a question asked again.
    """
    found: list[tuple[str, str]] = []
    text = note.replace("\u2019", "'")
    for pattern, flag in _keyword_patterns():
        for match in pattern.finditer(text):
            clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text, 0, match.start())), default=0)
            if _negated(text[clause_start:match.start()]):
                continue
            if all(flag != seen for _, seen in found):
                found.append((match.group(0).strip(), flag))
            break
    return found


# --- trigger evaluation: each returns the facts it matched on, or None --------------

def _flag(trigger: Flag, checkin, context) -> dict | None:
    return {} if getattr(checkin, trigger.name, False) else None


def _any_flag(trigger: AnyFlag, checkin, context) -> dict | None:
    present = [name for name in trigger.names if getattr(checkin, name, False)]
    return {"signs": _signs(present)} if present else None


def _any_of(trigger: AnyOf, checkin, context) -> dict | None:
    for part in trigger.parts:
        matched = evaluate(part, checkin, context)
        if matched is not None:
            return matched
    return None


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


def _day_means(series, metric: str, tz: tzinfo) -> list[tuple[date, float]]:
    """Each local day's mean of `metric`, oldest day first."""
    days: dict[date, list[int]] = {}
    for item in series:
        days.setdefault(item.recorded_at.astimezone(tz).date(), []).append(metric_value(item, metric))
    return [(day, sum(values) / len(values)) for day, values in sorted(days.items())]


def _worsening(trigger: Worsening, checkin, context) -> dict | None:
    since = checkin.recorded_at - timedelta(days=trigger.within_days)
    series = [*(c for c in context.history if c.recorded_at >= since), checkin]
    days = _day_means(series, trigger.metric, context.tz)[-2 * trigger.days:]
    if len(days) < 2 * trigger.days:
        return None
    before = [value for _, value in days[:trigger.days]]
    latest = [value for _, value in days[trigger.days:]]
    before_mean, latest_mean = mean(before), mean(latest)
    # The mean carries the size of the rise; the median makes sure it is not one day's jump.
    if latest_mean - before_mean >= trigger.by and median(latest) - before_mean >= trigger.by / 2:
        return {
            "first": _metric_words(trigger.metric, before_mean),
            "last": _metric_words(trigger.metric, latest_mean),
            "days": trigger.days,
        }
    return None


def _no_improvement(trigger: NoImprovement, checkin, context) -> dict | None:
    for plan in context.plans:
        first = list(plan.first_checkins)[:trigger.count]
        if len(first) < trigger.count or plan.start_date is None:
            continue
        weeks = min(trigger.cap_weeks, max(trigger.floor_weeks, plan.recovery_weeks_min))
        start = datetime.combine(plan.start_date, time.min, tzinfo=context.tz)
        if checkin.recorded_at - start < timedelta(weeks=weeks):
            continue
        on_plan = [c for c in context.history if c.recorded_at >= start]
        latest = [*on_plan, checkin][-trigger.count:]
        if len(latest) < trigger.count or {c.id for c in latest if c.id} & {c.id for c in first}:
            continue  # too few check-ins yet to compare the start with the latest
        no_better = all(mean(metric_value(c, m) for c in latest) >= mean(metric_value(c, m) for c in first)
                        for m in ("pain_at_rest", "pain_during_activity"))
        still_matters = (
            mean(c.pain_during_activity for c in latest) >= trigger.activity_pain
            or mean(c.pain_at_rest for c in latest) >= trigger.rest_pain
            or mean(Swelling.rank(c.swelling) for c in latest) >= Swelling.rank(trigger.swelling)
        )
        if no_better and still_matters:
            return {"weeks": weeks, "condition": plan.condition_name}
    return None


def _plan_context(trigger: PlanContext, checkin, context) -> dict | None:
    on = checkin.recorded_at.astimezone(context.tz).date()
    words = [CLOT_RISK_WORDS[name] for name in PLAN_FACT_ANSWERS.get(trigger.fact, ()) if getattr(checkin, name, False)]
    for plan in context.plans:
        for word in plan_context_words(plan, trigger.fact, on):
            if word not in words:
                words.append(word)
    return {"context": _signs_words(words)} if words else None


def plan_context_words(plan: PlanFacts, fact: str, on: date) -> list[str]:
    """How a fact recorded on the plan reads in a sentence (nothing when the plan lacks it on local date `on`)."""
    recent_surgery = (plan.surgery_date is not None
                      and timedelta(0) <= on - plan.surgery_date <= timedelta(days=RECENT_SURGERY_DAYS))
    if fact == "immunosuppressed":
        return ["a suppressed immune system"] if plan.immunosuppressed else []
    if fact == "recent_surgery":
        return ["your recent knee surgery"] if recent_surgery else []
    if fact == "clot_risk":
        factors = [CLOT_RISK_WORDS.get(f, f.replace("_", " ")) for f in plan.clot_risk_factors]
        if recent_surgery and "recent_surgery" not in plan.clot_risk_factors:
            factors.append(CLOT_RISK_WORDS["recent_surgery"])
        return factors
    raise ValueError(f"unknown plan fact {fact!r}")


def _note_mentions(trigger: NoteMentions, checkin, context) -> dict | None:
    found = note_red_flags(getattr(checkin, "notes", "") or "")
    missed = [(phrase, flag) for phrase, flag in found if not getattr(checkin, flag, False)]
    if not missed:
        return None
    flag = missed[0][1]
    level = flag_level(flag)
    return {
        "phrase": _signs_words([f'"{p}"' for p, _ in missed]),
        "question": QUESTIONS[flag],
        "advice": NOTE_ADVICE[level],
    }


EVALUATORS = {
    Flag: _flag,
    AnyFlag: _any_flag,
    AllOf: _all_of,
    PainAtLeast: _pain_at_least,
    SwellingAtLeast: _swelling_at_least,
    AnyOf: _any_of,
    PlanContext: _plan_context,
    Worsening: _worsening,
    NoImprovement: _no_improvement,
    NoteMentions: _note_mentions,
}


def evaluate(trigger, checkin, context: ScreeningContext) -> dict | None:
    return EVALUATORS[type(trigger)](trigger, checkin, context)


def _warning_flags(trigger: dict) -> list[str]:
    """The questions a warning's `flag` trigger names: one, or a list of which any may be yes."""
    named = trigger.get("flag")
    return [n for n in (named if isinstance(named, list) else [named]) if isinstance(n, str)]


def _warning_matches(trigger: dict, checkin, context: ScreeningContext) -> bool:
    if "flag" in trigger:
        return any(getattr(checkin, name, False) for name in _warning_flags(trigger) if name in FLAG_WORDS)
    if "rise" in trigger:
        rise = trigger["rise"]
        metric, by = rise.get("metric"), rise.get("by", 1)
        if metric not in TREND_METRICS or not isinstance(by, int | float) or by <= 0:
            return False
        # Read as a trend, like the general worsening rules: one day's jump is not a reason to book a visit.
        return _worsening(Worsening(metric, by=by), checkin, context) is not None
    return False


def condition_warnings(checkin, context: ScreeningContext) -> list[tuple[dict, tuple[str, ...]]]:
    """The catalogue warnings of the running plans that this check-in sets off, with the flags or the metric
    each is about."""
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
                subjects = tuple(_warning_flags(trigger)) if "flag" in trigger else (trigger["rise"].get("metric"),)
                matched.append((warning, subjects))
    return matched


def _format(template: str, facts: dict) -> str:
    return template.format(**facts) if facts else template


def screen(checkin: CheckInLike, context: ScreeningContext) -> Prompt:
    """Judge a check-in: the highest level of every rule that holds, with every reason, highest first."""
    warnings = condition_warnings(checkin, context)
    covered = {subject for _, subjects in warnings for subject in subjects if subject}
    reasons: list[tuple[int, int, Reason]] = []
    for order, rule in enumerate(RULES):
        rank = PromptLevel.rank(rule.level)
        if isinstance(rule.when, ConditionWarnings):
            for warning, _flag_name in warnings:
                message = _format(rule.message, {"message": str(warning.get("message") or "") or rule.reason})
                reasons.append((rank, order, Reason(str(warning["code"]), rule.level, message)))
            continue
        if rule.yields_to_condition and rule.yields_to_condition in covered:
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


def prompt_message(level: str, *, has_physiotherapist: bool, staff_told: bool = False) -> str:
    """The prompt's top-level message: what to do now, who was told, and that this is not a diagnosis."""
    parts = [LEVEL_MESSAGES[level]]
    if level != PromptLevel.NONE and has_physiotherapist:
        parts.append(PHYSIOTHERAPIST_TOLD)
    elif level != PromptLevel.NONE and staff_told:
        parts.append(CLINIC_TEAM_TOLD)
    parts.append(NOT_A_DIAGNOSIS)
    return " ".join(parts)


def rule_by_code(code: str) -> Rule | None:
    return next((rule for rule in RULES if rule.code == code), None)

"""The "when to get help now" card of the printed programme, written from the screening rules themselves.

A rule that changes (or a new red-flag question) changes the card with it: nothing here restates a threshold.
The card lists what the patient would answer "yes" to, in the check-in's own words, under the two levels that
cannot wait: call emergency services now, and get medical help today.
"""
import dataclasses

from .models import PromptLevel
from .questions import QUESTIONS
from .rules import (
    LUNG_CLOT_SIGNS,
    NOT_A_DIAGNOSIS,
    RULES,
    AllOf,
    AnyFlag,
    AnyOf,
    Flag,
    PainAtLeast,
    PlanContext,
    Rule,
    SwellingAtLeast,
)

LEVELS = (PromptLevel.EMERGENCY, PromptLevel.URGENT)


@dataclasses.dataclass(frozen=True)
class HelpCard:
    emergency: list[str]
    urgent: list[str]
    not_a_diagnosis: str = NOT_A_DIAGNOSIS


def help_card(*, immunosuppressed: bool = False, recent_surgery: bool = False, clot_risk: bool = False) -> HelpCard:
    """The card for a patient with these plan facts (a rule about a fact the plan does not record is left out)."""
    facts = {"immunosuppressed": immunosuppressed, "recent_surgery": recent_surgery, "clot_risk": clot_risk}
    listed: dict[str, list[str]] = {level: [] for level in LEVELS}
    flag_level: dict[str, str] = {}
    rules = [rule for rule in RULES if rule.level in LEVELS]
    # Single answers first (emergency before urgent), so that a combination adds a line only when it raises
    # the level of answers that are already on the card.
    for rule in sorted(rules, key=lambda r: LEVELS.index(r.level)):
        for name in _single_answers(rule.when):
            if name not in flag_level:
                flag_level[name] = rule.level
                listed[rule.level].append(QUESTIONS[name])
        if isinstance(rule.when, PainAtLeast | SwellingAtLeast):
            listed[rule.level].append(_threshold_text(rule.when))
    for rule in rules:
        if isinstance(rule.when, AllOf) and _applies(rule.when, facts) and _raises(rule, flag_level):
            listed[rule.level].append(_combination_text(rule))
    return HelpCard(emergency=listed[PromptLevel.EMERGENCY], urgent=listed[PromptLevel.URGENT])


def _single_answers(trigger) -> list[str]:
    if isinstance(trigger, Flag):
        return [trigger.name] if trigger.name in QUESTIONS else []
    if isinstance(trigger, AnyFlag):
        return [name for name in trigger.names if name in QUESTIONS]
    return []


def _threshold_text(trigger) -> str:
    if isinstance(trigger, PainAtLeast):
        return f"My pain is {trigger.value} out of 10 or worse"
    return f"The swelling of my knee is {trigger.value} or worse"


def _applies(trigger, facts: dict[str, bool]) -> bool:
    if isinstance(trigger, PlanContext):
        return facts.get(trigger.fact, False)
    if isinstance(trigger, AllOf):
        return all(_applies(part, facts) for part in trigger.parts)
    if isinstance(trigger, AnyOf):
        return any(_applies(part, facts) for part in trigger.parts)
    return True


def _answers_in(trigger) -> list[str]:
    if isinstance(trigger, AllOf | AnyOf):
        return [name for part in trigger.parts for name in _answers_in(part)]
    return _single_answers(trigger)


def _raises(rule: Rule, flag_level: dict[str, str]) -> bool:
    """Whether the combination is more urgent than some of its answers are alone."""
    rank = LEVELS.index(rule.level)
    return any(LEVELS.index(flag_level.get(name, PromptLevel.URGENT)) > rank or name not in flag_level
               for name in _answers_in(rule.when))


def _any_of(words: list[str]) -> str:
    return ", ".join(words[:-1]) + " or " + words[-1] if len(words) > 1 else "".join(words)


class _Placeholders(dict):
    """Fills a rule message's report fields with words that hold for any patient."""

    def __missing__(self, key):
        return {
            "value": "8 or more",
            "metric": "pain",
            "signs": _any_of([name.replace("_", " ") for name in LUNG_CLOT_SIGNS]),
            "context": "your history",
        }.get(key, key)


def _combination_text(rule: Rule) -> str:
    """The rule's message without its opening instruction (the card's heading says what to do)."""
    text = rule.message.format_map(_Placeholders())
    first, _, rest = text.partition(". ")
    return rest if rest and first.lower().startswith(("call", "get", "go")) else text

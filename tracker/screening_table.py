"""The screening rules as a Markdown table: every question, rule, level and source (README "Screening")."""
from .models import DEPRECATED_FLAGS, SYMPTOM_FLAGS, PromptLevel
from .questions import QUESTIONS
from .rules import (
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
    SwellingAtLeast,
    Worsening,
)


def _trigger_words(trigger) -> str:
    if isinstance(trigger, Flag):
        return f"`{trigger.name}`"
    if isinstance(trigger, AnyFlag):
        return "any of " + ", ".join(f"`{name}`" for name in trigger.names)
    if isinstance(trigger, AllOf):
        return " and ".join(f"({_trigger_words(part)})" for part in trigger.parts)
    if isinstance(trigger, AnyOf):
        return " or ".join(f"({_trigger_words(part)})" for part in trigger.parts)
    if isinstance(trigger, PlanContext):
        return f"plan context `{trigger.fact}`"
    if isinstance(trigger, NoteMentions):
        return "the note mentions a red flag not ticked"
    if isinstance(trigger, ConditionWarnings):
        return "a warning of the plan's condition in the catalogue"
    if isinstance(trigger, PainAtLeast):
        return " or ".join(f"`{m}`" for m in trigger.metrics) + f" ≥ {trigger.value}/10"
    if isinstance(trigger, SwellingAtLeast):
        return f"`swelling` {trigger.value} or worse"
    if isinstance(trigger, Worsening):
        return (f"mean `{trigger.metric}` of the latest {trigger.days} days with a check-in ≥ {trigger.by:g} above "
                f"the {trigger.days} days before, median up by half that (within {trigger.within_days} days)")
    if isinstance(trigger, NoImprovement):
        return (f"after {trigger.floor_weeks}-{trigger.cap_weeks} weeks on the plan (the condition's shortest "
                f"recovery), the last {trigger.count} check-ins no better than the first {trigger.count}, with "
                f"`pain_during_activity` ≥ {trigger.activity_pain}, `pain_at_rest` ≥ {trigger.rest_pain} or "
                f"`swelling` {trigger.swelling}+")
    raise TypeError(f"no words for {trigger!r}")


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def rules_table() -> str:
    lines = ["| rule | level | when | source |", "|---|---|---|---|"]
    for rule in sorted(RULES, key=lambda r: -PromptLevel.rank(r.level)):
        lines.append(f"| `{rule.code}` | {rule.level} | {_cell(_trigger_words(rule.when))} | {_cell(rule.source)} |")
    return "\n".join(lines)


def questions_table() -> str:
    lines = ["| question (API field) | what the patient reads |", "|---|---|"]
    for flag in SYMPTOM_FLAGS:
        deprecated = " (deprecated)" if flag in DEPRECATED_FLAGS else ""
        lines.append(f"| `{flag}`{deprecated} | {_cell(QUESTIONS[flag])} |")
    return "\n".join(lines)

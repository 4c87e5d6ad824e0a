"""The screening rules, as data.

Each rule names a `code` (what the API reports), a `level`, the plain-language
`message` shown to the patient (what to do now), the `reason` the rule exists
and its `source`. `when` is a trigger from the small vocabulary below;
`tracker.screening` evaluates it. Messages may use the facts a trigger reports
(e.g. `{value}` for a pain score), filled in by the screening.

There is deliberately no setting, flag or argument that disables a rule: the
rules can only be added to (the catalogue's condition warnings add more, at
`see_clinician`), never switched off or lowered.
"""
from dataclasses import dataclass

from .models import PromptLevel

SEED = "seed text back-of-knee-pain.txt"

# Signs of a deep vein thrombosis the check-in asks about. Warmth comes in with
# `sudden_swelling_or_warmth`, so that answer counts as a DVT sign as well.
DVT_SIGNS = ("calf_pain", "leg_swelling", "swollen_veins", "red_skin", "sudden_swelling_or_warmth")

# How each yes/no answer reads in a sentence.
FLAG_WORDS = {
    "fever": "a fever",
    "trouble_breathing": "trouble breathing",
    "cannot_bear_weight": "a leg that cannot hold your weight",
    "sudden_swelling_or_warmth": "sudden swelling or warmth in the leg",
    "joint_shape_changed": "a change in the shape of the knee",
    "calf_pain": "pain in the calf or thigh",
    "leg_swelling": "a swollen leg",
    "red_skin": "red skin on the leg",
    "swollen_veins": "swollen veins in the leg",
    "history_of_clots": "an earlier blood clot",
    "limits_daily_activities": "pain that limits daily activities",
    "knee_locking_or_giving_way": "the knee locking or giving way",
}

METRIC_WORDS = {
    "pain_at_rest": "pain at rest",
    "pain_during_activity": "pain during activity",
    "swelling": "swelling",
}

SEVERE_PAIN = 8  # out of 10: this score or more counts as severe pain


# --- triggers -----------------------------------------------------------------

@dataclass(frozen=True)
class Flag:
    """A yes/no answer of the check-in is yes."""

    name: str


@dataclass(frozen=True)
class AnyFlag:
    """At least one of these answers is yes; reports them as `{signs}`."""

    names: tuple[str, ...]


@dataclass(frozen=True)
class AllOf:
    """Every part holds; the facts of all parts are merged."""

    parts: tuple


@dataclass(frozen=True)
class PainAtLeast:
    """A pain score (of `metrics`) is `value` or more; reports the highest as `{value}` and `{metric}`."""

    metrics: tuple[str, ...]
    value: int


@dataclass(frozen=True)
class SwellingAtLeast:
    value: str


@dataclass(frozen=True)
class RisingTrend:
    """A metric getting worse over several check-ins.

    The latest `window` check-ins (this one included) are read; the run of
    check-ins up to this one in which the metric never went down must have at
    least `min_checkins` check-ins on at least `min_days` different local
    dates, and the metric must have risen by `by` or more over the run
    (swelling by rank: none < mild < moderate < severe). Reports `{first}`,
    `{last}` and `{count}`.
    """

    metric: str
    by: int
    min_checkins: int = 3
    min_days: int = 2
    window: int = 7


@dataclass(frozen=True)
class NoImprovement:
    """No improvement after a reasonable time on a plan.

    A reasonable time is the condition's shortest typical recovery, but at
    least `floor_weeks` and at most `cap_weeks`, counted from the first check-in
    on the plan. Holds when neither pain score is lower than at that first
    check-in and the higher of the two is still `min_pain` or more. Reports
    `{weeks}` and `{condition}`.
    """

    floor_weeks: int = 1
    cap_weeks: int = 3
    min_pain: int = 3


@dataclass(frozen=True)
class ConditionWarnings:
    """The warnings of the catalogue condition of each running plan (see conditions/catalog/FORMAT.md)."""


Trigger = Flag | AnyFlag | AllOf | PainAtLeast | SwellingAtLeast | RisingTrend | NoImprovement | ConditionWarnings


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    when: Trigger
    message: str
    reason: str
    source: str
    # A general rule stands aside when a condition warning about the same answer
    # has matched: the condition's message is the more specific one, at the same level.
    yields_to_condition_flag: str | None = None


RULES: tuple[Rule, ...] = (
    # --- emergency ---------------------------------------------------------------
    Rule(
        code="trouble_breathing",
        level=PromptLevel.EMERGENCY,
        when=Flag("trouble_breathing"),
        message=(
            "Call emergency services now. Trouble breathing can mean a blood clot has travelled to "
            "your lungs. Do not wait for your physiotherapist to reply."
        ),
        reason=(
            "A clot from a deep leg vein can break off and lodge in an artery of the lungs "
            "(pulmonary embolism), which can be life-threatening."
        ),
        source=f"{SEED}: deep vein thrombosis; symptoms that need immediate medical attention",
    ),
    # --- urgent: each of these alone is enough ------------------------------------
    Rule(
        code="fever",
        level=PromptLevel.URGENT,
        when=Flag("fever"),
        message="You have a fever. Get medical attention today: with a painful knee it can mean an infection.",
        reason="Fever with knee pain is one of the symptoms that need prompt medical attention.",
        source=f"{SEED}: symptoms that need immediate medical attention",
    ),
    Rule(
        code="severe_pain",
        level=PromptLevel.URGENT,
        when=PainAtLeast(("pain_at_rest", "pain_during_activity"), SEVERE_PAIN),
        message=(
            "Your {metric} is {value} out of 10; 8 or more counts as severe pain. Get medical attention "
            "today, and stop your exercises until you have been checked."
        ),
        reason="Severe pain behind the knee needs prompt medical attention.",
        source=f"{SEED}: symptoms that need immediate medical attention (threshold 8/10 set by kneerehab)",
    ),
    Rule(
        code="sudden_swelling_or_warmth",
        level=PromptLevel.URGENT,
        when=Flag("sudden_swelling_or_warmth"),
        message="Sudden swelling or warmth in your leg needs medical attention today.",
        reason="Sudden swelling or warmth can come from a blood clot, an infection or bleeding into the joint.",
        source=f"{SEED}: symptoms that need immediate medical attention",
    ),
    Rule(
        code="cannot_bear_weight",
        level=PromptLevel.URGENT,
        when=Flag("cannot_bear_weight"),
        message=(
            "Your leg cannot hold your weight. Get medical attention today, and keep weight off the leg "
            "until then."
        ),
        reason="A leg that gives no support can mean a fracture, a torn ligament or another serious injury.",
        source=f"{SEED}: symptoms that need immediate medical attention",
    ),
    Rule(
        code="joint_shape_changed",
        level=PromptLevel.URGENT,
        when=Flag("joint_shape_changed"),
        message="A visible change in the shape of your knee needs medical attention today.",
        reason="A knee that looks different can mean a bone out of place, a fracture or a burst cyst.",
        source=f"{SEED}: symptoms that need immediate medical attention (changes in the knee's appearance)",
    ),
    Rule(
        code="possible_blood_clot",
        level=PromptLevel.URGENT,
        when=AnyFlag(DVT_SIGNS),
        message=(
            "You reported {signs}. These can be signs of a blood clot in a deep leg vein. Get medical "
            "attention today, and do not massage the leg or exercise it until you have been checked."
        ),
        reason=(
            "A deep vein thrombosis can look like a calf strain, and the clot can travel to the lungs; "
            "it needs treatment as soon as possible."
        ),
        source=f"{SEED}: deep vein thrombosis (pain in calf or thigh, leg swelling, swollen veins, warmth, red skin)",
    ),
    Rule(
        code="clot_history_with_signs",
        level=PromptLevel.URGENT,
        when=AllOf((Flag("history_of_clots"), AnyFlag(DVT_SIGNS))),
        message=(
            "You have had a blood clot before, which makes these signs more serious. Do not wait: get "
            "checked today and tell the clinician about the earlier clot."
        ),
        reason="Someone who has had a clot is more likely to have another; a history of clots never lowers urgency.",
        source=f"{SEED}: the urgent symptoms matter even more with a history of blood clots",
    ),
    # --- see a clinician: book a visit --------------------------------------------
    Rule(
        code="pain_at_rest_getting_worse",
        level=PromptLevel.SEE_CLINICIAN,
        when=RisingTrend("pain_at_rest", by=2),
        message=(
            "Your pain at rest went from {first} to {last} out of 10 over your last {count} check-ins. "
            "Book a visit with your physiotherapist or doctor."
        ),
        reason="Pain that keeps getting worse despite home care should be looked at by a clinician.",
        source=f"{SEED}: see a healthcare professional if the pain worsens",
    ),
    Rule(
        code="pain_during_activity_getting_worse",
        level=PromptLevel.SEE_CLINICIAN,
        when=RisingTrend("pain_during_activity", by=2),
        message=(
            "Your pain during activity went from {first} to {last} out of 10 over your last {count} "
            "check-ins. Book a visit with your physiotherapist or doctor, and keep exercises gentle until then."
        ),
        reason="Pain that keeps getting worse despite home care should be looked at by a clinician.",
        source=f"{SEED}: see a healthcare professional if the pain worsens",
    ),
    Rule(
        code="swelling_getting_worse",
        level=PromptLevel.SEE_CLINICIAN,
        when=RisingTrend("swelling", by=1),
        message=(
            "Your swelling went from {first} to {last} over your last {count} check-ins. Book a visit with "
            "your physiotherapist or doctor."
        ),
        reason="Swelling that grows instead of settling suggests the knee is not coping with the current plan.",
        source=f"{SEED}: see a healthcare professional if symptoms worsen",
    ),
    Rule(
        code="severe_swelling",
        level=PromptLevel.SEE_CLINICIAN,
        when=SwellingAtLeast("severe"),
        message="Severe swelling around your knee should be checked: book a visit with your physiotherapist "
                "or doctor.",
        reason="Marked swelling that is not sudden still deserves a clinician's look.",
        source="kneerehab clinical default (sudden swelling is urgent; severe swelling at least needs a visit)",
    ),
    Rule(
        code="no_improvement",
        level=PromptLevel.SEE_CLINICIAN,
        when=NoImprovement(),
        message=(
            "After {weeks} weeks on your {condition} plan your pain is no lower than when you started. "
            "Book a visit so a clinician can review your treatment."
        ),
        reason="Pain that does not improve with home care after a reasonable time needs a clinician's review.",
        source=f"{SEED}: see a healthcare professional if the pain does not improve with at-home treatment",
    ),
    Rule(
        code="limits_daily_activities",
        level=PromptLevel.SEE_CLINICIAN,
        when=Flag("limits_daily_activities"),
        message="Pain that gets in the way of your daily activities is a reason to book a visit with your "
                "physiotherapist or doctor.",
        reason="Knee pain that affects daily life should be assessed by a clinician.",
        source=f"{SEED}: see a healthcare professional if the pain affects your daily activities",
        yields_to_condition_flag="limits_daily_activities",
    ),
    Rule(
        code="knee_locking_or_giving_way",
        level=PromptLevel.SEE_CLINICIAN,
        when=Flag("knee_locking_or_giving_way"),
        message="Your knee locking or giving way should be checked: book a visit with your physiotherapist "
                "or doctor, and avoid twisting movements until then.",
        reason="Locking or giving way can come from a torn meniscus, a ligament injury or a cyst.",
        source=f"{SEED}: meniscus tear and Baker's cyst symptoms (locking, giving way)",
        yields_to_condition_flag="knee_locking_or_giving_way",
    ),
    Rule(
        code="condition_warning",  # each matched warning reports its own catalogue code
        level=PromptLevel.SEE_CLINICIAN,
        when=ConditionWarnings(),
        message="{message}",
        reason="The catalogue lists reasons to see a clinician that are specific to the patient's condition.",
        source="conditions/catalog/catalog.yaml: the condition's warnings",
    ),
)


# The top-level message of a prompt, by level. Every one says what to do now.
LEVEL_MESSAGES = {
    PromptLevel.EMERGENCY: "Call emergency services now (for example 999, 112 or 911).",
    PromptLevel.URGENT: (
        "Get medical attention today: contact your doctor, an urgent care service or an emergency "
        "department. Stop your exercises until you have been checked."
    ),
    PromptLevel.SEE_CLINICIAN: (
        "Book a visit with your physiotherapist or doctor in the next few days. Keep your exercises gentle "
        "and stop any that make things worse."
    ),
    PromptLevel.NONE: (
        "Nothing in this check-in needs a clinician right now. Keep following your plan and check in again "
        "tomorrow; if anything changes or worries you, contact your physiotherapist."
    ),
}
PHYSIOTHERAPIST_TOLD = "We have let your physiotherapist know."
NOT_A_DIAGNOSIS = (
    "kneerehab is a support tool, not a diagnosis: if you feel unwell or are worried, seek medical help "
    "whatever this app says."
)

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

# --- sources, cited beside each rule and threshold ----------------------------------
SEED = "seed text back-of-knee-pain.txt"
NG158 = "NICE NG158 (2020), venous thromboembolic diseases: diagnosis and management"
NHS_DVT = "NHS, 'DVT (deep vein thrombosis)': call 999 for breathing difficulty, chest pain or coughing blood"
WELLS = "Wells DVT score (Wells 2003, NEJM 349:1227; used in NICE NG158)"
BOAST_KNEE = "BOAST guidance on the dislocated knee; ATLS (vascular injury after knee trauma)"
BOAST_10 = "BOAST 10 (2016), diagnosis and management of acute compartment syndrome"
NG51 = "NICE NG51 (2016, updated 2024), suspected sepsis: recognition and early management"
SEPTIC_ARTHRITIS = ("BSR/BOA guideline for the hot swollen joint (Coakley 2006, Rheumatology 45:1039); "
                    "NICE CKS septic arthritis")
MENISCUS_LOCKED = "NICE CKS 'meniscal tear': a locked knee needs urgent orthopaedic assessment; BASK meniscal guidance"
EXTENSOR = "Extensor mechanism (quadriceps or patellar tendon) rupture: inability to straight-leg raise; early repair"
ACHILLES = "BOAST guidance on acute Achilles tendon rupture (Thompson/Simmonds squeeze test; same-day assessment)"
OTTAWA = "Ottawa knee rules (Stiell 1996, JAMA 275:611): unable to take four steps needs an X-ray"
NG125 = "NICE NG125 (2019), surgical site infections: prevention and treatment"
NHS_KNEE = "NHS 'Knee pain': see a GP if home treatment has not helped after 2 weeks or pain stops daily activities"
FARRAR = "Farrar 2001, Pain 94:149: a clinically important change of a 0-10 pain score is about 2 points or 30 %"

# Signs of a deep vein thrombosis the check-in asks about (NICE NG158; Wells score). Warmth comes in with
# `sudden_swelling_or_warmth`, so that answer counts as a DVT sign as well. `calf_pain` and `leg_swelling`
# ask about pain or swelling that is new or worse since the last check-in, so a healing calf strain does
# not read as a clot every day (an explained cause lowers the Wells score; new symptoms do not).
DVT_SIGNS = ("calf_pain", "leg_swelling", "swollen_veins", "red_skin", "sudden_swelling_or_warmth")
# What a clot in the lungs does (NICE NG158; NHS): with any DVT sign these make an emergency.
LUNG_CLOT_SIGNS = ("trouble_breathing", "chest_pain", "coughing_blood", "fainted_or_racing_heart")

# How each yes/no answer reads in a sentence.
FLAG_WORDS = {
    "fever": "a fever",
    "trouble_breathing": "trouble breathing",
    "chest_pain": "chest pain",
    "coughing_blood": "coughing up blood",
    "fainted_or_racing_heart": "fainting or a racing heart",
    "foot_cold_pale_or_numb": "a cold, pale, numb or weak foot",
    "confused_or_shaking_chills": "confusion, shaking chills or feeling very unwell",
    "calf_tight_and_hard": "a hard, tight calf",
    "cannot_bear_weight": "a leg that cannot hold your weight",
    "sudden_swelling_or_warmth": "sudden swelling or warmth in the leg",
    "joint_shape_changed": "a change in the shape of the knee",
    "calf_pain": "new or worse pain in the calf or thigh",
    "leg_swelling": "new or worse swelling of the leg",
    "red_skin": "red skin on the leg",
    "swollen_veins": "swollen veins in the leg",
    "history_of_clots": "an earlier blood clot",
    "knee_locked": "a knee stuck so it cannot straighten",
    "cannot_lift_straight_leg": "not being able to lift the straight leg",
    "calf_snap_or_cannot_tiptoe": "a snap at the back of the calf or not being able to stand on tiptoe",
    "wound_problem": "a problem with the surgical wound",
    "limits_daily_activities": "pain that limits daily activities",
    "knee_giving_way": "the knee giving way",
    "new_fall_or_injury": "a new fall or injury",
    "knee_locking_or_giving_way": "the knee locking or giving way",
}

METRIC_WORDS = {
    "pain_at_rest": "pain at rest",
    "pain_during_activity": "pain during activity",
    "swelling": "swelling",
}

# Severe pain: 8/10 or more on the 0-10 numeric scale (the seed text's "severe pain" made measurable; on
# the NPRS 7-10 is usually called severe, and 8 keeps a bad but familiar day of 7 below "urgent").
SEVERE_PAIN = 8
# A DVT risk factor counts for a surgery in the last 12 weeks (Wells score: major surgery within 12 weeks).
RECENT_SURGERY_DAYS = 84


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
class AnyOf:
    """At least one part holds; the facts of the first that holds are reported."""

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
class PlanContext:
    """A fact the physiotherapist recorded on a running plan: raises a level, never lowers one.

    `fact` is one of `clot_risk` (any clot risk factor, or surgery in the last RECENT_SURGERY_DAYS, or the
    patient's own answer that they had a clot before: PLAN_FACT_ANSWERS), `recent_surgery` (surgery in the
    last RECENT_SURGERY_DAYS) or `immunosuppressed`. Reports `{context}`.
    """

    fact: str


# The check-in answers a plan fact takes into account besides what the physiotherapist recorded.
PLAN_FACT_ANSWERS = {"clot_risk": ("history_of_clots",)}


@dataclass(frozen=True)
class Worsening:
    """A metric getting worse as a clinician reads a diary: by days, not single check-ins.

    Each local day's value is the mean of its check-ins. Over the latest `2 * days` days with a check-in
    (within `within_days` of this one), the mean of the latest `days` must exceed the mean of the `days`
    before by `by` or more, and the middle (median) of the latest days must be up by at least half of
    `by` as well, so one day's jump after a plateau is not a trend while a zig-zag rise is. Swelling is
    compared by rank: none < mild < moderate < severe. Reports `{first}`, `{last}` and `{days}`.
    """

    metric: str
    by: float
    days: int = 3
    within_days: int = 21


@dataclass(frozen=True)
class NoImprovement:
    """No improvement after a reasonable time on a plan.

    A reasonable time is the condition's shortest typical recovery, but at least `floor_weeks` and at
    most `cap_weeks`, counted from the plan's start. Holds when the mean of the latest `count` check-ins
    is no better than the mean of the first `count` on the plan, for both pain scores, and the symptoms
    still matter: mean pain during activity `activity_pain` or more, at rest `rest_pain` or more, or
    swelling `swelling` or worse. Reports `{weeks}` and `{condition}`.
    """

    floor_weeks: int = 2
    cap_weeks: int = 3
    count: int = 3
    activity_pain: int = 4
    rest_pain: int = 3
    swelling: str = "moderate"


@dataclass(frozen=True)
class NoteMentions:
    """The free-text note mentions a red flag whose question was not ticked (negations excepted).

    Reports `{phrase}` (what the note said) and `{question}` (the question to answer).
    """


@dataclass(frozen=True)
class ConditionWarnings:
    """The warnings of the catalogue condition of each running plan (see conditions/catalog/FORMAT.md)."""


Trigger = (Flag | AnyFlag | AllOf | AnyOf | PainAtLeast | SwellingAtLeast | PlanContext | Worsening
           | NoImprovement | NoteMentions | ConditionWarnings)


@dataclass(frozen=True)
class Rule:
    code: str
    level: str
    when: Trigger
    message: str
    reason: str
    source: str
    # A general rule stands aside when a condition warning about the same answer (a flag) or the same
    # trend (a metric) has matched: the condition's message is the more specific one, at the same level.
    yields_to_condition: str | None = None


def _flag_rule(code: str, level: str, message: str, reason: str, source: str, *, yields: bool = False) -> Rule:
    """A rule that one yes/no answer sets off alone (the answer's name is the rule's code).

    `yields`: the rule stands aside for a condition warning about the same answer.
    """
    return Rule(code=code, level=level, when=Flag(code), message=message, reason=reason, source=source,
                yields_to_condition=code if yields else None)


EMERGENCY, URGENT, SEE_CLINICIAN = PromptLevel.EMERGENCY, PromptLevel.URGENT, PromptLevel.SEE_CLINICIAN

RULES: tuple[Rule, ...] = (
    # --- emergency: call emergency services now ------------------------------------------
    _flag_rule(
        "trouble_breathing", EMERGENCY,
        "Call emergency services now. Trouble breathing can mean a blood clot has travelled to your lungs. "
        "Do not wait for your physiotherapist to reply.",
        "A clot from a deep leg vein can break off and lodge in an artery of the lungs (pulmonary embolism), "
        "which can be life-threatening.",
        f"{NG158}; {NHS_DVT}; {SEED}: deep vein thrombosis",
    ),
    _flag_rule(
        "chest_pain", EMERGENCY,
        "Call emergency services now. Chest pain, above all when it is worse as you breathe in, can mean a "
        "blood clot in the lungs.",
        "Pleuritic chest pain is a leading symptom of pulmonary embolism.",
        f"{NG158}; {NHS_DVT}",
    ),
    _flag_rule(
        "coughing_blood", EMERGENCY,
        "Call emergency services now. Coughing up blood can mean a blood clot in the lungs.",
        "Haemoptysis is a symptom of pulmonary embolism and needs emergency assessment.",
        f"{NG158}; {NHS_DVT}",
    ),
    _flag_rule(
        "foot_cold_pale_or_numb", EMERGENCY,
        "Call emergency services now. A cold, pale, numb or weak foot on the injured side can mean its blood "
        "supply or nerves are damaged; this cannot wait.",
        "After a knee injury the artery behind the knee can be damaged even when the knee looks back in place; "
        "a limb without blood supply needs emergency vascular assessment within hours.",
        BOAST_KNEE,
    ),
    _flag_rule(
        "confused_or_shaking_chills", EMERGENCY,
        "Call emergency services now. New confusion, shaking chills or feeling very unwell can be signs of "
        "sepsis, a life-threatening reaction to an infection.",
        "New confusion and rigors are high-risk signs of sepsis, especially with a possible source such as a "
        "joint or a wound.",
        NG51,
    ),
    Rule(
        code="calf_hard_with_severe_pain",
        level=EMERGENCY,
        when=AllOf((Flag("calf_tight_and_hard"), PainAtLeast(("pain_at_rest", "pain_during_activity"),
                                                             SEVERE_PAIN))),
        message="Call emergency services now. A hard, tight calf with pain of {value} out of 10 can mean "
                "pressure is building up inside the muscles (compartment syndrome).",
        reason="Pain out of proportion with a tense, hard compartment is the early sign of acute compartment "
               "syndrome, a surgical emergency; a lost pulse comes late.",
        source=f"{BOAST_10} (severe pain threshold {SEVERE_PAIN}/10 as above)",
    ),
    Rule(
        code="hot_swollen_knee_with_fever",
        level=EMERGENCY,
        when=AllOf((Flag("fever"), AnyFlag(("sudden_swelling_or_warmth", "red_skin")))),
        message="Call emergency services or go to an emergency department now. A fever with a hot, swollen or "
                "red knee can mean an infected joint, which can destroy the joint within days.",
        reason="A hot, swollen joint with fever is septic arthritis until proven otherwise and needs same-day "
               "emergency assessment.",
        source=SEPTIC_ARTHRITIS,
    ),
    Rule(
        code="clot_signs_with_chest_symptoms",
        level=EMERGENCY,
        when=AllOf((AnyFlag(DVT_SIGNS), AnyFlag(LUNG_CLOT_SIGNS))),
        message="Call emergency services now. Signs of a clot in the leg together with {signs} can mean the "
                "clot has reached your lungs.",
        reason="A deep vein thrombosis with breathlessness, chest pain, coughing blood, fainting or a fast "
               "heart rate points to a pulmonary embolism.",
        source=f"{NG158}; {NHS_DVT}",
    ),
    Rule(
        code="fever_while_immunosuppressed",
        level=EMERGENCY,
        when=AllOf((Flag("fever"), PlanContext("immunosuppressed"))),
        message="Call emergency services or go to an emergency department now. A fever while your immune "
                "system is suppressed by treatment can turn into sepsis quickly.",
        reason="Impaired immunity is a sepsis risk factor, and joint infection is more likely in people on "
               "immunosuppressive treatment; the physiotherapist recorded it on the plan.",
        source=f"{NG51} (risk factors: impaired immune function); {SEPTIC_ARTHRITIS}",
    ),
    Rule(
        code="possible_sepsis",
        level=EMERGENCY,
        when=AllOf((Flag("fever"), Flag("fainted_or_racing_heart"),
                    AnyOf((Flag("wound_problem"), PlanContext("recent_surgery"))))),
        message="Call emergency services now. A fever with fainting or a racing heart after knee surgery can "
                "be sepsis.",
        reason="Fever with a fast heart rate or collapse and a likely source of infection (a recent operation "
               "or a troubled wound) meets the high-risk criteria for sepsis.",
        source=f"{NG51}; {NG125}",
    ),
    # --- urgent: get medical attention today ---------------------------------------------
    _flag_rule(
        "fever", URGENT,
        "You have a fever. Get medical attention today: with a painful knee it can mean an infection.",
        "Fever with knee pain is one of the symptoms that need prompt medical attention.",
        f"{SEED}: symptoms that need immediate medical attention; {SEPTIC_ARTHRITIS}",
    ),
    Rule(
        code="severe_pain",
        level=URGENT,
        when=PainAtLeast(("pain_at_rest", "pain_during_activity"), SEVERE_PAIN),
        message="Your {metric} is {value} out of 10; 8 or more counts as severe pain. Get medical attention "
                "today, and stop your exercises until you have been checked.",
        reason="Severe pain behind the knee needs prompt medical attention.",
        source=f"{SEED}: symptoms that need immediate medical attention (severe pain = {SEVERE_PAIN}/10 or more)",
    ),
    _flag_rule(
        "sudden_swelling_or_warmth", URGENT,
        "Sudden swelling or warmth in your leg needs medical attention today.",
        "Sudden swelling or warmth can come from a blood clot, an infection, a burst cyst or bleeding into the "
        "joint.",
        f"{SEED}: symptoms that need immediate medical attention; ruptured Baker's cyst mimics a DVT",
    ),
    _flag_rule(
        "cannot_bear_weight", URGENT,
        "Your leg cannot hold your weight. Get medical attention today, and keep weight off the leg until then.",
        "A leg that gives no support after an injury can mean a fracture or a torn ligament; it needs an X-ray.",
        f"{OTTAWA}; {SEED}",
    ),
    _flag_rule(
        "joint_shape_changed", URGENT,
        "A visible change in the shape of your knee needs medical attention today.",
        "A knee that looks different can mean a bone out of place, a fracture or a burst cyst.",
        f"{SEED}: symptoms that need immediate medical attention (changes in the knee's appearance)",
    ),
    Rule(
        code="possible_blood_clot",
        level=URGENT,
        when=AnyFlag(DVT_SIGNS),
        message="You reported {signs}. These can be signs of a blood clot in a deep leg vein. Get medical "
                "attention today, and do not massage the leg or exercise it until you have been checked.",
        reason="A deep vein thrombosis can look like a calf strain, and the clot can travel to the lungs; "
               "it needs an assessment (and usually a scan) the same day.",
        source=f"{NG158}; {WELLS}; {SEED}: deep vein thrombosis",
    ),
    Rule(
        code="clot_history_with_signs",
        level=URGENT,
        when=AllOf((AnyFlag(DVT_SIGNS), PlanContext("clot_risk"))),
        message="Because of {context}, these signs are more serious. Do not wait: get checked within hours "
                "today, and tell the clinician about it.",
        reason="A previous clot, recent surgery, immobilisation, cancer, pregnancy or oestrogen therapy each "
               "make a deep vein thrombosis more likely; they never lower urgency.",
        source=f"{WELLS}; {NG158}; {SEED}: the urgent symptoms matter even more with a history of clots",
    ),
    _flag_rule(
        "fainted_or_racing_heart", URGENT,
        "Fainting or a racing heart needs medical attention today. If you also have chest pain or trouble "
        "breathing, call emergency services now.",
        "Collapse and a fast heart rate can be signs of a clot in the lungs or of a serious infection.",
        f"{NG158}; {NG51}",
    ),
    _flag_rule(
        "calf_tight_and_hard", URGENT,
        "A hard, tight calf needs medical attention today. If the pain becomes severe, call emergency "
        "services.",
        "A tense calf can come from a deep vein thrombosis or rising pressure in the muscles.",
        f"{BOAST_10}; {NG158}",
    ),
    _flag_rule(
        "knee_locked", URGENT,
        "A knee that is stuck and will not straighten needs to be seen today.",
        "A locked knee often means a torn piece of meniscus is caught in the joint; early repair saves it.",
        MENISCUS_LOCKED,
    ),
    _flag_rule(
        "cannot_lift_straight_leg", URGENT,
        "Not being able to lift your leg with the knee straight needs to be seen today.",
        "Losing the straight-leg raise suggests a torn quadriceps or patellar tendon; repair works best early.",
        EXTENSOR,
    ),
    _flag_rule(
        "calf_snap_or_cannot_tiptoe", URGENT,
        "A snap at the back of your calf, or not being able to stand on tiptoe, needs to be seen today. Keep "
        "weight off the leg.",
        "These are the signs of a ruptured Achilles tendon or calf muscle, which needs same-day assessment.",
        ACHILLES,
    ),
    _flag_rule(
        "wound_problem", URGENT,
        "A surgical wound that is red, hot, leaking or opening needs to be seen today by your surgical team or "
        "a doctor.",
        "Spreading redness, heat, discharge or a wound that opens are signs of a surgical site infection.",
        NG125,
    ),
    Rule(
        code="fever_after_surgery",
        level=URGENT,
        when=AllOf((Flag("fever"), PlanContext("recent_surgery"))),
        message="A fever in the weeks after knee surgery needs medical attention today: contact your surgical "
                "team.",
        reason="Fever after an operation can be the first sign of a wound or joint infection.",
        source=f"{NG125} (surgery within {RECENT_SURGERY_DAYS} days)",
    ),
    # --- see a clinician: book a visit --------------------------------------------------
    Rule(
        code="pain_at_rest_getting_worse",
        level=SEE_CLINICIAN,
        yields_to_condition="pain_at_rest",
        when=Worsening("pain_at_rest", by=2),
        message="Your pain at rest went from about {first} to about {last} out of 10 over your last {days} "
                "days of check-ins. Book a visit with your physiotherapist or doctor.",
        reason="Pain that keeps getting worse despite home care should be looked at by a clinician; a rise of "
               "2 points is the smallest change that matters to patients.",
        source=f"{FARRAR}; {NHS_KNEE}; {SEED}: see a healthcare professional if the pain worsens",
    ),
    Rule(
        code="pain_during_activity_getting_worse",
        level=SEE_CLINICIAN,
        yields_to_condition="pain_during_activity",
        when=Worsening("pain_during_activity", by=2),
        message="Your pain during activity went from about {first} to about {last} out of 10 over your last "
                "{days} days of check-ins. Book a visit with your physiotherapist or doctor, and keep exercises "
                "gentle until then.",
        reason="Pain that keeps getting worse despite home care should be looked at by a clinician; a rise of "
               "2 points is the smallest change that matters to patients.",
        source=f"{FARRAR}; {NHS_KNEE}; {SEED}: see a healthcare professional if the pain worsens",
    ),
    Rule(
        code="swelling_getting_worse",
        level=SEE_CLINICIAN,
        yields_to_condition="swelling",
        when=Worsening("swelling", by=1),
        message="Your swelling went from {first} to {last} over your last {days} days of check-ins. Book a "
                "visit with your physiotherapist or doctor.",
        reason="Swelling that grows by a whole step instead of settling suggests the knee is not coping with "
               "the current plan.",
        source=f"{SEED}: see a healthcare professional if symptoms worsen (one step on the 4-step scale)",
    ),
    Rule(
        code="severe_swelling",
        level=SEE_CLINICIAN,
        when=SwellingAtLeast("severe"),
        message="Severe swelling around your knee should be checked: book a visit with your physiotherapist "
                "or doctor.",
        reason="Marked swelling that is not sudden still deserves a clinician's look.",
        source=f"{SEED}: see a healthcare professional if symptoms worsen (sudden swelling is urgent above)",
    ),
    Rule(
        code="no_improvement",
        level=SEE_CLINICIAN,
        when=NoImprovement(),
        message="After {weeks} weeks on your {condition} plan your pain is no better than when you started. "
                "Book a visit so a clinician can review your treatment.",
        reason="Knee pain that has not improved after about two weeks of home care, and still matters, "
               "needs a clinician's review; mild pain within the usual course of recovery does not.",
        source=f"{NHS_KNEE}; {SEED}: see a healthcare professional if the pain does not improve",
    ),
    _flag_rule(
        "limits_daily_activities", SEE_CLINICIAN,
        "Pain that gets in the way of your daily activities is a reason to book a visit with your "
        "physiotherapist or doctor.",
        "Knee pain that affects daily life should be assessed by a clinician.",
        f"{NHS_KNEE}; {SEED}",
        yields=True,
    ),
    _flag_rule(
        "knee_giving_way", SEE_CLINICIAN,
        "Your knee giving way should be checked: book a visit with your physiotherapist or doctor, and avoid "
        "twisting and pivoting until then.",
        "Giving way is the sign of an unstable knee after a ligament or meniscus injury.",
        f"{SEED}: meniscus and ligament injuries; instability after a ligament or meniscus injury",
        yields=True,
    ),
    _flag_rule(
        "new_fall_or_injury", SEE_CLINICIAN,
        "A new fall or injury should be checked: book a visit with your physiotherapist or doctor. If the leg "
        "cannot take your weight, get help today.",
        "A new injury on a healing knee can undo the repair or add a new one.",
        f"{SEED}; {OTTAWA}",
    ),
    Rule(
        code="knee_locking_or_giving_way",
        level=SEE_CLINICIAN,
        when=Flag("knee_locking_or_giving_way"),
        message="Your knee locking or giving way should be checked: book a visit with your physiotherapist "
                "or doctor, and avoid twisting movements until then.",
        reason="Locking or giving way can come from a torn meniscus, a ligament injury or a cyst (the question "
               "of older app versions, kept at its level).",
        source=f"{SEED}: meniscus tear and Baker's cyst symptoms (locking, giving way)",
        yields_to_condition="knee_locking_or_giving_way",
    ),
    Rule(
        code="note_mentions_red_flag",
        level=SEE_CLINICIAN,
        when=NoteMentions(),
        message="Your note mentions {phrase}. If that is happening now, answer the question \"{question}\" "
                "in a new check-in, or {advice}",
        reason="A red flag written in a note instead of ticked must not be lost; the note never lowers a level.",
        source="kneerehab safety net for free text (the questions' own rules and sources apply)",
    ),
    Rule(
        code="condition_warning",  # each matched warning reports its own catalogue code
        level=SEE_CLINICIAN,
        when=ConditionWarnings(),
        message="{message}",
        reason="The catalogue lists reasons to see a clinician that are specific to the patient's condition.",
        source="conditions/catalog/catalog.yaml: the condition's warnings",
    ),
)


# --- the free-text note's keyword net -------------------------------------------------
# Phrases a patient may write instead of ticking a question, with the question they stand for. Matched
# on word boundaries, case-insensitive, and skipped when a negation stands shortly before them in the same
# clause ("no chest pain", "haven't fainted").
NOTE_KEYWORDS: tuple[tuple[str, str], ...] = (
    (r"chest (?:pain|hurts?|tight(?:ness)?)|pain in (?:my|the) chest|my chest hurts", "chest_pain"),
    (r"cough(?:ed|ing|s)?(?: up)?(?: some| a bit of| a little)? blood|blood (?:when|in|as) (?:I )?cough\w*|"
     r"blood in (?:my )?(?:spit|phlegm|sputum)", "coughing_blood"),
    (r"can'?t breathe|cannot breathe|short(?:ness)? of breath|breathless|struggl\w* to breathe|"
     r"trouble breathing|hard to breathe", "trouble_breathing"),
    (r"faint(?:ed|ing)?|passed out|blacked out|heart (?:is )?(?:racing|pounding)|racing heart|palpitations",
     "fainted_or_racing_heart"),
    (r"\bnumb\w*|cold foot|foot (?:is |feels |went |looks )?(?:cold|pale|white|blue)|"
     r"toes (?:are |feel |look )?(?:cold|blue|white)|can'?t feel my (?:foot|toes)", "foot_cold_pale_or_numb"),
    (r"confus(?:ed|ion)|shaking chills|rigou?rs|uncontrollabl\w* shak\w*", "confused_or_shaking_chills"),
    (r"fever\w*|high temperature|a temperature", "fever"),
    (r"calf (?:is |feels )?(?:rock )?(?:hard|tight)", "calf_tight_and_hard"),
    (r"(?:knee|it) (?:is |got |was )?(?:stuck|locked)|can'?t straighten|cannot straighten", "knee_locked"),
    (r"gave way|giving way|gives way|buckl\w*", "knee_giving_way"),
    (r"(?:heard|felt) a (?:snap|pop)|snap (?:in|at|behind) (?:my|the) (?:calf|heel|ankle)|"
     r"can'?t (?:stand on )?tip ?toe|cannot (?:stand on )?tip ?toe", "calf_snap_or_cannot_tiptoe"),
    (r"wound (?:is |looks |feels )?(?:red|hot|leaking|weeping|open\w*|oozing|infected)|\bpus\b|oozing|"
     r"stitches (?:came|coming) (?:out|apart)", "wound_problem"),
    (r"\bfell\b(?! asleep)|\ba fall\b|\bfallen\b(?! asleep)|tripped", "new_fall_or_injury"),
    (r"can'?t (?:walk|stand|put weight)|cannot (?:walk|stand|put weight)", "cannot_bear_weight"),
)
NEGATIONS = ("no", "not", "never", "without", "don't", "dont", "didn't", "didnt", "haven't", "havent", "hasn't",
             "hasnt", "isn't", "isnt", "wasn't", "wasnt", "none", "nor", "denies", "deny")
# Words that may stand between a negation and the phrase it negates ("haven't had any chest pain",
# "not been feeling numb"). Any other word, or a comma, ends the negation's reach: "no idea why my chest
# hurts" and "no, my chest hurts" both count as chest pain.
NEGATION_FILLERS = ("any", "more", "longer", "real", "sign", "signs", "of", "a", "the", "my", "had", "have", "has",
                    "been", "felt", "feel", "feeling", "i", "is", "was", "did", "do", "does", "am", "got", "get",
                    "pain", "in", "noticed", "further", "new", "had")
# How many words before a phrase a negation is looked for.
NEGATION_REACH = 4

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
# When the patient has no active physiotherapist, an urgent or emergency prompt reaches the clinic's staff.
CLINIC_TEAM_TOLD = "We have let the clinic team know."
NOT_A_DIAGNOSIS = (
    "kneerehab is a support tool, not a diagnosis: if you feel unwell or are worried, seek medical help "
    "whatever this app says."
)

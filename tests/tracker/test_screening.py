"""The screening rules one by one, in combination and at their thresholds (pure: no database)."""
import inspect
import zoneinfo
from dataclasses import fields
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.test import override_settings

from tracker import rules
from tracker.models import SYMPTOM_FLAGS, CheckIn, PromptLevel
from tracker.screening import PlanFacts, ScreeningContext, screen

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
NOT_A_DIAGNOSIS = "not a diagnosis"


def checkin(at: datetime = NOW, **values) -> CheckIn:
    values.setdefault("pain_at_rest", 1)
    values.setdefault("pain_during_activity", 2)
    values.setdefault("swelling", "none")
    return CheckIn(recorded_at=at, **values)


def context(history=(), plans=(), tz=UTC, has_physiotherapist=True) -> ScreeningContext:
    return ScreeningContext(tz=tz, history=list(history), plans=list(plans), has_physiotherapist=has_physiotherapist)


def codes(prompt) -> list[str]:
    return [reason.code for reason in prompt.reasons]


def plan_facts(*, warnings=(), recovery_weeks_min=6, baseline=None, name="Meniscus tear") -> PlanFacts:
    return PlanFacts(plan_id=1, condition_name=name, recovery_weeks_min=recovery_weeks_min,
                     warnings=tuple(warnings), baseline=baseline)


MENISCUS = [
    {"code": "meniscus_locking_or_giving_way", "message": "Your knee locked: book a visit.",
     "trigger": {"flag": "knee_locking_or_giving_way"}},
]
BAKERS = [
    {"code": "bakers_cyst_growing", "message": "The swelling grew: book a visit.",
     "trigger": {"rise": {"metric": "swelling", "by": 1}}},
    {"code": "bakers_cyst_sudden_pain", "message": "Pain jumped: book a visit.",
     "trigger": {"rise": {"metric": "pain_at_rest", "by": 3}}},
]


# --- none ------------------------------------------------------------------------------

def test_a_benign_checkin_is_none_and_still_says_it_is_not_a_diagnosis():
    prompt = screen(checkin(), context())
    assert prompt.level == PromptLevel.NONE
    assert prompt.reasons == ()
    assert NOT_A_DIAGNOSIS in prompt.message
    assert prompt.as_dict() == {"level": "none", "message": prompt.message, "reasons": []}


def test_history_of_clots_alone_is_not_a_symptom():
    assert screen(checkin(history_of_clots=True), context()).level == PromptLevel.NONE


# --- emergency -------------------------------------------------------------------------

def test_trouble_breathing_is_an_emergency():
    prompt = screen(checkin(trouble_breathing=True), context())
    assert prompt.level == PromptLevel.EMERGENCY
    assert codes(prompt) == ["trouble_breathing"]
    assert "emergency services now" in prompt.message.lower()
    assert "lungs" in prompt.reasons[0].message
    assert NOT_A_DIAGNOSIS in prompt.message


# --- urgent: each alone ------------------------------------------------------------------

@pytest.mark.parametrize(("flag", "expected_codes"), [
    ("fever", ["fever"]),
    ("cannot_bear_weight", ["cannot_bear_weight"]),
    ("joint_shape_changed", ["joint_shape_changed"]),
    ("sudden_swelling_or_warmth", ["sudden_swelling_or_warmth", "possible_blood_clot"]),
    ("calf_pain", ["possible_blood_clot"]),
    ("leg_swelling", ["possible_blood_clot"]),
    ("swollen_veins", ["possible_blood_clot"]),
    ("red_skin", ["possible_blood_clot"]),
])
def test_each_red_flag_alone_is_urgent_with_its_reason(flag, expected_codes):
    prompt = screen(checkin(**{flag: True}), context())
    assert prompt.level == PromptLevel.URGENT
    assert codes(prompt) == expected_codes
    assert "medical attention today" in prompt.message
    assert NOT_A_DIAGNOSIS in prompt.message


@pytest.mark.parametrize(("rest", "activity", "level"), [
    (7, 7, PromptLevel.NONE),
    (8, 0, PromptLevel.URGENT),
    (0, 8, PromptLevel.URGENT),
    (10, 10, PromptLevel.URGENT),
])
def test_severe_pain_starts_at_8_out_of_10(rest, activity, level):
    prompt = screen(checkin(pain_at_rest=rest, pain_during_activity=activity), context())
    assert prompt.level == level
    if level == PromptLevel.URGENT:
        assert codes(prompt) == ["severe_pain"]
        assert f"is {max(rest, activity)} out of 10" in prompt.reasons[0].message
        assert "8 or more" in prompt.reasons[0].message


def test_severe_pain_names_the_worse_score():
    prompt = screen(checkin(pain_at_rest=3, pain_during_activity=9), context())
    assert "pain during activity is 9" in prompt.reasons[0].message


def test_dvt_signs_are_named_in_the_reason():
    prompt = screen(checkin(calf_pain=True, red_skin=True), context())
    assert prompt.level == PromptLevel.URGENT
    assert codes(prompt) == ["possible_blood_clot"]
    assert "pain in the calf or thigh and red skin on the leg" in prompt.reasons[0].message


@pytest.mark.parametrize("signs", [{"calf_pain"}, {"leg_swelling", "swollen_veins"},
                                   {"calf_pain", "leg_swelling", "red_skin", "swollen_veins"},
                                   {"sudden_swelling_or_warmth"}])
def test_history_of_clots_makes_dvt_signs_weigh_more_never_less(signs):
    without = screen(checkin(**dict.fromkeys(signs, True)), context())
    with_history = screen(checkin(history_of_clots=True, **dict.fromkeys(signs, True)), context())
    assert PromptLevel.rank(with_history.level) >= PromptLevel.rank(without.level) >= PromptLevel.rank("urgent")
    assert "clot_history_with_signs" in codes(with_history)
    assert "clot_history_with_signs" not in codes(without)
    history_reason = next(r for r in with_history.reasons if r.code == "clot_history_with_signs")
    assert "more serious" in history_reason.message


# --- see a clinician ---------------------------------------------------------------------

def test_limits_daily_activities_books_a_visit():
    prompt = screen(checkin(limits_daily_activities=True), context())
    assert prompt.level == PromptLevel.SEE_CLINICIAN
    assert codes(prompt) == ["limits_daily_activities"]
    assert "book a visit" in prompt.message.lower()


def test_knee_locking_without_a_plan_still_books_a_visit():
    prompt = screen(checkin(knee_locking_or_giving_way=True), context())
    assert prompt.level == PromptLevel.SEE_CLINICIAN
    assert codes(prompt) == ["knee_locking_or_giving_way"]


def test_knee_locking_after_a_meniscus_tear_gives_the_catalogue_reason_instead():
    prompt = screen(checkin(knee_locking_or_giving_way=True), context(plans=[plan_facts(warnings=MENISCUS)]))
    assert prompt.level == PromptLevel.SEE_CLINICIAN
    assert codes(prompt) == ["meniscus_locking_or_giving_way"]
    assert prompt.reasons[0].message == "Your knee locked: book a visit."


def test_knee_locking_on_a_plan_without_such_a_warning_keeps_the_general_reason():
    prompt = screen(checkin(knee_locking_or_giving_way=True), context(plans=[plan_facts(warnings=BAKERS)]))
    assert codes(prompt) == ["knee_locking_or_giving_way"]


def test_severe_swelling_books_a_visit_and_moderate_does_not():
    assert codes(screen(checkin(swelling="severe"), context())) == ["severe_swelling"]
    assert screen(checkin(swelling="moderate"), context()).level == PromptLevel.NONE


def test_a_catalogue_rise_warning_compares_with_the_previous_checkin():
    plans = [plan_facts(warnings=BAKERS, name="Baker's cyst")]
    previous = checkin(NOW - timedelta(days=1), swelling="mild", pain_at_rest=2)
    grown = screen(checkin(swelling="moderate", pain_at_rest=2), context(history=[previous], plans=plans))
    assert grown.level == PromptLevel.SEE_CLINICIAN
    assert codes(grown) == ["bakers_cyst_growing"]
    same = screen(checkin(swelling="mild", pain_at_rest=4), context(history=[previous], plans=plans))
    assert same.level == PromptLevel.NONE  # pain rose by 2, the warning wants 3
    jumped = screen(checkin(swelling="mild", pain_at_rest=5), context(history=[previous], plans=plans))
    assert codes(jumped) == ["bakers_cyst_sudden_pain"]
    first = screen(checkin(swelling="severe", pain_at_rest=2), context(plans=plans))
    assert "bakers_cyst_growing" not in codes(first)  # nothing to compare with


def test_malformed_catalogue_warnings_are_ignored_and_never_lower_anything():
    broken = [{"code": "x"}, "nonsense", {"code": "y", "trigger": {"flag": "not_a_question"}},
              {"code": "z", "trigger": {"rise": {"metric": "mood"}}}, {"trigger": {"flag": "fever"}}]
    prompt = screen(checkin(fever=True), context(plans=[plan_facts(warnings=broken)]))
    assert prompt.level == PromptLevel.URGENT
    assert codes(prompt) == ["fever"]


# --- trends ------------------------------------------------------------------------------

def series(values, *, metric="pain_at_rest", start=NOW - timedelta(days=2), step=timedelta(days=1)):
    """Check-ins with `metric` taking `values`, the last one returned separately (it is the one judged)."""
    made = [checkin(start + i * step, **{metric: v}) for i, v in enumerate(values)]
    return made[:-1], made[-1]


@pytest.mark.parametrize(("values", "step", "rose_from"), [
    ([2, 3, 4], timedelta(days=1), 2),             # rose by 2 over 3 check-ins on 3 days
    ([2, 2, 4], timedelta(hours=12), 2),           # 2 days are enough
    ([2, 3, 4], timedelta(hours=1), None),         # the same day: not a trend yet
    ([2, 2, 3], timedelta(days=1), None),          # rose by 1 only
    ([3, 5], timedelta(days=1), None),             # two check-ins are not a trend
    ([2, 5, 4], timedelta(days=1), None),          # went down at the end
    ([6, 2, 3, 4], timedelta(days=1), 2),          # the rise after a dip counts
    ([2, 2, 3, 3, 4], timedelta(days=1), 2),       # a slow climb over five check-ins
    ([4, 4, 4], timedelta(days=1), None),          # steady, not worse
])
def test_pain_at_rest_trend_edges(values, step, rose_from):
    history, current = series(values, step=step)
    prompt = screen(current, context(history=history))
    assert ("pain_at_rest_getting_worse" in codes(prompt)) is (rose_from is not None)
    if rose_from is not None:
        assert prompt.level == PromptLevel.SEE_CLINICIAN
        assert f"went from {rose_from} to {values[-1]} out of 10" in prompt.reasons[0].message


def test_trend_days_are_the_patients_local_days():
    # 23:10, 23:40 on 9 March and 00:20 on 10 March in New York: two local days, one UTC day.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    start = datetime(2026, 3, 9, 23, 10, tzinfo=new_york)
    times = [start, start + timedelta(minutes=30), start + timedelta(minutes=70)]
    made = [checkin(t, pain_at_rest=v) for t, v in zip(times, [3, 4, 5], strict=True)]
    assert len({c.recorded_at.astimezone(UTC).date() for c in made}) == 1
    assert "pain_at_rest_getting_worse" in codes(screen(made[-1], context(history=made[:-1], tz=new_york)))
    assert "pain_at_rest_getting_worse" not in codes(screen(made[-1], context(history=made[:-1], tz=UTC)))


def test_pain_during_activity_trend():
    history, current = series([3, 4, 5], metric="pain_during_activity")
    assert codes(screen(current, context(history=history))) == ["pain_during_activity_getting_worse"]


def test_swelling_trend_by_rank():
    history, current = series(["none", "none", "mild"], metric="swelling")
    prompt = screen(current, context(history=history))
    assert codes(prompt) == ["swelling_getting_worse"]
    assert "went from none to mild" in prompt.reasons[0].message
    history, current = series(["none", "mild", "none"], metric="swelling")
    assert screen(current, context(history=history)).level == PromptLevel.NONE


# --- no improvement -----------------------------------------------------------------------

@pytest.mark.parametrize(("weeks_min", "elapsed", "expected"), [
    (6, timedelta(days=21), True),                 # 3 weeks at most, even for a long recovery
    (6, timedelta(days=20, hours=23), False),
    (2, timedelta(days=14), True),                 # the condition's shortest recovery when shorter
    (2, timedelta(days=13), False),
    (0, timedelta(days=7), True),                  # but at least a week
    (0, timedelta(days=6), False),
])
def test_no_improvement_after_a_reasonable_time(weeks_min, elapsed, expected):
    baseline = checkin(NOW - elapsed, pain_at_rest=4, pain_during_activity=5)
    current = checkin(NOW, pain_at_rest=4, pain_during_activity=5)
    plans = [plan_facts(baseline=baseline, recovery_weeks_min=weeks_min, name="Calf strain")]
    prompt = screen(current, context(history=[baseline], plans=plans))
    assert ("no_improvement" in codes(prompt)) is expected
    if expected:
        assert "Calf strain plan" in prompt.reasons[0].message


@pytest.mark.parametrize(("rest", "activity", "expected"), [
    (4, 5, True),   # the same as at the start
    (5, 6, True),   # worse
    (3, 5, False),  # better at rest
    (4, 4, False),  # better during activity
])
def test_no_improvement_compares_both_pain_scores_with_the_start(rest, activity, expected):
    baseline = checkin(NOW - timedelta(weeks=4), pain_at_rest=4, pain_during_activity=5)
    plans = [plan_facts(baseline=baseline)]
    prompt = screen(checkin(pain_at_rest=rest, pain_during_activity=activity), context(plans=plans))
    assert ("no_improvement" in codes(prompt)) is expected


def test_no_improvement_needs_pain_that_is_still_there():
    baseline = checkin(NOW - timedelta(weeks=4), pain_at_rest=2, pain_during_activity=2)
    prompt = screen(checkin(pain_at_rest=2, pain_during_activity=2), context(plans=[plan_facts(baseline=baseline)]))
    assert prompt.level == PromptLevel.NONE
    baseline = checkin(NOW - timedelta(weeks=4), pain_at_rest=1, pain_during_activity=3)
    prompt = screen(checkin(pain_at_rest=1, pain_during_activity=3), context(plans=[plan_facts(baseline=baseline)]))
    assert codes(prompt) == ["no_improvement"]


def test_no_plan_or_no_first_checkin_means_no_judgement_of_improvement():
    assert screen(checkin(pain_at_rest=5, pain_during_activity=5), context()).level == PromptLevel.NONE
    prompt = screen(checkin(pain_at_rest=5, pain_during_activity=5), context(plans=[plan_facts(baseline=None)]))
    assert prompt.level == PromptLevel.NONE


# --- combinations -------------------------------------------------------------------------

def test_the_highest_level_wins_and_every_reason_is_listed_most_urgent_first():
    prompt = screen(checkin(limits_daily_activities=True, fever=True, trouble_breathing=True, pain_at_rest=9),
                    context())
    assert prompt.level == PromptLevel.EMERGENCY
    assert codes(prompt) == ["trouble_breathing", "fever", "severe_pain", "limits_daily_activities"]
    levels = [PromptLevel.rank(r.level) for r in prompt.reasons]
    assert levels == sorted(levels, reverse=True)


def test_urgent_and_see_clinician_together_are_urgent():
    history, current = series([2, 3, 4])
    current.cannot_bear_weight = True
    prompt = screen(current, context(history=history))
    assert prompt.level == PromptLevel.URGENT
    assert codes(prompt) == ["cannot_bear_weight", "pain_at_rest_getting_worse"]


def test_the_message_says_the_physiotherapist_was_told_only_when_there_is_one():
    assert "physiotherapist know" in screen(checkin(fever=True), context(has_physiotherapist=True)).message
    assert "physiotherapist know" not in screen(checkin(fever=True), context(has_physiotherapist=False)).message
    assert "physiotherapist know" not in screen(checkin(), context(has_physiotherapist=True)).message


# --- the rules themselves -------------------------------------------------------------------

def test_every_rule_states_a_code_level_message_reason_and_source():
    assert len({rule.code for rule in rules.RULES}) == len(rules.RULES)
    for rule in rules.RULES:
        assert rule.level in PromptLevel.values and rule.level != PromptLevel.NONE
        assert rule.message and rule.reason and rule.source
    for level in PromptLevel.values:
        assert rules.LEVEL_MESSAGES[level]


def test_every_yes_no_question_is_screened_by_some_rule_or_strengthens_one():
    mentioned = set()
    for rule in rules.RULES:
        stack = [rule.when]
        while stack:
            trigger = stack.pop()
            if isinstance(trigger, rules.Flag):
                mentioned.add(trigger.name)
            elif isinstance(trigger, rules.AnyFlag):
                mentioned.update(trigger.names)
            elif isinstance(trigger, rules.AllOf):
                stack.extend(trigger.parts)
    assert mentioned == set(SYMPTOM_FLAGS)


def test_no_setting_or_argument_can_switch_a_red_flag_rule_off():
    # There is nothing to configure: the rules are an immutable tuple and screening takes no options.
    assert isinstance(rules.RULES, tuple)
    assert list(inspect.signature(screen).parameters) == ["checkin", "context"]
    assert {f.name for f in fields(ScreeningContext)} == {"tz", "history", "plans", "has_physiotherapist"}
    assert not [name for name in dir(settings) if any(w in name for w in ("SCREEN", "RED_FLAG", "RULE"))]
    # Settings someone might try have no effect.
    with override_settings(SCREENING_DISABLED_RULES=["trouble_breathing", "fever"], SCREENING_ENABLED=False,
                           RED_FLAGS_ENABLED=False):
        assert screen(checkin(trouble_breathing=True), context()).level == PromptLevel.EMERGENCY
        assert screen(checkin(fever=True), context()).level == PromptLevel.URGENT

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


PLAN_START = NOW.date() - timedelta(weeks=8)


def plan_facts(*, warnings=(), recovery_weeks_min=6, first=(), name="Meniscus tear", start=PLAN_START,
               **context_facts) -> PlanFacts:
    return PlanFacts(plan_id=1, condition_name=name, recovery_weeks_min=recovery_weeks_min,
                     warnings=tuple(warnings), start_date=start, first_checkins=tuple(first), **context_facts)


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


def test_a_warning_may_name_several_questions_and_the_general_rules_yield_to_it():
    warning = [{"code": "acl_giving_way", "message": "Giving way after an ACL injury: book a visit.",
                "trigger": {"flag": ["knee_giving_way", "knee_locking_or_giving_way"]}}]
    for flag in ("knee_giving_way", "knee_locking_or_giving_way"):
        prompt = screen(checkin(**{flag: True}), context(plans=[plan_facts(warnings=warning)]))
        assert codes(prompt) == ["acl_giving_way"]
    both = screen(checkin(knee_giving_way=True, knee_locked=True), context(plans=[plan_facts(warnings=warning)]))
    assert codes(both) == ["knee_locked", "acl_giving_way"]  # the locked knee stays urgent


def test_knee_locking_on_a_plan_without_such_a_warning_keeps_the_general_reason():
    prompt = screen(checkin(knee_locking_or_giving_way=True), context(plans=[plan_facts(warnings=BAKERS)]))
    assert codes(prompt) == ["knee_locking_or_giving_way"]


def test_severe_swelling_books_a_visit_and_moderate_does_not():
    assert codes(screen(checkin(swelling="severe"), context())) == ["severe_swelling"]
    assert screen(checkin(swelling="moderate"), context()).level == PromptLevel.NONE


def test_a_catalogue_rise_warning_reads_a_trend_over_days_not_one_jump():
    plans = [plan_facts(warnings=BAKERS, name="Baker's cyst")]
    history, current = daily(["none", "none", "none", "mild", "mild", "mild"], metric="swelling")
    assert codes(screen(current, context(history=history, plans=plans))) == ["bakers_cyst_growing"]
    history, current = daily([1, 1, 1, 1, 1, 5])
    assert screen(current, context(history=history, plans=plans)).level == PromptLevel.NONE  # one day's jump
    history, current = daily([1, 1, 1, 4, 5, 4])
    # the general worsening rule stands aside for the condition's more specific warning
    assert codes(screen(current, context(history=history, plans=plans))) == ["bakers_cyst_sudden_pain"]
    first = screen(checkin(swelling="severe", pain_at_rest=2), context(plans=plans))
    assert "bakers_cyst_growing" not in codes(first)  # nothing to compare with


def test_malformed_catalogue_warnings_are_ignored_and_never_lower_anything():
    broken = [{"code": "x"}, "nonsense", {"code": "y", "trigger": {"flag": "not_a_question"}},
              {"code": "z", "trigger": {"rise": {"metric": "mood"}}}, {"trigger": {"flag": "fever"}}]
    prompt = screen(checkin(fever=True), context(plans=[plan_facts(warnings=broken)]))
    assert prompt.level == PromptLevel.URGENT
    assert codes(prompt) == ["fever"]


# --- trends ------------------------------------------------------------------------------

def daily(values, *, metric="pain_at_rest", days_ago=None, per_day=1, tz=UTC):
    """One check-in a day (or `per_day`) with `metric` taking `values`; the last one is returned separately."""
    days_ago = len(values) - 1 if days_ago is None else days_ago
    made = []
    for i, value in enumerate(values):
        day = NOW - timedelta(days=days_ago - i)
        for k in range(per_day):
            made.append(checkin(day - timedelta(hours=(per_day - 1 - k) * 3), **{metric: value}))
    return made[:-1], made[-1]


@pytest.mark.parametrize(("values", "expected"), [
    ([2, 2, 2, 4, 4, 4], True),            # a step up of 2 held for three days
    ([2, 1, 3, 4, 3, 5], True),            # a zig-zag rise: means 2 -> 4
    ([1, 2, 1, 2, 3, 4, 4, 5], True),      # a climbing week
    ([2, 2, 2, 2, 2, 6], False),           # one day's jump after a plateau (e.g. a new exercise)
    ([2, 2, 2, 2, 2, 9], False),           # still one day: the trend stays silent (severe pain is urgent)
    ([2, 2, 2, 2, 6, 6], True),            # two days up: more than a blip
    ([2, 2, 2, 3, 3, 3], False),           # up by 1 only
    ([3, 3, 3, 3, 3, 3], False),           # flat
    ([5, 5, 5, 5, 5, 5], False),           # flat and high: not "rising"
    ([4, 5, 6, 6, 5, 4], False),           # up and down again
    ([2, 2, 4, 4, 4], False),              # five days are not enough to compare three with three
])
def test_worsening_compares_the_latest_three_days_with_the_three_before(values, expected):
    history, current = daily(values)
    prompt = screen(current, context(history=history))
    assert ("pain_at_rest_getting_worse" in codes(prompt)) is expected
    if expected:
        assert prompt.level == PromptLevel.SEE_CLINICIAN


def test_worsening_reads_days_not_checkins():
    # Three check-ins a day: the day's mean is what counts, and six check-ins on two days are no trend.
    history, current = daily([2, 2, 2, 4, 4, 4], per_day=3)
    assert "pain_at_rest_getting_worse" in codes(screen(current, context(history=history)))
    history, current = daily([2, 5], per_day=3)
    assert "pain_at_rest_getting_worse" not in codes(screen(current, context(history=history)))


def test_worsening_names_the_means():
    history, current = daily([2, 1, 3, 4, 3, 5])
    reason = screen(current, context(history=history)).reasons[0]
    assert "from about 2 to about 4 out of 10" in reason.message


def test_worsening_ignores_check_ins_older_than_three_weeks():
    old, _ = daily([1, 1, 1], days_ago=40)
    recent, current = daily([4, 4, 4])
    assert screen(current, context(history=[*old, *recent])).level == PromptLevel.NONE


def test_trend_days_are_the_patients_local_days():
    # 23:30 and 00:30 the next night, New York time, are two local days but one UTC day.
    new_york = zoneinfo.ZoneInfo("America/New_York")
    made = []
    for i, value in enumerate([2, 2, 2, 4, 4, 4]):
        evening = datetime(2026, 3, 4, 23, 30, tzinfo=new_york) + timedelta(days=2 * (i // 2))
        made.append(checkin(evening + timedelta(hours=i % 2), pain_at_rest=value))
    assert len({c.recorded_at.astimezone(new_york).date() for c in made}) == 6
    assert len({c.recorded_at.astimezone(UTC).date() for c in made}) == 3
    assert "pain_at_rest_getting_worse" in codes(screen(made[-1], context(history=made[:-1], tz=new_york)))
    assert "pain_at_rest_getting_worse" not in codes(screen(made[-1], context(history=made[:-1], tz=UTC)))


def test_pain_during_activity_trend():
    history, current = daily([3, 3, 3, 5, 5, 5], metric="pain_during_activity")
    assert codes(screen(current, context(history=history))) == ["pain_during_activity_getting_worse"]


def test_swelling_trend_by_rank():
    history, current = daily(["none", "none", "none", "mild", "mild", "mild"], metric="swelling")
    prompt = screen(current, context(history=history))
    assert codes(prompt) == ["swelling_getting_worse"]
    assert "went from none to mild" in prompt.reasons[0].message
    history, current = daily(["none", "none", "none", "none", "none", "moderate"], metric="swelling")
    assert screen(current, context(history=history)).level == PromptLevel.NONE  # one day


# --- no improvement -----------------------------------------------------------------------

def on_plan(values_first, values_latest, *, weeks_in, rest=None):
    """First three check-ins at the plan's start, the latest three ending now, `weeks_in` weeks after the start."""
    start = NOW - timedelta(weeks=weeks_in)
    first = [checkin(start + timedelta(days=i, hours=12), pain_at_rest=rest if rest is not None else v,
                     pain_during_activity=v) for i, v in enumerate(values_first)]
    latest = [checkin(NOW - timedelta(days=len(values_latest) - 1 - i), pain_at_rest=rest if rest is not None else v,
                      pain_during_activity=v) for i, v in enumerate(values_latest)]
    return start.date(), first, latest


@pytest.mark.parametrize(("weeks_min", "weeks_in", "expected"), [
    (6, 3, True),       # 3 weeks at most, even for a long recovery
    (6, 2.9, False),
    (2, 2, True),       # two weeks of home care (NHS knee pain advice)
    (2, 1.9, False),
    (0, 2, True),       # a very short recovery still waits two weeks
    (0, 1.5, False),
])
def test_no_improvement_after_a_reasonable_time(weeks_min, weeks_in, expected):
    start, first, latest = on_plan([5, 5, 5], [5, 5, 5], weeks_in=weeks_in)
    plans = [plan_facts(first=first, recovery_weeks_min=weeks_min, name="Calf strain", start=start)]
    prompt = screen(latest[-1], context(history=[*first, *latest[:-1]], plans=plans))
    assert ("no_improvement" in codes(prompt)) is expected
    if expected:
        assert "Calf strain plan" in prompt.reasons[0].message


@pytest.mark.parametrize(("first", "latest", "rest", "expected"), [
    ([5, 5, 5], [5, 5, 5], None, True),      # no better
    ([5, 5, 5], [6, 4, 6], None, True),      # zig-zag, no better on average
    ([5, 6, 5], [4, 4, 4], None, False),     # better
    ([2, 2, 2], [2, 2, 2], 1, False),        # stable mild pain: not a reason to alarm
    ([4, 4, 4], [4, 4, 4], 1, True),         # pain during activity 4/10 still matters
    ([3, 3, 3], [3, 3, 3], 3, True),         # pain at rest 3/10 still matters
])
def test_no_improvement_compares_the_means_and_needs_symptoms_that_matter(first, latest, rest, expected):
    start, made_first, made_latest = on_plan(first, latest, weeks_in=4, rest=rest)
    plans = [plan_facts(first=made_first, start=start)]
    prompt = screen(made_latest[-1], context(history=[*made_first, *made_latest[:-1]], plans=plans))
    assert ("no_improvement" in codes(prompt)) is expected


def test_moderate_swelling_that_has_not_settled_matters_too():
    start, first, latest = on_plan([1, 1, 1], [1, 1, 1], weeks_in=4, rest=0)
    for c in [*first, *latest]:
        c.swelling = "moderate"
    prompt = screen(latest[-1], context(history=[*first, *latest[:-1]], plans=[plan_facts(first=first, start=start)]))
    assert codes(prompt) == ["no_improvement"]


def test_no_plan_or_too_few_checkins_means_no_judgement_of_improvement():
    assert screen(checkin(pain_at_rest=5, pain_during_activity=5), context()).level == PromptLevel.NONE
    start, first, latest = on_plan([5, 5], [5, 5, 5], weeks_in=4)
    prompt = screen(latest[-1], context(history=[*first, *latest[:-1]], plans=[plan_facts(first=first, start=start)]))
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
    history, current = daily([2, 2, 2, 4, 4, 4])
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
            elif isinstance(trigger, rules.AllOf | rules.AnyOf):
                stack.extend(trigger.parts)
            elif isinstance(trigger, rules.PlanContext):
                mentioned.update(rules.PLAN_FACT_ANSWERS.get(trigger.fact, ()))
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

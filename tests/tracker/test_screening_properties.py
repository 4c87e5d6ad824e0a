"""Properties of screening: more or worse symptoms never lower the level (hypothesis, no database)."""
import zoneinfo
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from plans.models import ClotRiskFactor
from tracker.models import SYMPTOM_FLAGS, CheckIn, PromptLevel, Swelling
from tracker.rules import DVT_SIGNS
from tracker.screening import PlanFacts, ScreeningContext, screen

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
URGENT_FLAGS = ("fever", "cannot_bear_weight", "sudden_swelling_or_warmth", "joint_shape_changed", *DVT_SIGNS,
                "fainted_or_racing_heart", "calf_tight_and_hard", "knee_locked", "cannot_lift_straight_leg",
                "calf_snap_or_cannot_tiptoe", "wound_problem")
EMERGENCY_FLAGS = ("trouble_breathing", "chest_pain", "coughing_blood", "foot_cold_pale_or_numb",
                   "confused_or_shaking_chills")

pain = st.integers(min_value=0, max_value=10)
swelling = st.sampled_from(Swelling.values)
flags = st.fixed_dictionaries({}, optional=dict.fromkeys(SYMPTOM_FLAGS, st.booleans()))
zones = st.sampled_from([UTC, zoneinfo.ZoneInfo("America/New_York"), zoneinfo.ZoneInfo("Asia/Kolkata")])


notes = st.sampled_from(["", "Felt fine.", "No chest pain today.", "My chest hurts when I breathe in.",
                         "I fainted this morning", "Haven't had any fever", "foot went numb after icing",
                         "The new exercise was hard but ok"])


@st.composite
def checkins(draw, at: datetime):
    return CheckIn(recorded_at=at, pain_at_rest=draw(pain), pain_during_activity=draw(pain),
                   swelling=draw(swelling), notes=draw(notes), **draw(flags))


@st.composite
def situations(draw):
    """A check-in with an earlier history (oldest first) and maybe a plan with warnings and a first check-in."""
    gaps = draw(st.lists(st.integers(min_value=0, max_value=60 * 24 * 10), max_size=8))
    times = sorted(NOW - timedelta(minutes=gap) for gap in gaps)
    history = [draw(checkins(at)) for at in times]
    current = draw(checkins(NOW))
    plans = []
    if draw(st.booleans()):
        warnings = draw(st.lists(st.sampled_from([
            {"code": "w_lock", "message": "Locking: book a visit.", "trigger": {"flag": "knee_locking_or_giving_way"}},
            {"code": "w_limits", "message": "Limits: book a visit.", "trigger": {"flag": "limits_daily_activities"}},
            {"code": "w_swell", "message": "Swelling grew.", "trigger": {"rise": {"metric": "swelling", "by": 1}}},
            {"code": "w_pain", "message": "Pain jumped.", "trigger": {"rise": {"metric": "pain_at_rest", "by": 3}}},
        ]), unique_by=lambda w: w["code"], max_size=4))
        start = NOW - timedelta(days=draw(st.integers(0, 60)))
        first = tuple(draw(checkins(start + timedelta(days=i))) for i in range(draw(st.integers(0, 3))))
        plans.append(PlanFacts(plan_id=1, condition_name="Knee", recovery_weeks_min=draw(st.integers(0, 12)),
                               warnings=tuple(warnings), start_date=start.date(), first_checkins=first,
                               surgery_date=draw(st.one_of(st.none(), st.just(start.date()))),
                               clot_risk_factors=tuple(draw(st.lists(st.sampled_from(ClotRiskFactor.values),
                                                                     unique=True, max_size=3))),
                               immunosuppressed=draw(st.booleans())))
    context = ScreeningContext(tz=draw(zones), history=history, plans=plans,
                               has_physiotherapist=draw(st.booleans()))
    return current, context


def rank(prompt) -> int:
    return PromptLevel.rank(prompt.level)


def variant(checkin: CheckIn, **changes) -> CheckIn:
    values = {f.attname: getattr(checkin, f.attname) for f in CheckIn._meta.concrete_fields}
    values.update(changes)
    return CheckIn(**values)


@settings(max_examples=300, deadline=None)
@given(situations(), st.sampled_from(SYMPTOM_FLAGS))
def test_answering_yes_to_any_question_never_lowers_the_level(situation, flag):
    current, context = situation
    before = screen(variant(current, **{flag: False}), context)
    after = screen(variant(current, **{flag: True}), context)
    assert rank(after) >= rank(before)
    # and never drops a reason that held without it (but the request to answer the question the note
    # raised, which answering it settles)
    assert {r.code for r in before.reasons} - {"note_mentions_red_flag"} <= {r.code for r in after.reasons}


@settings(max_examples=300, deadline=None)
@given(situations(), notes)
def test_a_note_never_lowers_the_level(situation, note):
    current, context = situation
    silent = screen(variant(current, notes=""), context)
    assert rank(screen(variant(current, notes=note), context)) >= rank(silent)


@settings(max_examples=200, deadline=None)
@given(situations(), st.sampled_from(ClotRiskFactor.values), st.booleans(), st.booleans())
def test_the_plans_clinical_context_never_lowers_the_level(situation, factor, immunosuppressed, surgery):
    current, context = situation
    plain = PlanFacts(plan_id=2, condition_name="Knee", recovery_weeks_min=6)
    loaded = PlanFacts(plan_id=2, condition_name="Knee", recovery_weeks_min=6, clot_risk_factors=(factor,),
                       immunosuppressed=immunosuppressed, surgery_date=NOW.date() if surgery else None)
    without = screen(current, replace(context, plans=[*context.plans, plain]))
    with_context = screen(current, replace(context, plans=[*context.plans, loaded]))
    assert rank(with_context) >= rank(without)


@settings(max_examples=300, deadline=None)
@given(situations(), st.sampled_from(URGENT_FLAGS))
def test_any_red_flag_is_at_least_urgent_whatever_else_is_going_on(situation, flag):
    current, context = situation
    assert rank(screen(variant(current, **{flag: True}), context)) >= PromptLevel.rank(PromptLevel.URGENT)


@settings(max_examples=200, deadline=None)
@given(situations(), st.sampled_from(EMERGENCY_FLAGS))
def test_an_emergency_question_is_always_an_emergency(situation, flag):
    current, context = situation
    prompt = screen(variant(current, **{flag: True}), context)
    assert prompt.level == PromptLevel.EMERGENCY
    assert flag in {r.code for r in prompt.reasons}


@settings(max_examples=300, deadline=None)
@given(situations(), st.sampled_from(["pain_at_rest", "pain_during_activity"]), st.integers(1, 10))
def test_more_pain_never_lowers_the_level(situation, metric, extra):
    current, context = situation
    worse = variant(current, **{metric: min(10, getattr(current, metric) + extra)})
    assert rank(screen(worse, context)) >= rank(screen(current, context))


@settings(max_examples=200, deadline=None)
@given(situations())
def test_every_prompt_says_what_it_is_and_lists_reasons_most_urgent_first(situation):
    current, context = situation
    prompt = screen(current, context)
    assert "not a diagnosis" in prompt.message
    levels = [PromptLevel.rank(r.level) for r in prompt.reasons]
    assert levels == sorted(levels, reverse=True)
    assert (prompt.level == PromptLevel.NONE) == (not prompt.reasons)
    if prompt.reasons:
        assert prompt.level == prompt.reasons[0].level
    assert len({r.code for r in prompt.reasons}) == len(prompt.reasons)

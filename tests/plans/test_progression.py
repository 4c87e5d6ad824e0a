"""Exit criteria and worsening, evaluated from check-ins and logs as of a given time."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conditions.models import PhaseKey, TreatmentPhase
from plans.models import PhaseChangeKind, PlanStatus, Progression
from plans.progression import evaluate
from plans.services import plan_advance

from .conftest import log_all_sessions, record_checkin

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def day(n: int, hour: int = 20) -> datetime:
    return START.replace(hour=hour) + timedelta(days=n)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def good_days(plan, patient, clock, days, *, first=0, **checkin):
    for n in range(first, first + days):
        clock.move_to(day(n))
        log_all_sessions(plan, day(n).date())
        record_checkin(patient, day(n), **checkin)


def by_code(evaluation):
    return {c.code: c for c in evaluation.criteria}


def test_all_criteria_met_after_five_good_days(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 6)

    plan.refresh_from_db()
    assert plan.progression == Progression.ADVANCE
    assert [r["code"] for r in plan.progression_reasons] == [
        "pain_at_rest", "swelling", "adherence_percent", "days_in_phase"]
    assert all(r["met"] for r in plan.progression_reasons)
    assert "Pain at rest at most 2/10 on the last 3 check-ins (1/10, 1/10, 1/10)" in \
        plan.progression_reasons[0]["message"]
    assert "100%" in plan.progression_reasons[2]["message"]
    assert plan.progression_evaluated_at == day(5)
    # Suggesting is not doing: without auto_advance the plan stays where it is.
    assert plan.current_phase == PhaseKey.RICE


def test_not_met_while_the_phase_is_too_young(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 4)

    result = by_code(evaluate(plan=plan, now=day(3)))
    assert result["pain_at_rest"].met and result["swelling"].met and result["adherence_percent"].met
    assert not result["days_in_phase"].met
    assert result["days_in_phase"].message == "Needs at least 5 day(s) in this phase; 3 so far."
    plan.refresh_from_db()
    assert plan.progression == Progression.NONE


def test_too_few_checkins_is_not_met(make_plan, patient, clock):
    plan = make_plan()
    for n in range(6):
        clock.move_to(day(n))
        log_all_sessions(plan, day(n).date())
    record_checkin(patient, day(4))
    record_checkin(patient, day(5))

    result = by_code(evaluate(plan=plan, now=day(5)))
    assert not result["pain_at_rest"].met
    assert "only 2 check-in(s) in this phase so far" in result["pain_at_rest"].message
    assert result["adherence_percent"].met and result["days_in_phase"].met


def test_a_bad_day_resets_the_consecutive_count(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 5)
    clock.move_to(day(5))
    log_all_sessions(plan, day(5).date())
    record_checkin(patient, day(5), pain_at_rest=5)
    plan.refresh_from_db()
    assert plan.progression == Progression.NONE
    pain = next(r for r in plan.progression_reasons if r["code"] == "pain_at_rest")
    assert not pain["met"]
    assert "the last 3 were 1/10, 1/10, 5/10" in pain["message"]

    # Two good check-ins after the bad one are still not three in a row…
    good_days(plan, patient, clock, 2, first=6)
    plan.refresh_from_db()
    assert plan.progression == Progression.NONE
    # …the third is.
    good_days(plan, patient, clock, 1, first=8)
    plan.refresh_from_db()
    assert plan.progression == Progression.ADVANCE


def test_swelling_above_the_limit_is_not_met(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 6, swelling="moderate")
    result = by_code(evaluate(plan=plan, now=day(5)))
    assert not result["swelling"].met
    assert "moderate, moderate, moderate" in result["swelling"].message


def test_low_adherence_is_not_met(make_plan, patient, clock):
    plan = make_plan()
    for n in range(6):
        clock.move_to(day(n))
        record_checkin(patient, day(n))
    result = by_code(evaluate(plan=plan, now=day(5)))
    assert not result["adherence_percent"].met
    assert result["adherence_percent"].message == "Needs adherence at least 70%; it was 0% over the 6 day(s) of " \
                                                  "this phase so far."


def test_sessions_still_to_come_today_do_not_count_as_missed(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 5)
    # Early on day 5 nothing is logged yet: the first five days carry the figure.
    result = by_code(evaluate(plan=plan, now=day(5, hour=7)))
    assert result["adherence_percent"].met
    assert "100%" in result["adherence_percent"].message


def test_only_checkins_up_to_the_evaluation_time_count(make_plan, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 6)
    record_checkin(patient, day(7), pain_at_rest=8)  # later than the evaluation below
    assert evaluate(plan=plan, now=day(5, hour=21)).suggestion == Progression.ADVANCE
    assert evaluate(plan=plan, now=day(7, hour=21)).suggestion == Progression.NONE


def test_checkins_from_an_earlier_phase_do_not_count(make_plan, physio, patient, clock):
    plan = make_plan()
    good_days(plan, patient, clock, 6)
    clock.move_to(day(6, hour=9))
    plan = plan_advance(plan=plan, changed_by=physio)
    assert plan.current_phase == PhaseKey.PHYSIOTHERAPY

    result = by_code(evaluate(plan=plan, now=day(6, hour=10)))
    assert not result["pain_during_activity"].met
    assert "only 0 check-in(s) in this phase so far" in result["pain_during_activity"].message


def test_unknown_metric_is_never_met(make_plan, patient, clock, meniscus):
    TreatmentPhase.objects.filter(condition=meniscus, key=PhaseKey.RICE).update(
        exit_criteria=[{"metric": "mood", "op": "gte", "value": 3}])
    plan = make_plan()
    evaluation = evaluate(plan=plan, now=START)
    assert not evaluation.criteria[0].met
    assert "Unknown metric 'mood'" in evaluation.criteria[0].message
    assert evaluation.suggestion == Progression.NONE


def test_the_last_phase_without_criteria_suggests_nothing(make_plan, physio, patient, clock):
    plan = make_plan()
    plan_advance(plan=plan, changed_by=physio)
    plan = plan_advance(plan=plan, changed_by=physio)
    assert plan.current_phase == PhaseKey.RETURN_TO_ACTIVITY
    good_days(plan, patient, clock, 4, first=1)
    plan.refresh_from_db()
    assert plan.progression == Progression.NONE
    assert plan.progression_reasons == []


# --- worsening --------------------------------------------------------------------------------------------------


@pytest.fixture
def physio_phase_plan(make_plan, physio, clock):
    plan = make_plan()
    return plan_advance(plan=plan, changed_by=physio)


@pytest.mark.parametrize(("field", "values", "code"), [
    ("pain_at_rest", [1, 2, 3], "worsening_pain_at_rest"),
    ("pain_during_activity", [2, 2, 5], "worsening_pain_during_activity"),
    ("swelling", ["mild", "moderate", "moderate"], "worsening_swelling"),
    ("swelling", ["none", "none", "severe"], "worsening_swelling"),
])
def test_sustained_worsening_suggests_stepping_back(physio_phase_plan, patient, clock, field, values, code):
    plan = physio_phase_plan
    for n, value in enumerate(values, start=1):
        clock.move_to(day(n))
        record_checkin(patient, day(n), **{field: value})
    plan.refresh_from_db()
    assert plan.progression == Progression.STEP_BACK
    assert [r["code"] for r in plan.progression_reasons] == [code]
    assert "over the last 3 check-ins" in plan.progression_reasons[0]["message"]


@pytest.mark.parametrize(("field", "values"), [
    ("pain_at_rest", [1, 2, 2]),      # rose by 1 only
    ("pain_at_rest", [1, 4, 3]),      # not rising all the way
    ("swelling", ["none", "mild", "mild"]),  # rising, but still mild
    ("swelling", ["moderate", "moderate", "moderate"]),  # high but not rising: screening's business
])
def test_no_step_back_without_a_sustained_rise(physio_phase_plan, patient, clock, field, values):
    for n, value in enumerate(values, start=1):
        clock.move_to(day(n))
        record_checkin(patient, day(n), **{field: value})
    physio_phase_plan.refresh_from_db()
    assert physio_phase_plan.progression == Progression.NONE


def test_worsening_in_the_first_phase_suggests_nothing_but_is_reported(make_plan, patient, clock):
    plan = make_plan()
    for n, pain in enumerate([1, 3, 4], start=1):
        clock.move_to(day(n))
        record_checkin(patient, day(n), pain_at_rest=pain)
    plan.refresh_from_db()
    assert plan.progression == Progression.NONE
    assert plan.progression_reasons[0]["code"] == "worsening_pain_at_rest"


def test_worsening_wins_over_criteria_that_hold(physio_phase_plan, patient, clock):
    plan = physio_phase_plan
    # pain during activity stays low (the exit criterion holds), pain at rest climbs 0 → 2.
    for n in range(1, 9):
        clock.move_to(day(n))
        record_checkin(patient, day(n), pain_at_rest=max(0, n - 6), pain_during_activity=1)
    evaluation = evaluate(plan=plan, now=day(8))
    assert evaluation.all_met
    assert evaluation.suggestion == Progression.STEP_BACK


# --- acting on the evaluation -------------------------------------------------------------------------------------


def test_auto_advance_moves_on_by_itself_and_records_why(make_plan, patient, clock):
    plan = make_plan(auto_advance=True)
    good_days(plan, patient, clock, 6)
    plan.refresh_from_db()
    assert plan.current_phase == PhaseKey.PHYSIOTHERAPY
    assert plan.phase_started_at == day(5)
    change = plan.phase_changes.get(kind=PhaseChangeKind.AUTO_ADVANCE)
    assert (change.from_phase, change.to_phase, change.changed_by) == (PhaseKey.RICE, PhaseKey.PHYSIOTHERAPY, None)
    assert change.reason.startswith("Advanced automatically: Pain at rest at most 2/10")
    # The new phase was evaluated at once: nothing in it yet, so no suggestion.
    assert plan.progression == Progression.NONE
    assert plan.progression_evaluated_at == day(5)


def test_auto_advance_never_completes_a_plan(make_plan, physio, patient, clock, meniscus):
    TreatmentPhase.objects.filter(condition=meniscus, key=PhaseKey.RETURN_TO_ACTIVITY).update(
        exit_criteria=[{"metric": "days_in_phase", "op": "gte", "value": 1}])
    plan = make_plan(auto_advance=True)
    plan_advance(plan=plan, changed_by=physio)
    plan_advance(plan=plan, changed_by=physio)
    good_days(plan, patient, clock, 3, first=1)
    plan.refresh_from_db()
    assert plan.status == PlanStatus.ACTIVE
    assert plan.current_phase == PhaseKey.RETURN_TO_ACTIVITY
    assert plan.progression == Progression.ADVANCE  # ready to finish: the physiotherapist decides

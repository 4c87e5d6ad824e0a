"""Assigning plans, changing them and moving them between phases."""
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import given
from hypothesis import strategies as st

from conditions.models import PhaseExercise, PhaseKey
from kneerehab.errors import ApplicationError
from plans.models import PhaseChangeKind, Plan, PlanStatus, Progression
from plans.services import (
    normalize_reminder_times,
    plan_advance,
    plan_create,
    plan_evaluate_progression,
    plan_step_back,
    plan_update,
)
from tests.factories import ExerciseFactory, PatientFactory, PhysiotherapistFactory, make_dvt, make_path

from .conftest import record_checkin, record_log

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def doses(plan):
    return {(pe.phase, pe.exercise.slug): (pe.sets, pe.reps, pe.hold_seconds, pe.times_per_day)
            for pe in plan.exercises.select_related("exercise")}


def field_message(excinfo, field):
    assert excinfo.value.fields and field in excinfo.value.fields, excinfo.value.fields
    return excinfo.value.fields[field][0]


# --- create -----------------------------------------------------------------------------------------------------


def test_create_copies_the_whole_path_and_starts_in_rice(make_plan, physio):
    plan = make_plan()
    assert (plan.status, plan.current_phase, plan.start_date) == (PlanStatus.ACTIVE, PhaseKey.RICE, NOW.date())
    assert plan.reminder_times == ["08:00"]
    assert plan.phase_started_at == NOW  # assigned during its start day: the phase begins now
    assert doses(plan) == {
        ("rice", "quad-sets"): (3, 10, 5, 2),
        ("rice", "heel-slides"): (2, 8, 0, 1),
        ("physiotherapy", "bridges"): (3, 12, 0, 1),
        ("return_to_activity", "mini-squats"): (3, 15, 0, 1),
    }
    start = plan.phase_changes.get()
    assert (start.kind, start.from_phase, start.to_phase, start.changed_by) == (
        PhaseChangeKind.START, "", PhaseKey.RICE, physio)


def test_catalogue_edits_do_not_change_a_running_plan(make_plan, meniscus):
    plan = make_plan()
    before = doses(plan)
    PhaseExercise.objects.filter(phase__condition=meniscus).update(sets=9, reps=99)
    PhaseExercise.objects.filter(phase__condition=meniscus, exercise__slug="heel-slides").delete()
    assert doses(plan) == before


def test_a_later_start_date_begins_the_phase_at_local_midnight(make_plan, patient):
    patient.timezone = "Asia/Tokyo"
    patient.save()
    plan = make_plan(start_date=date(2026, 5, 10))
    assert plan.phase_started_at == datetime(2026, 5, 9, 15, 0, tzinfo=UTC)  # 10 May 00:00 in Tokyo


@pytest.mark.parametrize(("start", "message"), [
    (NOW.date() - timedelta(days=31), "at most 30 days ago"),
    (date(3000, 1, 1), "at most 180 days ahead"),
])
def test_start_date_far_from_today_is_refused(make_plan, start, message):
    with pytest.raises(ApplicationError) as excinfo:
        make_plan(start_date=start)
    assert message in field_message(excinfo, "start_date")


def test_overrides_redose_add_and_remove(make_plan):
    ExerciseFactory(slug="calf-raises", name="Calf raises", sets=2, reps=15, hold_seconds=0, times_per_day=1)
    plan = make_plan(overrides=[
        {"phase": "rice", "exercise": "quad-sets", "sets": 2, "times_per_day": 3},
        {"phase": "physiotherapy", "exercise": "calf-raises", "reps": 20},
        {"phase": "rice", "exercise": "heel-slides", "remove": True},
    ])
    assert doses(plan) == {
        ("rice", "quad-sets"): (2, 10, 5, 3),
        ("physiotherapy", "bridges"): (3, 12, 0, 1),
        ("physiotherapy", "calf-raises"): (2, 20, 0, 1),
        ("return_to_activity", "mini-squats"): (3, 15, 0, 1),
    }
    added = plan.exercises.get(exercise__slug="calf-raises")
    assert added.order == 1  # after the path's own exercise of that phase


@pytest.mark.parametrize(("override", "message"), [
    ({"phase": "rice", "exercise": "no-such-thing"}, "no exercise 'no-such-thing'"),
    ({"phase": "later", "exercise": "quad-sets"}, "phase must be one of rice, physiotherapy"),
    ({"phase": "rice", "exercise": "quad-sets", "sets": 0}, "sets must be a whole number from 1 to 20"),
    ({"phase": "rice", "exercise": "quad-sets", "times_per_day": 7}, "times_per_day must be a whole number"),
    ({"phase": "rice", "exercise": "quad-sets", "colour": "red"}, "unknown field(s) colour"),
    ({"phase": "physiotherapy", "exercise": "quad-sets", "remove": True}, "not in the physiotherapy phase"),
])
def test_bad_overrides_are_refused_and_nothing_is_stored(make_plan, override, message):
    with pytest.raises(ApplicationError) as excinfo:
        make_plan(overrides=[override])
    assert message in field_message(excinfo, "overrides")
    assert not Plan.objects.exists()


def test_dvt_gets_no_home_plan(make_plan):
    make_dvt()
    with pytest.raises(ApplicationError) as excinfo:
        make_plan(condition_slug="deep-vein-thrombosis")
    message = field_message(excinfo, "condition")
    assert "cannot be treated with a home-care plan" in message
    assert "urgent medical care" in message
    assert "emergency department" in message
    assert not Plan.objects.exists()


def test_unknown_condition(make_plan):
    with pytest.raises(ApplicationError) as excinfo:
        make_plan(condition_slug="sore-toe")
    assert "no condition 'sore-toe'" in field_message(excinfo, "condition")


def test_patient_outside_the_caseload_is_refused_without_saying_more(make_plan):
    stranger = PatientFactory(physiotherapists=[PhysiotherapistFactory()])
    messages = []
    for patient_id in (stranger.pk, 10_000_000):  # someone else's patient, and nobody at all
        with pytest.raises(ApplicationError) as excinfo:
            make_plan(patient_id=patient_id)
        messages.append(field_message(excinfo, "patient"))
    assert messages == ["This patient is not on your caseload."] * 2


def test_one_running_plan_per_condition(make_plan, physio):
    first = make_plan()
    with pytest.raises(ApplicationError) as excinfo:
        make_plan()
    assert "already has a running Meniscus tear plan" in field_message(excinfo, "condition")
    plan_update(plan=first, changed_by=physio, data={"status": "paused"})
    with pytest.raises(ApplicationError):
        make_plan()
    plan_update(plan=first, changed_by=physio, data={"status": "cancelled"})
    assert make_plan().status == PlanStatus.ACTIVE  # a finished plan no longer blocks a new one


def test_plans_for_different_conditions_run_side_by_side(make_plan):
    make_path(slug="hamstring-strain", name="Hamstring strain")
    make_plan()
    make_plan(condition_slug="hamstring-strain")
    assert Plan.objects.filter(status=PlanStatus.ACTIVE).count() == 2


# --- reminder times ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    (["8:00"], "'8:00' is not a time of day"),
    (["24:00"], "'24:00' is not a time of day"),
    (["08:00", "08:00"], "only once"),
    ("08:00", "Send a list"),
    ([8], "Send a list"),
    ([f"0{h}:00" for h in range(7)], "At most 6"),
])
def test_bad_reminder_times(value, message):
    with pytest.raises(ApplicationError) as excinfo:
        normalize_reminder_times(value)
    assert message in field_message(excinfo, "reminder_times")


@given(st.sets(st.times().map(lambda t: t.strftime("%H:%M")), min_size=0, max_size=6))
def test_valid_reminder_times_come_back_sorted_and_complete(times):
    shuffled = list(times)
    result = normalize_reminder_times(shuffled)
    assert result == sorted(times)


# --- status -------------------------------------------------------------------------------------------------------

VALID = [
    ("active", "paused"), ("paused", "active"), ("active", "completed"), ("active", "cancelled"),
    ("paused", "completed"), ("paused", "cancelled"), ("active", "active"), ("paused", "paused"),
]
INVALID = [("completed", s) for s in PlanStatus.values] + [("cancelled", s) for s in PlanStatus.values]


def _plan_in(status, make_plan, physio):
    plan = make_plan()
    if status != "active":
        plan_update(plan=plan, changed_by=physio, data={"status": "paused" if status == "paused" else status})
    return plan


@pytest.mark.parametrize(("start", "end"), VALID)
def test_valid_status_transitions(make_plan, physio, start, end):
    plan = _plan_in(start, make_plan, physio)
    plan_update(plan=plan, changed_by=physio, data={"status": end})
    plan.refresh_from_db()
    assert plan.status == end


@pytest.mark.parametrize(("start", "end"), INVALID)
def test_finished_plans_are_final(make_plan, physio, start, end):
    plan = _plan_in(start, make_plan, physio)
    with pytest.raises(ApplicationError) as excinfo:
        plan_update(plan=plan, changed_by=physio, data={"status": end})
    assert f"This plan is {start}; a finished plan cannot be changed." == field_message(excinfo, "status")
    plan.refresh_from_db()
    assert plan.status == start


def test_completing_through_status_is_recorded_in_the_history(make_plan, physio):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={"status": "completed"})
    change = plan.phase_changes.latest("id")
    assert (change.kind, change.from_phase, change.to_phase, change.changed_by) == (
        PhaseChangeKind.COMPLETE, PhaseKey.RICE, "", physio)


def test_update_changes_times_auto_advance_and_doses(make_plan, physio):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={
        "reminder_times": ["19:15", "07:45"], "auto_advance": True,
        "overrides": [{"phase": "physiotherapy", "exercise": "bridges", "reps": 6}],
    })
    plan.refresh_from_db()
    assert plan.reminder_times == ["07:45", "19:15"]
    assert plan.auto_advance is True
    assert doses(plan)[("physiotherapy", "bridges")] == (3, 6, 0, 1)


def test_an_exercise_with_logged_sessions_cannot_be_removed(make_plan, physio):
    plan = make_plan()
    record_log(plan.exercises.get(exercise__slug="heel-slides"), NOW.date())
    with pytest.raises(ApplicationError) as excinfo:
        plan_update(plan=plan, changed_by=physio,
                    data={"overrides": [{"phase": "rice", "exercise": "heel-slides", "remove": True}]})
    assert "has logged sessions" in field_message(excinfo, "overrides")
    assert plan.exercises.filter(exercise__slug="heel-slides").exists()


def test_pausing_clears_the_suggestion_and_resuming_evaluates_again(make_plan, physio, patient, clock):
    plan = make_plan(start_date=NOW.date() - timedelta(days=1))
    plan.progression = Progression.ADVANCE
    plan.save()
    plan_update(plan=plan, changed_by=physio, data={"status": "paused"})
    plan.refresh_from_db()
    assert (plan.progression, plan.progression_evaluated_at) == (Progression.NONE, None)
    # A paused plan is not evaluated: a check-in changes nothing.
    record_checkin(patient, NOW)
    plan.refresh_from_db()
    assert plan.progression_evaluated_at is None
    clock.move_to(NOW + timedelta(hours=1))
    plan_update(plan=plan, changed_by=physio, data={"status": "active"})
    plan.refresh_from_db()
    assert plan.progression_evaluated_at == NOW + timedelta(hours=1)


# --- phase moves --------------------------------------------------------------------------------------------------


def test_advance_through_every_phase_to_completion(make_plan, physio, clock):
    plan = make_plan()
    seen = []
    for hours in (1, 2, 3):
        clock.move_to(NOW + timedelta(hours=hours))
        plan = plan_advance(plan=plan, changed_by=physio, reason=f"step {hours}")
        seen.append((plan.status, plan.current_phase))
    assert seen == [
        (PlanStatus.ACTIVE, PhaseKey.PHYSIOTHERAPY),
        (PlanStatus.ACTIVE, PhaseKey.RETURN_TO_ACTIVITY),
        (PlanStatus.COMPLETED, PhaseKey.RETURN_TO_ACTIVITY),
    ]
    history = list(plan.phase_changes.values_list("kind", "from_phase", "to_phase", "reason"))
    assert history == [
        ("start", "", "rice", "Meniscus tear plan assigned."),
        ("advance", "rice", "physiotherapy", "step 1"),
        ("advance", "physiotherapy", "return_to_activity", "step 2"),
        ("complete", "return_to_activity", "", "step 3"),
    ]
    plan.refresh_from_db()
    assert plan.phase_started_at == NOW + timedelta(hours=2)
    with pytest.raises(ApplicationError) as excinfo:
        plan_advance(plan=plan, changed_by=physio)
    assert field_message(excinfo, "status") == "Only an active plan can advance; this one is completed."


def test_advance_without_a_reason_records_the_latest_evaluation(make_plan, physio):
    plan = make_plan()
    plan.progression = Progression.ADVANCE
    plan.progression_reasons = [{"code": "days_in_phase", "met": True, "message": "6 day(s) in this phase."}]
    plan.save()
    plan_advance(plan=plan, changed_by=physio)
    assert plan.phase_changes.latest("id").reason == (
        "Advanced by the physiotherapist. Latest evaluation: 6 day(s) in this phase.")


def test_a_paused_plan_does_not_advance(make_plan, physio):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={"status": "paused"})
    with pytest.raises(ApplicationError):
        plan_advance(plan=plan, changed_by=physio)


def test_a_stale_advance_is_refused_with_409(make_plan, physio):
    plan = make_plan()
    plan_advance(plan=plan, changed_by=physio, expected_phase="rice")
    with pytest.raises(ApplicationError) as excinfo:
        plan_advance(plan=Plan.objects.get(pk=plan.pk), changed_by=physio, expected_phase="rice")
    assert excinfo.value.status_code == 409
    plan.refresh_from_db()
    assert plan.current_phase == PhaseKey.PHYSIOTHERAPY


def test_step_back(make_plan, physio):
    plan = make_plan()
    with pytest.raises(ApplicationError) as excinfo:
        plan_step_back(plan=plan, changed_by=physio)
    assert "first phase" in field_message(excinfo, "current_phase")
    plan_advance(plan=plan, changed_by=physio)
    plan = plan_step_back(plan=plan, changed_by=physio, reason="Swelling came back")
    assert plan.current_phase == PhaseKey.RICE
    change = plan.phase_changes.latest("id")
    assert (change.kind, change.from_phase, change.to_phase, change.reason) == (
        PhaseChangeKind.STEP_BACK, PhaseKey.PHYSIOTHERAPY, PhaseKey.RICE, "Swelling came back")


def test_evaluating_a_finished_plan_does_nothing(make_plan, physio):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={"status": "cancelled"})
    assert plan_evaluate_progression(plan=plan) is None


def test_a_failing_evaluation_never_loses_the_checkin(make_plan, patient, monkeypatch):
    make_plan()

    def broken(**kwargs):
        raise RuntimeError("bug in progression")

    monkeypatch.setattr("plans.services.evaluate", broken)
    checkin = record_checkin(patient, NOW)
    assert type(checkin).objects.filter(pk=checkin.pk).exists()


def test_plan_create_with_an_explicit_time(physio, patient, meniscus):
    at = NOW + timedelta(days=2)
    plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug, now=at)
    assert plan.start_date == at.date()
    assert plan.progression_evaluated_at == at

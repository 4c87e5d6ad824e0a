"""Re-evaluation after check-ins and logs is coalesced: one pending evaluation per plan, run by the sweep."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from plans import services
from plans.models import PlanStatus, ProgressionDue
from plans.services import plan_update, plans_evaluate_due
from plans.tasks import evaluate_due_progressions

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEBOUNCE = timedelta(seconds=30)


@pytest.fixture
def clock(settings):
    settings.PROGRESSION_DEBOUNCE_SECONDS = int(DEBOUNCE.total_seconds())
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def evaluations(monkeypatch):
    """The plans evaluated, in order, by whatever runs the real evaluation."""
    seen = []
    real = services.plan_evaluate_progression

    def spy(*, plan, now=None):
        seen.append(plan.pk)
        return real(plan=plan, now=now)

    monkeypatch.setattr(services, "plan_evaluate_progression", spy)
    return seen


def check_in(patient_client, **body):
    response = patient_client.post("/api/v1/checkins/", {"pain_at_rest": 1, "pain_during_activity": 2, **body},
                                   format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_many_checkins_make_one_evaluation_after_the_debounce(make_plan, patient_client, clock, evaluations,
                                                               django_capture_on_commit_callbacks):
    plan = make_plan()
    evaluations.clear()  # assigning the plan evaluated it once
    with django_capture_on_commit_callbacks() as callbacks:
        for minute in range(10):
            check_in(patient_client, pain_at_rest=minute % 3)
            clock.shift(timedelta(seconds=2))
    assert callbacks == []  # nothing queued per check-in
    assert list(ProgressionDue.objects.values_list("plan_id", "due_at")) == [(plan.pk, START + DEBOUNCE)]

    assert evaluate_due_progressions.delay().get() == 0  # 20 s later: not due yet
    assert evaluations == []
    clock.move_to(START + DEBOUNCE)
    assert evaluate_due_progressions.delay().get() == 1
    assert evaluations == [plan.pk]
    assert not ProgressionDue.objects.exists()
    plan.refresh_from_db()
    assert plan.progression_evaluated_at == START + DEBOUNCE  # as of the sweep: every check-in counted
    assert evaluate_due_progressions.delay().get() == 0  # once


def test_a_stream_of_checkins_never_postpones_the_evaluation(make_plan, patient_client, clock, evaluations):
    plan = make_plan()
    evaluations.clear()
    for _ in range(60):  # one every 5 s for five minutes, the sweep every 15 s
        check_in(patient_client)
        clock.shift(timedelta(seconds=5))
        plans_evaluate_due()
    # One evaluation per 30 s window (at 30 s, 60 s, … 300 s), not one per check-in.
    assert evaluations == [plan.pk] * 10


def test_a_checkin_after_the_sweep_asks_again(make_plan, patient_client, clock, evaluations):
    plan = make_plan()
    evaluations.clear()
    check_in(patient_client)
    clock.shift(DEBOUNCE)
    assert plans_evaluate_due() == 1
    check_in(patient_client, pain_at_rest=3)
    assert ProgressionDue.objects.get().due_at == START + 2 * DEBOUNCE
    clock.shift(DEBOUNCE)
    assert plans_evaluate_due() == 1
    assert evaluations == [plan.pk, plan.pk]


def test_exercise_logs_are_coalesced_with_the_checkins_of_their_plan(make_plan, patient_client, clock, evaluations):
    plan = make_plan()
    evaluations.clear()
    exercise = plan.exercises.filter(phase=plan.current_phase).first()
    for _ in range(3):
        response = patient_client.post("/api/v1/exercise-logs/", {
            "plan_exercise": exercise.pk, "sets_done": 1, "reps_done": 5, "pain_during": 1}, format="json")
        assert response.status_code == 201, response.content
    check_in(patient_client)
    assert ProgressionDue.objects.count() == 1
    clock.shift(DEBOUNCE)
    assert plans_evaluate_due() == 1
    assert evaluations == [plan.pk]


def test_only_active_plans_are_asked_for_and_a_plan_paused_meanwhile_is_not_evaluated(
        make_plan, physio, patient_client, clock, evaluations):
    plan = make_plan()
    plan_update(plan=plan, changed_by=physio, data={"status": PlanStatus.PAUSED})
    check_in(patient_client)
    assert not ProgressionDue.objects.exists()
    plan_update(plan=plan, changed_by=physio, data={"status": PlanStatus.ACTIVE})
    check_in(patient_client)
    assert list(ProgressionDue.objects.values_list("plan_id", flat=True)) == [plan.pk]
    plan_update(plan=plan, changed_by=physio, data={"status": PlanStatus.PAUSED})
    clock.shift(DEBOUNCE)
    assert plans_evaluate_due() == 0  # claimed, found paused, not evaluated
    assert not ProgressionDue.objects.exists()


def test_a_failing_evaluation_is_logged_and_does_not_hold_back_the_others(
        make_plan, patient_client, clock, monkeypatch, caplog):
    plan = make_plan()
    check_in(patient_client)

    def broken(*, plan, now=None):
        raise RuntimeError("evaluation failed")

    monkeypatch.setattr(services, "plan_evaluate_progression", broken)
    clock.shift(DEBOUNCE)
    assert plans_evaluate_due() == 0
    assert f"progression evaluation of plan {plan.pk} failed" in caplog.text
    assert not ProgressionDue.objects.exists()  # not retried: the next record asks again

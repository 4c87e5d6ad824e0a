from datetime import date, datetime, timedelta

import pytest
from django.conf import settings
from django.test import TestCase
from django.utils import timezone

from plans.services import plan_create, plans_evaluate_due, progression_request, progression_request_for_patient
from tests.factories import make_path
from tracker.models import CheckIn, ExerciseLog


@pytest.fixture
def meniscus(db):
    return make_path()


@pytest.fixture
def make_plan(physio, patient, meniscus):
    def make(**kwargs):
        kwargs.setdefault("physiotherapist", physio)
        kwargs.setdefault("patient_id", patient.pk)
        kwargs.setdefault("condition_slug", meniscus.slug)
        return plan_create(**kwargs)

    return make


def sweep_progression() -> int:
    """Run the progression sweep as beat would once the debounce has passed; evaluations are as of now."""
    return plans_evaluate_due(now=timezone.now() + timedelta(seconds=settings.PROGRESSION_DEBOUNCE_SECONDS))


def record_checkin(patient, recorded_at: datetime, *, pain_at_rest=1, pain_during_activity=2, swelling="none",
                   **flags) -> CheckIn:
    """Store a check-in as the tracker would (without screening) and ask for a re-evaluation of the patient's
    plans, as its service does; the sweep then runs it, as beat would.
    """
    with TestCase.captureOnCommitCallbacks(execute=True):
        checkin = CheckIn.objects.create(
            patient=patient, recorded_at=recorded_at, pain_at_rest=pain_at_rest,
            pain_during_activity=pain_during_activity, swelling=swelling, **flags,
        )
        progression_request_for_patient(patient_id=patient.pk)
    sweep_progression()
    return checkin


def record_log(plan_exercise, day: date, *, pain_during=1) -> ExerciseLog:
    with TestCase.captureOnCommitCallbacks(execute=True):  # as in record_checkin
        log = ExerciseLog.objects.create(
            patient_id=plan_exercise.plan.patient_id, plan_exercise=plan_exercise, date=day,
            sets_done=plan_exercise.sets, reps_done=plan_exercise.reps, pain_during=pain_during,
        )
        progression_request(plan_id=plan_exercise.plan_id)
    sweep_progression()
    return log


def log_all_sessions(plan, day: date) -> None:
    """Every session of the current phase on `day`, as prescribed."""
    for plan_exercise in plan.exercises.filter(phase=plan.current_phase):
        for _ in range(plan_exercise.times_per_day):
            record_log(plan_exercise, day)

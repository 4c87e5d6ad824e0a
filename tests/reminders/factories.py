"""Small factories for reminder tests: a condition, exercises, a plan with prescribed exercises, logs."""
import datetime as dt

import factory
from django.utils import timezone

from conditions.models import BodyArea, Condition, Exercise, PhaseKey
from plans.models import Plan, PlanExercise, PlanStatus
from tests.factories import PatientFactory, PhysiotherapistFactory
from tracker.models import ExerciseLog


class QuickPatientFactory(PatientFactory):
    # An unusable password: hashing a real one for each of hundreds of patients is most of a test's time.
    password = "!"


class QuickPhysiotherapistFactory(PhysiotherapistFactory):
    password = "!"


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"condition-{n}")
    name = factory.Sequence(lambda n: f"Condition {n}")
    summary = "Pain at the back of the knee."
    causes = ["overuse"]
    symptoms = ["ache behind the knee"]
    typical_recovery = "A few weeks"
    recovery_weeks_min = 2
    recovery_weeks_max = 8
    red_flags = []


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise

    slug = factory.Sequence(lambda n: f"exercise-{n}")
    name = factory.Sequence(lambda n: f"Exercise {n}")
    body_area = BodyArea.KNEE
    instructions = "Slide the heel towards you, then back."
    stop_if = "Sharp pain."


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    patient = factory.SubFactory(QuickPatientFactory)
    physiotherapist = factory.SubFactory(QuickPhysiotherapistFactory)
    condition = factory.SubFactory(ConditionFactory)
    start_date = factory.LazyFunction(lambda: timezone.now().date() - dt.timedelta(days=30))
    status = PlanStatus.ACTIVE
    current_phase = PhaseKey.RICE
    phase_started_at = factory.LazyFunction(timezone.now)
    reminder_times = factory.LazyFunction(lambda: ["08:00"])


class PlanExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanExercise

    plan = factory.SubFactory(PlanFactory)
    phase = factory.LazyAttribute(lambda o: o.plan.current_phase)
    exercise = factory.SubFactory(ExerciseFactory)
    times_per_day = 1


class ExerciseLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExerciseLog

    plan_exercise = factory.SubFactory(PlanExerciseFactory)
    patient = factory.LazyAttribute(lambda o: o.plan_exercise.plan.patient)
    sets_done = 2
    reps_done = 10
    pain_during = 2


def plan_with_exercises(*, exercises: int = 2, **plan_fields) -> Plan:
    """An active plan with `exercises` prescribed in its current phase."""
    plan = PlanFactory(**plan_fields)
    for _ in range(exercises):
        PlanExerciseFactory(plan=plan)
    return plan


def log_all_of_today(plan: Plan, *, day: dt.date) -> None:
    """Log every current-phase exercise as often as it is prescribed on `day`."""
    for plan_exercise in plan.exercises.filter(phase=plan.current_phase):
        for _ in range(plan_exercise.times_per_day):
            ExerciseLogFactory(plan_exercise=plan_exercise, date=day)

"""Small catalogue, plan and tracker rows for tracker tests (the full catalogue is the `catalog` fixture)."""
from datetime import timedelta

import factory
from django.utils import timezone

from conditions.models import Condition, Exercise, PhaseKey
from plans.models import Plan, PlanExercise, PlanStatus
from tests.factories import PatientFactory, PhysiotherapistFactory
from tracker.models import Alert, CheckIn, ExerciseLog, PromptLevel

MENISCUS_WARNINGS = [
    {"code": "meniscus_locking_or_giving_way", "message": "Your knee locked or gave way: book a visit.",
     "trigger": {"flag": "knee_locking_or_giving_way"}},
    {"code": "meniscus_limits_daily_activities", "message": "Your knee limits daily life: book a visit.",
     "trigger": {"flag": "limits_daily_activities"}},
]
BAKERS_WARNINGS = [
    {"code": "bakers_cyst_growing", "message": "The swelling grew since last time: book a visit.",
     "trigger": {"rise": {"metric": "swelling", "by": 1}}},
    {"code": "bakers_cyst_sudden_pain", "message": "Pain at rest jumped since last time: book a visit.",
     "trigger": {"rise": {"metric": "pain_at_rest", "by": 3}}},
]


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tracker-condition-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    summary = "Pain behind the knee."
    causes = ["twisting"]
    symptoms = ["pain"]
    typical_recovery = "Six to twelve weeks."
    recovery_weeks_min = 6
    recovery_weeks_max = 12
    red_flags = [{"text": "Fever", "asks": ["fever"]}]
    warnings = factory.LazyFunction(list)


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tracker-exercise-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    body_area = "knee"
    instructions = "Slowly, in a comfortable range."
    stop_if = "Stop if the pain gets sharp."


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    patient = factory.SubFactory(PatientFactory)
    physiotherapist = factory.SubFactory(PhysiotherapistFactory)
    condition = factory.SubFactory(ConditionFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=7))
    status = PlanStatus.ACTIVE
    current_phase = PhaseKey.RICE
    phase_started_at = factory.LazyFunction(timezone.now)


class PlanExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanExercise

    plan = factory.SubFactory(PlanFactory)
    phase = factory.LazyAttribute(lambda o: o.plan.current_phase)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 3
    reps = 10
    times_per_day = 2
    days_per_week = 7


class CheckInFactory(factory.django.DjangoModelFactory):
    """A stored check-in as history, without screening (the API is used where the prompt matters)."""

    class Meta:
        model = CheckIn

    patient = factory.SubFactory(PatientFactory)
    recorded_at = factory.LazyFunction(timezone.now)
    pain_at_rest = 2
    pain_during_activity = 3
    swelling = "none"


class ExerciseLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExerciseLog

    plan_exercise = factory.SubFactory(PlanExerciseFactory)
    patient = factory.LazyAttribute(lambda o: o.plan_exercise.plan.patient)
    date = factory.LazyFunction(timezone.localdate)
    sets_done = 3
    reps_done = 10
    pain_during = 2


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    checkin = factory.SubFactory(CheckInFactory, prompt_level=PromptLevel.URGENT)
    patient = factory.LazyAttribute(lambda o: o.checkin.patient)
    physiotherapist = factory.SubFactory(PhysiotherapistFactory)
    level = PromptLevel.URGENT
    reasons = factory.LazyFunction(lambda: [{"code": "fever", "message": "You have a fever."}])

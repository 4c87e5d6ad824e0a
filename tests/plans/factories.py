"""Catalogue rows for plan tests: a small three-phase path, and a condition without home care.

Used until (and alongside) the catalogue loader; the shape follows conditions/catalog/FORMAT.md.
"""
import factory

from conditions.models import Condition, Exercise, PhaseExercise, PhaseKey, TreatmentPhase

RICE_EXIT = [
    {"metric": "pain_at_rest", "op": "lte", "value": 2, "consecutive_checkins": 3},
    {"metric": "swelling", "op": "lte", "value": "mild", "consecutive_checkins": 3},
    {"metric": "adherence_percent", "op": "gte", "value": 70, "days": 7},
    {"metric": "days_in_phase", "op": "gte", "value": 5},
]
PHYSIO_EXIT = [
    {"metric": "pain_during_activity", "op": "lte", "value": 3, "consecutive_checkins": 3},
    {"metric": "days_in_phase", "op": "gte", "value": 7},
]


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"exercise-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    body_area = "knee"
    instructions = factory.LazyAttribute(lambda o: f"How to do {o.slug}.")
    feel = "A gentle stretch."
    stop_if = "Stop if the pain gets sharp."
    sets = 3
    reps = 10
    hold_seconds = 5
    times_per_day = 2
    days_per_week = 7


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"condition-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    summary = "A condition that causes pain behind the knee."
    causes = ["twisting"]
    symptoms = ["pain"]
    typical_recovery = "A few weeks."
    recovery_weeks_min = 4
    recovery_weeks_max = 8
    red_flags = [{"text": "Fever", "asks": ["fever"]}]


class TreatmentPhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentPhase

    condition = factory.SubFactory(ConditionFactory)
    key = PhaseKey.RICE
    order = 0
    name = factory.LazyAttribute(lambda o: PhaseKey(o.key).label)
    goals = ["settle the knee"]
    duration_days_min = 3
    duration_days_max = 14
    exit_criteria = factory.LazyFunction(list)


class PhaseExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseExercise

    phase = factory.SubFactory(TreatmentPhaseFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    order = 0
    sets = 3
    reps = 10
    hold_seconds = 0
    times_per_day = 2
    days_per_week = 7


def make_path(slug: str = "meniscus-tear", name: str = "Meniscus tear",
              rice_exit=None, physio_exit=None) -> Condition:
    """A condition with rice → physiotherapy → return_to_activity, two exercises in rice and one later on."""
    condition = ConditionFactory(slug=slug, name=name)
    quad = ExerciseFactory(slug="quad-sets", name="Quadriceps setting")
    slides = ExerciseFactory(slug="heel-slides", name="Heel slides")
    bridge = ExerciseFactory(slug="bridges", name="Bridges")
    squat = ExerciseFactory(slug="mini-squats", name="Mini squats")
    rice = TreatmentPhaseFactory(condition=condition, key=PhaseKey.RICE, order=0,
                                 exit_criteria=RICE_EXIT if rice_exit is None else rice_exit)
    physio = TreatmentPhaseFactory(condition=condition, key=PhaseKey.PHYSIOTHERAPY, order=1,
                                   exit_criteria=PHYSIO_EXIT if physio_exit is None else physio_exit)
    rta = TreatmentPhaseFactory(condition=condition, key=PhaseKey.RETURN_TO_ACTIVITY, order=2, exit_criteria=[])
    PhaseExerciseFactory(phase=rice, exercise=quad, order=0, sets=3, reps=10, hold_seconds=5, times_per_day=2)
    PhaseExerciseFactory(phase=rice, exercise=slides, order=1, sets=2, reps=8, times_per_day=1)
    PhaseExerciseFactory(phase=physio, exercise=bridge, order=0, sets=3, reps=12, times_per_day=1)
    PhaseExerciseFactory(phase=rta, exercise=squat, order=0, sets=3, reps=15, times_per_day=1)
    return condition


def make_dvt() -> Condition:
    return ConditionFactory(
        slug="deep-vein-thrombosis", name="Deep vein thrombosis", home_care=False,
        urgent_care_note="Go to an emergency department or call your doctor today.",
    )

import factory

from conditions.models import Condition, Exercise, PhaseExercise, PhaseKey, TreatmentPhase


class ExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Exercise

    slug = factory.Sequence(lambda n: f"exercise-{n}")
    name = factory.Sequence(lambda n: f"Exercise {n}")
    body_area = "knee"
    instructions = "Do it slowly."
    stop_if = "It hurts more than 5 out of 10."


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition

    slug = factory.Sequence(lambda n: f"condition-{n}")
    name = factory.Sequence(lambda n: f"Condition {n}")
    summary = "A condition for tests."
    causes = ["Overuse"]
    symptoms = ["Pain behind the knee"]
    typical_recovery = "A few weeks."
    recovery_weeks_min = 2
    recovery_weeks_max = 6
    red_flags = [{"text": "Fever", "asks": ["fever"]}]
    sources = [{"title": "Tests"}]


class TreatmentPhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentPhase

    condition = factory.SubFactory(ConditionFactory)
    key = PhaseKey.RICE
    order = 1
    name = "Protect and settle"
    goals = ["Settle the pain"]
    duration_days_min = 3
    duration_days_max = 14


class PhaseExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseExercise

    phase = factory.SubFactory(TreatmentPhaseFactory)
    exercise = factory.SubFactory(ExerciseFactory)


def condition_with_path(*, exercises_per_phase: int, **kwargs) -> Condition:
    """A home-care condition with the three phases, each prescribing its own exercises."""
    condition = ConditionFactory(**kwargs)
    for order, key in enumerate(PhaseKey.ordered(), start=1):
        phase = TreatmentPhaseFactory(condition=condition, key=key, order=order)
        for position in range(exercises_per_phase):
            PhaseExerciseFactory(phase=phase, order=position)
    return condition

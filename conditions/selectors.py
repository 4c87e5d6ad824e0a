"""Reading the catalogue, with everything a response needs fetched in a fixed number of queries."""
from django.db.models import Prefetch, Q, QuerySet

from .models import Condition, Exercise, ExerciseMedia, PhaseExercise, TreatmentPhase


def condition_list() -> QuerySet[Condition]:
    return Condition.objects.order_by("name")


def condition_with_path_list() -> QuerySet[Condition]:
    """Conditions with their phases and each phase's dosed exercises (three queries, however many rows)."""
    return condition_list().prefetch_related(
        Prefetch(
            "phases",
            queryset=TreatmentPhase.objects.order_by("order").prefetch_related(
                Prefetch("phase_exercises",
                         queryset=PhaseExercise.objects.select_related("exercise").order_by("order", "id"))
            ),
        )
    )


def condition_get(*, slug: str) -> Condition | None:
    return condition_with_path_list().filter(slug=slug).first()


def exercise_list() -> QuerySet[Exercise]:
    return Exercise.objects.order_by("name")


def exercise_with_uses_list() -> QuerySet[Exercise]:
    """Exercises with the paths that prescribe them (two queries, however many rows)."""
    return exercise_list().prefetch_related(
        Prefetch(
            "phase_uses",
            queryset=PhaseExercise.objects.select_related("phase__condition").order_by(
                "phase__condition__name", "phase__order"
            ),
        )
    )


def exercise_media_for_uploader_list(*, user, exercise: Exercise) -> QuerySet[ExerciseMedia]:
    """The media a physiotherapist sees on a library exercise: the shared ones and their own."""
    return ExerciseMedia.objects.filter(Q(shared=True) | Q(uploaded_by=user), exercise=exercise).order_by(
        "created_at", "id")

"""The catalogue, read-only for anyone signed in: conditions with their treatment paths, and the exercise library."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated

from .. import selectors
from .filtersets import ConditionFilterSet, ExerciseFilterSet, FoldedSearchFilter
from .serializers import (
    ConditionDetailSerializer,
    ConditionSerializer,
    ExerciseDetailSerializer,
    ExerciseSerializer,
)


@extend_schema_view(
    list=extend_schema(
        summary="List conditions",
        description="Every condition of the catalogue. `?search=` looks through names, other names, "
                    "subtypes and symptoms (\"locking\" finds a meniscus tear).",
    ),
    retrieve=extend_schema(
        summary="A condition with its treatment path",
        description="Facts, red flags, warnings and sources, and the phases of the home-care path with their "
                    "dosed exercises and exit criteria. A condition without home care has no phases and an "
                    "`urgent_care_note`.",
    ),
)
class ConditionViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
    lookup_field = "slug"
    # Only what a SlugField holds reaches the database (a NUL byte there was a 500 on PostgreSQL).
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends = [DjangoFilterBackend, FoldedSearchFilter]
    filterset_class = ConditionFilterSet
    # Symptoms are a JSON list; search_text holds them as plain text so `icontains` works on every database.
    search_fields = ["search_text"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.condition_with_path_list()
        return selectors.condition_list()

    def get_serializer_class(self):
        return ConditionDetailSerializer if self.action == "retrieve" else ConditionSerializer


@extend_schema_view(
    list=extend_schema(summary="List exercises",
                       description="The exercise library, with each exercise's default dose."),
    retrieve=extend_schema(summary="An exercise",
                           description="An exercise with its default dose and the paths that prescribe it."),
)
class ExerciseViewSet(viewsets.ReadOnlyModelViewSet):
    permission_classes = [IsAuthenticated]
    lookup_field = "slug"
    # Only what a SlugField holds reaches the database (a NUL byte there was a 500 on PostgreSQL).
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    filter_backends = [DjangoFilterBackend, FoldedSearchFilter]
    filterset_class = ExerciseFilterSet
    search_fields = ["name", "slug", "instructions"]

    def get_queryset(self):
        if self.action == "retrieve":
            return selectors.exercise_with_uses_list()
        return selectors.exercise_list()

    def get_serializer_class(self):
        return ExerciseDetailSerializer if self.action == "retrieve" else ExerciseSerializer


"""The catalogue, read-only for anyone signed in: conditions with their treatment paths, and the exercise library."""
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from kneerehab.media.serializers import MediaSerializer
from kneerehab.parsers import JSONParser

from .. import selectors
from ..services import exercise_media_add
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


class ExerciseMediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG or WebP picture, or an MP4 or WebM video; checked by "
                                           "its content, not its name.")
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


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


    @extend_schema(
        methods=["GET"], summary="Pictures and videos of an exercise (physiotherapists)",
        description="The shared ones and your own. Your patients see your uploads with this exercise on Today and "
                    "in their plan.", responses=MediaSerializer(many=True))
    @extend_schema(
        methods=["POST"], summary="Add a picture or video to an exercise (physiotherapists)",
        description="Shown to your patients whose plan has this exercise (until clinics exist: the patients of "
                    "the physiotherapist who uploaded it).",
        request={"multipart/form-data": ExerciseMediaUploadSerializer}, responses={201: MediaSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser, FormParser, JSONParser],
            pagination_class=None, filter_backends=[])
    def media(self, request, slug=None):
        if not request.user.is_physiotherapist:
            raise PermissionDenied("Only a physiotherapist can manage exercise media.")
        exercise = self.get_object()
        context = {"request": request}
        if request.method == "GET":
            items = selectors.exercise_media_for_uploader_list(user=request.user, exercise=exercise)
            return Response(MediaSerializer(items, many=True, context=context).data)
        upload = ExerciseMediaUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        media = exercise_media_add(exercise=exercise, uploaded_by=request.user,
                                   upload=upload.validated_data["file"], title=upload.validated_data["title"])
        return Response(MediaSerializer(media, context=context).data, status=status.HTTP_201_CREATED)

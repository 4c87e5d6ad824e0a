"""Exercise pictures and videos: uploading one for a patient's exercise, and fetching any media file.

Both kinds of media are served here, library media included: whether a patient may see a library exercise's
clip depends on their plans, and the catalogue (conditions) knows nothing of plans.
"""
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from kneerehab.api.permissions import IsPhysiotherapist
from kneerehab.media.serializers import MediaSerializer
from kneerehab.media.serving import THUMBNAIL, media_response
from kneerehab.parsers import JSONParser

from ..selectors import exercise_media_visible_to, plan_exercise_media_visible_to, plans_visible_to
from ..services import plan_exercise_media_add


class MediaUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A JPEG, PNG or WebP picture, or an MP4 or WebM video; checked by "
                                           "its content, not its name.")
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")


class PlanMediaUploadSerializer(MediaUploadSerializer):
    plan_exercise = serializers.IntegerField(help_text="The id of one of this plan's exercises.")


class PlanMediaUploadView(APIView):
    permission_classes = [IsPhysiotherapist]
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(summary="Add a picture or video to one exercise of a plan",
                   request={"multipart/form-data": PlanMediaUploadSerializer},
                   responses={201: MediaSerializer, 404: OpenApiResponse(description="Not a plan of your caseload.")})
    def post(self, request, pk: int):
        plan = get_object_or_404(plans_visible_to(user=request.user), pk=pk)
        serializer = PlanMediaUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        media = plan_exercise_media_add(plan=plan, plan_exercise_id=serializer.validated_data["plan_exercise"],
                                        uploaded_by=request.user, upload=serializer.validated_data["file"],
                                        title=serializer.validated_data["title"])
        return Response(MediaSerializer(media, context={"request": request}).data, status=status.HTTP_201_CREATED)


SIZE_PARAMETER = OpenApiParameter("size", str, enum=[THUMBNAIL], required=False,
                                  description="`thumbnail`: the small copy of a picture.")
FILE_RESPONSES = {(200, "*/*"): OpenApiTypes.BINARY,
                  (206, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The byte range asked for (Range)."),
                  404: OpenApiResponse(description="No such media, or not yours to see."),
                  416: OpenApiResponse(description="The byte range is not in the file.")}


class _MediaFileView(APIView):
    permission_classes = [IsAuthenticated]

    def visible(self, user):
        raise NotImplementedError

    def get(self, request, pk: int):
        media = get_object_or_404(self.visible(request.user), pk=pk)
        return media_response(media, variant=request.query_params.get("size", ""),
                              range_header=request.headers.get("Range", ""))


class ExerciseMediaFileView(_MediaFileView):
    @extend_schema(summary="A library exercise's picture or video", parameters=[SIZE_PARAMETER],
                   responses=FILE_RESPONSES)
    def get(self, request, pk: int):
        return super().get(request, pk)

    def visible(self, user):
        return exercise_media_visible_to(user=user)


class PlanExerciseMediaFileView(_MediaFileView):
    @extend_schema(summary="A plan exercise's picture or video", parameters=[SIZE_PARAMETER],
                   responses=FILE_RESPONSES)
    def get(self, request, pk: int):
        return super().get(request, pk)

    def visible(self, user):
        return plan_exercise_media_visible_to(user=user)

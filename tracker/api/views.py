from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from kneerehab.api.permissions import IsPhysiotherapist, PatientWritesOwn
from kneerehab.users.selectors import patients_visible_to

from ..models import Alert, CheckIn, ExerciseLog
from ..selectors import (
    alerts_for,
    checkins_visible_to,
    exercise_logs_visible_to,
    patient_progress,
)
from ..services import alert_acknowledge, checkin_create, exercise_log_create
from .filtersets import AlertFilter, CheckInFilter, ExerciseLogFilter
from .permissions import IsPatientOwnProgress
from .serializers import (
    AlertAcknowledgeSerializer,
    AlertSerializer,
    CheckInCreateSerializer,
    CheckInSerializer,
    ExerciseLogCreateSerializer,
    ExerciseLogSerializer,
    ProgressQuerySerializer,
    ProgressSerializer,
)

IDEMPOTENCY_KEY_MAX = 255
ERROR = OpenApiResponse(description="JSON error: {code, message, fields}")

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description=(
        "Optional, 1-255 characters, chosen by the client once per check-in. Works like `client_id`: a retry "
        "with the same key stores nothing and returns the first check-in. The key is kept with the check-in "
        "but not shown in responses; the response echoes `client_id` (the client's, or one the server made "
        "when none was sent). Send one of the two, or both naming the same check-in."
    ),
)


def _replay_headers(created: bool) -> dict:
    return {} if created else {"Idempotent-Replayed": "true"}


@extend_schema_view(
    list=extend_schema(summary="Check-ins: a patient's own, a physiotherapist's caseload's"),
    retrieve=extend_schema(summary="One check-in with its screening prompt"),
)
class CheckInViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     viewsets.GenericViewSet):
    """Daily check-ins. Each is screened as it is stored; the response carries the `prompt`."""

    serializer_class = CheckInSerializer
    permission_classes = [IsAuthenticated, PatientWritesOwn]
    filterset_class = CheckInFilter
    ordering_fields = ["recorded_at"]
    search_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return CheckIn.objects.none()
        return checkins_visible_to(user=self.request.user)

    @extend_schema(
        summary="Record a check-in (patient) and get its screening prompt",
        description=(
            "Stores the check-in and screens it at once: `prompt.level` is `emergency`, `urgent`, "
            "`see_clinician` or `none`, with every reason. Retrying with the same `client_id` (or "
            "`Idempotency-Key` header) stores nothing new and returns the first check-in with the same body: "
            "201 the first time, 200 (header `Idempotent-Replayed: true`) on a replay. The same key with a "
            "different body gets 422; a replay racing the first request may get 409 (retry it). The response "
            "always echoes `client_id`, never the `Idempotency-Key`."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=CheckInCreateSerializer,
        responses={201: CheckInSerializer, 200: CheckInSerializer, 400: ERROR, 403: ERROR, 409: ERROR,
                   422: ERROR},
    )
    def create(self, request, *args, **kwargs):
        key = request.headers.get("Idempotency-Key")
        if key is not None and not (0 < len(key) <= IDEMPOTENCY_KEY_MAX):
            raise ValidationError({"Idempotency-Key": [f"Use 1 to {IDEMPOTENCY_KEY_MAX} characters."]})
        # A recorded_at without an offset is the patient's local time.
        serializer = CheckInCreateSerializer(data=request.data, context={"timezone": request.user.tzinfo})
        serializer.is_valid(raise_exception=True)
        checkin, created = checkin_create(patient=request.user, data=serializer.validated_data,
                                          idempotency_key=key)
        return Response(CheckInSerializer(checkin).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                        headers=_replay_headers(created))


@extend_schema_view(
    list=extend_schema(summary="Exercise logs: a patient's own, a physiotherapist's caseload's"),
    retrieve=extend_schema(summary="One exercise log"),
)
class ExerciseLogViewSet(mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    """Sessions of prescribed exercises, as the patient reports them."""

    serializer_class = ExerciseLogSerializer
    permission_classes = [IsAuthenticated, PatientWritesOwn]
    filterset_class = ExerciseLogFilter
    ordering_fields = ["date"]
    search_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return ExerciseLog.objects.none()
        return exercise_logs_visible_to(user=self.request.user)

    @extend_schema(
        summary="Log a session of a prescribed exercise (patient)",
        description="201 when stored; 200 with the first log when `client_id` was already used for the same "
                    "session; 422 when it was used for a different one.",
        request=ExerciseLogCreateSerializer,
        responses={201: ExerciseLogSerializer, 200: ExerciseLogSerializer, 400: ERROR, 403: ERROR, 422: ERROR},
    )
    def create(self, request, *args, **kwargs):
        serializer = ExerciseLogCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        log, created = exercise_log_create(patient=request.user, plan_exercise_id=data.pop("plan_exercise"),
                                           **data)
        log = self.get_queryset().get(pk=log.pk)  # with its exercise, for the response
        return Response(ExerciseLogSerializer(log).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
                        headers=_replay_headers(created))


@extend_schema_view(
    list=extend_schema(summary="Your alerts (physiotherapist): open first, most urgent first"),
    retrieve=extend_schema(summary="One alert"),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    """Screened check-ins that need a physiotherapist's attention."""

    serializer_class = AlertSerializer
    permission_classes = [IsAuthenticated, IsPhysiotherapist]
    filterset_class = AlertFilter
    ordering_fields = ["created_at"]
    search_fields: list[str] = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return Alert.objects.none()
        return alerts_for(physiotherapist=self.request.user)

    @extend_schema(summary="Acknowledge an alert with what you did (outcome and note)",
                   description="Records who acted, when, the `outcome` and the `note`. Acknowledging an alert "
                               "again changes nothing and returns it as first acknowledged.",
                   request=AlertAcknowledgeSerializer, responses={200: AlertSerializer, 400: ERROR, 403: ERROR,
                                                                  404: ERROR})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, pk=None):
        alert = self.get_object()
        serializer = AlertAcknowledgeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = alert_acknowledge(alert=alert, user=request.user, **serializer.validated_data)
        return Response(AlertSerializer(self.get_queryset().get(pk=alert.pk)).data)


PROGRESS_PARAMETERS = [
    OpenApiParameter("since", OpenApiTypes.DATE, description="First local date (default: 29 days before until)"),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Last local date (default: the patient's today)"),
]


def _progress_response(request, patient):
    query = ProgressQuerySerializer(data=request.query_params, context={"patient": patient})
    query.is_valid(raise_exception=True)
    data = patient_progress(patient=patient, viewer=request.user, **query.validated_data)
    return Response(ProgressSerializer(data).data)


class ProgressView(APIView):
    """The signed-in patient's progress: pain and swelling per day, adherence, phases, alerts, latest prompt."""

    permission_classes = [IsAuthenticated, IsPatientOwnProgress]

    @extend_schema(summary="Your progress (patient)", parameters=PROGRESS_PARAMETERS,
                   responses={200: ProgressSerializer, 400: ERROR, 403: ERROR})
    def get(self, request):
        return _progress_response(request, request.user)


class PatientProgressView(APIView):
    """A caseload patient's progress, for their physiotherapist."""

    permission_classes = [IsAuthenticated, IsPhysiotherapist]

    @extend_schema(summary="A caseload patient's progress (physiotherapist)", parameters=PROGRESS_PARAMETERS,
                   responses={200: ProgressSerializer, 400: ERROR, 403: ERROR, 404: ERROR})
    def get(self, request, patient_id: int):
        patient = get_object_or_404(patients_visible_to(user=request.user), pk=patient_id)
        return _progress_response(request, patient)

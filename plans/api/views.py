from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from kneerehab.api.permissions import IsPatient, IsPhysiotherapist, PhysiotherapistWritesPatientReads
from kneerehab.filters import CappedSearchFilter
from kneerehab.users.models import User
from kneerehab.users.services import user_create

from ..models import Plan
from ..selectors import caseload_adherence, caseload_list, plan_list, today_for_patient
from ..services import plan_advance, plan_create, plan_step_back, plan_update, safety_hold_clear
from .filtersets import PlanFilter
from .serializers import (
    ClearHoldSerializer,
    PatientCreateSerializer,
    PatientSerializer,
    PhaseMoveSerializer,
    PlanCreateSerializer,
    PlanSerializer,
    PlanUpdateSerializer,
    TodaySerializer,
)


@extend_schema_view(
    list=extend_schema(summary="The caseload", description="Your patients, each with their running plan, last "
                       "check-in, open alerts and 7-day adherence. `search` matches username and names."),
    retrieve=extend_schema(summary="A patient on the caseload"),
)
class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    """The physiotherapist's caseload."""

    permission_classes = [IsPhysiotherapist]
    serializer_class = PatientSerializer
    filter_backends = [CappedSearchFilter]
    search_fields = ["username", "first_name", "last_name"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation has no user
            return User.objects.none()
        return caseload_list(physiotherapist=self.request.user)

    def _serialize(self, patients, many: bool):
        adherence = caseload_adherence(patients=patients if many else [patients])
        return PatientSerializer(patients, many=many, context={**self.get_serializer_context(),
                                                               "adherence": adherence}).data

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self._serialize(page, many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self._serialize(self.get_object(), many=False))

    @extend_schema(summary="Add a patient to your caseload", request=PatientCreateSerializer,
                   responses={201: PatientSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PatientCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        patient = user_create(role="patient", physiotherapist=request.user, **serializer.validated_data)
        created = self.get_queryset().get(pk=patient.pk)
        return Response(self._serialize(created, many=False), status=status.HTTP_201_CREATED)


PHASE_MOVE_ERRORS = {
    400: OpenApiResponse(description="The plan is not active, or (step back) already in its first phase."),
    403: OpenApiResponse(description="Only a physiotherapist can move plans between phases."),
    404: OpenApiResponse(description="Not a plan of your caseload."),
    409: OpenApiResponse(description="`from_phase` was sent and the plan has moved on meanwhile, or (advance) "
                                     "the plan is on a safety hold (code `safety_hold`)."),
}


@extend_schema_view(
    list=extend_schema(summary="Plans", description="A physiotherapist sees their caseload's plans; "
                       "a patient sees their own."),
    retrieve=extend_schema(summary="A plan, with its exercises, progression and phase history"),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Staged plans: physiotherapists assign and change them; patients read their own."""

    permission_classes = [PhysiotherapistWritesPatientReads]
    serializer_class = PlanSerializer
    filterset_class = PlanFilter
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    ordering_fields = ["created_at", "start_date"]
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Plan.objects.none()
        return plan_list(user=self.request.user)

    def _fresh(self, plan):
        return PlanSerializer(self.get_queryset().get(pk=plan.pk), context=self.get_serializer_context()).data

    @extend_schema(summary="Assign a plan", request=PlanCreateSerializer, responses={201: PlanSerializer})
    def create(self, request, *args, **kwargs):
        serializer = PlanCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        plan = plan_create(
            physiotherapist=request.user, patient_id=data["patient"], condition_slug=data["condition"],
            start_date=data.get("start_date"), reminder_times=data.get("reminder_times"),
            auto_advance=data["auto_advance"], overrides=data.get("overrides"),
            surgery_date=data.get("surgery_date"), clot_risk_factors=data.get("clot_risk_factors"),
            immunosuppressed=data.get("immunosuppressed", False),
        )
        return Response(self._fresh(plan), status=status.HTTP_201_CREATED)

    @extend_schema(summary="Change status, reminder times, auto-advance, doses or the clinical context",
                   request=PlanUpdateSerializer,
                   responses={200: PlanSerializer})
    def partial_update(self, request, *args, **kwargs):
        plan = self.get_object()
        serializer = PlanUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_update(plan=plan, changed_by=request.user, data=serializer.validated_data)
        return Response(self._fresh(plan))

    @extend_schema(summary="Advance to the next phase (past the last one: complete the plan)",
                   request=PhaseMoveSerializer, responses={200: PlanSerializer, **PHASE_MOVE_ERRORS})
    @action(detail=True, methods=["post"])
    def advance(self, request, pk=None):
        plan = self.get_object()
        serializer = PhaseMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_advance(plan=plan, changed_by=request.user, reason=serializer.validated_data.get("reason", ""),
                            expected_phase=serializer.validated_data.get("from_phase"))
        return Response(self._fresh(plan))

    @extend_schema(summary="Step back to the previous phase", request=PhaseMoveSerializer,
                   responses={200: PlanSerializer, **PHASE_MOVE_ERRORS})
    @action(detail=True, methods=["post"], url_path="step-back")
    def step_back(self, request, pk=None):
        plan = self.get_object()
        serializer = PhaseMoveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        plan = plan_step_back(plan=plan, changed_by=request.user,
                              reason=serializer.validated_data.get("reason", ""),
                              expected_phase=serializer.validated_data.get("from_phase"))
        return Response(self._fresh(plan))


    @extend_schema(
        summary="Clear the plan's safety hold (physiotherapist), with a note",
        description="After an urgent or emergency prompt a plan is on a safety hold: no reminders, no exercises "
                    "on Today, no progression. Clearing it records who, when and why; the plan is evaluated "
                    "afresh. 409 (`no_safety_hold`) when the plan is not on hold.",
        request=ClearHoldSerializer,
        responses={200: PlanSerializer, 400: OpenApiResponse(description="No note."),
                   403: OpenApiResponse(description="Only a physiotherapist clears a hold."),
                   404: OpenApiResponse(description="Not a plan of your caseload."),
                   409: OpenApiResponse(description="The plan is not on a safety hold.")},
    )
    @action(detail=True, methods=["post"], url_path="clear-hold")
    def clear_hold(self, request, pk=None):
        plan = self.get_object()
        serializer = ClearHoldSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        safety_hold_clear(plan=plan, cleared_by=request.user, note=serializer.validated_data["note"])
        return Response(self._fresh(plan))


class TodayView(APIView):
    """Today's exercises, for the patient's local date, from every active plan's current phase."""

    permission_classes = [IsPatient]
    serializer_class = TodaySerializer

    @extend_schema(summary="Today's exercises", responses=TodaySerializer)
    def get(self, request):
        return Response(TodaySerializer(today_for_patient(patient=request.user), context={"request": request}).data)

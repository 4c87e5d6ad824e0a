from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.views import APIView

from plans.selectors import plan_list

from .document import programme_pdf


class ProgrammePdfView(APIView):
    """The printable programme of a plan: the patient's own, or a plan of the physiotherapist's caseload."""

    permission_classes = [IsAuthenticated]

    @extend_schema(summary="The plan's printable programme (PDF)",
                   description="Patient, physiotherapist, phase, each exercise of the current phase with its "
                               "picture, dose, instructions and when to stop, a weekly tick sheet, the \"when to get "
                               "help now\" card with the emergency number, and a QR code that opens the check-in.",
                   responses={(200, "application/pdf"): OpenApiTypes.BINARY,
                              404: OpenApiResponse(description="Not your plan, or not of your caseload.")})
    def get(self, request, pk: int):
        plan = get_object_or_404(plan_list(user=request.user), pk=pk)
        pdf = programme_pdf(plan=plan, checkin_url=request.build_absolute_uri(reverse("web:checkin")))
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="programme-plan-{plan.pk}.pdf"'
        response["Cache-Control"] = "private, no-store"
        return response

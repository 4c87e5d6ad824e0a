"""Everything under /api/v1/: each app contributes its own api/urls.py."""
from django.urls import include, path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.reverse import reverse

from kneerehab.api_docs import DocsView, SchemaView
from kneerehab.programme.api import ProgrammePdfView


@extend_schema(responses={200: OpenApiResponse(
    response={"type": "object", "additionalProperties": {"type": "string", "format": "uri"}},
    description="Links to the token endpoint, /me, the schema and the docs.")})
@api_view(["GET"])
@permission_classes([AllowAny])
def api_root(request, format=None):
    """Where to start: authentication, the schema and the interactive docs."""
    return Response({
        "token": reverse("token_obtain_pair", request=request),
        "me": reverse("me", request=request),
        "schema": reverse("schema", request=request),
        "docs": reverse("docs", request=request),
    })


urlpatterns = [
    path("", api_root, name="api-root"),
    path("schema/", SchemaView.as_view(), name="schema"),
    path("docs/", DocsView.as_view(url_name="schema"), name="docs"),
    path("", include("kneerehab.users.api.urls")),
    path("", include("kneerehab.notifications.api.urls")),
    path("", include("conditions.api.urls")),
    path("", include("plans.api.urls")),
    path("", include("tracker.api.urls")),
    # Above the domain apps: the programme draws on plans, the exercise library and the screening rules.
    path("plans/<int:pk>/programme.pdf", ProgrammePdfView.as_view(), name="plan-programme-pdf"),
]

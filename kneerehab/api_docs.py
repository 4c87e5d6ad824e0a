"""The OpenAPI schema and the interactive documentation (Swagger UI), served from the app's own static files.

Signed-in users only, unless API_DOCS_PUBLIC is on. Swagger UI comes from drf-spectacular-sidecar (a pinned
package, collected with the other static files): no third-party origin runs script on ours, and the page
keeps to the site's Content-Security-Policy (its start-up script is a file too: the "split" view).
"""
from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer


class ApiDocsPermission(BasePermission):
    def has_permission(self, request, view) -> bool:
        return settings.API_DOCS_PUBLIC or bool(request.user and request.user.is_authenticated)


class JsonErrorsMixin:
    """Errors in the API's one JSON shape, whatever the view renders when all goes well (YAML, HTML, script)."""

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


class SchemaView(JsonErrorsMixin, SpectacularAPIView):
    permission_classes = [ApiDocsPermission]


class DocsView(JsonErrorsMixin, SpectacularSwaggerSplitView):
    permission_classes = [ApiDocsPermission]
    template_name = "api/swagger_ui.html"

    def handle_exception(self, exc):
        # A browser that is not signed in goes to the sign-in page and comes back.
        if isinstance(exc, NotAuthenticated) and self.request.GET.get("script") is None:
            return redirect_to_login(self.request.get_full_path())
        return super().handle_exception(exc)

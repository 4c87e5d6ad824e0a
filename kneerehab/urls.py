from django.contrib import admin
from django.urls import include, path
from django.views import defaults

from kneerehab.errors import json_or_default
from kneerehab.ops.views import healthz

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("kneerehab.api_urls")),
    # The browser pages (login, caseload, today, check-in, progress, inbox).
    path("", include("kneerehab.web.urls")),
]

# Under /api/ every error is JSON, even the ones Django answers itself.
handler400 = json_or_default(defaults.bad_request, 400, "bad_request", "The request could not be understood.")
handler403 = json_or_default(defaults.permission_denied, 403, "permission_denied",
                             "You do not have permission to do this.")
handler404 = json_or_default(defaults.page_not_found, 404, "not_found", "Not found.")
handler500 = "kneerehab.errors.server_error"

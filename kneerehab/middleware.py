from django.conf import settings
from django.http import JsonResponse
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.cache import add_never_cache_headers

from kneerehab.audit.services import is_audited_path
from kneerehab.errors import error_body


class ApiBodySizeLimitMiddleware:
    """Refuses an oversized API request body before anything reads it.

    The declared Content-Length is checked here; a body sent without one is
    still bounded by DATA_UPLOAD_MAX_MEMORY_SIZE when it is read.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                return JsonResponse(
                    error_body(code="bad_request", message="Content-Length is not a number."), status=400
                )
            limit = settings.API_MAX_BODY_BYTES
            if request.method == "POST" and request.path.endswith("/media/") and request.content_type == (
                    "multipart/form-data"):
                limit = settings.API_MAX_UPLOAD_BYTES
            if length > limit:
                return JsonResponse(
                    error_body(
                        code="payload_too_large",
                        message=f"The request body is too large (at most {limit} bytes).",
                    ),
                    status=413,
                )
        return self.get_response(request)


class CommonMiddleware(DjangoCommonMiddleware):
    """Django's CommonMiddleware, without the slash-appending redirect under /api/.

    A redirect to the slashed URL turns a POST into a GET in many clients and answers an API client with
    an HTML-less 301; under /api/ the path is answered as it is (a JSON 404 that names the right URL).
    """

    def should_redirect_with_slash(self, request):
        return not request.path_info.startswith("/api/") and super().should_redirect_with_slash(request)


class NoStoreHealthDataMiddleware:
    """Health data is never kept by a browser's or a proxy's cache (Cache-Control: no-store, private).

    The same paths as the audit (settings.AUDIT_PATH_PATTERNS), plus the signed-in user's own profile.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if request.path.startswith("/api/v1/me/") or is_audited_path(request.path):
            add_never_cache_headers(response)
        return response

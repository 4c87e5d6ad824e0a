"""One error type for business rules, and one JSON error shape for the whole API.

Every 4xx/5xx under /api/ looks like:

    {"code": "validation_error", "message": "…", "fields": {"pain_at_rest": ["…"]}}

`fields` is always there: empty when no individual field was at fault; errors
that concern the whole request are under "non_field_errors".
"""
import logging
import sys

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework_simplejwt.exceptions import InvalidToken

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A business rule said no. Raised by services; shown to the client as JSON."""

    def __init__(self, message: str, *, fields: dict | None = None, status_code: int = 400,
                 code: str | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields
        self.status_code = status_code
        # Field errors read the same whether a serializer or a service found them.
        self.code = code or ("validation_error" if fields else "invalid")


def error_body(*, code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


# (Not a secret: the sentence a client reads when its bearer credential is refused.)
INVALID_TOKEN_MESSAGE = ("The access token is invalid or has expired: refresh it at "  # noqa: S105
                         "/api/v1/auth/token/refresh/, or sign in again.")


def _flatten(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_flatten(d) for d in detail)
    if isinstance(detail, dict):
        return " ".join(_flatten(v) for v in detail.values())
    return str(detail)


def api_exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: turns every exception into the one error shape."""
    if isinstance(exc, ApplicationError):
        return Response(
            error_body(code=exc.code, message=exc.message, fields=exc.fields), status=exc.status_code
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        return Response(
            error_body(code="payload_too_large", message="The request body is too large."),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    elif isinstance(exc, (OperationalError, InterfaceError)):
        logger.exception("database unavailable")
        return Response(
            error_body(code="service_unavailable",
                       message="The service is briefly unavailable. Please try again shortly."),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "5"},
        )
    elif isinstance(exc, DatabaseError):
        logger.exception("database error")
        return Response(
            error_body(code="server_error", message="Something went wrong on our side."),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # unexpected: Django's handler500 answers with JSON under /api/

    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait))

    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(detail, dict):
            fields = detail
        else:
            fields = {"non_field_errors": detail if isinstance(detail, list) else [detail]}
        body = error_body(code="validation_error", message="Some of the data sent is not valid.",
                          fields=fields)
    elif isinstance(exc, exceptions.ParseError):
        body = error_body(code="parse_error", message=_flatten(detail))
    elif isinstance(exc, InvalidToken):
        # simplejwt's detail lists every token class it tried; the client needs one sentence.
        body = error_body(code="token_not_valid", message=INVALID_TOKEN_MESSAGE)
    else:
        code = exc.get_codes() if not isinstance(detail, (list, dict)) else exc.default_code
        body = error_body(code=str(code), message=_flatten(detail))
    return Response(body, status=exc.status_code, headers=headers)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def _with_hint(request, status_code: int, message: str) -> str:
    """A 404 for an API path that exists with a trailing slash says so (API paths are not redirected)."""
    if status_code == 404 and not request.path_info.endswith("/"):
        from django.urls import Resolver404, resolve

        try:
            resolve(request.path_info + "/")
        except Resolver404:
            return message
        return f"{message} API paths end with a slash: {request.path}/"
    return message


def json_or_default(default_view, status_code: int, code: str, message: str):
    """Wrap one of Django's error views: JSON under /api/, the usual page elsewhere."""

    def view(request, *args, **kwargs):
        if _is_api(request) or request.path == "/healthz":
            return JsonResponse(error_body(code=code, message=_with_hint(request, status_code, message)),
                                status=status_code)
        return default_view(request, *args, **kwargs)

    return view


def server_error(request, *args, **kwargs):
    """handler500: a database outage is a 503 the client may retry; anything else a 500.

    Django calls this while handling the exception, so sys.exc_info() names it.
    """
    from django.views import defaults

    exc = sys.exc_info()[1]
    if isinstance(exc, (OperationalError, InterfaceError)):
        body = error_body(code="service_unavailable",
                          message="The service is briefly unavailable. Please try again shortly.")
        response = JsonResponse(body, status=503) if _is_api(request) or request.path == "/healthz" else \
            defaults.server_error(request)
        response.status_code = 503
        response["Retry-After"] = "5"
        return response
    if _is_api(request) or request.path == "/healthz":
        return JsonResponse(error_body(code="server_error", message="Something went wrong on our side."), status=500)
    return defaults.server_error(request)

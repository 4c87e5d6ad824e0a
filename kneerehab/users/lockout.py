from django.http import JsonResponse

from kneerehab.errors import error_body


def lockout_response(request, credentials, *args, **kwargs):
    """What django-axes answers once an account is locked after repeated failed logins."""
    return JsonResponse(
        error_body(
            code="locked_out",
            message="Too many failed sign-in attempts. The account is locked for a while; try again later.",
        ),
        status=429,
    )

from django.http import JsonResponse
from django.shortcuts import render

from kneerehab.errors import error_body

MESSAGE = "Too many failed sign-in attempts. The account is locked for a while; try again later."


def lockout_response(request, credentials, *args, **kwargs):
    """What django-axes answers once an account is locked: JSON for the API, a page for the browser."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="locked_out", message=MESSAGE), status=429)
    return render(request, "registration/locked_out.html", status=429)

"""Sign-in lockout (django-axes), per client address and per account.

Two limits hold together:

- per account **and** client address (axes' own): AXES_FAILURE_LIMIT failures lock that pair for
  AXES_COOLOFF_TIME. One address can lock an account for itself only: the owner signing in from
  elsewhere is not affected. The address is the client's as kneerehab.proxies tells it (NUM_PROXIES),
  so behind the proxy clients are still told apart, and a client-sent X-Forwarded-For changes nothing.
- per account, whatever the addresses (ours): once the account has AXES_USERNAME_FAILURE_LIMIT recent
  failures (more than a few addresses' worth), each attempt must wait AXES_USERNAME_BACKOFF_SECONDS after
  the last failure, doubling with every further failure, up to the cool-off time. Guessing one password
  from many addresses stays slow; the owner waits at most the cool-off time.
"""
from datetime import timedelta

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone

from kneerehab.errors import error_body

MESSAGE = "Too many failed sign-in attempts. The account is locked for a while; try again later."


def account_backoff_seconds(username: str | None, *, now=None) -> int:
    """How long the account must wait before its next sign-in attempt (0: it may try now)."""
    if not username:
        return 0
    now = now or timezone.now()
    cool_off = get_cool_off() or timedelta(minutes=15)
    recent = AccessAttempt.objects.filter(username=username, attempt_time__gte=now - cool_off).aggregate(
        failures=Sum("failures_since_start"), last=Max("attempt_time"))
    excess = (recent["failures"] or 0) - settings.AXES_USERNAME_FAILURE_LIMIT
    if excess < 0:
        return 0
    wait = min(settings.AXES_USERNAME_BACKOFF_SECONDS * 2 ** min(excess, 32), cool_off.total_seconds())
    return max(0, int((recent["last"] + timedelta(seconds=wait) - now).total_seconds() + 0.999))


def _address_lock_seconds(request, username: str | None, *, now) -> int:
    cool_off = get_cool_off(request) or timedelta(minutes=15)
    last = AccessAttempt.objects.filter(username=username, ip_address=getattr(request, "axes_ip_address", None)) \
        .aggregate(last=Max("attempt_time"))["last"]
    return max(0, int((last + cool_off - now).total_seconds() + 0.999)) if last else int(cool_off.total_seconds())


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler, plus the per-account backoff."""

    def is_locked(self, request, credentials=None) -> bool:
        return super().is_locked(request, credentials) or account_backoff_seconds(
            get_client_username(request, credentials)) > 0


def retry_after_seconds(request, credentials) -> int:
    username = get_client_username(request, credentials)
    now = timezone.now()
    return account_backoff_seconds(username, now=now) or _address_lock_seconds(request, username, now=now)


def lockout_response(request, credentials, *args, **kwargs):
    """What django-axes answers once an account is locked: JSON for the API, a page for the browser."""
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(code="locked_out", message=MESSAGE), status=429)
    else:
        response = render(request, "registration/locked_out.html", status=429)
    response["Retry-After"] = str(max(1, retry_after_seconds(request, credentials)))
    return response

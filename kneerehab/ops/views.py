from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import background_status, broker_status, database_status


@never_cache
@require_GET
def healthz(request):
    """200 when all is well; 503 when the database or broker is down, or when background work is late.

    `status` is `ok`, `unavailable` (database or broker unreachable) or `degraded` (reachable, but the
    worker heartbeat or beat's last run is older than its threshold, or an urgent email or push has
    waited longer than its threshold). Anyone (a load balancer) learns only the status: which part
    failed, the broker's transport and how late background work is describe the deployment's insides,
    for staff, and for everyone when HEALTHZ_DETAILS is on (a probe on a private network).
    """
    checks = {"database": database_status(), "broker": broker_status()}
    reachable = all(check["ok"] for check in checks.values())
    background = background_status() if checks["database"]["ok"] else None
    if not reachable:
        status = "unavailable"
    elif not background["ok"]:
        status = "degraded"
    else:
        status = "ok"
    body = {"status": status}
    if settings.HEALTHZ_DETAILS or _is_staff(request):
        body["checks"] = checks
        body["failing"] = [name for name, check in checks.items() if not check["ok"]]
        if background is not None:
            body["background"] = background
    return JsonResponse(body, status=200 if status == "ok" else 503)


def _is_staff(request) -> bool:
    try:
        return request.user.is_authenticated and request.user.is_staff
    except Exception:  # reading the session needs the database, which may be the part that is down
        return False

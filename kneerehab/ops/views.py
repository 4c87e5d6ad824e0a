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
    waited longer than its threshold). Which background part is late, and by how much, is shown to
    staff only.
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
    body = {
        "status": status,
        "checks": checks,
        "failing": [name for name, check in checks.items() if not check["ok"]],
    }
    if background is not None and request.user.is_authenticated and request.user.is_staff:
        body["background"] = background
    return JsonResponse(body, status=200 if status == "ok" else 503)

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .selectors import broker_status, database_status, last_worker_heartbeat


@never_cache
@require_GET
def healthz(request):
    """200 when the database and the broker both answer, 503 naming the failing part otherwise."""
    checks = {"database": database_status(), "broker": broker_status()}
    healthy = all(check["ok"] for check in checks.values())
    heartbeat = last_worker_heartbeat() if checks["database"]["ok"] else None
    body = {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
        "failing": [name for name, check in checks.items() if not check["ok"]],
        "worker_last_seen": heartbeat.isoformat() if heartbeat else None,
    }
    return JsonResponse(body, status=200 if healthy else 503)

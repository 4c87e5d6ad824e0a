"""Reachability of the parts the service depends on, and whether background work keeps up."""
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.db.models import Max, Min
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from kneerehab.celery import app as celery_app

from .models import WorkerHeartbeat


def database_status() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # any failure means "not reachable" to a health probe
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True}


def broker_status() -> dict:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.BROKER_HEALTH_TIMEOUT_SECONDS)
            transport = conn.transport_cls
    except Exception as exc:  # any failure means "not reachable" to a health probe
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "transport": transport}


def last_worker_heartbeat():
    try:
        return WorkerHeartbeat.objects.aggregate(last=Max("seen_at"))["last"]
    except Exception:  # the database may be the part that is down
        return None


def last_beat_run() -> datetime | None:
    """When beat last sent a periodic task (django-celery-beat saves it after each one: CELERY_BEAT_SYNC_EVERY)."""
    return PeriodicTask.objects.filter(enabled=True).aggregate(last=Max("last_run_at"))["last"]


def oldest_pending_urgent_delivery() -> datetime | None:
    """When the notification of the oldest email or push of an alert, escalation or prompt still unsent was made."""
    from kneerehab.notifications.models import URGENT_KINDS, ChannelDelivery, ChannelDeliveryStatus

    return (ChannelDelivery.objects.filter(status=ChannelDeliveryStatus.PENDING, notification__kind__in=URGENT_KINDS)
            .aggregate(oldest=Min("notification__created_at"))["oldest"])


def _age_check(moment: datetime | None, *, now: datetime, max_age: int, missing_ok: bool) -> dict:
    age = round((now - moment).total_seconds()) if moment is not None else None
    ok = missing_ok if age is None else age <= max_age
    return {"ok": ok, "at": moment.isoformat() if moment else None, "age_seconds": age, "max_age_seconds": max_age}


def background_status(*, now: datetime | None = None) -> dict:
    """Whether background work keeps up: a worker heartbeat, beat's last run, the oldest unsent urgent delivery.

    Each is compared with its threshold (HEALTH_*_MAX_AGE_SECONDS). A worker or beat never seen counts as
    late; no pending urgent delivery is fine.
    """
    now = now or timezone.now()
    checks = {
        "worker": _age_check(last_worker_heartbeat(), now=now, missing_ok=False,
                             max_age=settings.HEALTH_WORKER_MAX_AGE_SECONDS),
        "beat": _age_check(last_beat_run(), now=now, missing_ok=False,
                           max_age=settings.HEALTH_BEAT_MAX_AGE_SECONDS),
        "urgent_deliveries": _age_check(oldest_pending_urgent_delivery(), now=now, missing_ok=True,
                                        max_age=settings.HEALTH_URGENT_DELIVERY_MAX_AGE_SECONDS),
    }
    return {"ok": all(check["ok"] for check in checks.values()), "checks": checks,
            "late": [name for name, check in checks.items() if not check["ok"]]}

"""Reachability of the parts the service depends on."""
from django.conf import settings
from django.db import connection
from django.db.models import Max

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

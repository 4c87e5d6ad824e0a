from celery import shared_task

from . import services


@shared_task
def escalate_overdue_alerts() -> int:
    """Run by beat every minute; safe to run twice at once (the service claims alerts with SKIP LOCKED)."""
    return services.alerts_escalate()

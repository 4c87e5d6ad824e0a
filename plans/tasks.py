"""Celery tasks for reminders: thin wrappers around plans.reminders."""
from celery import shared_task
from django.utils import timezone

from . import reminders


@shared_task
def dispatch_reminders() -> dict:
    """Run by beat every minute (REMINDER_DISPATCH_INTERVAL_SECONDS)."""
    return reminders.dispatch_due_reminders(now=timezone.now()).as_dict()


@shared_task(acks_late=True)
def send_reminder(delivery_id: int) -> str:
    """Decide about and send one claimed reminder row; a repeat is harmless."""
    return reminders.deliver_reminder(delivery_id=delivery_id, now=timezone.now()).status

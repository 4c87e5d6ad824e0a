"""Celery tasks of plans: thin wrappers around plans.reminders and plans.services."""
from collections import Counter

from celery import shared_task
from django.utils import timezone

from . import reminders, services


@shared_task
def dispatch_reminders() -> dict:
    """Run by beat every minute (REMINDER_DISPATCH_INTERVAL_SECONDS)."""
    return reminders.dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay).as_dict()


@shared_task
def send_reminder_batch(delivery_ids: list[int]) -> dict:
    """Decide about and send a claimed batch of reminder rows at once; a repeat is harmless. Counts by outcome."""
    outcomes = reminders.deliver_reminders(ids=delivery_ids, now=timezone.now())
    return dict(Counter(outcome.status for outcome in outcomes.values()))


@shared_task
def send_reminder(delivery_id: int) -> str:
    """Decide about and send one claimed reminder row; a repeat is harmless.

    The dispatcher queues batches (send_reminder_batch); this stays for messages queued before that.
    """
    return reminders.deliver_reminder(delivery_id=delivery_id, now=timezone.now()).status


@shared_task
def evaluate_due_progressions() -> int:
    """Run by beat (PROGRESSION_SWEEP_INTERVAL_SECONDS): evaluate the plans whose re-evaluation is due."""
    return services.plans_evaluate_due(now=timezone.now())


@shared_task
def evaluate_patient_progression(patient_id: int) -> int:
    """Re-evaluate a patient's active plans, as of now; returns how many were evaluated.

    Check-ins no longer queue this (they request a coalesced evaluation); it stays for messages queued before.

    Safe to run twice or late: each plan is evaluated under its row lock from what is stored when it runs.
    """
    return services.plans_evaluate_for_patient(patient_id=patient_id)


@shared_task
def evaluate_plan_progression(plan_id: int) -> str:
    """Re-evaluate one plan, as of now; returns the suggestion ("" if not active).

    Exercise logs no longer queue this (they request a coalesced evaluation); it stays for messages queued before.
    """
    evaluation = services.plan_reevaluate(plan_id=plan_id)
    return evaluation.suggestion if evaluation is not None else ""

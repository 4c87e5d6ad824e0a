"""Re-evaluate progression when the tracker records something — after the record is committed, in a worker.

The tracker sends its signals inside the transaction that stores the record, so these receivers only
schedule work: on commit, a Celery task re-evaluates the plan(s) as of the moment it runs. The patient's
answer (the check-in's screening prompt) never depended on progression, so nothing the patient sees waits
on it, and a check-in request no longer pays for the evaluation. The tasks are idempotent (each plan is
evaluated under its row lock from what is stored), so a repeat or a late run is harmless.

If the broker is unreachable the task is not queued and the evaluation is skipped until the patient's next
check-in or log (or the physiotherapist's next change to the plan): a suggestion arrives later, no record
is lost, and nothing is moved without the evidence that is stored by then.
"""
import logging
from functools import partial

from django.db import transaction
from django.dispatch import receiver

from tracker.signals import checkin_recorded, exercise_logged

from .tasks import evaluate_patient_progression, evaluate_plan_progression

logger = logging.getLogger(__name__)


def _enqueue(task, record: str, *args) -> None:
    try:
        task.delay(*args)
    except Exception:  # a broker outage or (with eager tasks) a failing evaluation: the record is stored
        logger.warning("could not re-evaluate progression after %s", record, exc_info=True)


@receiver(checkin_recorded, dispatch_uid="plans.checkin_recorded")
def on_checkin_recorded(sender, checkin, **kwargs):
    transaction.on_commit(partial(_enqueue, evaluate_patient_progression, f"check-in {checkin.pk}",
                                  checkin.patient_id))


@receiver(exercise_logged, dispatch_uid="plans.exercise_logged")
def on_exercise_logged(sender, log, **kwargs):
    # The log's exercise belongs to one plan; the task checks that the plan is still active.
    plan_id = log.plan_exercise.plan_id
    transaction.on_commit(partial(_enqueue, evaluate_plan_progression, f"exercise log {log.pk}", plan_id))

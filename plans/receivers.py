"""Re-evaluate progression when the tracker records something.

The tracker sends its signals inside the transaction that stores the record. The evaluation runs in a
savepoint and its failure is logged, never raised: a bug here must not lose a patient's check-in or log.
"""
import logging

from django.db import transaction
from django.dispatch import receiver

from tracker.signals import checkin_recorded, exercise_logged

from .models import Plan, PlanStatus
from .services import plan_evaluate_progression, plans_evaluate_for_patient

logger = logging.getLogger(__name__)


@receiver(checkin_recorded, dispatch_uid="plans.checkin_recorded")
def on_checkin_recorded(sender, checkin, **kwargs):
    try:
        with transaction.atomic():
            plans_evaluate_for_patient(patient_id=checkin.patient_id)
    except Exception:
        logger.exception("progression evaluation failed after check-in %s", checkin.pk)


@receiver(exercise_logged, dispatch_uid="plans.exercise_logged")
def on_exercise_logged(sender, log, **kwargs):
    try:
        with transaction.atomic():
            plan = Plan.objects.filter(exercises__id=log.plan_exercise_id, status=PlanStatus.ACTIVE).first()
            if plan is not None:
                plan_evaluate_progression(plan=plan)
    except Exception:
        logger.exception("progression evaluation failed after exercise log %s", log.pk)

"""Ask for progression to be re-evaluated when the tracker records something — coalesced, not per record.

The tracker sends its signals inside the transaction that stores the record. These receivers only
store a request (a `ProgressionDue` row per plan, due after PROGRESSION_DEBOUNCE_SECONDS), in that same
transaction: a burst of check-ins and logs makes one pending evaluation per plan, not one task each,
and nothing is published to the broker from the request. Beat runs the progression sweep, which claims
due requests and evaluates each plan once, as of that moment (plans.services.plans_evaluate_due).

The patient's answer (the check-in's screening prompt) never depended on progression, so nothing the
patient sees waits on it. The request commits or rolls back with the record, so a stored record always
has its evaluation coming, whatever the broker is doing.
"""
from django.dispatch import receiver

from tracker.signals import checkin_recorded, exercise_logged

from .services import progression_request, progression_request_for_patient


@receiver(checkin_recorded, dispatch_uid="plans.checkin_recorded")
def on_checkin_recorded(sender, checkin, **kwargs):
    progression_request_for_patient(patient_id=checkin.patient_id)


@receiver(exercise_logged, dispatch_uid="plans.exercise_logged")
def on_exercise_logged(sender, log, **kwargs):
    # The log's exercise belongs to one plan; the sweep checks that the plan is still active.
    progression_request(plan_id=log.plan_exercise.plan_id)

"""A patient's right to their data: a full JSON export, and erasure on request."""
from django.db import transaction
from django.utils import timezone

from kneerehab.audit.models import AuditAction
from kneerehab.audit.services import audit_record
from kneerehab.errors import ApplicationError
from kneerehab.notifications.models import Device, Notification
from plans.models import Plan, SafetyHold
from tracker.models import Alert, CheckIn, ExerciseLog

from .models import User

CHECKIN_FIELDS = [
    "id", "client_id", "recorded_at", "created_at", "pain_at_rest", "pain_during_activity", "swelling",
    "fever", "trouble_breathing", "cannot_bear_weight", "sudden_swelling_or_warmth", "joint_shape_changed",
    "calf_pain", "leg_swelling", "red_skin", "swollen_veins", "history_of_clots", "limits_daily_activities",
    "knee_locking_or_giving_way", "notes", "prompt", "plan_id",
]


def patient_data_export(*, patient: User, request=None) -> dict:
    """Everything kneerehab holds about a patient, as plain JSON-ready data."""
    if not patient.is_patient:
        raise ApplicationError("Only a patient's own health data can be exported here.", status_code=403,
                               code="permission_denied")
    plans = []
    for plan in Plan.objects.filter(patient=patient).select_related("condition", "physiotherapist").prefetch_related(
        "exercises__exercise", "phase_changes", "safety_holds"
    ):
        plans.append({
            "id": plan.id, "condition": plan.condition.slug, "physiotherapist": plan.physiotherapist.username,
            "start_date": plan.start_date, "status": plan.status, "current_phase": plan.current_phase,
            "reminder_times": plan.reminder_times, "created_at": plan.created_at,
            "surgery_date": plan.surgery_date, "clot_risk_factors": plan.clot_risk_factors,
            "immunosuppressed": plan.immunosuppressed,
            "safety_holds": [{"level": h.level, "reasons": h.reasons, "advice": h.advice, "created_at": h.created_at,
                              "cleared_at": h.cleared_at, "clear_note": h.clear_note}
                             for h in plan.safety_holds.all()],
            "exercises": [{"id": pe.id, "phase": pe.phase, "exercise": pe.exercise.slug, **pe.dose()}
                          for pe in plan.exercises.all()],
            "phase_history": [{"kind": c.kind, "from_phase": c.from_phase, "to_phase": c.to_phase,
                               "reason": c.reason, "created_at": c.created_at} for c in plan.phase_changes.all()],
        })
    data = {
        "exported_at": timezone.now(),
        "profile": {
            "id": patient.id, "username": patient.username, "email": patient.email,
            "first_name": patient.first_name, "last_name": patient.last_name, "timezone": patient.timezone,
            "country": patient.country, "phone": patient.phone,
            "date_joined": patient.date_joined, "reminders_enabled": patient.reminders_enabled,
            "quiet_hours_start": patient.quiet_hours_start, "quiet_hours_end": patient.quiet_hours_end,
            "physiotherapists": list(patient.physiotherapists.values_list("username", flat=True)),
        },
        "plans": plans,
        "checkins": list(CheckIn.objects.filter(patient=patient).order_by("recorded_at").values(*CHECKIN_FIELDS)),
        "exercise_logs": list(
            ExerciseLog.objects.filter(patient=patient).order_by("date", "id").values(
                "id", "client_id", "plan_exercise_id", "plan_exercise__exercise__slug", "date", "sets_done",
                "reps_done", "pain_during", "notes", "prompt", "created_at")
        ),
        "alerts": list(Alert.objects.filter(patient=patient).order_by("created_at").values(
            "id", "checkin_id", "exercise_log_id", "level", "reasons", "status", "acknowledged_at", "outcome",
            "outcome_note", "occurrences", "created_at")),
        "notifications": list(Notification.objects.filter(recipient=patient).order_by("created_at").values(
            "id", "kind", "title", "body", "created_at", "read_at")),
        "devices": list(Device.objects.filter(user=patient).values("platform", "created_at")),
    }
    audit_record(user=patient, action=AuditAction.EXPORT, resource="privacy:export", request=request,
                 subject_patient_id=patient.id)
    return data


@transaction.atomic
def patient_erase(*, patient: User, password: str, request=None) -> dict:
    """Erase a patient's health data and anonymise the account; the audit keeps that it happened.

    Plans are kept as anonymised rows (condition and dates only) so that a
    physiotherapist's caseload history stays consistent; everything the
    patient recorded is deleted.
    """
    if not patient.is_patient:
        raise ApplicationError("Only a patient account can be erased here.", status_code=403,
                               code="permission_denied")
    if not patient.check_password(password):
        raise ApplicationError("The password is not correct.", fields={"password": ["The password is not correct."]})
    counts = {
        "checkins": CheckIn.objects.filter(patient=patient).delete()[0],
        "exercise_logs": ExerciseLog.objects.filter(patient=patient).delete()[0],
        "alerts": Alert.objects.filter(patient=patient).delete()[0],
        "notifications": Notification.objects.filter(recipient=patient).delete()[0],
        "devices": Device.objects.filter(user=patient).delete()[0],
        "safety_holds": SafetyHold.objects.filter(plan__patient=patient).delete()[0],
    }
    # Past versions kept by the change history would otherwise still hold the data.
    for model in (CheckIn, ExerciseLog, Alert):
        model.history.filter(patient_id=patient.id).delete()
    Plan.objects.filter(patient=patient, status__in=["active", "paused"]).update(status="cancelled")
    # The plan's clinical context is health data too, in the plan and in its past versions.
    context = {"surgery_date": None, "clot_risk_factors": [], "immunosuppressed": False}
    Plan.objects.filter(patient=patient).update(**context)
    Plan.history.filter(patient_id=patient.id).update(**context)
    original_id = patient.id
    patient.username = f"erased-{original_id}"
    patient.email = ""
    patient.first_name = ""
    patient.last_name = ""
    patient.phone = ""
    patient.country = ""
    patient.is_active = False
    patient.set_unusable_password()
    patient.save()
    audit_record(user=patient, action=AuditAction.ERASE, resource="privacy:erase", request=request,
                 subject_patient_id=original_id, detail=counts)
    return counts

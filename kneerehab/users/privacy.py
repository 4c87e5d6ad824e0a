"""A patient's right to their data: a full JSON export, and erasure on request."""
import re
from functools import reduce
from operator import or_
from urllib.parse import quote, quote_plus

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from kneerehab.audit.models import AuditAction, AuditEvent
from kneerehab.audit.services import audit_record
from kneerehab.errors import ApplicationError
from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from plans.models import PhaseChange, Plan, PlanExercise, ReminderDelivery, SafetyHold
from tracker.models import Alert, CheckIn, ExerciseLog

from .lockout import MESSAGE as LOCKED_OUT_MESSAGE
from .models import CaseloadLink, User

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


def _password_confirmed(*, patient: User, password: str, request) -> bool:
    """Check the password as a sign-in would, through django-axes: failures count towards the lockout."""
    if request is None:
        return patient.check_password(password)
    http_request = getattr(request, "_request", request)  # axes flags the Django request, not DRF's wrapper
    credentials = {"username": patient.get_username()}
    if not AxesProxyHandler.is_allowed(http_request, credentials=credentials):
        raise ApplicationError(LOCKED_OUT_MESSAGE, status_code=429, code="locked_out")
    confirmed = authenticate(http_request, username=patient.get_username(), password=password)
    if getattr(http_request, "axes_locked_out", False):
        raise ApplicationError(LOCKED_OUT_MESSAGE, status_code=429, code="locked_out")
    return confirmed is not None and confirmed.pk == patient.pk


def _redact(text: str, names: list[str], replacement: str) -> str:
    """`text` with every whole occurrence of one of `names` (also URL-encoded) replaced."""
    for name in names:
        for form in {name, quote(name), quote_plus(name), quote(name, safe="")}:
            text = re.sub(rf"(?<![\w.@+-]){re.escape(form)}(?![\w.@+-])", replacement, text, flags=re.IGNORECASE)
    return text


def _scrub_audit_trail(*, patient: User, names: list[str], replacement: str) -> None:
    """The audit keeps who read or changed what and when, without the erased patient's name in it."""
    AuditEvent.objects.filter(Q(user=patient) | Q(username__in=names)).update(username=replacement)
    mentions = Q()
    for name in names:
        for form in {name, quote(name), quote_plus(name), quote(name, safe="")}:
            mentions |= Q(query__icontains=form) | Q(path__icontains=form)
    for event in AuditEvent.objects.filter(mentions).only("id", "query", "path"):
        AuditEvent.objects.filter(pk=event.pk).update(
            query=_redact(event.query, names, replacement), path=_redact(event.path, names, replacement))
    # The admin's log names objects by their str(), which for caseload links and plans names the patient.
    logged = reduce(or_, (Q(object_repr__icontains=n) | Q(change_message__icontains=n) for n in names))
    for entry in LogEntry.objects.filter(logged):
        LogEntry.objects.filter(pk=entry.pk).update(object_repr=_redact(entry.object_repr, names, replacement),
                                                    change_message=_redact(entry.change_message, names, replacement))


def patient_erase(*, patient: User, password: str, request=None) -> dict:
    """Erase a patient's health data and anonymise the account; the audit keeps that it happened.

    Plans are kept as anonymised rows (condition, dates and phases; no reasons) so that a
    physiotherapist's caseload history stays consistent; everything the patient recorded, every
    notification about them (in anyone's inbox, with its email and push records), their past
    versions in the change history, and their name in the audit trail are removed. The account
    leaves every caseload, cannot sign in, and its tokens stop working.
    """
    if not patient.is_patient:
        raise ApplicationError("Only a patient account can be erased here.", status_code=403,
                               code="permission_denied")
    if not _password_confirmed(patient=patient, password=password, request=request):
        raise ApplicationError("The password is not correct.", fields={"password": ["The password is not correct."]})
    original_id = patient.pk
    counts = _erase(patient=patient)
    # The caller's copy (request.user) too: the request's own audit row must not carry the old name.
    patient.refresh_from_db()
    audit_record(user=patient, action=AuditAction.ERASE, resource="privacy:erase", request=request,
                 subject_patient_id=original_id, detail=counts)
    session = getattr(request, "session", None)
    if session is not None and session.session_key:
        session.flush()
    return counts


@transaction.atomic
def _erase(*, patient: User) -> dict:
    patient = User.objects.select_for_update().get(pk=patient.pk)
    original_id = patient.id
    replacement = f"erased-{original_id}"
    # What identifies the patient in text others wrote or searched for.
    names = [n for n in (patient.username, patient.email, patient.phone, patient.get_full_name()) if n]

    alert_ids = list(Alert.objects.filter(patient=patient).values_list("id", flat=True))
    checkin_ids = list(CheckIn.objects.filter(patient=patient).values_list("id", flat=True))
    plan_ids = list(Plan.objects.filter(patient=patient).values_list("id", flat=True))
    # Notifications sent before they named their subject are found by the cause in their dedupe key.
    caused = ([f"alert:{pk}" for pk in alert_ids] + [f"escalation:{pk}" for pk in alert_ids]
              + [f"prompt:{pk}" for pk in checkin_ids])
    notifications = Notification.objects.filter(
        Q(recipient=patient) | Q(subject_patient=patient) | Q(dedupe_key__in=caused))
    counts = {
        "checkins": len(checkin_ids),
        "exercise_logs": ExerciseLog.objects.filter(patient=patient).count(),
        "alerts": len(alert_ids),
        "notifications": notifications.count(),
        "devices": Device.objects.filter(user=patient).count(),
        "reminders": ReminderDelivery.objects.filter(plan_id__in=plan_ids).count(),
        "caseload_links": CaseloadLink.objects.filter(patient=patient).count(),
        "safety_holds": SafetyHold.objects.filter(plan_id__in=plan_ids).count(),
    }
    # Children first, so that each count is of its own rows (a cascade would hide them in another's).
    PushRecord.objects.filter(Q(device__user=patient) | Q(notification__in=notifications)).delete()
    ChannelDelivery.objects.filter(notification__in=notifications).delete()
    notifications.delete()
    Device.objects.filter(user=patient).delete()
    Alert.objects.filter(pk__in=alert_ids).delete()
    ExerciseLog.objects.filter(patient=patient).delete()
    CheckIn.objects.filter(pk__in=checkin_ids).delete()
    ReminderDelivery.objects.filter(plan_id__in=plan_ids).delete()
    SafetyHold.objects.filter(plan_id__in=plan_ids).delete()
    CaseloadLink.objects.filter(patient=patient).delete()

    # Past versions kept by the change history would otherwise still hold the data.
    for model in (CheckIn, ExerciseLog, Alert, Plan):
        model.history.filter(patient_id=original_id).delete()
    PlanExercise.history.filter(plan_id__in=plan_ids).delete()
    PhaseChange.objects.filter(plan_id__in=plan_ids).update(reason="")
    Plan.objects.filter(pk__in=plan_ids, status__in=["active", "paused"]).update(status="cancelled")
    # The plan keeps its condition, dates and phases; its clinical context is the patient's health data.
    Plan.objects.filter(pk__in=plan_ids).update(progression="", progression_reasons=[],
                                                progression_evaluated_at=None, surgery_date=None,
                                                clot_risk_factors=[], immunosuppressed=False)

    _scrub_audit_trail(patient=patient, names=names, replacement=replacement)
    # Sign-in records of django-axes name the account (as typed: any case).
    typed = reduce(or_, (Q(username__iexact=n) for n in names))
    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        model.objects.filter(typed).delete()

    patient.username = replacement
    patient.email = ""
    patient.first_name = ""
    patient.last_name = ""
    patient.phone = ""
    patient.country = ""
    patient.timezone = "UTC"
    patient.reminders_enabled = False
    patient.quiet_hours_start = patient.quiet_hours_end = None
    patient.is_active = False
    patient.erased_at = timezone.now()
    patient.set_unusable_password()  # with is_active, moves token_version on: every JWT stops working
    patient.save()
    return counts

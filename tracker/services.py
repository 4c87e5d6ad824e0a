"""Writes of the tracker: check-ins (screened as they are stored), exercise logs, alerts and their escalation."""
import dataclasses
import hashlib
import json
import logging
import uuid
from datetime import UTC, date, datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from kneerehab.errors import ApplicationError
from kneerehab.notifications.models import Notification, NotificationKind
from kneerehab.notifications.services import notify
from kneerehab.users.models import User
from plans.models import PlanExercise, PlanStatus

from .models import SYMPTOM_FLAGS, Alert, AlertStatus, CheckIn, ExerciseLog, PromptLevel, Swelling
from .screening import prompt_message, screen
from .selectors import running_plans, screening_context
from .signals import checkin_recorded, exercise_logged

logger = logging.getLogger(__name__)

# What a check-in request may carry besides its keys (client_id, Idempotency-Key).
CHECKIN_FIELDS = ("pain_at_rest", "pain_during_activity", "morning_pain", "swelling", *SYMPTOM_FLAGS, "notes")
CHECKIN_DEFAULTS = {"swelling": Swelling.NONE, "notes": "", "morning_pain": None,
                    **{flag: False for flag in SYMPTOM_FLAGS}}

ESCALATING_LEVELS = (PromptLevel.URGENT, PromptLevel.EMERGENCY)


def _send_robust(signal, **kwargs) -> None:
    """Let listeners (plan progression) react inside our transaction without being able to lose the record.

    The savepoint undoes whatever a failing listener wrote; the check-in, its
    prompt and its alerts stay. A failure is logged loudly.
    """
    try:
        with transaction.atomic():
            signal.send(**kwargs)
    except Exception:
        logger.exception("a listener of %s failed; the record was stored anyway", kwargs)


# --- check-ins ---------------------------------------------------------------------

# The fields of the first check-in version. Fields added since count in the fingerprint only when they
# differ from their default, so a check-in stored before they existed still matches its replay.
FINGERPRINT_V1_FIELDS = (
    "pain_at_rest", "pain_during_activity", "swelling", "fever", "trouble_breathing", "cannot_bear_weight",
    "sudden_swelling_or_warmth", "joint_shape_changed", "calf_pain", "leg_swelling", "red_skin", "swollen_veins",
    "history_of_clots", "limits_daily_activities", "knee_locking_or_giving_way", "notes",
)


def checkin_fingerprint(data: dict) -> str:
    """A hash of the check-in a request describes, so a replay can be told from a different request.

    Absent fields count as their defaults (sending `"fever": false` or leaving it
    out is the same check-in); `recorded_at` counts only when the client sent it.
    """
    canonical = {name: data.get(name, CHECKIN_DEFAULTS.get(name)) for name in FINGERPRINT_V1_FIELDS}
    canonical.update({name: data[name] for name in CHECKIN_FIELDS
                      if name not in canonical and data.get(name, CHECKIN_DEFAULTS.get(name))
                      != CHECKIN_DEFAULTS.get(name)})
    if data.get("recorded_at") is not None:
        canonical["recorded_at"] = data["recorded_at"].astimezone(UTC).isoformat()
    encoded = json.dumps(canonical, sort_keys=True, separators=(",", ":"), default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def _checkin_replay(*, patient: User, client_id: uuid.UUID | None, idempotency_key: str | None,
                    fingerprint: str) -> CheckIn | None:
    """The check-in an earlier request with the same key stored, if any; a different body is refused (422)."""
    keys = Q()
    if client_id is not None:
        keys |= Q(client_id=client_id)
    if idempotency_key is not None:
        keys |= Q(idempotency_key=idempotency_key)
    if not keys:
        return None
    found = list(CheckIn.objects.filter(Q(patient=patient) & keys)[:2])
    if not found:
        return None
    if len(found) > 1:
        raise ApplicationError(
            "client_id and Idempotency-Key name two different earlier check-ins; send one key per check-in.",
            status_code=422, code="idempotency_key_mismatch",
        )
    stored = found[0]
    if stored.request_fingerprint != fingerprint:
        raise ApplicationError(
            "This client_id or Idempotency-Key was already used for a different check-in. "
            "Use a new key for a new check-in.",
            status_code=422, code="idempotency_key_reused",
        )
    return stored


def checkin_create(*, patient: User, data: dict, idempotency_key: str | None = None) -> tuple[CheckIn, bool]:
    """Store and screen a check-in; return it and whether it is new.

    The same `client_id` or `Idempotency-Key` again returns the first check-in
    (created False) and stores nothing; the same key with a different body is
    refused (422). Replays are rare, so instead of looking for one first, the
    unique constraints on the keys catch them when the row is inserted; the
    check-in is then read back. Two requests racing with one key are settled the
    same way: the loser reads the winner's check-in, or gets 409 if it cannot be
    read yet.
    """
    if not patient.is_patient:
        raise ApplicationError("Only patients record check-ins.", status_code=403, code="permission_denied")
    client_id = data.get("client_id")
    fingerprint = checkin_fingerprint(data)
    try:
        checkin = _checkin_store(patient=patient, data=data, client_id=client_id,
                                 idempotency_key=idempotency_key, fingerprint=fingerprint)
    except IntegrityError:
        replay = _checkin_replay(patient=patient, client_id=client_id, idempotency_key=idempotency_key,
                                 fingerprint=fingerprint)
        if replay is not None:
            return replay, False
        # The other request holds the key but its check-in cannot be read yet.
        raise ApplicationError(
            "A check-in with this key is being stored by another request. Retry shortly.",
            status_code=409, code="idempotency_conflict",
        ) from None
    return checkin, True


@transaction.atomic
def _checkin_store(*, patient: User, data: dict, client_id: uuid.UUID | None, idempotency_key: str | None,
                   fingerprint: str) -> CheckIn:
    recorded_at = data.get("recorded_at") or timezone.now()
    plans = running_plans(patient=patient, as_of=recorded_at)
    checkin = CheckIn(
        patient=patient,
        plan_id=plans[0].plan_id if plans else None,
        idempotency_key=idempotency_key,
        request_fingerprint=fingerprint,
        recorded_at=recorded_at,
        **{name: data.get(name, CHECKIN_DEFAULTS.get(name)) for name in CHECKIN_FIELDS},
    )
    if client_id is not None:
        checkin.client_id = client_id
    # Whether a physiotherapist will be told changes only the wording of a prompt above `none`, so most
    # check-ins (nothing found) never read the caseload; the others read it once and reword the prompt.
    context = screening_context(patient=patient, recorded_at=recorded_at, plans=plans, has_physiotherapist=False)
    prompt = screen(checkin, context)
    physiotherapists = []
    if prompt.level != PromptLevel.NONE:
        physiotherapists = list(patient.physiotherapists.filter(is_active=True))
        prompt = dataclasses.replace(
            prompt, message=prompt_message(prompt.level, has_physiotherapist=bool(physiotherapists)))
    checkin.prompt_level = prompt.level
    checkin.prompt = prompt.as_dict()
    # With a replayed key this insert fails on a unique constraint and the transaction rolls back.
    checkin.save()
    for physiotherapist in physiotherapists:
        alert_raise(checkin=checkin, physiotherapist=physiotherapist, new_checkin=True)
    if prompt.level != PromptLevel.NONE:
        _notify_patient_of_prompt(checkin)
    _send_robust(checkin_recorded, sender=CheckIn, checkin=checkin)
    return checkin


def _display_name(user: User) -> str:
    return user.get_full_name() or user.username


def _reasons_text(reasons: list[dict]) -> str:
    return "\n".join(f"- {reason['message']}" for reason in reasons)


def _notify_patient_of_prompt(checkin: CheckIn) -> Notification:
    """The prompt goes to the patient's inbox as well, so it can be found again; the app showed it already."""
    prompt = checkin.prompt
    return notify(
        recipient=checkin.patient,
        kind=NotificationKind.PROMPT,
        title=PromptLevel(checkin.prompt_level).label,
        body=f"{prompt['message']}\n\n{_reasons_text(prompt['reasons'])}",
        link=f"/api/v1/checkins/{checkin.pk}/",
        dedupe_key=f"prompt:{checkin.pk}",
        channels_wanted=(),
    )


ALERT_TITLES = {
    PromptLevel.EMERGENCY: "Emergency",
    PromptLevel.URGENT: "Urgent",
    PromptLevel.SEE_CLINICIAN: "Needs a visit",
}


def alert_raise(*, checkin: CheckIn, physiotherapist: User, new_checkin: bool = False) -> Alert:
    """One alert per check-in and physiotherapist, in their inbox at once; email (and push) after commit.

    `see_clinician` is lower priority: inbox and email, no push to interrupt the physiotherapist.
    `new_checkin`: the check-in was inserted in the current transaction, so no alert for it can exist
    yet and the look-up (and its savepoint) is skipped; the unique constraint still holds the rule.
    """
    defaults = {"patient": checkin.patient, "level": checkin.prompt_level,
                "reasons": checkin.prompt.get("reasons", [])}
    if new_checkin:
        alert, created = Alert.objects.create(checkin=checkin, physiotherapist=physiotherapist, **defaults), True
    else:
        alert, created = Alert.objects.get_or_create(checkin=checkin, physiotherapist=physiotherapist,
                                                     defaults=defaults)
    if created:
        local = checkin.recorded_at.astimezone(physiotherapist.tzinfo)
        notify(
            recipient=physiotherapist,
            kind=NotificationKind.ALERT,
            title=f"{ALERT_TITLES[alert.level]}: check-in from {_display_name(checkin.patient)}",
            body=(f"Check-in of {local:%Y-%m-%d %H:%M} ({physiotherapist.timezone}), "
                  f"screened as {PromptLevel(alert.level).label.lower()}:\n{_reasons_text(alert.reasons)}"),
            link=f"/api/v1/alerts/{alert.pk}/",
            dedupe_key=f"alert:{alert.pk}",
            channels_wanted=("email", "push") if alert.level in ESCALATING_LEVELS else ("email",),
        )
    return alert


# --- alerts ------------------------------------------------------------------------

def alert_acknowledge(*, alert: Alert, user: User) -> Alert:
    """Record who looked at the alert and when. Acknowledging twice keeps the first record."""
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == AlertStatus.OPEN:
            alert.status = AlertStatus.ACKNOWLEDGED
            alert.acknowledged_by = user
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
            Notification.objects.filter(recipient=user, dedupe_key=f"alert:{alert.pk}",
                                        read_at__isnull=True).update(read_at=alert.acknowledged_at)
    return alert


def alerts_escalate(*, now: datetime | None = None, limit: int = 200) -> int:
    """Escalate urgent and emergency alerts nobody acknowledged within ALERT_ESCALATION_MINUTES.

    Claimed with SKIP LOCKED and marked `escalated_at` in one transaction, so two
    workers (or a retried task) never escalate the same alert twice. A check-in
    that any of the patient's physiotherapists acknowledged does not escalate.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.ALERT_ESCALATION_MINUTES)
    acknowledged = Alert.objects.filter(checkin=OuterRef("checkin"), status=AlertStatus.ACKNOWLEDGED)
    with transaction.atomic():
        alerts = list(
            Alert.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=AlertStatus.OPEN, level__in=ESCALATING_LEVELS, escalated_at__isnull=True,
                    created_at__lte=cutoff)
            .exclude(Exists(acknowledged))
            .select_related("patient", "physiotherapist", "checkin")
            .order_by("created_at")[:limit]
        )
        if not alerts:
            return 0
        staff = list(User.objects.filter(is_staff=True, is_active=True))
        for alert in alerts:
            alert.escalated_at = now
            alert.save(update_fields=["escalated_at"])
            minutes = int((now - alert.created_at).total_seconds() // 60)
            title = (f"Not yet acknowledged: {ALERT_TITLES[alert.level].lower()} alert for "
                     f"{_display_name(alert.patient)}")
            body = (f"This {PromptLevel(alert.level).label.lower()} alert has been open for {minutes} minutes "
                    f"without acknowledgement (physiotherapist: {_display_name(alert.physiotherapist)}).\n"
                    f"{_reasons_text(alert.reasons)}")
            for recipient in [alert.physiotherapist, *[u for u in staff if u.pk != alert.physiotherapist_id]]:
                notify(recipient=recipient, kind=NotificationKind.ESCALATION, title=title, body=body,
                       link=f"/api/v1/alerts/{alert.pk}/", dedupe_key=f"escalation:{alert.pk}")
    logger.info("escalated %s alerts", len(alerts))
    return len(alerts)


# --- exercise logs -------------------------------------------------------------------

LOG_FIELDS = ("plan_exercise_id", "date", "sets_done", "reps_done", "pain_during", "notes")
NO_SUCH_EXERCISE = "No exercise with this id is on one of your active plans."


def _log_replay(*, patient: User, client_id: uuid.UUID, wanted: dict) -> ExerciseLog | None:
    stored = ExerciseLog.objects.filter(patient=patient, client_id=client_id).first()
    if stored is None:
        return None
    differs = [name for name, value in wanted.items() if value is not None and getattr(stored, name) != value]
    if differs:
        raise ApplicationError(
            "This client_id was already used for a different exercise log. Use a new client_id for a new log.",
            status_code=422, code="idempotency_key_reused",
        )
    return stored


def exercise_log_create(*, patient: User, plan_exercise_id: int, sets_done: int, reps_done: int,
                        pain_during: int, notes: str = "", date: date | None = None,
                        client_id: uuid.UUID | None = None) -> tuple[ExerciseLog, bool]:
    """Record one session of a prescribed exercise; return it and whether it is new.

    The exercise must be on one of the patient's active plans (another patient's
    id gets the same answer as an id that does not exist). The date is the
    patient's local date: by default today, never in the future, never before
    the plan started. A retry with the same `client_id` returns the first log.
    """
    wanted = {"plan_exercise_id": plan_exercise_id, "date": date, "sets_done": sets_done,
              "reps_done": reps_done, "pain_during": pain_during, "notes": notes}
    if client_id is not None:
        replay = _log_replay(patient=patient, client_id=client_id, wanted=wanted)
        if replay is not None:
            return replay, False

    plan_exercise = (
        PlanExercise.objects.select_related("plan")
        .filter(pk=plan_exercise_id, plan__patient=patient, plan__status=PlanStatus.ACTIVE)
        .first()
    )
    if plan_exercise is None:
        raise ApplicationError(NO_SUCH_EXERCISE, fields={"plan_exercise": [NO_SUCH_EXERCISE]})
    today = timezone.localdate(timezone=patient.tzinfo)
    day = date or today
    if day > today:
        message = f"The date cannot be in the future (today is {today.isoformat()} in {patient.timezone})."
        raise ApplicationError(message, fields={"date": [message]})
    if day < plan_exercise.plan.start_date:
        message = f"The plan started on {plan_exercise.plan.start_date.isoformat()}; log sessions from then on."
        raise ApplicationError(message, fields={"date": [message]})

    try:
        with transaction.atomic():
            log = ExerciseLog(patient=patient, plan_exercise=plan_exercise, date=day, sets_done=sets_done,
                              reps_done=reps_done, pain_during=pain_during, notes=notes)
            if client_id is not None:
                log.client_id = client_id
            log.save()
            _send_robust(exercise_logged, sender=ExerciseLog, log=log)
    except IntegrityError:
        replay = _log_replay(patient=patient, client_id=client_id, wanted=wanted) if client_id else None
        if replay is None:
            raise
        return replay, False
    return log, True

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
from kneerehab.users.emergency import EmergencyNumber, emergency_call_sentence, emergency_number_for
from kneerehab.users.models import User
from plans.models import PlanExercise, PlanStatus
from plans.services import progression_request, progression_request_for_patient, safety_holds_place

from .exercise_pain import exercise_pain_prompt
from .models import SYMPTOM_FLAGS, Alert, AlertOutcome, AlertStatus, CheckIn, ExerciseLog, PromptLevel, Swelling
from .rules import LEVEL_MESSAGES, SEVERE_PAIN
from .screening import prompt_message, screen
from .selectors import running_plans, screening_context

logger = logging.getLogger(__name__)

# What a check-in request may carry besides its keys (client_id, Idempotency-Key).
CHECKIN_FIELDS = ("pain_at_rest", "pain_during_activity", "morning_pain", "swelling", *SYMPTOM_FLAGS, "notes")
CHECKIN_DEFAULTS = {"swelling": Swelling.NONE, "notes": "", "morning_pain": None,
                    **{flag: False for flag in SYMPTOM_FLAGS}}

ESCALATING_LEVELS = (PromptLevel.URGENT, PromptLevel.EMERGENCY)


def _ask_progression(request, **kwargs) -> None:
    """Ask plans to re-evaluate progression, inside our transaction, without being able to lose the record.

    The tracker stands above plans, so it calls plans' service itself (plans knows nothing of check-ins and
    logs). The savepoint undoes whatever a failing request wrote; the record, its prompt and its alerts
    stay. A failure is logged loudly.
    """
    try:
        with transaction.atomic():
            request(**kwargs)
    except Exception:
        logger.exception("asking for a progression re-evaluation failed (%s); the record was stored anyway", kwargs)


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
    emergency = emergency_number_for(patient)
    recipients: list[User] = []
    as_staff = False
    if prompt.level != PromptLevel.NONE:
        physiotherapists = list(patient.physiotherapists.filter(is_active=True))
        recipients = physiotherapists or alert_recipients_without_physiotherapist(level=prompt.level)
        as_staff = not physiotherapists
        message = prompt_message(prompt.level, has_physiotherapist=bool(physiotherapists),
                                 staff_told=as_staff and bool(recipients))
        prompt = dataclasses.replace(prompt, message=with_emergency_number(message, prompt.level, emergency))
    checkin.prompt_level = prompt.level
    checkin.prompt = {**prompt.as_dict(), "emergency_number": emergency.as_dict()}
    # With a replayed key this insert fails on a unique constraint and the transaction rolls back.
    checkin.save()
    alerts_raise(patient=patient, recipients=recipients, level=prompt.level, reasons=checkin.prompt["reasons"],
                 checkin=checkin, as_staff=as_staff)
    if prompt.level in ESCALATING_LEVELS:
        safety_holds_place(patient=patient, level=prompt.level, reasons=checkin.prompt["reasons"],
                           advice=prompt.message, checkin=checkin)
    if prompt.level != PromptLevel.NONE:
        _notify_patient_of_prompt(checkin)
    _ask_progression(progression_request_for_patient, patient_id=patient.pk)
    return checkin


def with_emergency_number(message: str, level: str, number: EmergencyNumber) -> str:
    """The prompt's message with the patient's own emergency number in place of the generic sentence.

    The level messages live with the rules; an emergency message starts with LEVEL_MESSAGES[emergency],
    which this replaces with "Call emergency services now on <number>."
    """
    if level != PromptLevel.EMERGENCY:
        return message
    generic = LEVEL_MESSAGES[PromptLevel.EMERGENCY]
    sentence = emergency_call_sentence(number)
    if generic in message:
        return message.replace(generic, sentence, 1)
    return f"{sentence} {message}"


def alert_recipients_without_physiotherapist(*, level: str) -> list[User]:
    """Who hears of an urgent or emergency prompt from a patient with no active physiotherapist: staff.

    A red flag must never reach nobody (SPEC §4): when no staff account is active either, the failure is
    logged as an error so monitoring sees it. Lower levels wait for a physiotherapist to be assigned.
    """
    if level not in ESCALATING_LEVELS:
        return []
    staff = list(User.objects.filter(is_staff=True, is_active=True).order_by("pk"))
    if not staff:
        logger.error("an %s prompt has no active physiotherapist and no active staff account to alert", level)
    return staff


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


def _codes(reasons: list[dict]) -> set[str]:
    return {reason.get("code") for reason in reasons if reason.get("code")}


def _merge_reasons(known: list[dict], new: list[dict]) -> list[dict]:
    codes = _codes(known)
    return [*known, *[reason for reason in new if reason.get("code") not in codes]]


def _repeat_of(open_alerts: list[Alert], *, level: str, reasons: list[dict]) -> Alert | None:
    """The open alert this prompt repeats: one with a reason in common, at the same or a higher level."""
    codes = _codes(reasons)
    for alert in open_alerts:  # newest first
        if PromptLevel.rank(alert.level) >= PromptLevel.rank(level) and codes & _codes(alert.reasons):
            return alert
    return None


def alerts_raise(*, patient: User, recipients: list[User], level: str, reasons: list[dict],
                 checkin: CheckIn | None = None, exercise_log: ExerciseLog | None = None,
                 as_staff: bool = False) -> list[Alert]:
    """An alert for each recipient, or the update of an open one it repeats.

    A repeat (an open alert of the recipient for this patient with a reason in common, at the same or a
    higher level) counts one more occurrence, is seen now, takes in any new reasons and points at the
    latest check-in; a higher level than every open alert makes a new alert. The notification:
    - a new alert: inbox at once, email, and push for urgent and emergency;
    - a repeated urgent or emergency alert: a new inbox item every time ("seen again, N times"), with email,
      and push for an emergency: a repeat is not acknowledged yet, and an emergency is never silenced;
    - a repeated see_clinician alert: the count and "last seen" change, no new message.
    `as_staff`: the recipients are staff standing in for a physiotherapist the patient does not have; they
    open the alert in the admin (the patient is on no caseload of theirs).
    """
    if level == PromptLevel.NONE or not recipients:
        return []
    now = timezone.now()
    open_alerts: dict[int, list[Alert]] = {}
    for alert in (Alert.objects.filter(patient=patient, physiotherapist__in=recipients, status=AlertStatus.OPEN)
                  .order_by("-created_at", "-id")):
        open_alerts.setdefault(alert.physiotherapist_id, []).append(alert)
    raised = []
    for recipient in recipients:
        repeat = _repeat_of(open_alerts.get(recipient.pk, []), level=level, reasons=reasons)
        if repeat is not None:
            repeat.occurrences += 1
            repeat.last_seen_at = now
            repeat.reasons = _merge_reasons(repeat.reasons, reasons)
            update = ["occurrences", "last_seen_at", "reasons"]
            if checkin is not None:
                repeat.checkin = checkin
                update.append("checkin")
            repeat.save(update_fields=update)
            if level in ESCALATING_LEVELS:
                _notify_of_alert(repeat, recipient=recipient, level=level, reasons=reasons, checkin=checkin,
                                 exercise_log=exercise_log, as_staff=as_staff)
            raised.append(repeat)
            continue
        alert = Alert.objects.create(patient=patient, physiotherapist=recipient, checkin=checkin,
                                     exercise_log=exercise_log, level=level, reasons=reasons, last_seen_at=now)
        _notify_of_alert(alert, recipient=recipient, level=level, reasons=reasons, checkin=checkin,
                         exercise_log=exercise_log, as_staff=as_staff)
        raised.append(alert)
    return raised


def _notify_of_alert(alert: Alert, *, recipient: User, level: str, reasons: list[dict], checkin: CheckIn | None,
                     exercise_log: ExerciseLog | None, as_staff: bool) -> None:
    patient = alert.patient
    when = checkin.recorded_at if checkin is not None else exercise_log.created_at
    local = when.astimezone(recipient.tzinfo)
    what = "Check-in" if checkin is not None else "Exercise log"
    repeat = alert.occurrences > 1
    title = f"{ALERT_TITLES[level]}: {what.lower()} from {_display_name(patient)}"
    if repeat:
        title = f"{ALERT_TITLES[level]} again ({alert.occurrences} times): {what.lower()} from {_display_name(patient)}"
    unassigned = "This patient has no active physiotherapist: you receive this alert as staff.\n" if as_staff else ""
    phone = f"Phone: {patient.phone}\n" if patient.phone else ""
    notify(
        recipient=recipient,
        kind=NotificationKind.ALERT,
        title=title,
        body=(f"{unassigned}{what} of {local:%Y-%m-%d %H:%M} ({recipient.timezone}), "
              f"screened as {PromptLevel(level).label.lower()}:\n{_reasons_text(reasons)}\n{phone}").rstrip(),
        link=f"/admin/tracker/alert/{alert.pk}/change/" if as_staff else f"/api/v1/alerts/{alert.pk}/",
        dedupe_key=f"alert:{alert.pk}" if not repeat else f"alert:{alert.pk}:{alert.occurrences}",
        subject_patient=patient,
        channels_wanted=("email", "push") if level == PromptLevel.EMERGENCY or (
            level == PromptLevel.URGENT and not repeat) else ("email",),
    )


# --- alerts ------------------------------------------------------------------------

def alert_acknowledge(*, alert: Alert, user: User, outcome: str, note: str = "") -> Alert:
    """Record who acted on the alert, when, what they did (`outcome`) and a note.

    Acknowledging twice keeps the first record. `other` needs a note saying what was done.
    """
    if outcome not in AlertOutcome.values:
        message = f"Choose what you did: one of {', '.join(AlertOutcome.values)}."
        raise ApplicationError(message, fields={"outcome": [message]})
    note = (note or "").strip()
    if outcome == AlertOutcome.OTHER and not note:
        message = "Say in the note what you did."
        raise ApplicationError(message, fields={"note": [message]})
    with transaction.atomic():
        alert = Alert.objects.select_for_update().get(pk=alert.pk)
        if alert.status == AlertStatus.OPEN:
            alert.status = AlertStatus.ACKNOWLEDGED
            alert.acknowledged_by = user
            alert.acknowledged_at = timezone.now()
            alert.outcome = outcome
            alert.outcome_note = note
            alert.save(update_fields=["status", "acknowledged_by", "acknowledged_at", "outcome", "outcome_note"])
            Notification.objects.filter(
                Q(dedupe_key=f"alert:{alert.pk}") | Q(dedupe_key__startswith=f"alert:{alert.pk}:"),
                recipient=user, read_at__isnull=True,
            ).update(read_at=alert.acknowledged_at)
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
                       link=f"/api/v1/alerts/{alert.pk}/", dedupe_key=f"escalation:{alert.pk}",
                       subject_patient=alert.patient)
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


def _screen_exercise_pain(log: ExerciseLog) -> tuple[list[User], bool]:
    """Set the prompt of a session with severe pain, and return who is to be alerted (and whether as staff)."""
    patient = log.patient
    if log.pain_during < SEVERE_PAIN:
        return [], False
    physiotherapists = list(patient.physiotherapists.filter(is_active=True))
    recipients = physiotherapists or alert_recipients_without_physiotherapist(level=PromptLevel.URGENT)
    prompt = exercise_pain_prompt(pain_during=log.pain_during, exercise_name=log.plan_exercise.exercise.name,
                                  has_physiotherapist=bool(physiotherapists),
                                  staff_told=not physiotherapists and bool(recipients))
    log.prompt = {**prompt, "emergency_number": emergency_number_for(patient).as_dict()}
    return recipients, not physiotherapists


def _act_on_exercise_pain(log: ExerciseLog, *, recipients: list[User], as_staff: bool) -> None:
    """Severe pain during an exercise: alert as a check-in with severe pain would, hold the plan, tell the patient."""
    prompt = log.prompt
    alerts_raise(patient=log.patient, recipients=recipients, level=prompt["level"], reasons=prompt["reasons"],
                 exercise_log=log, as_staff=as_staff)
    safety_holds_place(patient=log.patient, level=prompt["level"], reasons=prompt["reasons"],
                       advice=prompt["message"], exercise_log=log)
    notify(recipient=log.patient, kind=NotificationKind.PROMPT, title=PromptLevel(prompt["level"]).label,
           body=f"{prompt['message']}\n\n{_reasons_text(prompt['reasons'])}",
           link=f"/api/v1/exercise-logs/{log.pk}/", dedupe_key=f"prompt:log:{log.pk}", channels_wanted=())


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
        PlanExercise.objects.select_related("plan", "exercise")
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
            recipients, as_staff = _screen_exercise_pain(log)
            log.save()
            if log.prompt:
                _act_on_exercise_pain(log, recipients=recipients, as_staff=as_staff)
            _ask_progression(progression_request, plan_id=plan_exercise.plan_id)
    except IntegrityError:
        replay = _log_replay(patient=patient, client_id=client_id, wanted=wanted) if client_id else None
        if replay is None:
            raise
        return replay, False
    return log, True

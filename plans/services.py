"""Writes on plans: assigning a staged plan, changing it, and moving it between phases."""
import logging
import re
import secrets
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from conditions.models import Condition, Dose, Exercise, PhaseExercise, PhaseKey
from kneerehab.errors import ApplicationError
from kneerehab.media.storing import delete_files, fill_media
from kneerehab.users.models import User
from kneerehab.users.selectors import is_on_caseload

from .calendar import token_hash
from .models import (
    CalendarFeed,
    ClotRiskFactor,
    PhaseChange,
    PhaseChangeKind,
    Plan,
    PlanExercise,
    PlanExerciseMedia,
    PlanStatus,
    Progression,
    ProgressionDue,
    SafetyHold,
)
from .progression import HOLD_FINDING, Evaluation, evaluate

logger = logging.getLogger(__name__)

DEFAULT_REMINDER_TIMES = ["08:00"]
MAX_REMINDER_TIMES = 6
# How far from the patient's today a plan may start: enough to record a plan begun at a recent visit or to
# prepare one for next month, not so far that a typo (year 3000) slips through.
MAX_START_DAYS_BACK = 30
MAX_START_DAYS_AHEAD = 180

ALLOWED_TRANSITIONS = {
    PlanStatus.ACTIVE: {PlanStatus.PAUSED, PlanStatus.COMPLETED, PlanStatus.CANCELLED},
    PlanStatus.PAUSED: {PlanStatus.ACTIVE, PlanStatus.COMPLETED, PlanStatus.CANCELLED},
    PlanStatus.COMPLETED: set(),
    PlanStatus.CANCELLED: set(),
}
RUNNING = (PlanStatus.ACTIVE, PlanStatus.PAUSED)
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _field_error(field: str, message: str, **kwargs) -> ApplicationError:
    return ApplicationError(message, fields={field: [message]}, **kwargs)


def local_today(*, patient: User, now: datetime | None = None) -> date:
    return (now or timezone.now()).astimezone(patient.tzinfo).date()


def normalize_reminder_times(value) -> list[str]:
    """["18:30", "08:00"] → ["08:00", "18:30"]; rejects anything but distinct "HH:MM" local times."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _field_error("reminder_times", 'Send a list of local times of day such as ["08:00", "18:30"].')
    bad = [v for v in value if not _HHMM.match(v)]
    if bad:
        raise _field_error("reminder_times", f"{bad[0]!r} is not a time of day as HH:MM (00:00 to 23:59).")
    if len(set(value)) != len(value):
        raise _field_error("reminder_times", "Each reminder time may appear only once.")
    if len(value) > MAX_REMINDER_TIMES:
        raise _field_error("reminder_times", f"At most {MAX_REMINDER_TIMES} reminder times a day.")
    return sorted(value)


def _validate_dose(values: dict, *, where: str) -> dict:
    dose = {}
    for field, value in values.items():
        low, high = Dose.DOSE_RANGES[field]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise _field_error("overrides", f"{where}: {field} must be a whole number from {low} to {high}.")
        dose[field] = value
    return dose


def _parse_overrides(overrides: list[dict]) -> list[tuple[str, Exercise, dict, bool]]:
    """Check [{phase, exercise (slug), remove?, sets?, reps?, …}] and resolve the exercises in one query."""
    if not isinstance(overrides, list):
        raise _field_error("overrides", "Send a list of {phase, exercise, …} items.")
    slugs = {o.get("exercise") for o in overrides if isinstance(o, dict)}
    exercises = {e.slug: e for e in Exercise.objects.filter(slug__in=[s for s in slugs if isinstance(s, str)])}
    parsed, seen = [], set()
    for index, item in enumerate(overrides):
        where = f"Item {index + 1}"
        if not isinstance(item, dict):
            raise _field_error("overrides", f"{where}: send an object with phase and exercise.")
        unknown = set(item) - {"phase", "exercise", "remove", *Dose.DOSE_FIELDS}
        if unknown:
            raise _field_error("overrides", f"{where}: unknown field(s) {', '.join(sorted(unknown))}.")
        phase, slug = item.get("phase"), item.get("exercise")
        if phase not in PhaseKey.values:
            raise _field_error("overrides", f"{where}: phase must be one of {', '.join(PhaseKey.ordered())}.")
        if slug not in exercises:
            raise _field_error("overrides", f"{where}: there is no exercise {slug!r} in the library.")
        if (phase, slug) in seen:
            raise _field_error("overrides", f"{where}: {slug} in {phase} appears more than once.")
        seen.add((phase, slug))
        remove = item.get("remove", False)
        if not isinstance(remove, bool):
            raise _field_error("overrides", f"{where}: remove must be true or false.")
        dose = _validate_dose({k: v for k, v in item.items() if k in Dose.DOSE_FIELDS}, where=where)
        if remove and dose:
            raise _field_error("overrides", f"{where}: an exercise being removed takes no dose.")
        parsed.append((phase, exercises[slug], dose, remove))
    return parsed


def _apply_overrides(*, plan: Plan, overrides: list[dict]) -> None:
    """Re-dose, add (library default dose, then the given fields) or remove plan exercises."""
    parsed = _parse_overrides(overrides)
    existing = {(pe.phase, pe.exercise_id): pe for pe in plan.exercises.all()}
    next_order = {phase: 1 + max([pe.order for (p, _), pe in existing.items() if p == phase], default=-1)
                  for phase in PhaseKey.values}
    for phase, exercise, dose, remove in parsed:
        current = existing.get((phase, exercise.id))
        if remove:
            if current is None:
                raise _field_error("overrides", f"{exercise.slug} is not in the {phase} phase of this plan.")
            if current.logs.exists():
                raise _field_error("overrides", f"{exercise.slug} in {phase} has logged sessions, so it stays "
                                                "on the plan; lower its dose instead.")
            current.delete()
            continue
        if current is None:
            current = PlanExercise(plan=plan, phase=phase, exercise=exercise, order=next_order[phase],
                                   **exercise.dose())
            next_order[phase] += 1
        for field, value in dose.items():
            setattr(current, field, value)
        current.save()


def _phase_start_instant(*, patient: User, start_date: date, now: datetime) -> datetime:
    """A plan's first phase begins at the start of its start date in the patient's time zone, or now if
    it is assigned later that day: check-ins from before the assignment say nothing about this plan."""
    midnight = datetime.combine(start_date, time.min, tzinfo=patient.tzinfo)
    return max(midnight, now) if start_date == local_today(patient=patient, now=now) else midnight


@transaction.atomic
def plan_create(
    *,
    physiotherapist: User,
    patient_id: int,
    condition_slug: str,
    start_date: date | None = None,
    reminder_times: list[str] | None = None,
    auto_advance: bool = False,
    overrides: list[dict] | None = None,
    surgery_date: date | None = None,
    clot_risk_factors: list[str] | None = None,
    immunosuppressed: bool = False,
    now: datetime | None = None,
) -> Plan:
    """Assign a condition's staged path to a patient on the caller's caseload.

    The path's exercises and doses for all phases are copied onto the plan, so a later catalogue edit
    never changes a running plan.
    """
    now = now or timezone.now()
    if not physiotherapist.is_physiotherapist:
        raise ApplicationError("Only a physiotherapist can assign plans.", status_code=403, code="permission_denied")
    # Same answer whether the id exists or not: nothing is revealed about patients on other caseloads.
    if not is_on_caseload(physiotherapist=physiotherapist, patient_id=patient_id):
        raise _field_error("patient", "This patient is not on your caseload.")
    patient = User.objects.get(pk=patient_id)

    condition = Condition.objects.filter(slug=condition_slug).first()
    if condition is None:
        raise _field_error("condition", f"There is no condition {condition_slug!r} in the catalogue.")
    if not condition.home_care:
        note = condition.urgent_care_note or "It needs urgent medical care, not a home plan."
        raise _field_error(
            "condition",
            f"{condition.name} cannot be treated with a home-care plan: it needs urgent medical care. {note}".strip(),
        )
    phases = {p.key: p for p in condition.phases.all()}
    if set(phases) != set(PhaseKey.values):
        raise _field_error("condition", f"The catalogue has no complete treatment path for {condition.name} yet.")

    today = local_today(patient=patient, now=now)
    start_date = start_date or today
    if start_date < today - timedelta(days=MAX_START_DAYS_BACK):
        raise _field_error("start_date", f"The start date may be at most {MAX_START_DAYS_BACK} days ago.")
    if start_date > today + timedelta(days=MAX_START_DAYS_AHEAD):
        raise _field_error("start_date", f"The start date may be at most {MAX_START_DAYS_AHEAD} days ahead.")
    times = normalize_reminder_times(DEFAULT_REMINDER_TIMES if reminder_times is None else reminder_times)
    context = _clinical_context({"surgery_date": surgery_date, "clot_risk_factors": clot_risk_factors or [],
                                 "immunosuppressed": immunosuppressed}, today=today)

    if Plan.objects.filter(patient=patient, condition=condition, status__in=RUNNING).exists():
        raise _running_plan_error(condition)
    plan = Plan(
        patient=patient, physiotherapist=physiotherapist, condition=condition, start_date=start_date,
        status=PlanStatus.ACTIVE, current_phase=PhaseKey.RICE, reminder_times=times, auto_advance=auto_advance,
        phase_started_at=_phase_start_instant(patient=patient, start_date=start_date, now=now), **context,
    )
    try:
        with transaction.atomic():
            plan.save()
    except IntegrityError as exc:  # a concurrent request assigned the same condition first
        raise _running_plan_error(condition) from exc

    path = PhaseExercise.objects.filter(phase__condition=condition).select_related("phase").order_by(
        "phase__order", "order", "id")
    PlanExercise.objects.bulk_create([
        PlanExercise(plan=plan, phase=pe.phase.key, exercise_id=pe.exercise_id, order=pe.order, **pe.dose())
        for pe in path
    ])
    if overrides:
        _apply_overrides(plan=plan, overrides=overrides)
    PhaseChange.objects.create(plan=plan, kind=PhaseChangeKind.START, from_phase="", to_phase=PhaseKey.RICE,
                               changed_by=physiotherapist, reason=f"{condition.name} plan assigned.")
    plan_evaluate_progression(plan=plan, now=now)
    return plan


CONTEXT_FIELDS = ("surgery_date", "clot_risk_factors", "immunosuppressed")
# Knee surgery recorded on a plan: not in the future, and recent enough to matter for the wound question.
MAX_SURGERY_YEARS_BACK = 5


def _clinical_context(data: dict, *, today: date) -> dict:
    """Check the plan's clinical context fields that `data` names; return them as the model stores them."""
    context = {}
    if "surgery_date" in data:
        surgery = data["surgery_date"]
        if surgery is not None:
            if not isinstance(surgery, date):
                raise _field_error("surgery_date", "Send a date as YYYY-MM-DD, or null for no surgery.")
            if surgery > today:
                raise _field_error("surgery_date", f"The surgery date cannot be in the future (today is "
                                                   f"{today.isoformat()} in the patient's time zone).")
            if surgery < today - timedelta(days=365 * MAX_SURGERY_YEARS_BACK):
                raise _field_error("surgery_date", f"The surgery date may be at most {MAX_SURGERY_YEARS_BACK} "
                                                   "years ago.")
        context["surgery_date"] = surgery
    if "clot_risk_factors" in data:
        factors = data["clot_risk_factors"]
        if not isinstance(factors, list) or any(f not in ClotRiskFactor.values for f in factors):
            raise _field_error("clot_risk_factors", "Send a list of: " + ", ".join(ClotRiskFactor.values) + ".")
        if len(set(factors)) != len(factors):
            raise _field_error("clot_risk_factors", "Each risk factor may appear only once.")
        # Stored in the order of the choices, so the same set always reads the same.
        context["clot_risk_factors"] = [f for f in ClotRiskFactor.values if f in factors]
    if "immunosuppressed" in data:
        context["immunosuppressed"] = bool(data["immunosuppressed"])
    return context


def _running_plan_error(condition: Condition) -> ApplicationError:
    return _field_error("condition", f"This patient already has a running {condition.name} plan; "
                                     "complete or cancel it first.")


def _locked(plan: Plan) -> Plan:
    """The plan re-read under a row lock, so that two concurrent phase changes cannot both apply.

    Only the plan row is locked (`of`), not the joined patient and condition rows, and with
    FOR NO KEY UPDATE: a phase change never alters the plan's key, so inserts that merely
    reference the plan or the patient (a check-in, a log) are not blocked by an evaluation,
    and cannot deadlock with one.
    """
    locked = (
        Plan.objects.select_for_update(no_key=True, of=("self",))
        .select_related("patient", "condition")
        .get(pk=plan.pk)
    )
    return locked


def _refresh_caller(plan: Plan, locked: Plan) -> Plan:
    for field in ("status", "current_phase", "phase_started_at", "reminder_times", "auto_advance", "progression",
                  "progression_reasons", "progression_evaluated_at", "updated_at", *CONTEXT_FIELDS):
        setattr(plan, field, getattr(locked, field))
    return plan


@transaction.atomic
def plan_update(*, plan: Plan, changed_by: User, data: dict, now: datetime | None = None) -> Plan:
    """Change status (valid transitions only), reminder times, auto_advance, doses (`overrides`) and the
    clinical context (surgery date, clot risk factors, immunosuppression)."""
    now = now or timezone.now()
    locked = _locked(plan)
    if locked.status not in RUNNING:
        raise _field_error("status", f"This plan is {locked.status}; a finished plan cannot be changed.")
    allowed = {"status", "reminder_times", "auto_advance", "overrides", *CONTEXT_FIELDS}
    unknown = set(data) - allowed
    if unknown:
        field = sorted(unknown)[0]
        raise _field_error(field, "This field cannot be changed.")

    new_status = data.get("status", locked.status)
    if new_status not in PlanStatus.values:
        raise _field_error("status", f"Unknown status {new_status!r}.")
    if new_status != locked.status and new_status not in ALLOWED_TRANSITIONS[locked.status]:
        raise _field_error("status", f"A {locked.status} plan cannot become {new_status}.")
    if "reminder_times" in data:
        locked.reminder_times = normalize_reminder_times(data["reminder_times"])
    if "auto_advance" in data:
        locked.auto_advance = bool(data["auto_advance"])
    for field, value in _clinical_context(data, today=local_today(patient=locked.patient, now=now)).items():
        setattr(locked, field, value)
    if data.get("overrides"):
        _apply_overrides(plan=locked, overrides=data["overrides"])

    locked.status = new_status
    if new_status != PlanStatus.ACTIVE:
        # A paused or finished plan makes no suggestion; resuming evaluates it afresh.
        locked.progression, locked.progression_reasons = Progression.NONE, []
        locked.progression_evaluated_at = None
    locked.save()
    if new_status == PlanStatus.COMPLETED:
        PhaseChange.objects.create(plan=locked, kind=PhaseChangeKind.COMPLETE, from_phase=locked.current_phase,
                                   to_phase="", changed_by=changed_by, reason="Plan marked completed.")
    if new_status == PlanStatus.ACTIVE:
        # Resuming, new doses or switching auto_advance on can all change the outcome.
        plan_evaluate_progression(plan=locked, now=now)
    return _refresh_caller(plan, locked)


def _move(*, plan: Plan, to_phase: str | None, kind: str, changed_by: User | None, reason: str,
          now: datetime) -> Plan:
    """Record one phase change on a locked, active plan; `to_phase=None` completes the plan."""
    from_phase = plan.current_phase
    if to_phase is None:
        plan.status = PlanStatus.COMPLETED
        PhaseChange.objects.create(plan=plan, kind=PhaseChangeKind.COMPLETE, from_phase=from_phase, to_phase="",
                                   changed_by=changed_by, reason=reason)
    else:
        plan.current_phase = to_phase
        plan.phase_started_at = now
        PhaseChange.objects.create(plan=plan, kind=kind, from_phase=from_phase, to_phase=to_phase,
                                   changed_by=changed_by, reason=reason)
    plan.progression, plan.progression_reasons, plan.progression_evaluated_at = Progression.NONE, [], None
    plan.save()
    return plan


def _default_reason(plan: Plan, action: str) -> str:
    if plan.progression and plan.progression_reasons:
        met = "; ".join(r["message"] for r in plan.progression_reasons if r.get("met"))
        return f"{action} by the physiotherapist. Latest evaluation: {met}"
    return f"{action} by the physiotherapist."


def _check_expected_phase(plan: Plan, expected_phase: str | None) -> None:
    if expected_phase is not None and expected_phase != plan.current_phase:
        now_in = PhaseKey(plan.current_phase).label
        expected = PhaseKey(expected_phase).label if expected_phase in PhaseKey.values else expected_phase
        raise ApplicationError(
            f"The plan has moved on: it is now in the \"{now_in}\" phase, not \"{expected}\". Reload it and "
            "try again if the move is still wanted.",
            fields={"from_phase": [f"The plan is now in the \"{now_in}\" phase."]}, status_code=409,
            code="conflict",
        )


@transaction.atomic
def plan_advance(*, plan: Plan, changed_by: User, reason: str = "", expected_phase: str | None = None,
                 now: datetime | None = None) -> Plan:
    """Move to the next phase; advancing past the last phase completes the plan.

    `expected_phase` guards against a double submission advancing twice.
    """
    now = now or timezone.now()
    locked = _locked(plan)
    if locked.status != PlanStatus.ACTIVE:
        raise _field_error("status", f"Only an active plan can advance; this one is {locked.status}.")
    _check_expected_phase(locked, expected_phase)
    _refuse_while_on_hold(locked)
    next_phase = PhaseKey.next_after(locked.current_phase)
    _move(plan=locked, to_phase=next_phase, kind=PhaseChangeKind.ADVANCE, changed_by=changed_by,
          reason=reason or _default_reason(locked, "Completed" if next_phase is None else "Advanced"), now=now)
    if locked.status == PlanStatus.ACTIVE:
        plan_evaluate_progression(plan=locked, now=now)
    return _refresh_caller(plan, locked)


@transaction.atomic
def plan_step_back(*, plan: Plan, changed_by: User, reason: str = "", expected_phase: str | None = None,
                   now: datetime | None = None) -> Plan:
    """Return to the previous phase (not possible from the first one)."""
    now = now or timezone.now()
    locked = _locked(plan)
    if locked.status != PlanStatus.ACTIVE:
        raise _field_error("status", f"Only an active plan can step back; this one is {locked.status}.")
    _check_expected_phase(locked, expected_phase)
    previous = PhaseKey.before(locked.current_phase)
    if previous is None:
        raise _field_error("current_phase", "The plan is in its first phase; there is no earlier phase.")
    _move(plan=locked, to_phase=previous, kind=PhaseChangeKind.STEP_BACK, changed_by=changed_by,
          reason=reason or _default_reason(locked, "Stepped back"), now=now)
    plan_evaluate_progression(plan=locked, now=now)
    return _refresh_caller(plan, locked)


@transaction.atomic
def plan_evaluate_progression(*, plan: Plan, now: datetime | None = None) -> Evaluation | None:
    """Evaluate the current phase and store the suggestion; with `auto_advance`, act on "advance".

    Automatic advancing moves between phases only: finishing a plan stays the physiotherapist's decision.
    Returns the latest evaluation, or None for a plan that is not active.
    """
    now = now or timezone.now()
    locked = _locked(plan)
    if locked.status != PlanStatus.ACTIVE:
        return None
    # Each automatic move starts a fresh phase, so this runs at most once per phase.
    for _ in PhaseKey.ordered():
        evaluation = evaluate(plan=locked, now=now)
        locked.progression = evaluation.suggestion
        locked.progression_reasons = evaluation.reasons
        locked.progression_evaluated_at = now
        locked.save(update_fields=["progression", "progression_reasons", "progression_evaluated_at", "updated_at"])
        next_phase = PhaseKey.next_after(locked.current_phase)
        if not (locked.auto_advance and evaluation.suggestion == Progression.ADVANCE and next_phase):
            break
        reason = "Advanced automatically: " + "; ".join(c.message for c in evaluation.criteria)
        _move(plan=locked, to_phase=next_phase, kind=PhaseChangeKind.AUTO_ADVANCE, changed_by=None,
              reason=reason, now=now)
    _refresh_caller(plan, locked)
    return evaluation


def plan_reevaluate(*, plan_id: int, now: datetime | None = None) -> Evaluation | None:
    """Re-evaluate one plan by id (after an exercise log); None if it is gone or not active."""
    plan = Plan.objects.filter(pk=plan_id).first()
    return plan_evaluate_progression(plan=plan, now=now) if plan is not None else None


def plans_evaluate_for_patient(*, patient_id: int, now: datetime | None = None) -> int:
    """Re-evaluate every active plan of a patient (after a check-in); returns how many were evaluated.

    Each plan is evaluated in its own transaction, so a failure in one (logged) does not hold back the others.
    """
    evaluated = 0
    for plan in Plan.objects.filter(patient_id=patient_id, status=PlanStatus.ACTIVE):
        try:
            if plan_evaluate_progression(plan=plan, now=now) is not None:
                evaluated += 1
        except Exception:
            logger.exception("progression evaluation of plan %s failed", plan.pk)
    return evaluated


# --- safety holds ----------------------------------------------------------------------------------------------

HOLD_LEVELS = ("urgent", "emergency")
_HOLD_RANK = {"urgent": 0, "emergency": 1}


def _refuse_while_on_hold(plan: Plan) -> None:
    hold = SafetyHold.objects.filter(plan=plan, cleared_at__isnull=True).first()
    if hold is not None:
        raise ApplicationError(
            f"This plan is on a safety hold since {hold.created_at:%Y-%m-%d %H:%M} UTC after an {hold.level} "
            "prompt. Clear the hold with a note (after speaking to the patient) before advancing.",
            status_code=409, code="safety_hold",
        )


@transaction.atomic(savepoint=False)  # part of the caller's transaction: the hold is stored with the prompt
def safety_holds_place(*, patient: User, level: str, reasons: list[dict], advice: str, checkin=None,
                       exercise_log=None) -> None:
    """Put every running plan of the patient on a safety hold after an urgent or emergency prompt.

    A plan already on hold keeps its one open hold (the database allows no second); a higher level
    raises it to the new level, reasons and advice, so what the patient sees matches the latest prompt.
    Paused and not yet started plans are held too: resuming or starting them must not skip the hold.
    """
    if level not in HOLD_LEVELS:
        raise ValueError(f"a safety hold follows an urgent or emergency prompt, not {level!r}")
    open_hold = SafetyHold.objects.filter(plan=OuterRef("pk"), cleared_at__isnull=True)
    plans = list(
        Plan.objects.filter(patient=patient, status__in=RUNNING)
        .annotate(hold_id=Subquery(open_hold.values("pk")[:1]), hold_level=Subquery(open_hold.values("level")[:1]))
        .values_list("pk", "progression", "hold_id", "hold_level")
    )
    if not plans:
        return
    source = {"checkin": checkin, "exercise_log": exercise_log}
    raised = [hold_id for _, _, hold_id, hold_level in plans
              if hold_id is not None and _HOLD_RANK[level] > _HOLD_RANK[hold_level]]
    if raised:
        SafetyHold.objects.filter(pk__in=raised).update(level=level, reasons=reasons, advice=advice,
                                                        updated_at=timezone.now(), **source)
    new = [SafetyHold(plan_id=plan_id, level=level, reasons=reasons, advice=advice, **source)
           for plan_id, _, hold_id, _ in plans if hold_id is None]
    if new:
        # A concurrent prompt may have placed a hold meanwhile: the partial unique constraint keeps one.
        SafetyHold.objects.bulk_create(new, ignore_conflicts=True)
    suggesting = [plan_id for plan_id, progression, _, _ in plans if progression != Progression.NONE]
    if suggesting:
        # Stopping the plan also withdraws a "ready to advance" (or step back) suggestion.
        Plan.objects.filter(pk__in=suggesting).update(progression=Progression.NONE,
                                                      progression_reasons=[HOLD_FINDING.as_dict()],
                                                      updated_at=timezone.now())


@transaction.atomic
def safety_hold_clear(*, plan: Plan, cleared_by: User, note: str, now: datetime | None = None) -> SafetyHold:
    """A physiotherapist clears the plan's open hold, saying why; the plan is evaluated afresh."""
    now = now or timezone.now()
    if not cleared_by.is_physiotherapist:
        raise ApplicationError("Only a physiotherapist can clear a safety hold.", status_code=403,
                               code="permission_denied")
    note = (note or "").strip()
    if not note:
        raise _field_error("note", "Say why the hold can be cleared (for example what the patient was advised).")
    locked = _locked(plan)
    hold = SafetyHold.objects.select_for_update().filter(plan=locked, cleared_at__isnull=True).first()
    if hold is None:
        raise ApplicationError("This plan is not on a safety hold.", status_code=409, code="no_safety_hold")
    hold.cleared_at, hold.cleared_by, hold.clear_note = now, cleared_by, note
    hold.save(update_fields=["cleared_at", "cleared_by", "clear_note", "updated_at"])
    if locked.status == PlanStatus.ACTIVE:
        plan_evaluate_progression(plan=locked, now=now)
    return hold


# --- coalesced re-evaluation after check-ins and logs ---------------------------------------

def _debounce_until(now: datetime | None) -> datetime:
    return (now or timezone.now()) + timedelta(seconds=settings.PROGRESSION_DEBOUNCE_SECONDS)


def progression_request(*, plan_id: int, now: datetime | None = None) -> None:
    """Ask for one plan to be re-evaluated after the debounce (an exercise log). A pending request stands."""
    ProgressionDue.objects.bulk_create([ProgressionDue(plan_id=plan_id, due_at=_debounce_until(now))],
                                       ignore_conflicts=True)


def progression_request_for_patient(*, patient_id: int, now: datetime | None = None) -> None:
    """Ask for every active plan of a patient to be re-evaluated after the debounce (a check-in).

    One statement inside the check-in's transaction (INSERT … SELECT … ON CONFLICT DO NOTHING,
    which SQLite and PostgreSQL both speak): a plan already waiting keeps its earlier due time, so
    a stream of check-ins never postpones its evaluation, and never adds a second one.
    """
    due, plan = ProgressionDue._meta, Plan._meta
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {due.db_table} (plan_id, due_at) "  # noqa: S608  # nosec B608: table names from the models
            f"SELECT id, %s FROM {plan.db_table} WHERE patient_id = %s AND status = %s "
            "ON CONFLICT (plan_id) DO NOTHING",
            [connection.ops.adapt_datetimefield_value(_debounce_until(now)), patient_id, PlanStatus.ACTIVE],
        )


def plans_evaluate_due(*, now: datetime | None = None, limit: int = 500) -> int:
    """Evaluate the plans whose re-evaluation is due (run by beat); returns how many were evaluated.

    Each plan is locked (`SKIP LOCKED`: a plan being changed, or taken by a second sweep running at
    once, is left for the next run), its request deleted, and the plan evaluated in that transaction,
    as of that moment, so every check-in or log stored before is seen. The plan is locked before its
    request, the order in which a check-in meets them, so the two never wait on each other in a
    circle. A record stored while the evaluation runs makes a new request for a later sweep. A
    failing evaluation is logged and not retried, as before: the next record asks again.
    """
    now = now or timezone.now()
    plan_ids = list(ProgressionDue.objects.filter(due_at__lte=now).order_by("due_at")
                    .values_list("plan_id", flat=True)[:limit])
    evaluated = 0
    for plan_id in plan_ids:
        with transaction.atomic():
            plan = (Plan.objects.select_for_update(no_key=True, of=("self",), skip_locked=True)
                    .select_related("patient", "condition").filter(pk=plan_id).first())
            if plan is None:  # being changed right now (or gone): the next sweep takes it
                continue
            deleted, _ = ProgressionDue.objects.filter(plan_id=plan_id, due_at__lte=now).delete()
            if not deleted:  # another sweep took it just before
                continue
            try:
                with transaction.atomic():
                    if plan_evaluate_progression(plan=plan) is not None:
                        evaluated += 1
            except Exception:
                logger.exception("progression evaluation of plan %s failed", plan_id)
    return evaluated


# --- media of one patient's exercise -----------------------------------------------------------------------------


def plan_exercise_media_add(*, plan: Plan, plan_exercise_id: int, uploaded_by: User, upload,
                            title: str = "") -> PlanExerciseMedia:
    """A picture or video for one exercise of `plan` (the caller can already see the plan)."""
    plan_exercise = PlanExercise.objects.filter(plan=plan, pk=plan_exercise_id).first()
    if plan_exercise is None:
        raise _field_error("plan_exercise", "Not an exercise of this plan.")
    media = fill_media(PlanExerciseMedia(plan_exercise=plan_exercise, uploaded_by=uploaded_by),
                       upload=upload, title=title)
    try:
        media.save()
    except Exception:
        delete_files(media)
        raise
    return media


# --- calendar feed ----------------------------------------------------------------------------------------------


def calendar_feed_create(*, patient: User) -> tuple[CalendarFeed, str]:
    """A new secret feed URL for the patient; the one before stops working. The token is returned once."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        # Two taps at once take turns on the patient's row (NO KEY: rows that merely point at the patient are
        # not held up), so the second revokes the first's new feed and only the last URL stays live. The partial
        # unique constraint would refuse a second live feed anyway.
        User.objects.select_for_update(no_key=True).filter(pk=patient.pk).values_list("pk").first()
        CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(revoked_at=timezone.now())
        feed = CalendarFeed.objects.create(patient=patient, token_hash=token_hash(token))
    return feed, token


def calendar_feed_revoke(*, patient: User) -> int:
    """Turns the patient's feed URL off (it answers 404 from now on). Returns how many were live (0 or 1)."""
    return CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).update(revoked_at=timezone.now())

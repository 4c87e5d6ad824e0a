"""Reads on plans: what each user may see, the physiotherapist's caseload and the patient's day."""
from datetime import datetime, timedelta

from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from conditions.models import ExerciseMedia, PhaseKey
from kneerehab.users.models import User
from kneerehab.users.selectors import patients_visible_to
from tracker.adherence import adherence_by_day
from tracker.models import Alert, AlertStatus, CheckIn, ExerciseLog

from .models import PhaseChange, Plan, PlanExercise, PlanExerciseMedia, PlanStatus, SafetyHold
from .progression import recent_adherence

ADHERENCE_DAYS = 7

# Path order of the phases, for sorting in SQL (the stored keys do not sort that way).
PHASE_ORDER = Case(*[When(phase=key, then=Value(i)) for i, key in enumerate(PhaseKey.ordered())],
                   output_field=IntegerField())


# The media shown with each plan exercise: its own, and its library exercise's (filtered per plan by
# `media_for_plan_exercise`, since which library media a patient sees depends on the plan's physiotherapist).
MEDIA_PREFETCH = (
    Prefetch("media", queryset=PlanExerciseMedia.objects.order_by("created_at", "id")),
    Prefetch("exercise__media", queryset=ExerciseMedia.objects.order_by("created_at", "id")),
)


def plans_visible_to(*, user: User) -> QuerySet[Plan]:
    """A physiotherapist sees the plans of the patients on their caseload; a patient sees their own."""
    if user.is_physiotherapist:
        return Plan.objects.filter(patient__physiotherapists=user)
    if user.is_patient:
        return Plan.objects.filter(patient=user)
    return Plan.objects.none()


def plan_list(*, user: User) -> QuerySet[Plan]:
    """Plans with everything their representation shows, in a fixed number of queries."""
    return plans_visible_to(user=user).select_related("patient", "physiotherapist", "condition").prefetch_related(
        Prefetch("exercises", queryset=PlanExercise.objects.select_related("exercise").order_by(
            PHASE_ORDER, "order", "id").prefetch_related(*MEDIA_PREFETCH)),
        Prefetch("phase_changes", queryset=PhaseChange.objects.select_related("changed_by")),
        open_holds_prefetch(),
    ).order_by("-created_at", "-id")


def open_holds_prefetch() -> Prefetch:
    """Each plan's open safety hold (at most one) as `plan.open_holds`."""
    return Prefetch("safety_holds", queryset=SafetyHold.objects.filter(cleared_at__isnull=True),
                    to_attr="open_holds")


def _running_plan(field: str) -> Subquery:
    """One field of the patient's running plan: an active one first, then the newest."""
    running = Plan.objects.filter(patient=OuterRef("pk"), status__in=[PlanStatus.ACTIVE, PlanStatus.PAUSED])
    running = running.order_by(Case(When(status=PlanStatus.ACTIVE, then=Value(0)), default=Value(1)),
                                "-created_at", "-id")
    return Subquery(running.values(field)[:1])


def caseload_list(*, physiotherapist: User) -> QuerySet[User]:
    """The physiotherapist's patients, each annotated with what the caseload shows (one query)."""
    open_alerts = (
        Alert.objects.filter(patient=OuterRef("pk"), physiotherapist=physiotherapist, status=AlertStatus.OPEN)
        .order_by().values("patient").annotate(n=Count("id")).values("n")
    )
    last_checkin = CheckIn.objects.filter(patient=OuterRef("pk")).order_by("-recorded_at").values("recorded_at")
    return (
        patients_visible_to(user=physiotherapist)
        .annotate(
            active_plan_id=_running_plan("id"),
            active_plan_condition_slug=_running_plan("condition__slug"),
            active_plan_condition_name=_running_plan("condition__name"),
            active_plan_phase=_running_plan("current_phase"),
            active_plan_status=_running_plan("status"),
            last_checkin_at=Subquery(last_checkin[:1]),
            open_alert_count=Coalesce(Subquery(open_alerts[:1]), 0),
        )
        .order_by("username")
    )


def caseload_adherence(*, patients: list[User], now: datetime | None = None) -> dict[int, float | None]:
    """Adherence over each patient's last 7 local days (today only when it helps), for a page at once.

    Patients live in different time zones, so one call covers every patient's window and each patient's
    own 7 days are sliced out of it.
    """
    if not patients:
        return {}
    now = now or timezone.now()
    todays = {p.pk: now.astimezone(p.tzinfo).date() for p in patients}
    start = min(todays.values()) - timedelta(days=ADHERENCE_DAYS - 1)
    by_day = adherence_by_day(patient_ids=list(todays), start=start, end=max(todays.values()))
    result = {}
    for patient_id, today in todays.items():
        first = today - timedelta(days=ADHERENCE_DAYS - 1)
        result[patient_id] = recent_adherence([d for d in by_day[patient_id] if first <= d.date <= today])
    return result


def today_for_patient(*, patient: User, now: datetime | None = None) -> dict:
    """The patient's local date, their active plans and the current phase's exercises with today's sessions."""
    now = now or timezone.now()
    today = now.astimezone(patient.tzinfo).date()
    plans = list(
        Plan.objects.filter(patient=patient, status=PlanStatus.ACTIVE, start_date__lte=today)
        .select_related("condition").prefetch_related(open_holds_prefetch()).order_by("created_at", "id")
    )
    holds = sorted((hold for plan in plans for hold in plan.open_holds), key=lambda h: (h.created_at, h.pk))
    # A plan on a safety hold shows no exercises: the hold's advice says what to do instead.
    exercising = [plan for plan in plans if not plan.open_holds]
    # Today's sessions through a subquery on (plan_exercise, date): joining the logs and counting with a
    # filter would read every session ever logged, so the page would slow down as the history grows.
    todays_sessions = (
        ExerciseLog.objects.filter(plan_exercise=OuterRef("pk"), date=today)
        .order_by().values("plan_exercise").annotate(n=Count("id")).values("n")
    )
    exercises = list(
        PlanExercise.objects.filter(plan__in=exercising, phase=F("plan__current_phase"))
        .select_related("exercise")
        .prefetch_related(*MEDIA_PREFETCH)
        .annotate(logged_sessions=Coalesce(Subquery(todays_sessions[:1]), 0),
                  plan_physiotherapist_id=F("plan__physiotherapist_id"))
        .order_by("plan__created_at", "plan_id", "order", "id")
    )
    return {"date": today, "plans": plans, "exercises": exercises, "safety_hold": holds[-1] if holds else None}


# --- exercise media ---------------------------------------------------------------------------------------------


def media_for_plan_exercise(plan_exercise: PlanExercise, *, physiotherapist_id: int) -> list:
    """What the plan exercise shows, from the prefetched rows: its own media first, then the library's that are
    shared or were uploaded by the plan's physiotherapist (the clinic's, once clinics exist)."""
    library = [m for m in plan_exercise.exercise.media.all()
               if m.shared or m.uploaded_by_id == physiotherapist_id]
    return [*plan_exercise.media.all(), *library]


def exercise_media_visible_to(*, user: User) -> QuerySet[ExerciseMedia]:
    """Library media `user` may open: a physiotherapist the shared ones and their own uploads; a patient the
    shared ones and those their plan's physiotherapist uploaded for an exercise on that plan."""
    if user.is_physiotherapist:
        return ExerciseMedia.objects.filter(Q(shared=True) | Q(uploaded_by=user))
    if user.is_patient:
        on_own_plan = PlanExercise.objects.filter(plan__patient=user, exercise=OuterRef("exercise"),
                                                  plan__physiotherapist=OuterRef("uploaded_by"))
        return ExerciseMedia.objects.filter(Q(shared=True) | Q(Exists(on_own_plan)))
    return ExerciseMedia.objects.none()


def plan_exercise_media_visible_to(*, user: User) -> QuerySet[PlanExerciseMedia]:
    """A plan exercise's media go with its plan: the patient and the physiotherapists who see the plan."""
    return PlanExerciseMedia.objects.filter(plan_exercise__plan__in=plans_visible_to(user=user))

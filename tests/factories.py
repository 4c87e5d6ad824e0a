"""The test suite's one set of factories: one per model, with subclasses where a test needs other defaults,
and scenario builders as plain functions. Every test area builds the same world from here."""
import datetime as dt

import factory
from django.utils import timezone

from conditions.models import BodyArea, Condition, Exercise, PhaseExercise, PhaseKey, TreatmentPhase
from kneerehab.users.models import Role, User
from plans.models import Plan, PlanExercise, PlanStatus
from tracker.models import Alert, CheckIn, ExerciseLog, PromptLevel

PASSWORD = "correct-horse-battery-staple"

# --- users ------------------------------------------------------------------------------------------------


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    timezone = "UTC"
    password = factory.django.Password(PASSWORD)


class PhysiotherapistFactory(UserFactory):
    role = Role.PHYSIOTHERAPIST
    username = factory.Sequence(lambda n: f"physio{n}")


class PatientFactory(UserFactory):
    role = Role.PATIENT
    username = factory.Sequence(lambda n: f"patient{n}")

    @factory.post_generation
    def physiotherapists(self, create, extracted, **kwargs):
        if create and extracted:
            for physio in extracted:
                self.physiotherapists.add(physio)


class QuickPatientFactory(PatientFactory):
    # An unusable password: hashing a real one for each of hundreds of patients is most of a test's time.
    password = "!"


class QuickPhysiotherapistFactory(PhysiotherapistFactory):
    password = "!"


# --- the catalogue -------------------------------------------------------------------------------------------


class ExerciseFactory(factory.django.DjangoModelFactory):
    """A library exercise with the model's default dose."""

    class Meta:
        model = Exercise
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"exercise-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    body_area = BodyArea.KNEE
    instructions = factory.LazyAttribute(lambda o: f"How to do {o.slug}.")
    feel = "A gentle stretch."
    stop_if = "Stop if the pain gets sharp."


class DosedExerciseFactory(ExerciseFactory):
    """A library exercise whose default dose differs from the model's (3 x 10, 5 s hold, twice a day)."""

    sets = 3
    reps = 10
    hold_seconds = 5
    times_per_day = 2
    days_per_week = 7


class ConditionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Condition
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"condition-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").capitalize())
    summary = "Pain behind the knee."
    causes = ["twisting"]
    symptoms = ["pain"]
    typical_recovery = "Six to twelve weeks."
    recovery_weeks_min = 6
    recovery_weeks_max = 12
    red_flags = factory.LazyFunction(lambda: [{"text": "Fever", "asks": ["fever"]}])
    warnings = factory.LazyFunction(list)
    sources = factory.LazyFunction(lambda: [{"title": "Tests"}])


class TreatmentPhaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentPhase

    condition = factory.SubFactory(ConditionFactory)
    key = PhaseKey.RICE
    order = 0
    name = factory.LazyAttribute(lambda o: PhaseKey(o.key).label)
    goals = factory.LazyFunction(lambda: ["settle the knee"])
    duration_days_min = 3
    duration_days_max = 14
    exit_criteria = factory.LazyFunction(list)


class PhaseExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PhaseExercise

    phase = factory.SubFactory(TreatmentPhaseFactory)
    exercise = factory.SubFactory(ExerciseFactory)
    order = 0
    sets = 3
    reps = 10
    hold_seconds = 0
    times_per_day = 2
    days_per_week = 7


# Condition warnings and exit criteria as the catalogue writes them (conditions/catalog/FORMAT.md).
MENISCUS_WARNINGS = [
    {"code": "meniscus_locking_or_giving_way", "message": "Your knee locked or gave way: book a visit.",
     "trigger": {"flag": "knee_locking_or_giving_way"}},
    {"code": "meniscus_limits_daily_activities", "message": "Your knee limits daily life: book a visit.",
     "trigger": {"flag": "limits_daily_activities"}},
]
BAKERS_WARNINGS = [
    {"code": "bakers_cyst_growing", "message": "The swelling grew since last time: book a visit.",
     "trigger": {"rise": {"metric": "swelling", "by": 1}}},
    {"code": "bakers_cyst_sudden_pain", "message": "Pain at rest jumped since last time: book a visit.",
     "trigger": {"rise": {"metric": "pain_at_rest", "by": 3}}},
]
RICE_EXIT = [
    {"metric": "pain_at_rest", "op": "lte", "value": 2, "consecutive_checkins": 3},
    {"metric": "swelling", "op": "lte", "value": "mild", "consecutive_checkins": 3},
    {"metric": "adherence_percent", "op": "gte", "value": 70, "days": 7},
    {"metric": "days_in_phase", "op": "gte", "value": 5},
]
PHYSIO_EXIT = [
    {"metric": "pain_during_activity", "op": "lte", "value": 3, "consecutive_checkins": 3},
    {"metric": "days_in_phase", "op": "gte", "value": 7},
]


def condition_with_path(*, exercises_per_phase: int, **kwargs) -> Condition:
    """A home-care condition with the three phases, each prescribing its own exercises."""
    condition = ConditionFactory(**kwargs)
    for order, key in enumerate(PhaseKey.ordered(), start=1):
        phase = TreatmentPhaseFactory(condition=condition, key=key, order=order)
        for position in range(exercises_per_phase):
            PhaseExerciseFactory(phase=phase, order=position)
    return condition


def make_path(slug: str = "meniscus-tear", name: str = "Meniscus tear", rice_exit=None, physio_exit=None,
              **condition_fields) -> Condition:
    """A condition with rice → physiotherapy → return_to_activity, two exercises in rice and one later on."""
    condition = ConditionFactory(slug=slug, name=name, recovery_weeks_min=4, recovery_weeks_max=8,
                                 **condition_fields)
    quad = DosedExerciseFactory(slug="quad-sets", name="Quadriceps setting")
    slides = DosedExerciseFactory(slug="heel-slides", name="Heel slides")
    bridge = DosedExerciseFactory(slug="bridges", name="Bridges")
    squat = DosedExerciseFactory(slug="mini-squats", name="Mini squats")
    rice = TreatmentPhaseFactory(condition=condition, key=PhaseKey.RICE, order=0,
                                 exit_criteria=RICE_EXIT if rice_exit is None else rice_exit)
    physio = TreatmentPhaseFactory(condition=condition, key=PhaseKey.PHYSIOTHERAPY, order=1,
                                   exit_criteria=PHYSIO_EXIT if physio_exit is None else physio_exit)
    rta = TreatmentPhaseFactory(condition=condition, key=PhaseKey.RETURN_TO_ACTIVITY, order=2, exit_criteria=[])
    PhaseExerciseFactory(phase=rice, exercise=quad, order=0, sets=3, reps=10, hold_seconds=5, times_per_day=2)
    PhaseExerciseFactory(phase=rice, exercise=slides, order=1, sets=2, reps=8, times_per_day=1)
    PhaseExerciseFactory(phase=physio, exercise=bridge, order=0, sets=3, reps=12, times_per_day=1)
    PhaseExerciseFactory(phase=rta, exercise=squat, order=0, sets=3, reps=15, times_per_day=1)
    return condition


def make_dvt() -> Condition:
    return ConditionFactory(
        slug="deep-vein-thrombosis", name="Deep vein thrombosis", home_care=False,
        urgent_care_note="Go to an emergency department or call your doctor today.",
    )


# --- plans ---------------------------------------------------------------------------------------------------


class PlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Plan

    patient = factory.SubFactory(PatientFactory)
    physiotherapist = factory.SubFactory(PhysiotherapistFactory)
    condition = factory.SubFactory(ConditionFactory)
    start_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=7))
    status = PlanStatus.ACTIVE
    current_phase = PhaseKey.RICE
    phase_started_at = factory.LazyFunction(timezone.now)


class ReminderPlanFactory(PlanFactory):
    """A plan a month old with one reminder at 08:00, for patients made in bulk (no password hashing)."""

    patient = factory.SubFactory(QuickPatientFactory)
    physiotherapist = factory.SubFactory(QuickPhysiotherapistFactory)
    start_date = factory.LazyFunction(lambda: timezone.now().date() - dt.timedelta(days=30))
    reminder_times = factory.LazyFunction(lambda: ["08:00"])


class PlanExerciseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanExercise

    plan = factory.SubFactory(PlanFactory)
    phase = factory.LazyAttribute(lambda o: o.plan.current_phase)
    exercise = factory.SubFactory(ExerciseFactory)
    sets = 3
    reps = 10
    times_per_day = 2
    days_per_week = 7


class OncePerDayPlanExerciseFactory(PlanExerciseFactory):
    """A prescribed exercise done once a day (one reminder's worth of work)."""

    plan = factory.SubFactory(ReminderPlanFactory)
    sets = 1
    times_per_day = 1


def plan_with_exercises(*, exercises: int = 2, **plan_fields) -> Plan:
    """An active plan (ReminderPlanFactory) with `exercises` prescribed once a day in its current phase."""
    plan = ReminderPlanFactory(**plan_fields)
    for _ in range(exercises):
        OncePerDayPlanExerciseFactory(plan=plan)
    return plan


# --- the tracker -----------------------------------------------------------------------------------------------


class CheckInFactory(factory.django.DjangoModelFactory):
    """A stored check-in as history, without screening (the API is used where the prompt matters)."""

    class Meta:
        model = CheckIn

    patient = factory.SubFactory(PatientFactory)
    recorded_at = factory.LazyFunction(timezone.now)
    pain_at_rest = 2
    pain_during_activity = 3
    swelling = "none"


class ExerciseLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExerciseLog

    plan_exercise = factory.SubFactory(PlanExerciseFactory)
    patient = factory.LazyAttribute(lambda o: o.plan_exercise.plan.patient)
    date = factory.LazyFunction(timezone.localdate)
    sets_done = 3
    reps_done = 10
    pain_during = 2


class AlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alert

    checkin = factory.SubFactory(CheckInFactory, prompt_level=PromptLevel.URGENT)
    patient = factory.LazyAttribute(lambda o: o.checkin.patient)
    physiotherapist = factory.SubFactory(PhysiotherapistFactory)
    level = PromptLevel.URGENT
    reasons = factory.LazyFunction(lambda: [{"code": "fever", "message": "You have a fever."}])


def log_all_of_today(plan: Plan, *, day: dt.date) -> None:
    """Log every current-phase exercise as often as it is prescribed on `day`."""
    for plan_exercise in plan.exercises.filter(phase=plan.current_phase):
        for _ in range(plan_exercise.times_per_day):
            ExerciseLogFactory(plan_exercise=plan_exercise, date=day)

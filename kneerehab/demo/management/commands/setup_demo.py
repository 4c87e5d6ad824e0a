from datetime import datetime, time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from kneerehab.users.models import Role, User
from kneerehab.users.services import caseload_add, user_create

DEMO_PHYSIO = ("demo-physio", "physio-demo-2026")
DEMO_PATIENT = ("demo-patient", "patient-demo-2026")
DEMO_CONDITION = "meniscus-tear"
# The demo plan began this many days ago; each day so far has a check-in and the day's sessions logged.
DEMO_DAYS = 3
# (pain at rest, pain during activity, swelling) per past day, oldest first: a knee settling down.
DEMO_CHECKINS = [(3, 5, "mild"), (2, 4, "mild"), (2, 3, "none")]


class Command(BaseCommand):
    help = ("Create the demo physiotherapist and a patient on their caseload and, once the catalogue is "
            "loaded, a meniscus-tear plan with a few days of check-ins and exercise logs (idempotent).")

    @transaction.atomic
    def handle(self, *args, **options):
        physio = self._ensure(DEMO_PHYSIO, Role.PHYSIOTHERAPIST, "Europe/London", "physio@demo.kneerehab.local")
        patient = self._ensure(DEMO_PATIENT, Role.PATIENT, "Europe/London", "patient@demo.kneerehab.local")
        caseload_add(physiotherapist=physio, patient=patient)
        self._ensure_plan(physio, patient)
        self.stdout.write("Demo accounts (for local use only):")
        self.stdout.write(f"  physiotherapist  {DEMO_PHYSIO[0]} / {DEMO_PHYSIO[1]}")
        self.stdout.write(f"  patient          {DEMO_PATIENT[0]} / {DEMO_PATIENT[1]}")

    def _ensure(self, credentials, role, timezone, email) -> User:
        username, password = credentials
        user = User.objects.filter(username=username).first()
        if user is None:
            user = user_create(username=username, role=role, password=password, timezone=timezone,
                               email=email, validate_password_strength=False)
        return user

    def _ensure_plan(self, physio: User, patient: User) -> None:
        """A running meniscus-tear plan with some history, only if the catalogue has the condition."""
        from conditions.models import Condition
        from plans.models import Plan
        from plans.services import plan_create
        from tracker.services import checkin_create, exercise_log_create

        condition = Condition.objects.filter(slug=DEMO_CONDITION).first()
        if condition is None:
            self.stdout.write("No demo plan: load the catalogue first (python manage.py load_catalog).")
            return
        if Plan.objects.filter(patient=patient, condition=condition).exists():
            return
        today = timezone.localdate(timezone=patient.tzinfo)
        start = today - timedelta(days=DEMO_DAYS)
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=DEMO_CONDITION,
                           start_date=start, reminder_times=["08:00", "18:00"])
        exercises = list(plan.exercises.filter(phase=plan.current_phase))
        for offset, (pain_at_rest, pain_during_activity, swelling) in enumerate(DEMO_CHECKINS):
            day = start + timedelta(days=offset)
            evening = datetime.combine(day, time(19, 0), tzinfo=patient.tzinfo)
            for exercise in exercises:
                for _ in range(exercise.times_per_day):
                    exercise_log_create(patient=patient, plan_exercise_id=exercise.pk, date=day,
                                        sets_done=exercise.sets, reps_done=exercise.reps,
                                        pain_during=pain_during_activity)
            checkin_create(patient=patient, data={
                "recorded_at": evening, "pain_at_rest": pain_at_rest,
                "pain_during_activity": pain_during_activity, "swelling": swelling,
            })
        self.stdout.write(f"Demo plan: {condition.name}, started {start.isoformat()}.")

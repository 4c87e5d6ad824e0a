from django.core.management.base import BaseCommand
from django.db import transaction

from kneerehab.users.models import Role, User
from kneerehab.users.services import caseload_add, user_create

DEMO_PHYSIO = ("demo-physio", "physio-demo-2026")
DEMO_PATIENT = ("demo-patient", "patient-demo-2026")


class Command(BaseCommand):
    help = "Create the demo physiotherapist and a patient on their caseload (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        physio = self._ensure(DEMO_PHYSIO, Role.PHYSIOTHERAPIST, "Europe/London", "physio@demo.kneerehab.local")
        patient = self._ensure(DEMO_PATIENT, Role.PATIENT, "Europe/London", "patient@demo.kneerehab.local")
        caseload_add(physiotherapist=physio, patient=patient)
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

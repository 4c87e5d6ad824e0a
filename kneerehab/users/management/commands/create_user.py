from django.core.management.base import BaseCommand, CommandError

from kneerehab.errors import ApplicationError
from kneerehab.users.models import Role, User
from kneerehab.users.services import user_create


class Command(BaseCommand):
    help = "Create a patient or a physiotherapist account (optionally on a physiotherapist's caseload)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="patient or physiotherapist")
        parser.add_argument("--password", required=True)
        parser.add_argument("--timezone", default="UTC", help="IANA time zone, e.g. Europe/London")
        parser.add_argument("--physio", help="username of the physiotherapist whose caseload gets this patient")
        parser.add_argument("--email", default="")

    def handle(self, *args, username, role, password, timezone, physio, email, **options):
        physiotherapist = None
        if physio:
            physiotherapist = User.objects.filter(username=physio, role=Role.PHYSIOTHERAPIST).first()
            if physiotherapist is None:
                raise CommandError(f"No physiotherapist with the username {physio!r}.")
        try:
            user = user_create(
                username=username, role=role, password=password, email=email,
                timezone=timezone, physiotherapist=physiotherapist,
                validate_password_strength=False,
            )
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        where = f" on {physio}'s caseload" if physio else ""
        self.stdout.write(self.style.SUCCESS(f"Created {user.role} {user.username} ({user.timezone}){where}."))

"""Run the reminder dispatcher once, in this process, sending email and push synchronously."""
from datetime import UTC

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from plans.reminders import dispatch_due_reminders


class Command(BaseCommand):
    help = (
        "Send the reminders and follow-ups due now (or at --now) once, without a worker: "
        "the same dispatch beat runs every minute, with email and push sent in this process."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", help="Dispatch as if it were this moment, ISO 8601 (e.g. 2026-03-08T08:00:00-05:00); "
                          "without an offset it is read as UTC.",
        )

    def handle(self, *args, now=None, **options):
        if now:
            moment = parse_datetime(now)
            if moment is None:
                raise CommandError(f"--now {now!r} is not an ISO 8601 date and time")
            if timezone.is_naive(moment):
                moment = moment.replace(tzinfo=UTC)
        else:
            moment = timezone.now()
        result = dispatch_due_reminders(now=moment)
        self.stdout.write(f"{result.sent} sent, {result.skipped} skipped")
        for reason, count in sorted(result.skip_reasons.items()):
            self.stdout.write(f"  skipped, {reason}: {count}")
        problems = result.outcomes["failed"] + result.outcomes["error"]
        if problems:
            self.stdout.write(self.style.WARNING(
                f"{problems} could not be delivered (see last_error; retried by the next run unless failed)"
            ))

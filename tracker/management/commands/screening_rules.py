from django.core.management.base import BaseCommand

from tracker.screening_table import questions_table, rules_table


class Command(BaseCommand):
    help = "Print the check-in questions and the screening rules as Markdown tables (the README's Screening section)."

    def handle(self, *args, **options):
        self.stdout.write(questions_table() + "\n\n" + rules_table())

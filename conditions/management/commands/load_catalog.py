from django.core.management.base import BaseCommand, CommandError

from conditions.catalog_validation import CATALOG_PATH, CatalogError, catalog_read
from conditions.services import catalog_load


class Command(BaseCommand):
    help = (
        "Validate the condition catalogue and load it into the database (idempotent: loading the same file "
        "again writes nothing; an edited entry updates its rows in place)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--file", dest="path", default=str(CATALOG_PATH),
                            help=f"the catalogue file (default: {CATALOG_PATH})")
        parser.add_argument("--check", action="store_true", help="only validate the file; write nothing")
        parser.add_argument(
            "--force", action="store_true",
            help="re-apply every entry, also those unchanged since the last load (undoes admin edits to them)",
        )

    def handle(self, *args, path, check, force, **options):
        try:
            catalog = catalog_read(path=path)
            if check:
                self.stdout.write(self.style.SUCCESS(
                    f"{path} is valid: version {catalog.version}, {len(catalog.exercises)} exercises, "
                    f"{len(catalog.conditions)} conditions."
                ))
                return
            report = catalog_load(catalog=catalog, force=force)
        except CatalogError as exc:
            raise CommandError(exc.message) from exc
        for line in report.lines():
            self.stdout.write(line)
        outcome = "Catalogue loaded." if report.changed else "Catalogue already up to date."
        self.stdout.write(self.style.SUCCESS(outcome))

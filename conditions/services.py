"""Writing the condition catalogue into the database.

`catalog_load()` makes the rows match `conditions/catalog/catalog.yaml`, in one transaction:

- exercises and conditions are matched by slug, phases by key, phase exercises by exercise;
- each row is compared before it is written, so loading the same file again writes nothing,
  and an edited entry is updated in place (its id, and so every reference to it, stays);
- each loaded row keeps a fingerprint of the file entry it came from. While that entry is
  unchanged, later loads leave the row alone, so what staff change in the admin survives the
  load that runs at every start (`make run`, the web container). When the entry changes in the
  file, the file wins. `force=True` re-applies every entry regardless;
- phases and phase exercises no longer in the file are removed; exercises and conditions that
  came from the file and are no longer in it are removed too, unless something still uses them
  (plans protect both): those are kept and listed in the report. Rows staff created in the admin
  (no fingerprint) are never removed.
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction
from django.db.models import Model, Prefetch, ProtectedError

from kneerehab.errors import ApplicationError
from kneerehab.media.storing import delete_files, fill_media

from .catalog_validation import Catalog, ConditionEntry, PhaseEntry, catalog_read
from .models import Condition, Exercise, ExerciseMedia, PhaseExercise, TreatmentPhase, condition_search_text

# Serialises concurrent loads on PostgreSQL (several web containers starting at once).
_ADVISORY_LOCK_KEY = 0x6B6E6565_63617467  # "knee" "catg"


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def __str__(self) -> str:
        return (f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
                + (f", {self.deleted} removed" if self.deleted else ""))


@dataclass
class CatalogLoadReport:
    version: int
    exercises: Tally = field(default_factory=Tally)
    conditions: Tally = field(default_factory=Tally)
    phases: Tally = field(default_factory=Tally)
    phase_exercises: Tally = field(default_factory=Tally)
    kept: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(t.changed for t in (self.exercises, self.conditions, self.phases, self.phase_exercises))

    def lines(self) -> list[str]:
        return [
            f"Catalogue version {self.version}:",
            f"  exercises        {self.exercises}",
            f"  conditions       {self.conditions}",
            f"  phases           {self.phases}",
            f"  phase exercises  {self.phase_exercises}",
            *(f"  kept: {note}" for note in self.kept),
        ]


def fingerprint(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def _apply(row: Model, values: dict) -> list[str]:
    """Set the values that differ on the row; return the names of the fields that changed."""
    changed = [name for name, value in values.items() if getattr(row, name) != value]
    for name in changed:
        setattr(row, name, values[name])
    return changed


def _condition_values(entry: ConditionEntry) -> dict:
    fields = entry.fields
    return {**fields, "search_text": condition_search_text(
        name=fields["name"], also_known_as=fields["also_known_as"], subtypes=fields["subtypes"],
        symptoms=fields["symptoms"],
    )}


def _condition_fingerprint(entry: ConditionEntry) -> str:
    return fingerprint({
        "fields": _condition_values(entry),
        "phases": [{"key": p.key, "order": p.order, "fields": p.fields,
                    "exercises": [[e.exercise, e.order, e.dose] for e in p.exercises]} for p in entry.phases],
    })


def _describe_protected(exc: ProtectedError) -> str:
    counts = Counter(obj._meta.verbose_name_plural for obj in exc.protected_objects)
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items()))


@transaction.atomic
def catalog_load(*, path: Path | str | None = None, catalog: Catalog | None = None,
                 force: bool = False) -> CatalogLoadReport:
    """Validate the catalogue file (or take an already checked `catalog`) and make the database match it."""
    if catalog is None:
        catalog = catalog_read(path=path)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_ADVISORY_LOCK_KEY])
    report = CatalogLoadReport(version=catalog.version)
    exercises = _load_exercises(catalog=catalog, report=report, force=force)
    _load_conditions(catalog=catalog, exercises=exercises, report=report, force=force)
    # Last, so that phase exercises dropped above no longer hold on to a retired exercise.
    _retire(
        Exercise.objects.exclude(catalog_hash="").exclude(slug__in=[e.slug for e in catalog.exercises]),
        tally=report.exercises, report=report, what="exercise",
    )
    return report


def _load_exercises(*, catalog: Catalog, report: CatalogLoadReport, force: bool) -> dict[str, Exercise]:
    rows = {row.slug: row for row in Exercise.objects.all()}
    new_rows = []
    for entry in catalog.exercises:
        digest = fingerprint(entry.fields)
        row = rows.get(entry.slug)
        if row is None:
            row = Exercise(slug=entry.slug, catalog_hash=digest, **entry.fields)
            new_rows.append(row)
            rows[entry.slug] = row
            continue
        if row.catalog_hash == digest and not force:
            report.exercises.unchanged += 1
            continue
        changed = _apply(row, entry.fields)
        if changed:
            row.catalog_hash = digest
            row.save(update_fields=[*changed, "catalog_hash", "updated_at"])
            report.exercises.updated += 1
        else:
            if row.catalog_hash != digest:
                row.catalog_hash = digest
                row.save(update_fields=["catalog_hash"])
            report.exercises.unchanged += 1
    Exercise.objects.bulk_create(new_rows)
    report.exercises.created += len(new_rows)
    return rows


def _load_conditions(*, catalog: Catalog, exercises: dict[str, Exercise], report: CatalogLoadReport,
                     force: bool) -> None:
    rows = {
        row.slug: row
        for row in Condition.objects.prefetch_related(
            Prefetch("phases", queryset=TreatmentPhase.objects.prefetch_related("phase_exercises"))
        )
    }
    new_conditions: list[tuple[Condition, ConditionEntry]] = []
    new_phases: list[tuple[TreatmentPhase, PhaseEntry]] = []
    new_phase_exercises: list[PhaseExercise] = []

    for entry in catalog.conditions:
        digest = _condition_fingerprint(entry)
        values = _condition_values(entry)
        row = rows.get(entry.slug)
        if row is None:
            row = Condition(slug=entry.slug, catalog_hash=digest, catalog_version=catalog.version, **values)
            new_conditions.append((row, entry))
            continue
        if row.catalog_hash == digest and not force:
            report.conditions.unchanged += 1
            report.phases.unchanged += len(entry.phases)
            report.phase_exercises.unchanged += sum(len(p.exercises) for p in entry.phases)
            continue
        changed = _apply(row, values)
        path_changed = _sync_phases(condition=row, entry=entry, exercises=exercises, report=report,
                                    new_phases=new_phases, new_phase_exercises=new_phase_exercises)
        if changed or path_changed:
            row.catalog_hash = digest
            row.catalog_version = catalog.version
            row.save(update_fields=[*changed, "catalog_hash", "catalog_version", "updated_at"])
            report.conditions.updated += 1
        else:
            if row.catalog_hash != digest:
                row.catalog_hash = digest
                row.save(update_fields=["catalog_hash"])
            report.conditions.unchanged += 1

    # bulk_create skips save(): the search text is already among the values.
    Condition.objects.bulk_create([row for row, _ in new_conditions])
    report.conditions.created += len(new_conditions)
    for row, entry in new_conditions:
        new_phases.extend((_new_phase(row, phase), phase) for phase in entry.phases)

    TreatmentPhase.objects.bulk_create([phase for phase, _ in new_phases])
    report.phases.created += len(new_phases)
    for phase, entry in new_phases:
        new_phase_exercises.extend(
            PhaseExercise(phase=phase, exercise=exercises[item.exercise], order=item.order, **item.dose)
            for item in entry.exercises
        )
    PhaseExercise.objects.bulk_create(new_phase_exercises)
    report.phase_exercises.created += len(new_phase_exercises)

    _retire(
        Condition.objects.exclude(catalog_hash="").exclude(slug__in=[c.slug for c in catalog.conditions]),
        tally=report.conditions, report=report, what="condition",
    )


def _new_phase(condition: Condition, entry: PhaseEntry) -> TreatmentPhase:
    return TreatmentPhase(condition=condition, key=entry.key, order=entry.order, **entry.fields)


def _sync_phases(*, condition: Condition, entry: ConditionEntry, exercises: dict[str, Exercise],
                 report: CatalogLoadReport, new_phases: list, new_phase_exercises: list) -> bool:
    """Bring an existing condition's phases in line with the file; True if anything was written."""
    rows = {phase.key: phase for phase in condition.phases.all()}
    wanted = {phase.key for phase in entry.phases}
    written = False

    for key, phase in list(rows.items()):
        if key not in wanted:
            report.phases.deleted += 1
            report.phase_exercises.deleted += len(phase.phase_exercises.all())
            phase.delete()  # its phase exercises go with it
            del rows[key]
            written = True

    # (condition, order) is unique: park the phases that move out of the way before renumbering.
    moving = [rows[p.key] for p in entry.phases if p.key in rows and rows[p.key].order != p.order]
    for offset, phase in enumerate(moving, start=1):
        phase.order = 1000 + offset
        phase.save(update_fields=["order"])

    for phase_entry in entry.phases:
        phase = rows.get(phase_entry.key)
        if phase is None:
            new_phases.append((_new_phase(condition, phase_entry), phase_entry))
            written = True
            continue
        changed = _apply(phase, {"order": phase_entry.order, **phase_entry.fields})
        if changed:
            phase.save(update_fields=changed)
            report.phases.updated += 1
            written = True
        else:
            report.phases.unchanged += 1
        written |= _sync_phase_exercises(phase=phase, entry=phase_entry, exercises=exercises, report=report,
                                         new_phase_exercises=new_phase_exercises)
    return written


def _sync_phase_exercises(*, phase: TreatmentPhase, entry: PhaseEntry, exercises: dict[str, Exercise],
                          report: CatalogLoadReport, new_phase_exercises: list) -> bool:
    rows = {item.exercise_id: item for item in phase.phase_exercises.all()}
    written = False
    wanted_ids = set()
    for item in entry.exercises:
        exercise = exercises[item.exercise]
        wanted_ids.add(exercise.pk)
        row = rows.get(exercise.pk)
        if row is None:
            new_phase_exercises.append(PhaseExercise(phase=phase, exercise=exercise, order=item.order, **item.dose))
            written = True
            continue
        changed = _apply(row, {"order": item.order, **item.dose})
        if changed:
            row.save(update_fields=changed)
            report.phase_exercises.updated += 1
            written = True
        else:
            report.phase_exercises.unchanged += 1
    stale = [row.pk for exercise_id, row in rows.items() if exercise_id not in wanted_ids]
    if stale:
        PhaseExercise.objects.filter(pk__in=stale).delete()
        report.phase_exercises.deleted += len(stale)
        written = True
    return written


def _retire(queryset, *, tally: Tally, report: CatalogLoadReport, what: str) -> None:
    """Remove rows that came from the file and are no longer in it, unless something still needs them."""
    for row in queryset:
        try:
            row.delete()
        except ProtectedError as exc:
            report.kept.append(
                f"{what} '{row.slug}' is no longer in the catalogue but is still used by "
                f"{_describe_protected(exc)}; it stays until those are gone"
            )
        else:
            tally.deleted += 1


# --- exercise media -------------------------------------------------------------------------------------------


def exercise_media_add(*, exercise: Exercise, uploaded_by, upload, title: str = "",
                       shared: bool = False) -> ExerciseMedia:
    """A picture or video for a library exercise, checked by content; `shared` only from the admin (staff)."""
    if not (uploaded_by.is_physiotherapist or uploaded_by.is_staff):
        raise ApplicationError("Only a physiotherapist or staff can add exercise media.", status_code=403,
                               code="permission_denied")
    media = fill_media(ExerciseMedia(exercise=exercise, uploaded_by=uploaded_by, shared=shared),
                       upload=upload, title=title)
    try:
        media.save()
    except Exception:
        delete_files(media)
        raise
    return media

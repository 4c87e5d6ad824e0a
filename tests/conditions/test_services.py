"""Loading the catalogue: idempotent, updates in place, keeps what plans use, leaves staff edits alone."""
import datetime as dt
import re
from unittest import mock

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conditions.catalog_validation import catalog_check, catalog_read
from conditions.models import Condition, Exercise, PhaseExercise, TreatmentPhase
from conditions.services import catalog_load
from plans.models import Plan, PlanExercise
from tests.conditions.conftest import SMALL_CATALOG, write_yaml
from tests.factories import PatientFactory, PhysiotherapistFactory

pytestmark = pytest.mark.django_db

WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def writes(queries) -> list[str]:
    return [q["sql"] for q in queries if WRITE_SQL.match(q["sql"])]


def snapshot() -> dict:
    """The catalogue as stored, in the shape of a checked file."""
    return {
        "exercises": {
            e.slug: {f: getattr(e, f) for f in ("name", "body_area", "instructions", "feel", "stop_if", *e.DOSE_FIELDS)}
            for e in Exercise.objects.all()
        },
        "conditions": {
            c.slug: {
                "fields": {f: getattr(c, f) for f in (
                    "name", "also_known_as", "subtypes", "summary", "causes", "symptoms", "typical_recovery",
                    "recovery_weeks_min", "recovery_weeks_max", "home_care", "urgent_care_note", "surgery_note",
                    "red_flags", "warnings", "sources")},
                "phases": [
                    (p.key, p.order, {f: getattr(p, f) for f in (
                        "name", "goals", "guidance", "exit_criteria", "duration_days_min", "duration_days_max")},
                     [(pe.exercise.slug, pe.order, pe.dose()) for pe in p.phase_exercises.order_by("order")])
                    for p in c.phases.order_by("order")
                ],
            }
            for c in Condition.objects.all()
        },
    }


def expected(catalog) -> dict:
    return {
        "exercises": {e.slug: e.fields for e in catalog.exercises},
        "conditions": {
            c.slug: {
                "fields": c.fields,
                "phases": [(p.key, p.order, p.fields, [(x.exercise, x.order, x.dose) for x in p.exercises])
                           for p in c.phases],
            }
            for c in catalog.conditions
        },
    }


def make_plan(condition, exercise=None):
    plan = Plan.objects.create(
        patient=PatientFactory(), physiotherapist=PhysiotherapistFactory(), condition=condition,
        start_date=dt.date(2026, 3, 1), phase_started_at=timezone.now(),
    )
    if exercise is not None:
        PlanExercise.objects.create(plan=plan, phase="rice", exercise=exercise)
    return plan


def test_a_first_load_creates_everything_as_the_file_says():
    report = catalog_load(path=SMALL_CATALOG)
    assert (report.exercises.created, report.conditions.created, report.phases.created,
            report.phase_exercises.created) == (4, 2, 3, 6)
    assert report.changed
    assert snapshot() == expected(catalog_read(path=SMALL_CATALOG))
    meniscus = Condition.objects.get(slug="meniscus-tear")
    assert meniscus.catalog_version == 3
    assert "locking or giving way of the knee" in meniscus.search_text
    assert Condition.objects.get(slug="deep-vein-thrombosis").phases.count() == 0


def test_loading_the_same_file_again_writes_nothing(small_catalog):
    before = {e.slug: e.updated_at for e in Exercise.objects.all()} | {
        c.slug: c.updated_at for c in Condition.objects.all()}
    with CaptureQueriesContext(connection) as queries:
        report = catalog_load(path=SMALL_CATALOG)
    assert writes(queries) == []
    assert not report.changed
    assert (report.exercises.unchanged, report.conditions.unchanged, report.phases.unchanged,
            report.phase_exercises.unchanged) == (4, 2, 3, 6)
    after = {e.slug: e.updated_at for e in Exercise.objects.all()} | {
        c.slug: c.updated_at for c in Condition.objects.all()}
    assert after == before


def test_forcing_an_unchanged_file_compares_every_row_and_still_writes_nothing(small_catalog):
    with CaptureQueriesContext(connection) as queries:
        report = catalog_load(path=SMALL_CATALOG, force=True)
    assert writes(queries) == []
    assert not report.changed


def test_an_edited_file_updates_the_rows_in_place(tmp_path, small_data, small_catalog):
    ids = {
        "exercise": Exercise.objects.get(slug="heel-slides").pk,
        "condition": Condition.objects.get(slug="meniscus-tear").pk,
        "phase": TreatmentPhase.objects.get(condition__slug="meniscus-tear", key="physiotherapy").pk,
    }
    small_data["version"] = 4
    small_data["exercises"][1]["name"] = "Heel slides on the bed"
    meniscus = small_data["conditions"][0]
    meniscus["symptoms"].append("A clicking feeling")
    physio = meniscus["phases"][1]
    physio["exercises"] = [{"exercise": "mini-squats", "dose": {"reps": 15}}, {"exercise": "calf-raises"}]
    physio["goals"] = ["Full movement"]
    report = catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))

    assert (report.exercises.updated, report.exercises.unchanged) == (1, 3)
    assert (report.conditions.updated, report.conditions.unchanged) == (1, 1)
    assert (report.phases.updated, report.phases.unchanged) == (1, 2)
    # heel-slides left the phase, mini-squats moved up and was re-dosed, calf-raises joined.
    assert (report.phase_exercises.created, report.phase_exercises.updated, report.phase_exercises.deleted,
            report.phase_exercises.unchanged) == (1, 1, 1, 4)
    assert Exercise.objects.get(pk=ids["exercise"]).name == "Heel slides on the bed"
    condition = Condition.objects.get(pk=ids["condition"])
    assert condition.symptoms[-1] == "A clicking feeling"
    assert "a clicking feeling" in condition.search_text
    assert condition.catalog_version == 4
    phase = TreatmentPhase.objects.get(pk=ids["phase"])
    assert [(pe.exercise.slug, pe.reps) for pe in phase.phase_exercises.order_by("order")] == [
        ("mini-squats", 15), ("calf-raises", 12)]
    # The condition that did not change keeps the version it was loaded with.
    assert Condition.objects.get(slug="deep-vein-thrombosis").catalog_version == 3
    assert snapshot() == expected(catalog_check(small_data))

    with CaptureQueriesContext(connection) as queries:
        again = catalog_load(path=tmp_path / "catalog.yaml")
    assert writes(queries) == [] and not again.changed


def test_a_condition_can_lose_its_home_plan(tmp_path, small_data, small_catalog):
    meniscus = small_data["conditions"][0]
    meniscus.update(home_care=False, phases=[], urgent_care_note="See a doctor today.")
    report = catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))
    assert (report.phases.deleted, report.phase_exercises.deleted) == (3, 6)
    assert not TreatmentPhase.objects.filter(condition__slug="meniscus-tear").exists()
    assert snapshot() == expected(catalog_check(small_data))


def test_what_left_the_file_is_removed_unless_a_plan_uses_it(tmp_path, small_data, small_catalog):
    make_plan(Condition.objects.get(slug="deep-vein-thrombosis"), exercise=Exercise.objects.get(slug="calf-raises"))
    # Drop DVT and meniscus-tear; drop calf-raises and quad-sets from the library and from every path.
    small_data["conditions"] = [small_data["conditions"][0] | {"slug": "torn-meniscus"}]
    small_data["exercises"] = [e for e in small_data["exercises"] if e["slug"] in ("heel-slides", "mini-squats")]
    for phase in small_data["conditions"][0]["phases"]:
        phase["exercises"] = [x for x in phase["exercises"] if x["exercise"] in ("heel-slides", "mini-squats")]

    report = catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))

    assert report.conditions.deleted == 1  # meniscus-tear: no plan
    assert report.exercises.deleted == 1  # quad-sets: no plan
    assert report.kept == [
        "condition 'deep-vein-thrombosis' is no longer in the catalogue but is still used by 1 plans; "
        "it stays until those are gone",
        "exercise 'calf-raises' is no longer in the catalogue but is still used by 1 plan exercises; "
        "it stays until those are gone",
    ]
    assert set(Condition.objects.values_list("slug", flat=True)) == {"torn-meniscus", "deep-vein-thrombosis"}
    assert set(Exercise.objects.values_list("slug", flat=True)) == {"heel-slides", "mini-squats", "calf-raises"}
    # Reporting a kept row again is not a change.
    with CaptureQueriesContext(connection) as queries:
        again = catalog_load(path=tmp_path / "catalog.yaml")
    assert writes(queries) == [] and not again.changed
    assert len(again.kept) == 2


def test_rows_created_by_staff_are_never_removed(small_catalog):
    Exercise.objects.create(slug="staff-stretch", name="Staff stretch", body_area="calf", instructions="…",
                            stop_if="…")
    report = catalog_load(path=SMALL_CATALOG)
    assert Exercise.objects.filter(slug="staff-stretch").exists()
    assert not report.changed


def test_a_staff_edit_survives_reloads_until_the_file_changes_that_entry(tmp_path, small_data, small_catalog):
    Exercise.objects.filter(slug="quad-sets").update(name="Thigh squeeze")
    Condition.objects.filter(slug="meniscus-tear").update(summary="Edited by staff.")
    catalog_load(path=SMALL_CATALOG)
    assert Exercise.objects.get(slug="quad-sets").name == "Thigh squeeze"
    assert Condition.objects.get(slug="meniscus-tear").summary == "Edited by staff."

    small_data["exercises"][0]["stop_if"] = "Pain above 4 out of 10."
    report = catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))
    assert report.exercises.updated == 1
    quad_sets = Exercise.objects.get(slug="quad-sets")
    assert (quad_sets.name, quad_sets.stop_if) == ("Quadriceps setting", "Pain above 4 out of 10.")
    assert Condition.objects.get(slug="meniscus-tear").summary == "Edited by staff."

    catalog_load(path=tmp_path / "catalog.yaml", force=True)
    assert Condition.objects.get(slug="meniscus-tear").summary == small_data["conditions"][0]["summary"]


def test_a_failure_midway_leaves_the_database_as_it_was(small_catalog, tmp_path, small_data):
    small_data["exercises"][0]["name"] = "Renamed"
    small_data["conditions"][0]["phases"][0]["exercises"].append({"exercise": "calf-raises"})
    with mock.patch.object(PhaseExercise.objects, "bulk_create", side_effect=RuntimeError("disk full")), \
            pytest.raises(RuntimeError):
        catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))
    assert Exercise.objects.get(slug="quad-sets").name == "Quadriceps setting"


def test_an_invalid_file_writes_nothing(tmp_path, small_data):
    small_data["conditions"][0]["phases"][0]["exercises"][0]["exercise"] = "nope"
    from conditions.catalog_validation import CatalogError

    with pytest.raises(CatalogError):
        catalog_load(path=write_yaml(tmp_path / "catalog.yaml", small_data))
    assert not Exercise.objects.exists()


# Edits a catalogue can go through between two loads: renamed and re-dosed exercises, phases whose
# exercise lists are re-ordered, shortened or extended, changed symptoms.
slugs = ["quad-sets", "heel-slides", "calf-raises", "mini-squats"]
phase_lists = st.lists(st.sampled_from(slugs), min_size=1, max_size=4, unique=True)
edits = st.fixed_dictionaries({
    "names": st.lists(st.sampled_from(["", " (gentle)", " (harder)"]), min_size=4, max_size=4),
    "reps": st.lists(st.integers(1, 30), min_size=4, max_size=4),
    "phases": st.lists(phase_lists, min_size=3, max_size=3),
    "overrides": st.lists(st.none() | st.integers(1, 6), min_size=3, max_size=3),
    "symptoms": st.lists(st.sampled_from(["Swelling", "Stiffness", "Clicking", "Weakness"]), min_size=1,
                         max_size=4, unique=True),
})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=edits, second=edits)
def test_any_sequence_of_edits_ends_with_the_database_matching_the_file(small_catalog_data, first, second):
    def edited(edit):
        import copy

        data = copy.deepcopy(small_catalog_data)
        for exercise, suffix, reps in zip(data["exercises"], edit["names"], edit["reps"], strict=True):
            exercise["name"] += suffix
            exercise["default_dose"]["reps"] = reps
        for phase, chosen, sets in zip(data["conditions"][0]["phases"], edit["phases"], edit["overrides"],
                                       strict=True):
            phase["exercises"] = [{"exercise": slug, **({"dose": {"sets": sets}} if sets else {})}
                                  for slug in chosen]
        data["conditions"][0]["symptoms"] = edit["symptoms"]
        return catalog_check(data)

    with transaction.atomic():
        for catalog in (edited(first), edited(second)):
            catalog_load(catalog=catalog)
            assert snapshot() == expected(catalog)
        with CaptureQueriesContext(connection) as queries:
            assert not catalog_load(catalog=catalog).changed
        assert writes(queries) == []
        transaction.set_rollback(True)

"""The demo data: a meniscus-tear plan with a few days of history, once the catalogue is there."""
from datetime import UTC, date, datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from kneerehab.users.models import User
from plans.models import Plan
from tracker.models import CheckIn, ExerciseLog

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 8, 12, 0, tzinfo=UTC)


def run() -> str:
    out = StringIO()
    with time_machine.travel(NOW, tick=False):
        call_command("setup_demo", stdout=out)
    return out.getvalue()


def test_without_a_catalogue_there_is_no_plan():
    assert "load the catalogue first" in run()
    assert not Plan.objects.exists()


def test_with_the_catalogue_the_demo_patient_gets_a_plan_with_history(catalog):
    output = run()
    plan = Plan.objects.get(patient__username="demo-patient")
    assert "Demo plan: Meniscus tear, started 2026-04-05." in output
    assert (plan.condition.slug, plan.status, plan.current_phase, plan.start_date) == (
        "meniscus-tear", "active", "rice", date(2026, 4, 5))
    assert plan.physiotherapist.username == "demo-physio"
    assert list(CheckIn.objects.filter(patient=plan.patient).order_by("recorded_at")
                .values_list("pain_at_rest", flat=True)) == [3, 2, 2]
    rice = plan.exercises.filter(phase="rice")
    assert ExerciseLog.objects.filter(patient=plan.patient).count() == 3 * sum(e.times_per_day for e in rice)
    # Three check-ins, but five days are needed in the first phase: not ready yet, and it says why.
    assert plan.progression == ""
    assert any(not r["met"] and r["code"] == "days_in_phase" for r in plan.progression_reasons)

    counts = (Plan.objects.count(), CheckIn.objects.count(), ExerciseLog.objects.count())
    run()
    assert (Plan.objects.count(), CheckIn.objects.count(), ExerciseLog.objects.count()) == counts


def test_setup_demo_is_idempotent():
    call_command("setup_demo")
    call_command("setup_demo")
    physio = User.objects.get(username="demo-physio")
    patient = User.objects.get(username="demo-patient")
    assert list(physio.caseload.all()) == [patient]

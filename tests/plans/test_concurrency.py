"""Racing requests against a real PostgreSQL: phase moves and assignments happen once.

Skipped on SQLite: its writers queue behind one database lock, so requests never really overlap there
(CI runs these against PostgreSQL).
"""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from plans.models import CalendarFeed, PhaseChange, PhaseChangeKind, Plan, PlanStatus
from plans.services import plan_create
from tests.concurrency import postgresql_only, run_together  # noqa: F401 (fixture)
from tests.factories import PatientFactory, PhysiotherapistFactory, make_path
from tracker.services import checkin_create

from .conftest import log_all_sessions

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]

START = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def setup():
    physio = PhysiotherapistFactory()
    patient = PatientFactory(physiotherapists=[physio])
    condition = make_path()
    return physio, patient, condition


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_a_double_tapped_advance_moves_one_phase(setup):
    physio, patient, condition = setup
    plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug)

    def advance(_):
        return client_for(physio).post(f"/api/v1/plans/{plan.pk}/advance/", {"from_phase": "rice"},
                                       format="json").status_code

    results = run_together(6, advance)
    assert sorted(results) == [200] + [409] * 5, results
    plan.refresh_from_db()
    assert plan.current_phase == "physiotherapy"
    assert PhaseChange.objects.filter(plan=plan, kind=PhaseChangeKind.ADVANCE).count() == 1


def test_concurrent_advances_without_a_guard_still_move_one_step_each(setup):
    physio, patient, condition = setup
    plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug)

    def advance(_):
        return client_for(physio).post(f"/api/v1/plans/{plan.pk}/advance/", format="json").status_code

    results = run_together(5, advance)
    # rice → physiotherapy → return_to_activity → completed: three moves, then the plan is finished.
    assert sorted(results) == [200, 200, 200, 400, 400], results
    moves = list(PhaseChange.objects.filter(plan=plan).order_by("id").values_list("from_phase", "to_phase"))
    assert moves == [("", "rice"), ("rice", "physiotherapy"), ("physiotherapy", "return_to_activity"),
                     ("return_to_activity", "")]
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMPLETED


def test_racing_assignments_make_one_plan(setup):
    physio, patient, condition = setup

    def assign(_):
        response = client_for(physio).post("/api/v1/plans/", {"patient": patient.pk, "condition": condition.slug},
                                           format="json")
        return response.status_code, response.json()

    results = run_together(6, assign)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(status for status, _ in results) == [201] + [400] * 5
    assert all("already has a running" in body["fields"]["condition"][0]
               for status, body in results if status == 400)
    assert Plan.objects.count() == 1


def test_racing_checkins_auto_advance_once(setup):
    physio, patient, condition = setup
    with time_machine.travel(START, tick=False) as clock:
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug,
                           auto_advance=True)
        for n in range(5):
            clock.move_to(START + timedelta(days=n, hours=10))
            log_all_sessions(plan, (START + timedelta(days=n)).date())
            checkin_create(patient=patient, data={"pain_at_rest": 1, "pain_during_activity": 1})
        plan.refresh_from_db()
        assert plan.current_phase == "rice"  # four days in: not yet
        clock.move_to(START + timedelta(days=5, hours=10))
        log_all_sessions(plan, (START + timedelta(days=5)).date())

        def check_in(i):
            checkin, _ = checkin_create(patient=patient, data={"pain_at_rest": 1, "pain_during_activity": 1})
            return checkin.pk

        results = run_together(4, check_in)
    assert not [r for r in results if isinstance(r, Exception)], results
    plan.refresh_from_db()
    assert plan.current_phase == "physiotherapy"
    assert PhaseChange.objects.filter(plan=plan, kind=PhaseChangeKind.AUTO_ADVANCE).count() == 1


def test_sweeps_running_at_once_evaluate_each_due_plan_once(setup, settings, monkeypatch):
    from plans import services
    from plans.services import plans_evaluate_due

    physio, _, condition = setup
    settings.PROGRESSION_DEBOUNCE_SECONDS = 0
    plans = []
    for _ in range(6):
        patient = PatientFactory(physiotherapists=[physio])
        plans.append(plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug))
        checkin_create(patient=patient, data={"pain_at_rest": 1, "pain_during_activity": 2})
    evaluated = []
    real = services.plan_evaluate_progression

    def counting(*, plan, now=None):
        evaluated.append(plan.pk)
        return real(plan=plan, now=now)

    monkeypatch.setattr(services, "plan_evaluate_progression", counting)
    results = run_together(4, lambda _: plans_evaluate_due())
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 6
    assert sorted(evaluated) == sorted(p.pk for p in plans)  # each once, whichever sweep took it


def test_checkins_racing_a_sweep_neither_deadlock_nor_go_unevaluated(setup, settings):
    from plans.models import ProgressionDue
    from plans.services import plans_evaluate_due

    physio, patient, condition = setup
    settings.PROGRESSION_DEBOUNCE_SECONDS = 0
    plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug)
    checkin_create(patient=patient, data={"pain_at_rest": 1, "pain_during_activity": 2})

    def work(i):
        if i == 0:
            return plans_evaluate_due()
        return client_for(patient).post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 2},
                                        format="json").status_code

    results = run_together(5, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results[1:] == [201] * 4
    # Whatever the interleaving, a check-in the sweep may not have seen has left a request for the next one.
    latest = plan.patient.checkins.order_by("-recorded_at").first()
    plan.refresh_from_db()
    if plan.progression_evaluated_at is None or plan.progression_evaluated_at < latest.recorded_at:
        assert ProgressionDue.objects.filter(plan=plan).exists()
    assert plans_evaluate_due() in (0, 1)
    plan.refresh_from_db()
    assert plan.progression_evaluated_at >= latest.recorded_at
    assert not ProgressionDue.objects.exists()


def test_calendar_links_made_at_once_leave_exactly_one_live(setup):
    _physio, patient, _condition = setup

    def subscribe(_):
        response = client_for(patient).post("/api/v1/calendar-feed/")
        return response.status_code, response.json().get("url", "")

    results = run_together(4, subscribe)
    assert [status for status, _url in results] == [201] * 4, results
    assert CalendarFeed.objects.filter(patient=patient, revoked_at__isnull=True).count() == 1
    paths = [url.removeprefix("http://testserver") for _status, url in results]
    live = [path for path in paths if APIClient().get(path).status_code == 200]
    assert len(live) == 1

"""As a new physiotherapist and patient would use the service, over HTTP with JWT, on the real catalogue."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from rest_framework.test import APIClient

from conditions.models import Condition
from plans.models import Plan
from plans.services import plan_create
from plans.tasks import evaluate_due_progressions
from tests.factories import PASSWORD, PhysiotherapistFactory

pytestmark = pytest.mark.django_db

# 07:30 UTC is 08:30 in Lisbon (WEST) on 1 June 2026.
START = datetime(2026, 6, 1, 7, 30, tzinfo=UTC)


def signed_in(username: str, password: str) -> APIClient:
    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert tokens.status_code == 200, tokens.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    return client


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def test_physio_adds_a_patient_assigns_a_meniscus_plan_and_takes_it_to_completion(
        catalog, django_capture_on_commit_callbacks):
    PhysiotherapistFactory(username="dr-silva")
    with time_machine.travel(START, tick=False) as clock:
        physio = signed_in("dr-silva", PASSWORD)

        patient = ok(physio.post("/api/v1/patients/", {
            "username": "maria", "email": "maria@example.org", "timezone": "Europe/Lisbon",
            "password": "knee-better-by-summer"}, format="json"), 201)
        plan = ok(physio.post("/api/v1/plans/", {
            "patient": patient["id"], "condition": "meniscus-tear", "reminder_times": ["09:00", "19:00"]},
            format="json"), 201)
        assert (plan["status"], plan["current_phase"], plan["start_date"]) == ("active", "rice", "2026-06-01")
        caseload = ok(physio.get("/api/v1/patients/"))["results"]
        assert caseload[0]["active_plan"]["id"] == plan["id"]

        # The patient signs in on their phone and sees today's protect-and-settle exercises.
        maria = signed_in("maria", "knee-better-by-summer")
        today = ok(maria.get("/api/v1/today/"))
        assert (today["date"], today["plan"], today["phase"]) == ("2026-06-01", plan["id"], "rice")
        slugs = [e["exercise"]["slug"] for e in today["exercises"]]
        assert slugs == ["quad-sets", "straight-leg-raise", "heel-slides", "ankle-pumps",
                         "seated-knee-range-of-motion"]
        assert not any(e["done"] for e in today["exercises"])

        first = today["exercises"][0]
        for session in range(first["times_per_day"]):
            clock.shift(timedelta(minutes=1))
            logged = maria.post("/api/v1/exercise-logs/", {
                "plan_exercise": first["id"], "sets_done": first["sets"], "reps_done": first["reps"],
                "pain_during": 2}, format="json")
            assert logged.status_code == 201, logged.content
            mid = ok(maria.get("/api/v1/today/"))["exercises"][0]
            assert mid["logged_sessions"] == session + 1
            assert mid["done"] is (session + 1 == first["times_per_day"])

        # Five good days of check-ins and every session: the plan suggests moving on. Each record asks for the
        # plan's re-evaluation; beat's progression sweep runs it once the debounce has passed.
        for day in range(6):
            clock.move_to(START + timedelta(days=day, hours=10))
            maria = signed_in("maria", "knee-better-by-summer")
            for exercise in ok(maria.get("/api/v1/today/"))["exercises"]:
                for _ in range(exercise["times_per_day"] if not exercise["done"] else 0):
                    with django_capture_on_commit_callbacks(execute=True):
                        ok(maria.post("/api/v1/exercise-logs/", {
                            "plan_exercise": exercise["id"], "sets_done": exercise["sets"],
                            "reps_done": exercise["reps"], "pain_during": 1}, format="json"), 201)
            assert all(e["done"] for e in ok(maria.get("/api/v1/today/"))["exercises"])
            with django_capture_on_commit_callbacks(execute=True):
                checkin = ok(maria.post("/api/v1/checkins/", {
                    "pain_at_rest": 1, "pain_during_activity": 2, "swelling": "mild"}, format="json"), 201)
            assert checkin["prompt"]["level"] == "none"
            clock.shift(timedelta(seconds=settings.PROGRESSION_DEBOUNCE_SECONDS))
            assert evaluate_due_progressions.delay().get() == 1  # one evaluation for the day's records

        physio = signed_in("dr-silva", PASSWORD)
        seen = ok(physio.get(f"/api/v1/plans/{plan['id']}/"))
        assert seen["progression"]["suggestion"] == "advance"
        assert all(r["met"] for r in seen["progression"]["reasons"])

        # The physiotherapist advances through the phases; past the last one the plan is complete.
        url = f"/api/v1/plans/{plan['id']}/advance/"
        assert ok(physio.post(url, {"reason": "Settled", "from_phase": "rice"}, format="json"))[
            "current_phase"] == "physiotherapy"
        today = ok(maria.get("/api/v1/today/"))
        assert today["phase"] == "physiotherapy"
        assert today["exercises"][0]["exercise"]["slug"] == "short-arc-quads"
        assert ok(physio.post(url, {"from_phase": "physiotherapy"}, format="json"))[
            "current_phase"] == "return_to_activity"
        done = ok(physio.post(url, {"from_phase": "return_to_activity", "reason": "Back to football"},
                              format="json"))
        assert done["status"] == "completed"
        assert [(c["kind"], c["to_phase"], c["changed_by"]) for c in done["phase_history"]] == [
            ("start", "rice", "dr-silva"), ("advance", "physiotherapy", "dr-silva"),
            ("advance", "return_to_activity", "dr-silva"), ("complete", "", "dr-silva")]
        assert ok(maria.get("/api/v1/today/"))["exercises"] == []
        assert ok(maria.get(f"/api/v1/plans/{plan['id']}/"))["status"] == "completed"


def test_every_home_care_condition_of_the_catalogue_can_be_assigned(catalog, physio, patient):
    conditions = list(Condition.objects.all())
    assert len(conditions) >= 11
    for condition in conditions:
        if not condition.home_care:
            continue
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug)
        phases = set(plan.exercises.values_list("phase", flat=True))
        assert phases == {"rice", "physiotherapy", "return_to_activity"}, condition.slug
    assert Plan.objects.count() == sum(1 for c in conditions if c.home_care)


def test_the_catalogues_dvt_is_refused(catalog, physio, patient):
    client = APIClient()
    client.force_authenticate(physio)
    dvt = Condition.objects.get(home_care=False)
    response = client.post("/api/v1/plans/", {"patient": patient.pk, "condition": dvt.slug}, format="json")
    assert response.status_code == 400
    assert "needs urgent medical care" in response.json()["fields"]["condition"][0]

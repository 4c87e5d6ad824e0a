"""As a new user would, over HTTP with JWT, on the real catalogue: a physiotherapist takes on a patient and
assigns a plan; the patient checks in; screening answers; the physiotherapist sees and acknowledges alerts."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from conditions.models import Condition
from kneerehab.users.services import user_create
from tests.factories import PASSWORD
from tracker.models import CheckIn, ExerciseLog
from tracker.rules import FLAG_WORDS
from tracker.screening import TREND_METRICS

pytestmark = pytest.mark.django_db

RED_FLAGS = {
    "fever": "fever",
    "cannot_bear_weight": "cannot_bear_weight",
    "sudden_swelling_or_warmth": "sudden_swelling_or_warmth",
    "joint_shape_changed": "joint_shape_changed",
    "calf_pain": "possible_blood_clot",
    "leg_swelling": "possible_blood_clot",
    "swollen_veins": "possible_blood_clot",
    "red_skin": "possible_blood_clot",
}


def signed_in(username: str) -> APIClient:
    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    assert tokens.status_code == 200, tokens.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    return client


def codes(response) -> list[str]:
    return [reason["code"] for reason in response.json()["prompt"]["reasons"]]


def test_the_whole_check_in_story_over_http(catalog, django_capture_on_commit_callbacks):
    user_create(username="dr-rivera", role="physiotherapist", password=PASSWORD, email="rivera@example.org")
    physio = signed_in("dr-rivera")
    created = physio.post("/api/v1/patients/", {"username": "sam", "password": PASSWORD, "email": "sam@example.org",
                                                 "timezone": "Europe/Lisbon"}, format="json")
    assert created.status_code == 201, created.json()
    patient_id = created.json()["id"]
    start = timezone.localdate() - timedelta(days=10)
    plan = physio.post("/api/v1/plans/", {"patient": patient_id, "condition": "meniscus-tear",
                                          "start_date": start.isoformat()}, format="json")
    assert plan.status_code == 201, plan.json()

    sam = signed_in("sam")
    checkins = "/api/v1/checkins/"

    # A benign check-in: nothing to do but carry on.
    benign = sam.post(checkins, {"pain_at_rest": 2, "pain_during_activity": 3}, format="json")
    assert benign.status_code == 201
    assert benign.json()["prompt"]["level"] == "none"
    assert benign.json()["plan"] == plan.json()["id"]
    assert "not a diagnosis" in benign.json()["prompt"]["message"]

    # A session of today's exercises.
    today = sam.get("/api/v1/today/")
    assert today.status_code == 200
    plan_exercise = today.json()["exercises"][0]["id"]
    logged = sam.post("/api/v1/exercise-logs/", {"plan_exercise": plan_exercise, "sets_done": 2, "reps_done": 10,
                                                 "pain_during": 3}, format="json")
    assert logged.status_code == 201, logged.json()

    # Each red flag alone: at least urgent, with its reason.
    with django_capture_on_commit_callbacks(execute=True):
        for flag, code in RED_FLAGS.items():
            response = sam.post(checkins, {"pain_at_rest": 2, "pain_during_activity": 3, flag: True}, format="json")
            assert response.status_code == 201
            assert response.json()["prompt"]["level"] in ("urgent", "emergency"), flag
            assert code in codes(response), flag
        severe = sam.post(checkins, {"pain_at_rest": 8, "pain_during_activity": 3}, format="json")
        assert severe.json()["prompt"]["level"] == "urgent" and "severe_pain" in codes(severe)
        breathing = sam.post(checkins, {"pain_at_rest": 2, "pain_during_activity": 3, "trouble_breathing": True},
                             format="json")
    assert breathing.json()["prompt"]["level"] == "emergency"
    assert codes(breathing)[0] == "trouble_breathing"

    # The knee giving way after a meniscus tear: the catalogue's own warning.
    locking = sam.post(checkins, {"pain_at_rest": 2, "pain_during_activity": 3, "knee_locking_or_giving_way": True},
                       format="json")
    assert locking.json()["prompt"]["level"] == "see_clinician"
    assert codes(locking) == ["meniscus_locking_or_giving_way"]
    # The question the app and the web ask now reaches the same condition-specific advice.
    giving_way = sam.post(checkins, {"pain_at_rest": 2, "pain_during_activity": 3, "knee_giving_way": True},
                          format="json")
    assert codes(giving_way) == ["meniscus_locking_or_giving_way"]

    # Pain rising over a week, up and down, synced late from an offline phone.
    now = timezone.now()
    for days_ago, pain in [(6, 2), (5, 2), (4, 1), (3, 4), (2, 3), (1, 5)]:
        trend = sam.post(checkins, {"pain_at_rest": pain, "pain_during_activity": 3,
                                    "recorded_at": (now - timedelta(days=days_ago)).isoformat()}, format="json")
        assert trend.status_code == 201
    assert trend.json()["prompt"]["level"] == "see_clinician"
    assert "pain_at_rest_getting_worse" in codes(trend)

    # A retried check-in is stored once, and answered the same.
    stored_before = CheckIn.objects.count()
    retry_body = {"pain_at_rest": 3, "pain_during_activity": 3, "client_id": str(uuid.uuid4())}
    first = sam.post(checkins, retry_body, format="json")
    second = sam.post(checkins, retry_body, format="json")
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == first.json()
    assert CheckIn.objects.count() == stored_before + 1

    # The physiotherapist sees the alerts, emergency first, and acknowledges it.
    alerts = physio.get("/api/v1/alerts/", {"status": "open"}).json()
    # A repeat of an open alert (a reason in common, same level) updates it: the five clot signs (sudden
    # swelling or warmth counts as one) make one alert seen five times, and giving way repeats the locking
    # warning's alert. Fever, weight, shape, clot signs, severe pain, breathing, locking or giving way and
    # the trend: 8 alerts.
    assert alerts["count"] == 8
    clot = next(a for a in alerts["results"] if "possible_blood_clot" in [r["code"] for r in a["reasons"]])
    assert clot["occurrences"] == 5
    emergency = alerts["results"][0]
    assert emergency["level"] == "emergency"
    assert emergency["checkin"] == breathing.json()["id"]
    acknowledged = physio.post(f"/api/v1/alerts/{emergency['id']}/acknowledge/",
                               {"outcome": "advised_emergency_care", "note": "Told to call 999."}, format="json")
    assert acknowledged.status_code == 200
    assert acknowledged.json()["acknowledged_by"] == "dr-rivera"
    assert physio.get("/api/v1/alerts/", {"status": "acknowledged"}).json()["count"] == 1
    inbox = physio.get("/api/v1/notifications/", {"kind": "alert"}).json()
    # Every repeat of an urgent alert reaches the inbox again: 8 alerts and 4 repeats.
    assert inbox["count"] == alerts["count"] + 4
    assert sam.get("/api/v1/alerts/").status_code == 403

    # The patient's inbox keeps the prompts; progress shows the story.
    prompts = sam.get("/api/v1/notifications/", {"kind": "prompt"}).json()
    assert prompts["count"] == 13  # one per check-in with a prompt, repeats included
    assert sam.post(f"/api/v1/notifications/{prompts['results'][0]['id']}/read/").json()["read"] is True
    progress = sam.get("/api/v1/progress/").json()
    assert progress["latest_prompt"]["checkin"] == first.json()["id"]
    assert [c["kind"] for c in progress["phase_history"]] == ["start"]
    assert progress["adherence"]["days"][-1]["logged"] == 1
    assert len(progress["open_alerts"]) == alerts["count"] - 1
    physio_view = physio.get(f"/api/v1/patients/{patient_id}/progress/")
    assert physio_view.status_code == 200
    assert ExerciseLog.objects.count() == 1


def test_every_catalogue_warning_is_one_screening_understands(catalog):
    """A warning screening cannot read would be ignored silently; the real catalogue has none."""
    for condition in Condition.objects.all():
        for warning in condition.warnings:
            trigger = warning["trigger"]
            if "flag" in trigger:
                named = trigger["flag"] if isinstance(trigger["flag"], list) else [trigger["flag"]]
                assert named and set(named) <= set(FLAG_WORDS), (condition.slug, warning["code"])
            else:
                assert trigger["rise"]["metric"] in TREND_METRICS, (condition.slug, warning["code"])

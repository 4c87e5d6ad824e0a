"""Pain during an exercise (issue 12, item 9): above 5/10 the answer is advice to reduce the load
(Silbernagel et al. 2007); from SEVERE_PAIN (8/10) it is screened like severe pain: an urgent prompt in the
response, an alert for the physiotherapist and a safety hold on the plan."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from kneerehab.notifications.models import Notification
from plans.models import SafetyHold
from tests.factories import PlanExerciseFactory, PlanFactory
from tracker.exercise_pain import ACCEPTABLE_EXERCISE_PAIN
from tracker.models import Alert
from tracker.rules import SEVERE_PAIN

pytestmark = pytest.mark.django_db

URL = "/api/v1/exercise-logs/"


@pytest.fixture
def plan_exercise(patient, physio):
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=timezone.localdate() - timedelta(days=5))
    return PlanExerciseFactory(plan=plan)


def log(client, plan_exercise, pain: int, **values):
    response = client.post(URL, {"plan_exercise": plan_exercise.pk, "sets_done": 3, "reps_done": 10,
                                 "pain_during": pain, **values}, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def test_the_thresholds_are_the_sources(settings):
    assert ACCEPTABLE_EXERCISE_PAIN == 5  # Silbernagel et al. 2007: up to 5/10 is acceptable
    assert SEVERE_PAIN == 8


@pytest.mark.parametrize("pain", [0, ACCEPTABLE_EXERCISE_PAIN])
def test_acceptable_pain_gets_no_advice_and_no_prompt(patient_client, plan_exercise, pain):
    body = log(patient_client, plan_exercise, pain)
    assert (body["advice"], body["prompt"]) == ("", None)
    assert not Alert.objects.exists()


@pytest.mark.parametrize("pain", [ACCEPTABLE_EXERCISE_PAIN + 1, SEVERE_PAIN - 1])
def test_pain_above_five_gets_advice_to_reduce_the_load(patient_client, plan_exercise, pain):
    body = log(patient_client, plan_exercise, pain)
    assert f"{pain}/10" in body["advice"]
    assert "fewer repetitions or sets" in body["advice"]
    assert body["prompt"] is None
    assert not Alert.objects.exists() and not SafetyHold.objects.exists()


@pytest.mark.parametrize("pain", [SEVERE_PAIN, 10])
def test_severe_pain_is_screened_like_severe_pain(patient_client, physio_client, patient, physio, plan_exercise,
                                                   pain):
    body = log(patient_client, plan_exercise, pain)
    assert "Stop your exercises" in body["advice"]
    prompt = body["prompt"]
    assert prompt["level"] == "urgent"
    assert [r["code"] for r in prompt["reasons"]] == ["severe_exercise_pain"]
    assert plan_exercise.exercise.name in prompt["reasons"][0]["message"]
    assert "not a diagnosis" in prompt["message"]
    assert prompt["emergency_number"]["tel"] == "tel:112"
    # The physiotherapist is alerted, with the session.
    [alert] = physio_client.get("/api/v1/alerts/").json()["results"]
    assert (alert["level"], alert["checkin"], alert["exercise_log"]) == ("urgent", None, body["id"])
    assert alert["exercise_session"]["pain_during"] == pain
    assert Notification.objects.filter(recipient=physio, kind="alert").count() == 1
    # The plan is on hold: Today shows the advice, not the exercises.
    today = patient_client.get("/api/v1/today/").json()
    assert today["exercises"] == []
    assert today["safety_hold"]["exercise_log"] == body["id"]
    assert today["safety_hold"]["advice"] == prompt["message"]
    assert Notification.objects.filter(recipient=patient, kind="prompt").count() == 1


def test_a_retried_severe_log_answers_the_same_and_alerts_once(patient_client, plan_exercise):
    key = str(uuid.uuid4())
    first = log(patient_client, plan_exercise, 9, client_id=key)
    again = log(patient_client, plan_exercise, 9, client_id=key)
    assert again == first
    assert Alert.objects.count() == 1


def test_severe_pain_again_repeats_the_open_alert(patient_client, plan_exercise):
    log(patient_client, plan_exercise, 9)
    log(patient_client, plan_exercise, 8)
    [alert] = Alert.objects.all()
    assert alert.occurrences == 2


def test_the_patients_view_of_an_old_log_shows_its_advice(patient_client, plan_exercise):
    created = log(patient_client, plan_exercise, 6)
    listed = patient_client.get(URL).json()["results"]
    assert listed[0]["id"] == created["id"] and listed[0]["advice"] == created["advice"]

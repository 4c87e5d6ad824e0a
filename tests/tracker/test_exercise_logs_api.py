"""Exercise logs through the API."""
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import ExerciseLogFactory, PatientFactory, PhysiotherapistFactory, PlanExerciseFactory, PlanFactory
from tracker.models import ExerciseLog

pytestmark = pytest.mark.django_db

URL = "/api/v1/exercise-logs/"


@pytest.fixture
def plan_exercise(patient, physio):
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=timezone.localdate() - timedelta(days=5))
    return PlanExerciseFactory(plan=plan)


def body(plan_exercise, **values):
    return {"plan_exercise": plan_exercise.pk, "sets_done": 3, "reps_done": 10, "pain_during": 2, **values}


def test_log_a_session(patient_client, patient, plan_exercise):
    response = patient_client.post(URL, body(plan_exercise, notes="easy"), format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["patient"] == patient.pk
    assert data["plan"] == plan_exercise.plan_id
    assert data["plan_exercise"] == plan_exercise.pk
    assert data["exercise"] == {"slug": plan_exercise.exercise.slug, "name": plan_exercise.exercise.name}
    assert data["date"] == timezone.localdate(timezone=patient.tzinfo).isoformat()
    assert data["notes"] == "easy"


def test_a_retry_with_the_same_client_id_is_stored_once(patient_client, plan_exercise):
    key = str(uuid.uuid4())
    first = patient_client.post(URL, body(plan_exercise, client_id=key), format="json")
    again = patient_client.post(URL, body(plan_exercise, client_id=key), format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert ExerciseLog.objects.count() == 1
    changed = patient_client.post(URL, body(plan_exercise, client_id=key, pain_during=7), format="json")
    assert changed.status_code == 422


@pytest.mark.parametrize(("values", "field"), [
    ({"pain_during": 11}, "pain_during"),
    ({"sets_done": 51}, "sets_done"),
    ({"reps_done": -1}, "reps_done"),
    ({"date": "3000-01-01"}, "date"),
    ({"date": "01/02/2026"}, "date"),
    ({"patient": 1, "owner": 2}, "owner"),
])
def test_bad_input_is_400_per_field(patient_client, plan_exercise, values, field):
    response = patient_client.post(URL, body(plan_exercise, **values), format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not ExerciseLog.objects.exists()


def test_a_date_before_the_plan_started_is_400(patient_client, plan_exercise):
    day = plan_exercise.plan.start_date - timedelta(days=1)
    response = patient_client.post(URL, body(plan_exercise, date=day.isoformat()), format="json")
    assert response.status_code == 400
    assert "date" in response.json()["fields"]


def test_someone_elses_exercise_is_refused_without_saying_whose(patient_client, plan_exercise):
    theirs = PlanExerciseFactory()
    for pk in (theirs.pk, 10**9):
        response = patient_client.post(URL, {**body(plan_exercise), "plan_exercise": pk}, format="json")
        assert response.status_code == 400
        assert response.json()["fields"] == {"plan_exercise": ["No exercise with this id is on one of your "
                                                              "active plans."]}


def test_a_physiotherapist_cannot_log_for_a_patient(physio_client, plan_exercise):
    assert physio_client.post(URL, body(plan_exercise), format="json").status_code == 403


def test_reading_logs_is_scoped_and_filtered(patient_client, physio_client, patient, physio, plan_exercise):
    today = timezone.localdate()
    recent = ExerciseLogFactory(plan_exercise=plan_exercise, date=today)
    older = ExerciseLogFactory(plan_exercise=plan_exercise, date=today - timedelta(days=4))
    elsewhere = ExerciseLogFactory()  # another patient, another physiotherapist
    assert [r["id"] for r in patient_client.get(URL).json()["results"]] == [recent.pk, older.pk]
    assert patient_client.get(f"{URL}{elsewhere.pk}/").status_code == 404
    assert physio_client.get(f"{URL}{elsewhere.pk}/").status_code == 404
    ids = [r["id"] for r in physio_client.get(URL, {"patient": patient.pk, "since": today.isoformat()})
           .json()["results"]]
    assert ids == [recent.pk]
    ids = [r["id"] for r in physio_client.get(URL, {"until": (today - timedelta(days=1)).isoformat()})
           .json()["results"]]
    assert ids == [older.pk]


@pytest.mark.parametrize("rows", [2, 40])
def test_log_list_queries_do_not_grow_with_rows(physio_client, physio, rows, django_assert_max_num_queries):
    exercises = [PlanExerciseFactory(plan=PlanFactory(patient=PatientFactory(physiotherapists=[physio]),
                                                      physiotherapist=physio)) for _ in range(3)]
    for i in range(rows):
        ExerciseLogFactory(plan_exercise=exercises[i % 3])
    PlanExerciseFactory(plan=PlanFactory(physiotherapist=PhysiotherapistFactory()))
    # count, page (with plan exercise and exercise joined), and the audit record of the read
    with django_assert_max_num_queries(3):
        response = physio_client.get(URL, {"page_size": 100})
    assert response.json()["count"] == rows
    assert all(r["exercise"]["slug"] for r in response.json()["results"])

"""The check-in and alert endpoints, as the mobile client and the physiotherapist use them."""
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from kneerehab.users.models import CaseloadLink
from tests.factories import (
    AlertFactory,
    CheckInFactory,
    PatientFactory,
    PhysiotherapistFactory,
    PlanExerciseFactory,
    PlanFactory,
)
from tracker.models import SYMPTOM_FLAGS, Alert, CheckIn

pytestmark = pytest.mark.django_db

URL = "/api/v1/checkins/"
ALERTS = "/api/v1/alerts/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def post(client, body, **headers):
    return client.post(URL, body, format="json", headers=headers or None)


BENIGN = {"pain_at_rest": 2, "pain_during_activity": 3}


# --- create ---------------------------------------------------------------------------------

def test_create_returns_the_checkin_and_its_prompt(patient_client, patient):
    response = post(patient_client, {**BENIGN, "swelling": "mild", "notes": "stiff in the morning"})
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "patient", "plan", "client_id", "recorded_at", "created_at", "pain_at_rest",
                         "pain_during_activity", "morning_pain", "swelling", *SYMPTOM_FLAGS, "notes", "prompt"}
    assert body["patient"] == patient.pk
    assert body["swelling"] == "mild"
    assert all(body[flag] is False for flag in SYMPTOM_FLAGS)
    assert body["prompt"]["level"] == "none"
    assert body["prompt"]["reasons"] == []
    assert "not a diagnosis" in body["prompt"]["message"]
    assert uuid.UUID(body["client_id"])


def test_create_with_a_red_flag_answers_at_once(patient_client):
    response = post(patient_client, {**BENIGN, "fever": True})
    assert response.status_code == 201
    prompt = response.json()["prompt"]
    assert prompt["level"] == "urgent"
    assert prompt["reasons"][0]["code"] == "fever"


@pytest.mark.parametrize(("body", "field"), [
    ({**BENIGN, "pain_at_rest": 11}, "pain_at_rest"),
    ({**BENIGN, "pain_during_activity": -1}, "pain_during_activity"),
    ({**BENIGN, "swelling": "huge"}, "swelling"),
    ({"pain_during_activity": 3}, "pain_at_rest"),
    ({**BENIGN, "fever": "perhaps"}, "fever"),
    ({**BENIGN, "recorded_at": "3000-01-01T00:00:00Z"}, "recorded_at"),
    ({**BENIGN, "recorded_at": "yesterday"}, "recorded_at"),
    ({**BENIGN, "client_id": "not-a-uuid"}, "client_id"),
    ({**BENIGN, "owner": 1}, "owner"),
    ({**BENIGN, "idempotency_key": "abc"}, "idempotency_key"),
    ({**BENIGN, "notes": "x" * 2001}, "notes"),
])
def test_bad_input_is_a_400_naming_the_field(patient_client, body, field):
    response = post(patient_client, body)
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert field in response.json()["fields"]
    assert not CheckIn.objects.exists()


def test_malformed_json_and_a_list_are_400(patient_client):
    response = patient_client.post(URL, data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert post(patient_client, [BENIGN]).status_code == 400


def test_recorded_at_allows_a_little_clock_skew_but_not_the_future_or_long_ago(patient_client):
    now = timezone.now()
    assert post(patient_client, {**BENIGN, "recorded_at": (now + timedelta(minutes=3)).isoformat()}).status_code == 201
    too_late = post(patient_client, {**BENIGN, "recorded_at": (now + timedelta(minutes=10)).isoformat()})
    assert too_late.status_code == 400
    assert "future" in too_late.json()["fields"]["recorded_at"][0]
    too_old = post(patient_client, {**BENIGN, "recorded_at": (now - timedelta(days=400)).isoformat()})
    assert too_old.status_code == 400
    synced = post(patient_client, {**BENIGN, "recorded_at": (now - timedelta(days=3)).isoformat()})
    assert synced.status_code == 201


def test_owner_and_plan_fields_cannot_be_set_by_the_client(patient_client, patient, physio):
    other = PatientFactory(physiotherapists=[physio])
    response = post(patient_client, {**BENIGN, "patient": other.pk, "plan": 12345, "id": 999,
                                     "prompt": {"level": "none", "message": "", "reasons": []}, "fever": True,
                                     "pain_at_rest": 11, "colour": "blue"})
    # Refused, every field named at once: the read-only ones, the unknown one and the bad value.
    assert response.status_code == 400
    fields = response.json()["fields"]
    for name in ("patient", "plan", "id", "prompt"):
        assert fields[name] == ["This field cannot be set."]
    assert fields["colour"] == ["Unknown field."]
    assert "pain_at_rest" in fields
    assert not CheckIn.objects.exists()
    # Without them, the same check-in is the caller's and screened by the server.
    response = post(patient_client, {**BENIGN, "fever": True})
    assert response.status_code == 201
    stored = CheckIn.objects.get()
    assert stored.patient == patient and stored.plan is None
    assert response.json()["prompt"]["level"] == "urgent"


def test_a_physiotherapist_cannot_record_a_checkin(physio_client):
    response = post(physio_client, BENIGN)
    assert response.status_code == 403
    assert not CheckIn.objects.exists()


def test_anonymous_is_401(api_client):
    assert post(api_client, BENIGN).status_code == 401
    assert api_client.get(URL).status_code == 401


# --- idempotency -----------------------------------------------------------------------------

def test_a_retry_with_the_same_client_id_returns_the_first_checkin_with_the_same_body(patient_client, physio):
    body = {**BENIGN, "client_id": str(uuid.uuid4()), "calf_pain": True,
            "recorded_at": (timezone.now() - timedelta(minutes=30)).isoformat()}
    first = post(patient_client, body)
    again = post(patient_client, body)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CheckIn.objects.count() == 1
    assert Alert.objects.count() == 1


def test_the_idempotency_key_header_works_like_client_id(patient_client):
    first = post(patient_client, BENIGN, **{"Idempotency-Key": "sync-42"})
    again = post(patient_client, BENIGN, **{"Idempotency-Key": "sync-42"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert CheckIn.objects.get().idempotency_key == "sync-42"
    other = post(patient_client, BENIGN, **{"Idempotency-Key": "sync-43"})
    assert other.status_code == 201
    assert CheckIn.objects.count() == 2


def test_the_same_key_with_a_different_body_is_422(patient_client):
    key = str(uuid.uuid4())
    assert post(patient_client, {**BENIGN, "client_id": key}).status_code == 201
    response = post(patient_client, {**BENIGN, "client_id": key, "pain_at_rest": 6})
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    header = post(patient_client, BENIGN, **{"Idempotency-Key": "k"})
    assert header.status_code == 201
    assert post(patient_client, {**BENIGN, "fever": True}, **{"Idempotency-Key": "k"}).status_code == 422
    assert CheckIn.objects.count() == 2


def test_an_overlong_idempotency_key_is_400(patient_client):
    response = post(patient_client, BENIGN, **{"Idempotency-Key": "x" * 256})
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["fields"]


# --- read ------------------------------------------------------------------------------------

def test_a_patient_reads_only_their_own(patient_client, patient, physio):
    mine = CheckInFactory(patient=patient)
    theirs = CheckInFactory(patient=PatientFactory(physiotherapists=[physio]))
    listed = patient_client.get(URL).json()
    assert [c["id"] for c in listed["results"]] == [mine.pk]
    assert patient_client.get(f"{URL}{mine.pk}/").status_code == 200
    response = patient_client.get(f"{URL}{theirs.pk}/")
    assert response.status_code == 404
    assert "pain_at_rest" not in response.json()


def test_a_physiotherapist_reads_the_caseload_only(physio_client, patient, physio):
    on_caseload = CheckInFactory(patient=patient)
    elsewhere = CheckInFactory(patient=PatientFactory(physiotherapists=[PhysiotherapistFactory()]))
    listed = physio_client.get(URL).json()
    assert [c["id"] for c in listed["results"]] == [on_caseload.pk]
    assert physio_client.get(f"{URL}{elsewhere.pk}/").status_code == 404
    assert physio_client.get(URL, {"patient": elsewhere.patient_id}).json()["count"] == 0


def test_filters_by_patient_time_range_and_level(physio_client, physio, patient):
    other = PatientFactory(physiotherapists=[physio])
    now = timezone.now()
    old = CheckInFactory(patient=patient, recorded_at=now - timedelta(days=10))
    recent = CheckInFactory(patient=patient, recorded_at=now - timedelta(days=1), prompt_level="urgent")
    CheckInFactory(patient=other, recorded_at=now - timedelta(days=1))

    def ids(**params):
        response = physio_client.get(URL, params)
        assert response.status_code == 200, response.json()
        return [c["id"] for c in response.json()["results"]]

    assert ids(patient=patient.pk) == [recent.pk, old.pk]
    assert ids(patient=patient.pk, since=(now - timedelta(days=2)).isoformat()) == [recent.pk]
    assert ids(patient=patient.pk, until=(now - timedelta(days=2)).date().isoformat()) == [old.pk]
    assert ids(patient=patient.pk, since=old.recorded_at.date().isoformat(),
               until=old.recorded_at.date().isoformat()) == [old.pk]
    assert ids(level="urgent") == [recent.pk]
    assert physio_client.get(URL, {"since": "last tuesday"}).status_code == 400
    assert physio_client.get(URL, {"level": "catastrophic"}).status_code == 400


def test_the_list_is_paginated_newest_first(patient_client, patient):
    now = timezone.now()
    made = [CheckInFactory(patient=patient, recorded_at=now - timedelta(hours=i)) for i in range(25)]
    page = patient_client.get(URL).json()
    assert page["count"] == 25
    assert len(page["results"]) == 20
    assert page["next"]
    assert page["results"][0]["id"] == made[0].pk


@pytest.mark.parametrize("rows", [2, 40])
def test_checkin_list_queries_do_not_grow_with_rows(physio_client, physio, rows, django_assert_max_num_queries):
    patients = [PatientFactory(physiotherapists=[physio]) for _ in range(3)]
    for i in range(rows):
        CheckInFactory(patient=patients[i % 3])
    # count, page, and the audit record of the read
    with django_assert_max_num_queries(3):
        response = physio_client.get(URL, {"page_size": 100})
    assert response.json()["count"] == rows


# --- alerts ----------------------------------------------------------------------------------

def test_alerts_are_the_physiotherapists_own_and_patients_are_refused(physio_client, patient_client, patient,
                                                                      physio):
    post(patient_client, {**BENIGN, "fever": True})
    other_physio = PhysiotherapistFactory()
    AlertFactory(physiotherapist=other_physio, checkin=CheckInFactory(patient=PatientFactory(
        physiotherapists=[other_physio])))
    listed = physio_client.get(ALERTS).json()
    assert listed["count"] == 1
    alert = listed["results"][0]
    assert alert["patient"] == {"id": patient.pk, "username": patient.username, "first_name": "",
                                "last_name": "", "phone": ""}
    assert alert["level"] == "urgent"
    assert alert["status"] == "open"
    assert alert["reasons"][0]["code"] == "fever"
    assert patient_client.get(ALERTS).status_code == 403
    assert patient_client.post(f"{ALERTS}{alert['id']}/acknowledge/").status_code == 403


def test_alerts_list_open_first_then_most_urgent(physio_client, patient, physio):
    see = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient), level="see_clinician")
    emergency = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient), level="emergency")
    done = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient), level="emergency",
                        status="acknowledged")
    urgent = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient), level="urgent")
    ids = [a["id"] for a in physio_client.get(ALERTS).json()["results"]]
    assert ids == [emergency.pk, urgent.pk, see.pk, done.pk]
    assert [a["id"] for a in physio_client.get(ALERTS, {"status": "open", "level": "urgent"}).json()["results"]] \
        == [urgent.pk]
    assert [a["id"] for a in physio_client.get(ALERTS, {"status": "acknowledged"}).json()["results"]] == [done.pk]
    assert physio_client.get(ALERTS, {"status": "maybe"}).status_code == 400


def test_acknowledge_records_who_when_the_outcome_and_note_and_is_idempotent(physio_client, patient, physio):
    alert = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient))
    first = physio_client.post(f"{ALERTS}{alert.pk}/acknowledge/",
                               {"outcome": "called_patient", "note": "Calf better, booked a scan."}, format="json")
    assert first.status_code == 200
    body = first.json()
    assert body["status"] == "acknowledged"
    assert body["acknowledged_by"] == physio.username
    assert body["acknowledged_at"]
    assert (body["outcome"], body["outcome_note"]) == ("called_patient", "Calf better, booked a scan.")
    again = physio_client.post(f"{ALERTS}{alert.pk}/acknowledge/", {"outcome": "other", "note": "x"}, format="json")
    assert again.status_code == 200
    assert again.json()["acknowledged_at"] == body["acknowledged_at"]
    assert again.json()["outcome"] == "called_patient"


def test_another_physiotherapists_alert_is_404_and_so_is_one_about_a_patient_who_left(physio_client, patient,
                                                                                      physio):
    theirs = AlertFactory(checkin=CheckInFactory(patient=patient))
    assert physio_client.post(f"{ALERTS}{theirs.pk}/acknowledge/").status_code == 404
    assert physio_client.get(f"{ALERTS}{theirs.pk}/").status_code == 404
    mine = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patient))
    assert physio_client.get(f"{ALERTS}{mine.pk}/").status_code == 200
    CaseloadLink.objects.filter(patient=patient, physiotherapist=physio).delete()
    assert physio_client.get(f"{ALERTS}{mine.pk}/").status_code == 404
    assert physio_client.get(ALERTS).json()["count"] == 0


@pytest.mark.parametrize("rows", [2, 40])
def test_alert_list_queries_do_not_grow_with_rows(physio_client, physio, rows, django_assert_max_num_queries):
    patients = [PatientFactory(physiotherapists=[physio]) for _ in range(3)]
    for i in range(rows):
        alert = AlertFactory(physiotherapist=physio, checkin=CheckInFactory(patient=patients[i % 3]))
        if i % 2:
            alert.status, alert.acknowledged_by, alert.acknowledged_at = "acknowledged", physio, timezone.now()
            alert.save()
    # count, page, and the audit record of the read
    with django_assert_max_num_queries(3):
        response = physio_client.get(ALERTS, {"page_size": 100})
    assert response.json()["count"] == rows


def test_the_schema_documents_the_tracker_endpoints(patient_client):
    schema = patient_client.get("/api/v1/schema/", {"format": "json"}).json()
    paths = schema["paths"]
    for path in ("/api/v1/checkins/", "/api/v1/checkins/{id}/", "/api/v1/exercise-logs/", "/api/v1/alerts/",
                 "/api/v1/alerts/{id}/acknowledge/", "/api/v1/progress/",
                 "/api/v1/patients/{patient_id}/progress/"):
        assert path in paths, path
    create = paths["/api/v1/checkins/"]["post"]
    assert {"201", "200", "409", "422"} <= set(create["responses"])
    assert any(p["name"] == "Idempotency-Key" and p["in"] == "header" for p in create["parameters"])
    request_schema = schema["components"]["schemas"]["CheckInCreateRequest"]
    assert {"pain_at_rest", "client_id", "recorded_at", *SYMPTOM_FLAGS} <= set(request_schema["properties"])
    assert "prompt" in schema["components"]["schemas"]["CheckIn"]["properties"]


# --- cost of a check-in ------------------------------------------------------------------------

# Every query of a check-in on PostgreSQL or SQLite, with force_authenticate (a real request adds the JWT
# user lookup). Lower these when the create path gets cheaper; never raise them.
# Benign (prompt none): plans, history, insert, its history row, the listeners' savepoint (2) and in it the
# request for a progression re-evaluation (one INSERT … SELECT, in place of a broker publish per check-in
# after commit), the audit row, and the two statements of the test's savepoint that stands in for the
# request's transaction.
CHECKIN_CREATE_QUERIES = 10
# A red flag with one physiotherapist adds the caseload, the alert and its history row, the physiotherapist's
# inbox item and email outbox row, and the patient's inbox item (notify reads for a duplicate first and
# writes in a savepoint); and (issue 12) the patient's open alerts (a repeat updates one instead of raising
# another), the running plans with their open safety holds, and the insert of the hold; and, as for a benign
# one, the request for a progression re-evaluation.
URGENT_CHECKIN_CREATE_QUERIES = 26


def _queries_of_a_checkin(physio, days_of_history: int, body: dict, level: str) -> int:
    patient = PatientFactory(physiotherapists=[physio])
    plan = PlanFactory(patient=patient, physiotherapist=physio, start_date=timezone.localdate() - timedelta(days=3))
    PlanExerciseFactory(plan=plan)
    now = timezone.now()
    for day in range(days_of_history):
        CheckInFactory(patient=patient, recorded_at=now - timedelta(days=day + 1))
    with CaptureQueriesContext(connection) as queries:
        response = post(client_for(patient), body)
    assert response.status_code == 201
    assert response.json()["prompt"]["level"] == level
    return len(queries)


def test_a_checkin_costs_the_same_queries_with_1_or_60_days_of_history(physio):
    with_one_day = _queries_of_a_checkin(physio, 1, BENIGN, "none")
    with_sixty_days = _queries_of_a_checkin(physio, 60, BENIGN, "none")
    assert with_one_day == with_sixty_days
    assert with_sixty_days <= CHECKIN_CREATE_QUERIES


def test_a_red_flag_checkin_costs_the_same_queries_with_1_or_60_days_of_history(physio):
    urgent = {**BENIGN, "fever": True}
    with_one_day = _queries_of_a_checkin(physio, 1, urgent, "urgent")
    with_sixty_days = _queries_of_a_checkin(physio, 60, urgent, "urgent")
    assert with_one_day == with_sixty_days
    assert with_sixty_days <= URGENT_CHECKIN_CREATE_QUERIES

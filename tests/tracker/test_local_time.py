"""A check-in time sent without an offset is the patient's wall-clock time; only real places are time zones."""
from datetime import UTC, datetime

import pytest
import time_machine

from tests.factories import PatientFactory
from tracker.models import CheckIn

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 16, 0, tzinfo=UTC)  # 12:00 in New York (EDT, UTC-4)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def new_yorker(api_client):
    patient = PatientFactory(timezone="America/New_York")
    api_client.force_authenticate(patient)
    return patient


def test_a_naive_recorded_at_is_the_patients_local_time(api_client, new_yorker):
    response = api_client.post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 3,
                                                     "recorded_at": "2026-06-15T09:30:00"}, format="json")
    assert response.status_code == 201, response.content
    assert datetime.fromisoformat(response.json()["recorded_at"]) == datetime(2026, 6, 15, 13, 30, tzinfo=UTC)
    assert CheckIn.objects.get().recorded_at == datetime(2026, 6, 15, 13, 30, tzinfo=UTC)


def test_a_naive_recorded_at_ahead_of_the_patients_clock_is_in_the_future(api_client, new_yorker):
    # 13:00 in New York is an hour from now; read as UTC it would have been three hours ago.
    response = api_client.post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 3,
                                                     "recorded_at": "2026-06-15T13:00:00"}, format="json")
    assert response.status_code == 400
    assert "recorded_at" in response.json()["fields"]


def test_a_naive_time_the_clocks_skipped_is_refused(api_client, new_yorker):
    # 8 March 2026: New York's clocks went from 02:00 to 03:00; 02:30 never happened there.
    response = api_client.post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 3,
                                                     "recorded_at": "2026-03-08T02:30:00"}, format="json")
    assert response.status_code == 400
    assert "recorded_at" in response.json()["fields"]


def test_an_offset_is_taken_as_sent(api_client, new_yorker):
    response = api_client.post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 3,
                                                     "recorded_at": "2026-06-15T09:30:00+00:00"}, format="json")
    assert response.status_code == 201
    assert CheckIn.objects.get().recorded_at == datetime(2026, 6, 15, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("name", ["localtime", "Factory"])
def test_keys_that_name_no_place_are_refused_as_time_zones(patient_client, physio_client, name):
    own = patient_client.patch("/api/v1/me/", {"timezone": name}, format="json")
    assert own.status_code == 400
    assert "timezone" in own.json()["fields"]
    added = physio_client.post("/api/v1/patients/", {"username": "tz-probe", "timezone": name}, format="json")
    assert added.status_code == 400
    assert "timezone" in added.json()["fields"]

import pytest
from rest_framework.test import APIClient

from kneerehab.throttling import LoginRateThrottle, UserWriteRateThrottle
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_rates(monkeypatch):
    monkeypatch.setitem(UserWriteRateThrottle.THROTTLE_RATES, "user_write", "3/minute")
    monkeypatch.setitem(LoginRateThrottle.THROTTLE_RATES, "login", "3/minute")


def test_writes_are_throttled_per_user_with_a_clear_429(low_rates, patient_client):
    statuses = [patient_client.patch("/api/v1/me/", {"timezone": "UTC"}, format="json").status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    throttled = patient_client.patch("/api/v1/me/", {"timezone": "UTC"}, format="json")
    assert throttled.json()["code"] == "throttled"
    assert int(throttled["Retry-After"]) > 0


def test_reads_are_not_counted_against_the_write_limit(low_rates, patient_client):
    for _ in range(5):
        assert patient_client.get("/api/v1/me/").status_code == 200
    assert patient_client.patch("/api/v1/me/", {"timezone": "UTC"}, format="json").status_code == 200


def test_one_users_writes_do_not_throttle_another(low_rates, patient_client):
    for _ in range(3):
        patient_client.patch("/api/v1/me/", {"timezone": "UTC"}, format="json")
    other = APIClient()
    other.force_authenticate(PatientFactory())
    assert other.patch("/api/v1/me/", {"timezone": "UTC"}, format="json").status_code == 200


def test_token_requests_are_throttled_per_address(low_rates):
    client = APIClient()
    PatientFactory(username="fay")
    statuses = [client.post("/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x"}, format="json")
                .status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]

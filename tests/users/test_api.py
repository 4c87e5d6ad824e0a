import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def obtain(client, username, password):
    return client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_jwt_login_then_read_and_update_me():
    user = PatientFactory(username="ana", timezone="Europe/Lisbon")
    client = APIClient()
    response = obtain(client, "ana", PASSWORD)
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}

    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    body = me.json()
    assert body["id"] == user.id
    assert body["username"] == "ana"
    assert body["role"] == "patient"
    assert body["timezone"] == "Europe/Lisbon"

    changed = client.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["timezone"] == "Asia/Tokyo"
    user.refresh_from_db()
    assert user.timezone == "Asia/Tokyo"


def test_refresh_rotates_and_the_old_refresh_token_is_revoked():
    PatientFactory(username="ben")
    client = APIClient()
    tokens = obtain(client, "ben", PASSWORD).json()
    refreshed = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert "access" in refreshed.json()
    again = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert again.status_code == 401


def test_logout_revokes_the_refresh_token():
    PatientFactory(username="cat")
    client = APIClient()
    tokens = obtain(client, "cat", PASSWORD).json()
    assert client.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, format="json").status_code == 200
    after = client.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")
    assert after.status_code == 401


def test_wrong_password_is_401_json():
    PatientFactory(username="dan")
    response = obtain(APIClient(), "dan", "wrong")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"]


def test_anonymous_gets_401():
    response = APIClient().get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_unknown_timezone_is_a_field_error(patient_client):
    response = patient_client.patch("/api/v1/me/", {"timezone": "Europe/Atlantis"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert "timezone" in body["fields"]
    assert "Europe/Atlantis" in body["fields"]["timezone"][0]


def test_role_and_username_cannot_be_changed_through_me(patient_client, patient):
    response = patient_client.patch("/api/v1/me/", {"role": "physiotherapist", "username": "boss"},
                                    format="json")
    assert response.status_code == 200
    patient.refresh_from_db()
    assert patient.role == "patient"
    assert patient.username != "boss"


def test_quiet_hours_need_both_ends(patient_client):
    response = patient_client.patch("/api/v1/me/", {"quiet_hours_start": "22:00"}, format="json")
    assert response.status_code == 400
    assert "quiet_hours_end" in response.json()["fields"]


def test_session_auth_works_for_the_browser(client, patient):
    client.force_login(patient)
    assert client.get("/api/v1/me/").json()["username"] == patient.username


def test_repeated_failed_logins_lock_the_account_with_a_clear_429():
    PatientFactory(username="eve")
    client = APIClient()
    for _ in range(5):
        assert obtain(client, "eve", "wrong").status_code == 401
    locked = obtain(client, "eve", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-in attempts" in locked.json()["message"]


def test_a_locked_out_browser_sign_in_gets_a_page_not_json(client):
    PatientFactory(username="gil")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "gil", "password": "wrong"})
    response = client.post("/accounts/login/", {"username": "gil", "password": PASSWORD})
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert "too many failed sign-in attempts" in response.content.decode().lower()

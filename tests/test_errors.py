"""Every error under /api/ is the one JSON shape, never an HTML page."""
import pytest

from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_malformed_json_is_a_json_400(patient_client):
    response = patient_client.generic("PATCH", "/api/v1/me/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "parse_error"
    assert "JSON" in response.json()["message"]


def test_oversized_body_is_a_json_413(patient_client, settings):
    body = '{"timezone": "' + "x" * (settings.API_MAX_BODY_BYTES + 10) + '"}'
    response = patient_client.generic("PATCH", "/api/v1/me/", body, content_type="application/json")
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_a_ten_megabyte_body_is_refused_without_being_read(patient_client):
    body = "x" * (10 * 1024 * 1024)
    response = patient_client.generic("POST", "/api/v1/me/", body, content_type="application/json")
    assert response.status_code == 413


def test_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"code": "not_found", "message": "Not found.", "fields": {}}


def test_wrong_method_is_a_json_405(patient_client):
    response = patient_client.delete("/api/v1/me/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_unexpected_exception_is_a_json_500(client, settings, monkeypatch):
    from kneerehab.users.api import views

    def boom(self, request):
        raise RuntimeError("boom")

    monkeypatch.setattr(views.MeView, "get", boom)
    client.raise_request_exception = False
    from tests.factories import PatientFactory

    client.force_login(PatientFactory())
    response = client.get("/api/v1/me/")
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "server_error"
    assert "boom" not in response.content.decode()


def test_database_outage_is_a_clean_503(patient_client, monkeypatch):
    from django.db import OperationalError

    from kneerehab.users.api import views

    def down(self, request):
        raise OperationalError("connection refused")

    monkeypatch.setattr(views.MeView, "get", down)
    response = patient_client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert response["Retry-After"]


def test_schema_and_docs_are_served(client):
    client.force_login(PatientFactory())
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    spec = schema.json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/me/" in spec["paths"]
    assert client.get("/api/v1/docs/").status_code == 200



def test_database_outage_while_loading_the_session_user_is_a_clean_503(client, monkeypatch):
    from django.contrib.auth import middleware
    from django.db import OperationalError

    def down(request):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(middleware, "get_user", down)
    client.raise_request_exception = False
    client.cookies["sessionid"] = "anything"
    response = client.get("/api/v1/me/")
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"


def test_handler500_turns_a_database_outage_outside_drf_into_503(rf):
    """Django calls handler500 while handling the exception (a middleware failed, say)."""
    from django.db import InterfaceError

    from kneerehab.errors import server_error

    try:
        raise InterfaceError("connection already closed")
    except InterfaceError:
        api = server_error(rf.get("/api/v1/checkins/"))
        page = server_error(rf.get("/physio/"))
    assert api.status_code == 503 and api["Retry-After"] == "5"
    assert api["Content-Type"] == "application/json"
    assert page.status_code == 503
    try:
        raise KeyError("unexpected")
    except KeyError:
        other = server_error(rf.get("/api/v1/me/"))
    assert other.status_code == 500


def test_field_errors_from_services_have_the_same_code_as_serializer_ones(physio_client):
    from tests.factories import PatientFactory

    PatientFactory(username="taken")
    response = physio_client.post("/api/v1/patients/", {"username": "taken"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "username" in response.json()["fields"]


# --- the error table: every 4xx has code, message and fields ------------------------------------------

def _shape(response) -> dict:
    body = response.json()
    assert set(body) == {"code", "message", "fields"}, body
    assert isinstance(body["fields"], dict) and body["message"].strip()
    return body


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("get", "/api/v1/me/", None, 401, "not_authenticated"),
    ("get", "/api/v1/checkins/", None, 401, "not_authenticated"),
    ("get", "/api/v1/no-such-thing/", None, 404, "not_found"),
    ("post", "/api/v1/auth/token/", {"username": "nobody", "password": "wrong-password"}, 401, None),
    ("post", "/api/v1/auth/token/", {}, 400, "validation_error"),
])
def test_anonymous_errors_have_the_one_shape(client, method, path, body, status, code):
    response = getattr(client, method)(path, body, content_type="application/json")
    assert response.status_code == status
    body = _shape(response)
    if code:
        assert body["code"] == code


def test_an_invalid_token_says_so_in_one_plain_sentence(client):
    response = client.get("/api/v1/me/", HTTP_AUTHORIZATION="Bearer not-a-token")
    assert response.status_code == 401
    body = _shape(response)
    assert body["code"] == "token_not_valid"
    assert body["message"].count(".") == 1 and "token" in body["message"]
    assert "token_class" not in response.content.decode()


def test_a_404_for_another_patients_object_has_the_shape(patient_client):
    response = patient_client.get("/api/v1/checkins/999999/")
    assert response.status_code == 404
    assert _shape(response)["code"] == "not_found"


def test_every_field_error_is_reported_at_once(patient_client):
    response = patient_client.post("/api/v1/checkins/", {"pain_at_rest": 11, "swelling": "huge", "colour": "blue",
                                                         "patient": 1}, format="json")
    assert response.status_code == 400
    fields = _shape(response)["fields"]
    assert set(fields) == {"pain_at_rest", "pain_during_activity", "swelling", "colour", "patient"}
    assert fields["colour"] == ["Unknown field."]
    assert fields["patient"] == ["This field cannot be set."]


@pytest.mark.parametrize("path", ["/api/v1/me", "/api/v1/checkins"])
def test_an_api_path_without_its_slash_is_a_json_404_naming_the_right_one(patient_client, path):
    response = patient_client.get(path)
    assert response.status_code == 404  # not a bare 301 that turns a POST into a GET
    body = _shape(response)
    assert body["message"].endswith(f"{path}/")
    assert patient_client.post(path, {}, format="json").status_code == 404


def test_a_409_on_advance_names_the_phase_as_the_patient_sees_it(physio_client, physio, patient):
    from tests.factories import ConditionFactory, PlanFactory

    plan = PlanFactory(patient=patient, physiotherapist=physio, condition=ConditionFactory())
    response = physio_client.post(f"/api/v1/plans/{plan.pk}/advance/", {"from_phase": "physiotherapy"},
                                  format="json")
    assert response.status_code == 409
    body = _shape(response)
    assert '"Protect and settle"' in body["message"] and "rice" not in body["message"]

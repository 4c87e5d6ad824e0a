"""Input that once answered 500 (or took seconds) gets a clean answer: JSON under /api/, a page elsewhere.

Each case is what an unauthenticated caller, or a signed-in physiotherapist, could send: JSON nested a
thousand deep, names with NUL bytes or too long for the database, a full-width username that folds onto
an existing one, the refresh token of a deleted account, searches of thousands of words.
"""
import json

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from kneerehab.filters import MAX_SEARCH_TERM_LENGTH, MAX_SEARCH_TERMS
from kneerehab.users.models import User
from tests.factories import PASSWORD, PatientFactory, PhysiotherapistFactory

pytestmark = pytest.mark.django_db


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def post_raw(client, path: str, body: str):
    return client.generic("POST", path, body, content_type="application/json")


def assert_json_error(response, status: int | tuple[int, ...]):
    statuses = status if isinstance(status, tuple) else (status,)
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] and body["message"]
    return body


@pytest.mark.parametrize("depth", [33, 1000, 20_000])
def test_deeply_nested_json_at_the_token_endpoint_is_a_400(depth):
    body = assert_json_error(post_raw(APIClient(), "/api/v1/auth/token/", nested(depth)), 400)
    assert body["code"] == "parse_error" and "nest" in body["message"]


def test_deeply_nested_json_inside_a_field_is_a_400(patient_client):
    document = '{"pain_at_rest": 2, "pain_during_activity": 2, "swelling": "none", "notes": ' + nested(1000) + "}"
    assert_json_error(post_raw(patient_client, "/api/v1/checkins/", document), 400)
    shallow = {"username": [[["x"]]], "password": "x"}  # nested, within the limit: the field's own error
    assert_json_error(APIClient().post("/api/v1/auth/token/", shallow, format="json"), 400)


@pytest.mark.parametrize("username", ["pat\x003", "\x00", "a" * 256, "a" * 5000, ["a"], {"a": 1}])
def test_a_username_no_account_could_have_is_a_400_at_the_token_endpoint(username):
    PatientFactory(username="pat3")
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json")
    body = assert_json_error(response, 400)
    assert "username" in body["fields"]


def test_the_token_endpoint_still_signs_in_and_refuses_as_before():
    PatientFactory(username="pat3")
    client = APIClient()
    signed_in = client.post("/api/v1/auth/token/", {"username": "pat3", "password": PASSWORD}, format="json")
    assert signed_in.status_code == 200
    assert_json_error(client.post("/api/v1/auth/token/", {"username": "a" * 150, "password": "x"}, format="json"), 401)


def test_the_refresh_token_of_a_deleted_account_is_a_401():
    user = PatientFactory()
    refresh = str(RefreshToken.for_user(user))
    User.objects.filter(pk=user.pk).delete()
    body = assert_json_error(APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}, format="json"), 401)
    assert body["code"] == "no_active_account"


@pytest.fixture
def physio_web():
    physio = PhysiotherapistFactory()
    client = Client()
    client.force_login(physio)
    client.physio = physio
    return client


def test_a_full_width_username_that_folds_onto_a_taken_one_is_a_form_error(physio_web):
    PatientFactory(username="pat3")
    response = physio_web.post("/patients/new/", {"username": "ｐａｔ３", "timezone": "UTC"})
    assert response.status_code == 200
    assert "already taken" in response.content.decode()
    assert User.objects.filter(username="pat3").count() == 1


def test_a_full_width_username_is_stored_folded(physio_web):
    response = physio_web.post("/patients/new/", {"username": "ｎｅｗ１", "timezone": "UTC"})
    assert response.status_code == 302
    assert User.objects.filter(username="new1").exists()


def test_the_api_refuses_the_folded_clash_too(physio_client):
    PatientFactory(username="pat3")
    body = assert_json_error(physio_client.post("/api/v1/patients/", {"username": "ｐａｔ３"}, format="json"), 400)
    assert "username" in body["fields"]


def test_a_nul_byte_in_the_caseload_search_is_ignored(physio_web):
    PatientFactory(username="alice", physiotherapists=[physio_web.physio])
    response = physio_web.get("/caseload/", {"q": "al\x00ice"})
    assert response.status_code == 200
    assert 'data-patient="alice"' in response.content.decode()
    assert physio_web.get("/caseload/?q=%00").status_code == 200


def test_the_caseload_search_caps_its_words(physio_web):
    PatientFactory(username="alice", first_name="Alice", last_name="Moreau", physiotherapists=[physio_web.physio])
    allowed = " ".join(["ali"] * (MAX_SEARCH_TERMS - 1) + ["moreau"])
    response = physio_web.get("/caseload/", {"q": allowed})
    assert response.status_code == 200 and 'data-patient="alice"' in response.content.decode()

    for query in (" ".join(["ali"] * (MAX_SEARCH_TERMS + 1)), " ".join(["ali"] * 2000),
                  "a" * (MAX_SEARCH_TERM_LENGTH + 1), "a" * 100_000):
        response = physio_web.get("/caseload/", {"q": query})
        html = response.content.decode()
        assert response.status_code == 400
        assert f"Search for at most {MAX_SEARCH_TERMS} words of at most {MAX_SEARCH_TERM_LENGTH} characters" in html
        assert 'data-patient="alice"' not in html


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/v1/conditions/", "/api/v1/exercises/"])
def test_the_api_search_caps_its_words(physio_client, path):
    assert physio_client.get(path, {"search": " ".join(["knee"] * MAX_SEARCH_TERMS)}).status_code == 200
    for search in (" ".join(["knee"] * 2000), ",".join(["knee"] * (MAX_SEARCH_TERMS + 1)),
                   "k" * (MAX_SEARCH_TERM_LENGTH + 1)):
        body = assert_json_error(physio_client.get(path, {"search": search}), 400)
        assert "search" in body["fields"]


def test_the_schema_states_the_search_limits(physio_client):
    schema = json.dumps(physio_client.get("/api/v1/schema/?format=json").json())
    assert f"At most {MAX_SEARCH_TERMS} words of at most {MAX_SEARCH_TERM_LENGTH} characters each" in schema

"""No JWT outlives a password change or a deactivation, and none revives when the account is switched on again."""
import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from kneerehab.users.models import User
from tests.admin_forms import admin_user_form
from tests.factories import PASSWORD, PatientFactory, PhysiotherapistFactory

pytestmark = pytest.mark.django_db


class QuickPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    iterations = 10

NEW_PASSWORD = "a-brand-new-passphrase-42"


def obtain(username: str, password: str = PASSWORD) -> dict:
    response = APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def me_status(access: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client.get("/api/v1/me/").status_code


def refresh(refresh_token: str):
    return APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh_token}, format="json")


@pytest.fixture
def admin_browser():
    staff = PhysiotherapistFactory(is_staff=True, is_superuser=True)
    browser = Client()
    browser.force_login(staff)
    return browser


def test_a_password_change_in_the_admin_ends_every_token_issued_before(admin_browser):
    patient = PatientFactory()
    tokens = obtain(patient.username)
    assert me_status(tokens["access"]) == 200

    changed = admin_browser.post(f"/admin/users/user/{patient.pk}/password/",
                                 {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"})
    assert changed.status_code == 302, changed.content

    assert me_status(tokens["access"]) == 401
    outstanding = OutstandingToken.objects.count()
    stale = refresh(tokens["refresh"])
    assert stale.status_code == 401
    assert stale.json()["code"] == "token_not_valid"
    assert OutstandingToken.objects.count() == outstanding  # nothing new was issued
    fresh = obtain(patient.username, NEW_PASSWORD)
    assert me_status(fresh["access"]) == 200
    assert refresh(fresh["refresh"]).status_code == 200


def test_deactivation_ends_tokens_and_reactivation_does_not_revive_them(admin_browser):
    patient = PatientFactory()
    tokens = obtain(patient.username)
    rotated = refresh(tokens["refresh"]).json()  # a client that has refreshed once already

    patient.is_active = False
    patient.save()
    assert me_status(rotated["access"]) == 401
    assert refresh(rotated["refresh"]).status_code == 401

    patient.is_active = True
    patient.save()
    assert me_status(tokens["access"]) == 401
    assert me_status(rotated["access"]) == 401
    assert refresh(rotated["refresh"]).status_code == 401
    assert me_status(obtain(patient.username)["access"]) == 200


def test_switching_an_account_off_in_the_admin_ends_its_tokens(admin_browser):
    patient = PatientFactory()
    tokens = obtain(patient.username)
    saved = admin_browser.post(f"/admin/users/user/{patient.pk}/change/",
                               admin_user_form(admin_browser, patient, is_active=False))
    assert saved.status_code == 302, saved.context["adminform"].form.errors if saved.context else saved.content
    assert not User.objects.get(pk=patient.pk).is_active
    assert me_status(tokens["access"]) == 401
    assert refresh(tokens["refresh"]).status_code == 401


def test_other_saves_of_the_account_leave_its_tokens_alone():
    patient = PatientFactory()
    tokens = obtain(patient.username)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.patch("/api/v1/me/", {"timezone": "Asia/Tokyo"}, format="json").status_code == 200
    assert me_status(tokens["access"]) == 200
    assert refresh(tokens["refresh"]).status_code == 200


def test_upgrading_the_stored_password_hash_at_sign_in_keeps_other_tokens(settings):
    patient = PatientFactory()
    tokens = obtain(patient.username)
    # A new preferred hasher: the next sign-in re-hashes the password, which is not a password change.
    settings.PASSWORD_HASHERS = [f"{__name__}.QuickPBKDF2PasswordHasher",
                                 "django.contrib.auth.hashers.MD5PasswordHasher"]
    second = obtain(patient.username)
    assert User.objects.get(pk=patient.pk).password.startswith("pbkdf2_sha256$")
    assert me_status(tokens["access"]) == 200
    assert me_status(second["access"]) == 200


def test_a_token_without_the_version_claim_is_refused():
    patient = PatientFactory()
    unversioned = RefreshToken.for_user(patient)
    assert me_status(str(unversioned.access_token)) == 401
    assert refresh(str(unversioned)).status_code == 401

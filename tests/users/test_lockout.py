"""Sign-in lockout: per client address and account, and per account with a growing wait, behind a proxy or not.

Through the token endpoint (the mobile app) and the browser's sign-in page.
"""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from rest_framework.test import APIClient

from kneerehab.audit.models import AuditEvent
from kneerehab.throttling import LoginRateThrottle
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
PROXY = {"REMOTE_ADDR": "10.0.0.1"}


@pytest.fixture(autouse=True)
def no_throttle(monkeypatch):
    # The lockout is under test, not the per-address rate limit.
    monkeypatch.setitem(LoginRateThrottle.THROTTLE_RATES, "login", "100000/minute")


def obtain(password: str, username: str = "eve", **meta):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json",
                            **meta)


def fail(times: int, **meta):
    for _ in range(times):
        assert obtain("wrong", **meta).status_code == 401


def behind_proxy(client_address: str, spoofed: str = "") -> dict:
    # What the proxy forwards: whatever the client sent, then the address the proxy saw.
    return {**PROXY, "HTTP_X_FORWARDED_FOR": f"{spoofed}, {client_address}" if spoofed else client_address}


def test_behind_the_proxy_one_clients_failures_do_not_lock_the_account_for_others(settings):
    settings.NUM_PROXIES = 1
    PatientFactory(username="eve")
    fail(5, **behind_proxy("203.0.113.5"))
    locked = obtain(PASSWORD, **behind_proxy("203.0.113.5"))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    # The owner, from their own address behind the same proxy, still signs in.
    assert obtain(PASSWORD, **behind_proxy("198.51.100.7")).status_code == 200


def test_behind_the_proxy_a_client_cannot_escape_its_lock_with_a_forwarded_for_header(settings):
    settings.NUM_PROXIES = 1
    PatientFactory(username="eve")
    for i in range(5):
        assert obtain("wrong", **behind_proxy("203.0.113.5", spoofed=f"192.0.2.{i}")).status_code == 401
    assert obtain(PASSWORD, **behind_proxy("203.0.113.5", spoofed="192.0.2.99")).status_code == 429


def test_exposed_directly_the_header_is_ignored():
    PatientFactory(username="eve")
    for i in range(5):
        assert obtain("wrong", REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR=f"192.0.2.{i}").status_code == 401
    assert obtain(PASSWORD, REMOTE_ADDR="203.0.113.5", HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    assert obtain(PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_guessing_one_account_from_many_addresses_waits_longer_and_longer(settings):
    assert settings.AXES_USERNAME_FAILURE_LIMIT == 20 and settings.AXES_USERNAME_BACKOFF_SECONDS == 2
    PatientFactory(username="eve")
    with time_machine.travel(T0, tick=False) as clock:
        for address in range(4):  # 5 failures from each of 4 addresses: 20, no address locked beyond itself
            fail(5, REMOTE_ADDR=f"203.0.113.{address}")
        # Now every address waits, even with the right password: 2 s after the last failure.
        refused = obtain(PASSWORD, REMOTE_ADDR="198.51.100.7")
        assert refused.status_code == 429 and refused.json()["code"] == "locked_out"
        assert refused["Retry-After"] == "2"
        waits = []
        for address in range(10, 15):
            clock.shift(timedelta(seconds=int(obtain(PASSWORD, REMOTE_ADDR="198.51.100.7")["Retry-After"])))
            assert obtain("wrong", REMOTE_ADDR=f"203.0.113.{address}").status_code == 401
            waits.append(int(obtain(PASSWORD, REMOTE_ADDR="198.51.100.7")["Retry-After"]))
        assert waits == [4, 8, 16, 32, 64]
        # The wait never exceeds the cool-off time (15 minutes)…
        settings.AXES_USERNAME_BACKOFF_SECONDS = 600
        assert int(obtain(PASSWORD, REMOTE_ADDR="198.51.100.7")["Retry-After"]) == 900
        # … and once it has passed, the owner signs in.
        clock.shift(timedelta(seconds=900))
        assert obtain(PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_failures_below_the_account_limit_make_nobody_wait():
    PatientFactory(username="eve")
    for address in range(3):
        fail(5, REMOTE_ADDR=f"203.0.113.{address}")
    assert obtain(PASSWORD, REMOTE_ADDR="198.51.100.7").status_code == 200


def test_other_accounts_are_not_affected():
    PatientFactory(username="eve")
    PatientFactory(username="fay")
    for address in range(4):
        fail(5, REMOTE_ADDR=f"203.0.113.{address}")
    assert obtain(PASSWORD, REMOTE_ADDR="203.0.113.9").status_code == 429
    assert obtain(PASSWORD, username="fay", REMOTE_ADDR="203.0.113.9").status_code == 200


def test_the_browser_sign_in_follows_the_same_limits(settings):
    settings.NUM_PROXIES = 1
    PatientFactory(username="eve")
    for _ in range(5):
        Client().post("/accounts/login/", {"username": "eve", "password": "wrong"}, **behind_proxy("203.0.113.5"))
    locked = Client().post("/accounts/login/", {"username": "eve", "password": PASSWORD},
                           **behind_proxy("203.0.113.5"))
    assert locked.status_code == 429 and int(locked["Retry-After"]) > 0
    other = Client().post("/accounts/login/", {"username": "eve", "password": PASSWORD},
                          **behind_proxy("198.51.100.7"))
    assert other.status_code == 302


def test_the_audit_trail_records_the_same_client_address(settings):
    patient = PatientFactory()
    client = APIClient()
    client.force_authenticate(patient)
    client.get("/api/v1/me/export/", REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="192.0.2.1")
    settings.NUM_PROXIES = 1
    client.get("/api/v1/me/export/", **behind_proxy("198.51.100.7", spoofed="192.0.2.1"))
    client.get("/api/v1/me/export/", **behind_proxy("not-an-address"))
    addresses = list(AuditEvent.objects.filter(path="/api/v1/me/export/").order_by("pk")
                     .values_list("ip_address", flat=True))
    assert list(dict.fromkeys(addresses)) == ["203.0.113.9", "198.51.100.7", "10.0.0.1"]

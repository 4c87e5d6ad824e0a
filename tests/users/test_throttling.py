import os
import subprocess
import sys

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


def token_request(client, i: int, **meta):
    return client.post("/api/v1/auth/token/", {"username": f"nobody{i}", "password": "x"}, format="json", **meta)


def test_a_client_sent_forwarded_for_header_does_not_reset_the_limit(low_rates):
    # No trusted proxy (NUM_PROXIES=0, the default): the header is the client's own invention.
    client = APIClient()
    statuses = [token_request(client, i, REMOTE_ADDR="198.51.100.20", HTTP_X_FORWARDED_FOR=f"10.9.8.{i}").status_code
                for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_anonymous_reads_are_limited_per_socket_address_whatever_the_header(monkeypatch):
    monkeypatch.setitem(LoginRateThrottle.THROTTLE_RATES, "anon", "3/minute")
    client = APIClient()
    statuses = [client.get("/api/v1/", REMOTE_ADDR="198.51.100.21", HTTP_X_FORWARDED_FOR=f"10.9.8.{i}").status_code
                for i in range(4)]
    assert statuses == [200, 200, 200, 429]


def test_behind_one_trusted_proxy_the_address_it_appended_is_counted(low_rates, settings):
    settings.NUM_PROXIES = 1
    client = APIClient()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    # The client prepends whatever it likes; the proxy appends the address it saw: 203.0.113.5.
    statuses = [token_request(client, i, HTTP_X_FORWARDED_FOR=f"192.0.2.{i}, 203.0.113.5", **proxy).status_code
                for i in range(4)]
    assert statuses == [401, 401, 401, 429]
    # Another client behind the same proxy has its own count.
    assert token_request(client, 9, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy).status_code == 401


def test_counters_are_shared_by_every_web_process(low_rates, settings):
    from django.core.cache import caches

    if type(caches["default"]).__name__ != "RedisCache":
        pytest.skip("the embedded mode keeps its counters in each process's memory (Redis in CI)")
    # Another web process counts three token requests from an address…
    other_process = """
import django; django.setup()
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from kneerehab.throttling import LoginRateThrottle
LoginRateThrottle.THROTTLE_RATES["login"] = "3/minute"
request = Request(APIRequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="203.0.113.77"))
print([LoginRateThrottle().allow_request(request, None) for _ in range(3)])
"""
    result = subprocess.run([sys.executable, "-c", other_process], cwd=settings.BASE_DIR, capture_output=True,
                            text=True, timeout=60, env={**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"})
    assert result.stdout.strip().splitlines()[-1] == "[True, True, True]", result.stderr
    # … and this one refuses the fourth.
    assert token_request(APIClient(), 0, REMOTE_ADDR="203.0.113.77").status_code == 429


def test_a_cache_outage_lets_requests_through(low_rates, monkeypatch):
    from django.core.cache import caches

    def unreachable(*args, **kwargs):
        raise ConnectionError("cache down")

    monkeypatch.setattr(caches["default"], "get", unreachable)
    client = APIClient()
    assert [token_request(client, i).status_code for i in range(5)] == [401] * 5

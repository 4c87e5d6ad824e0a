"""Every operation of the served schema, sent hostile JSON bodies by every kind of caller: never a 5xx.

Beside the schemathesis run (test_schemathesis.py), whose generated bodies stay small and shallow: here
each operation gets documents nested a thousand levels and more (arrays and objects), over the body size
limit, and wide ones just under it, from an anonymous caller, the patient and the physiotherapist (JWT),
with real objects in the path. The answer is a 4xx in the one JSON error shape, or, where the operation
reads no body, its usual answer.
"""
import re

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from kneerehab.throttling import UserWriteRateThrottle
from kneerehab.users.tokens import refresh_token_for

from .test_schemathesis import BEHIND_TLS_PROXY, real_path_parameters

METHODS = ("get", "post", "put", "patch", "delete")
BEHIND_TLS_PROXY_META = {"HTTP_" + key.upper().replace("-", "_"): value for key, value in BEHIND_TLS_PROXY.items()}


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_object(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def bodies() -> dict[str, str]:
    limit = settings.API_MAX_BODY_BYTES
    return {
        "arrays nested 1,000 deep": deep_array(1000),
        "objects nested 1,000 deep": deep_object(1000),
        "arrays nested 30,000 deep": deep_array(30_000),  # 60,000 bytes: under the size limit
        "a field nested 5,000 deep": '{"notes": ' + deep_array(5000) + ', "username": ' + deep_array(5000) + "}",
        "over the size limit": '{"notes": "' + "x" * limit + '"}',
        "a wide array under the limit": "[" + ",".join(["1"] * (limit // 3)) + "]",
        "a wide object under the limit": "{" + ",".join(f'"k{i}": 0' for i in range(limit // 12)) + "}",
        "a long string under the limit": '{"username": "' + "\\u0000" * (limit // 7) + '", "password": "x"}',
    }


def operations(client) -> list[tuple[str, str]]:
    schema = client.get("/api/v1/schema/?format=json", **BEHIND_TLS_PROXY_META).json()
    return [(method, path) for path, item in schema["paths"].items() for method in METHODS if method in item]


def fill_path(path: str, world, role: str) -> str:
    real = real_path_parameters(world, role).get(path.split("/")[3], 1)
    return re.sub(r"\{[^}]+\}", str(real), path)


@pytest.fixture
def unthrottled(monkeypatch):
    # Hundreds of requests a minute; the limits have their own tests (tests/users).
    for scope in ("user_write", "login", "anon"):
        monkeypatch.setitem(UserWriteRateThrottle.THROTTLE_RATES, scope, "100000/minute")


@pytest.mark.parametrize("caller", ["anonymous", "patient", "physio"])
def test_no_operation_answers_a_hostile_body_with_a_server_error(world, unthrottled, caller):
    user = {"anonymous": None, "patient": world.alice.user, "physio": world.physio_a}[caller]
    client = APIClient()
    headers = dict(BEHIND_TLS_PROXY_META)
    if user is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {refresh_token_for(user).access_token}"
    schema_client = APIClient()
    schema_client.force_authenticate(world.physio_a)
    found = operations(schema_client)
    assert len(found) > 30  # the whole API, not an empty schema

    failures = []
    for method, path in found:
        url = fill_path(path, world, "physio" if caller == "physio" else "patient")
        for name, body in bodies().items():
            response = client.generic(method.upper(), url, body, content_type="application/json", **headers)
            problem = None
            if response.status_code >= 500:
                problem = "server error"
            elif response.status_code >= 400 and "json" not in response.get("Content-Type", ""):
                problem = "error not in JSON"
            if problem:
                failures.append(f"{method.upper()} {url} with {name}: {response.status_code} ({problem}) "
                                f"{response.content[:200]!r}")
    assert not failures, "\n".join(failures)


def test_the_cases_reach_the_parser(world, unthrottled):
    """The bodies are read (a 400 naming the nesting, a 413 for size), not stopped before by something else."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh_token_for(world.alice.user).access_token}",
                       **BEHIND_TLS_PROXY_META)
    for name, body in bodies().items():
        response = client.generic("POST", "/api/v1/checkins/", body, content_type="application/json")
        if "nested" in name:
            assert response.status_code == 400 and "nest" in response.json()["message"], name
        elif "over the size limit" in name:
            assert response.status_code == 413, name
        else:
            assert response.status_code == 400, (name, response.content[:200])

"""Contract fuzzing: schemathesis drives every operation of the served OpenAPI schema, in-process.

The schema is fetched from /api/v1/schema/ of the project's own WSGI application
(the object gunicorn serves), and each generated request goes through the whole
middleware stack as a signed-in patient or physiotherapist (chosen per example
among the roles the authorization matrix lets through), with real objects in
the path. Checks: no 5xx, the status code is documented, and the body and its
content type match what the schema says for that status.

Bounded so the whole run takes a few minutes on two cores: a fixed number of
examples per operation, derandomized (the same requests every run), no
deadline (the first request of an operation warms caches), no example database.
Nothing is excluded: erasure and logout are fuzzed too (a generated password
or refresh token is never the right one, so they answer 400/401).
"""
import re

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from django.test import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation.meta import ComponentKind
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kneerehab.throttling import UserWriteRateThrottle
from kneerehab.users.tokens import refresh_token_for
from kneerehab.wsgi import application

from .test_authorization_matrix import ROWS

# Production sits behind a TLS-terminating proxy; without this header the app redirects to HTTPS.
BEHIND_TLS_PROXY = {"X-Forwarded-Proto": "https"}
EXAMPLES_PER_OPERATION = 25

# The schema is for signed-in users unless API_DOCS_PUBLIC; it is fetched once, here, before any test runs.
with override_settings(API_DOCS_PUBLIC=True):
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application, headers=BEHIND_TLS_PROXY)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _template(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


MATRIX = {(row.method, _template(row.path)): row for row in ROWS}


def roles_allowed(method: str, path: str) -> list[str]:
    """The roles the authorization matrix lets use this operation (both, when neither may: 403 is fuzzed too)."""
    row = MATRIX.get((method.upper(), _template(path)))
    if row is None:
        pytest.fail(f"{method.upper()} {path} has no row in the authorization matrix (test_authorization_matrix.py)")
    roles = [role for role, actor in (("patient", "patient_own"), ("physio", "physio_caseload"))
             if row.expect[actor] < 400]
    return roles or ["patient", "physio"]


def real_path_parameters(world, role: str) -> dict[str, object]:
    """Objects that exist and that the role may see, so that examples reach past the 404."""
    own = world.alice
    return {
        "alerts": own.alert.pk, "checkins": own.checkin.pk, "exercise-logs": own.exercise_log.pk,
        "devices": own.device.pk, "patients": own.user.pk, "plans": own.plan.pk,
        "notifications": own.notification.pk if role == "patient" else
        world.physio_a.notifications.values_list("pk", flat=True).first(),
        "conditions": world.condition.slug, "exercises": "sec-bridges",
    }


def real_body_fields(world) -> dict[tuple[str, str], dict]:
    return {
        ("POST", "/api/v1/plans/"): {"patient": world.alice.user.pk, "condition": world.free_condition.slug},
        ("POST", "/api/v1/exercise-logs/"): {"plan_exercise": world.alice.plan_exercise.pk},
    }


@pytest.fixture
def fuzz_world(world, monkeypatch):
    # The fuzzer sends hundreds of writes a minute; the limits have their own tests (tests/users).
    # (One rates dict, REST_FRAMEWORK's DEFAULT_THROTTLE_RATES, is shared by every throttle class.)
    for scope in ("user_write", "login", "anon"):
        monkeypatch.setitem(UserWriteRateThrottle.THROTTLE_RATES, scope, "100000/minute")
    # The real WSGI handler closes the database connection after each request; the test's transaction
    # lives on that connection, so (as Django's own test client does) it is kept open meanwhile.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield world
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.given(role_choice=st.sampled_from(["patient", "physio"]))
@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
                           HealthCheck.data_too_large],
)
def test_every_operation_honours_its_schema(case, role_choice, fuzz_world):
    allowed = roles_allowed(case.method, case.path)
    role = role_choice if role_choice in allowed else allowed[0]
    user = fuzz_world.alice.user if role == "patient" else fuzz_world.physio_a
    path_info = case.meta.components.get(ComponentKind.PATH_PARAMETERS) if case.meta else None
    if case.path_parameters and (path_info is None or path_info.mode == GenerationMode.POSITIVE):
        real = real_path_parameters(fuzz_world, role).get(case.path.split("/")[3])
        for name in case.path_parameters if real is not None else ():
            case.path_parameters[name] = real

    body_info = case.meta.components.get(ComponentKind.BODY) if case.meta else None
    if isinstance(case.body, dict) and body_info is not None and body_info.mode == GenerationMode.POSITIVE:
        # Random ids never name a patient on the caseload or a prescribed exercise: name real ones.
        case.body.update(real_body_fields(fuzz_world).get((case.method.upper(), case.path), {}))

    if case.media_type == "multipart/form-data" and not isinstance(case.body, dict):
        # A multipart body is a set of named parts: a bare value (negative mode) cannot be encoded as one.
        case.body = {}

    headers = {**BEHIND_TLS_PROXY, "Authorization": f"Bearer {refresh_token_for(user).access_token}"}
    response = case.call(headers=headers)

    case.validate_response(response, checks=CHECKS, headers=headers)

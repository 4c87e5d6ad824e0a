"""Every endpoint under /api/v1/ × every kind of caller → the status it must get, and never foreign data.

OWASP API1 (broken object-level authorization) and API5 (broken function-level
authorization). The endpoints are enumerated from the URL resolver, so a new
endpoint without a row here fails `test_every_api_endpoint_has_a_row`.

Callers (see world.py): `anonymous`; `patient_own` (Alice, whose objects the
detail paths name); `patient_other` (Bob); `physio_caseload` (Alice's
physiotherapist); `physio_other` (Bob's); `staff` (a superuser physiotherapist
with no caseload: staff work in the admin, and the flags widen nothing here).

Conventions: 401 without credentials; 404 for an object the caller may not see
(never 403, which would confirm it exists); 403 when the caller's role may not
use the endpoint at all; a refused request changes nothing.
"""
import dataclasses
import json
import re
from collections.abc import Callable

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from drf_spectacular.generators import EndpointEnumerator

from .conftest import client_for
from .snapshots import db_snapshot, snapshot_diff
from .world import ACTORS, World


def S(anonymous, patient_own, patient_other, physio_caseload, physio_other, staff) -> dict[str, int]:
    """Expected statuses, in the order of ACTORS (a table reads better than keyword soup)."""
    return dict(zip(ACTORS, (anonymous, patient_own, patient_other, physio_caseload, physio_other, staff),
                    strict=True))


@dataclasses.dataclass(frozen=True)
class Row:
    method: str
    path: str
    expect: dict[str, int]
    # The value of the path's one placeholder ({pk}, {slug}, …): always one of Alice's objects.
    target: Callable[[World], object] | None = None
    body: Callable[[World], dict] | dict | None = None
    # What a successful answer is; every error is JSON whatever the endpoint.
    content_type: str = "application/json"

    def __str__(self):
        return f"{self.method} {self.path}"


EVERYONE = S(200, 200, 200, 200, 200, 200)
SIGNED_IN = S(401, 200, 200, 200, 200, 200)
# Objects only the patient themselves may touch (their inbox, their devices).
PATIENT_ONLY_OBJECT = S(401, 200, 404, 404, 404, 404)
# Health data: the patient reads it, their physiotherapist reads it; nobody else learns it exists.
CASELOAD_READ = S(401, 200, 404, 200, 404, 404)
# Physiotherapist-only endpoints on a patient's object: patients are refused by role before any
# object is looked up; a physiotherapist without the patient on their caseload gets 404.
PHYSIO_ON_OBJECT = S(401, 403, 403, 200, 404, 404)
PHYSIO_ONLY_LIST = S(401, 403, 403, 200, 200, 200)
PATIENT_ONLY = S(401, 200, 200, 403, 403, 403)


ROWS = [
    # --- root: public and free of data; schema and docs: signed-in users (API_DOCS_PUBLIC opens them),
    # and a browser that is not signed in is sent to the sign-in page (302, an HTML redirect)
    Row("GET", "/api/v1/", EVERYONE),
    Row("GET", "/api/v1/schema/", SIGNED_IN, content_type="application/vnd.oai.openapi"),
    Row("GET", "/api/v1/docs/", S(302, 200, 200, 200, 200, 200), content_type="text/html"),
    # --- authentication: open to anyone by nature; a wrong token is a 401 whoever sends it
    Row("POST", "/api/v1/auth/token/", EVERYONE,
        body=lambda w: {"username": w.alice.user.username, "password": w.password}),
    Row("POST", "/api/v1/auth/token/refresh/", S(401, 401, 401, 401, 401, 401), body={"refresh": "not-a-token"}),
    Row("POST", "/api/v1/auth/logout/", S(401, 401, 401, 401, 401, 401), body={"refresh": "not-a-token"}),
    # --- the caller's own account
    Row("GET", "/api/v1/me/", SIGNED_IN),
    Row("PATCH", "/api/v1/me/", SIGNED_IN, body={"timezone": "Europe/Paris"}),
    Row("GET", "/api/v1/me/export/", PATIENT_ONLY),
    Row("POST", "/api/v1/me/erase/", PATIENT_ONLY, body=lambda w: {"password": w.password, "confirm": True}),
    # --- inbox and devices: strictly the caller's own
    Row("GET", "/api/v1/notifications/", SIGNED_IN),
    Row("GET", "/api/v1/notifications/{pk}/", PATIENT_ONLY_OBJECT, target=lambda w: w.alice.notification.pk),
    Row("POST", "/api/v1/notifications/{pk}/read/", PATIENT_ONLY_OBJECT, target=lambda w: w.alice.notification.pk),
    Row("POST", "/api/v1/notifications/read-all/", SIGNED_IN),
    Row("GET", "/api/v1/devices/", SIGNED_IN),
    Row("POST", "/api/v1/devices/", S(401, 201, 201, 201, 201, 201),
        body={"token": "a-brand-new-device-token", "platform": "android"}),
    Row("DELETE", "/api/v1/devices/{pk}/", S(401, 204, 404, 404, 404, 404), target=lambda w: w.alice.device.pk),
    # --- the catalogue: the same for every signed-in user
    Row("GET", "/api/v1/conditions/", SIGNED_IN),
    Row("GET", "/api/v1/conditions/{slug}/", SIGNED_IN, target=lambda w: w.condition.slug),
    Row("GET", "/api/v1/exercises/", SIGNED_IN),
    Row("GET", "/api/v1/exercises/{slug}/", SIGNED_IN, target=lambda w: "sec-bridges"),
    # --- exercise media: physiotherapists upload; a file goes only to those who see its plan (or uploaded it)
    Row("GET", "/api/v1/exercises/{slug}/media/", PHYSIO_ONLY_LIST, target=lambda w: "sec-bridges"),
    # Allowed callers get past the checks to the missing file (a 400); nobody else gets that far.
    Row("POST", "/api/v1/exercises/{slug}/media/", S(401, 403, 403, 400, 400, 400), target=lambda w: "sec-bridges",
        body={}),
    Row("POST", "/api/v1/plans/{pk}/media/", S(401, 403, 403, 400, 404, 404), target=lambda w: w.alice.plan.pk,
        body={}),
    Row("GET", "/api/v1/exercise-media/{pk}/file/", CASELOAD_READ, target=lambda w: w.alice.library_media.pk,
        content_type="image/png"),
    Row("GET", "/api/v1/plan-exercise-media/{pk}/file/", CASELOAD_READ, target=lambda w: w.alice.plan_media.pk,
        content_type="image/png"),
    # --- the caseload
    Row("GET", "/api/v1/patients/", PHYSIO_ONLY_LIST),
    Row("POST", "/api/v1/patients/", S(401, 403, 403, 201, 201, 201), body={"username": "new_patient_n1"}),
    Row("GET", "/api/v1/patients/{pk}/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.user.pk),
    # --- plans: physiotherapists write within their caseload, patients read their own
    Row("GET", "/api/v1/plans/", SIGNED_IN),
    # Assigning to a patient off the caller's caseload is a field error that does not say whether they exist.
    Row("POST", "/api/v1/plans/", S(401, 403, 403, 201, 400, 400),
        body=lambda w: {"patient": w.alice.user.pk, "condition": w.free_condition.slug}),
    Row("GET", "/api/v1/plans/{pk}/", CASELOAD_READ, target=lambda w: w.alice.plan.pk),
    Row("PATCH", "/api/v1/plans/{pk}/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.plan.pk,
        body={"status": "paused"}),
    Row("POST", "/api/v1/plans/{pk}/advance/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.plan.pk,
        body={"reason": "ready"}),
    Row("POST", "/api/v1/plans/{pk}/step-back/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.plan.pk,
        body={"reason": "flare-up"}),
    Row("POST", "/api/v1/plans/{pk}/clear-hold/", PHYSIO_ON_OBJECT, target=lambda w: w.held_plan.pk,
        body={"note": "Called the patient: calf scan was clear."}),
    Row("GET", "/api/v1/plans/{pk}/programme.pdf", CASELOAD_READ, target=lambda w: w.alice.plan.pk,
        content_type="application/pdf"),
    Row("GET", "/api/v1/today/", PATIENT_ONLY),
    # --- the calendar feed: patients manage their own URL; the feed's secret is its only credential
    Row("GET", "/api/v1/calendar-feed/", PATIENT_ONLY),
    Row("POST", "/api/v1/calendar-feed/", S(401, 201, 201, 403, 403, 403)),
    Row("DELETE", "/api/v1/calendar-feed/", S(401, 204, 204, 403, 403, 403)),
    Row("GET", "/api/v1/calendar/{token}.ics", EVERYONE, target=lambda w: w.alice.calendar_token,
        content_type="text/calendar"),
    # --- tracker: patients record their own; physiotherapists read their caseload's
    Row("GET", "/api/v1/checkins/", SIGNED_IN),
    Row("POST", "/api/v1/checkins/", S(401, 201, 201, 403, 403, 403),
        body={"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "mild"}),
    Row("GET", "/api/v1/checkins/{pk}/", CASELOAD_READ, target=lambda w: w.alice.checkin.pk),
    Row("GET", "/api/v1/exercise-logs/", SIGNED_IN),
    # Another patient's plan exercise is refused as if it did not exist.
    Row("POST", "/api/v1/exercise-logs/", S(401, 201, 400, 403, 403, 403),
        body=lambda w: {"plan_exercise": w.alice.plan_exercise.pk, "sets_done": 3, "reps_done": 10,
                        "pain_during": 2}),
    Row("GET", "/api/v1/exercise-logs/{pk}/", CASELOAD_READ, target=lambda w: w.alice.exercise_log.pk),
    Row("GET", "/api/v1/progress/", PATIENT_ONLY),
    Row("GET", "/api/v1/patients/{patient_id}/progress/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.user.pk),
    Row("GET", "/api/v1/alerts/", PHYSIO_ONLY_LIST),
    Row("GET", "/api/v1/alerts/{pk}/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.alert.pk),
    Row("POST", "/api/v1/alerts/{pk}/acknowledge/", PHYSIO_ON_OBJECT, target=lambda w: w.alice.alert.pk,
        body={"outcome": "called_patient", "note": "Spoke to the patient."}),
]


# --- the rows cover the API exactly --------------------------------------------------------------------------


def _walk(patterns, prefix=""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_endpoints() -> set[tuple[str, str]]:
    """(method, path template) of every API endpoint, from the URL resolver."""
    return {(method, path) for path, _regex, method, _view in EndpointEnumerator().get_api_endpoints()
            if path.startswith("/api/v1/")}


def test_every_api_url_is_served_by_a_rest_framework_view():
    """The enumeration below sees DRF views only; a plain Django view under /api/ would escape the matrix."""
    plain = [route for route, callback in _walk(get_resolver().url_patterns)
             if route.lstrip("^").startswith("api/") and not hasattr(callback, "cls")]
    assert plain == []


def test_every_api_endpoint_has_a_row():
    rows = [(row.method, row.path) for row in ROWS]
    assert len(rows) == len(set(rows)), "a row is listed twice"
    missing = sorted(api_endpoints() - set(rows))
    stale = sorted(set(rows) - api_endpoints())
    assert missing == [], f"endpoints without an authorization row: {missing}"
    assert stale == [], f"rows for endpoints that no longer exist: {stale}"


# --- each row × each caller ------------------------------------------------------------------------------------


def _resolve(value, world):
    return value(world) if callable(value) else value


def response_text(response) -> str:
    """The body as text to search for markers: files stream, and a picture's bytes are not UTF-8."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def request_row(row: Row, actor: str, world: World):
    path = row.path
    if row.target is not None:
        path = re.sub(r"\{[^}]+\}", str(row.target(world)), path)
    body = _resolve(row.body, world)
    client = client_for(world.user_for(actor))
    return client.generic(row.method, path, data=None if body is None else json.dumps(body),
                          content_type="application/json")


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("row", ROWS, ids=str)
def test_authorization_matrix(row, actor, world):
    before = db_snapshot()

    response = request_row(row, actor, world)

    expected = row.expect[actor]
    body = response_text(response)
    assert response.status_code == expected, f"{row} as {actor}: {response.status_code} {body[:400]}"
    leaked = sorted(marker for marker in world.forbidden_markers(actor) if marker in body)
    assert leaked == [], f"{row} as {actor} shows data it may not see: {leaked}"
    if response.status_code != 204:
        content_type = row.content_type if response.status_code < 400 else "application/json"
        assert response["Content-Type"].startswith(content_type), response["Content-Type"]
    if response.status_code >= 400:
        assert set(response.json()) <= {"code", "message", "fields"}
        assert snapshot_diff(before, db_snapshot()) == {}, f"{row} as {actor} was refused but changed data"


PRIVATE_OBJECT_ROWS = [row for row in ROWS if row.target is not None
                       and 404 in (row.expect["patient_other"], row.expect["physio_other"])]


@pytest.mark.parametrize("row", PRIVATE_OBJECT_ROWS, ids=str)
def test_a_missing_object_is_the_same_404_as_someone_elses(row, world):
    """A caller cannot tell an object that does not exist from one they may not see."""
    owner = "patient_own" if row.expect["patient_own"] < 400 else "physio_caseload"
    outsider = "patient_other" if row.expect["patient_other"] == 404 else "physio_other"
    foreign = request_row(row, outsider, world)
    missing = request_row(dataclasses.replace(row, target=lambda w: 987654321 if "{pk}" in row.path
                                              else "no-such-object"), owner, world)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()


@pytest.mark.parametrize(("path", "actor"), [
    ("/api/v1/checkins/", "patient_own"),
    ("/api/v1/checkins/", "physio_caseload"),
    ("/api/v1/exercise-logs/", "physio_caseload"),
    ("/api/v1/notifications/", "patient_own"),
    ("/api/v1/plans/", "physio_caseload"),
    ("/api/v1/alerts/", "physio_caseload"),
])
def test_the_markers_do_show_where_they_are_allowed(path, actor, world):
    """A control for the leak search above: the same marker is found when the caller may see it."""
    body = client_for(world.user_for(actor)).get(path).content.decode()
    assert world.alice.user.username in body or world.alice.marker in body
    assert world.bob.marker not in body


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS"])
@pytest.mark.parametrize("row", PRIVATE_OBJECT_ROWS, ids=str)
def test_head_and_options_on_someone_elses_object_reveal_nothing(row, method, world):
    """The methods no row lists (HEAD mirrors GET; OPTIONS describes the endpoint) leak nothing either."""
    outsider = "patient_other" if row.expect["patient_other"] == 404 else "physio_other"
    before = db_snapshot()
    response = request_row(dataclasses.replace(row, method=method, body=None), outsider, world)
    body = response_text(response)
    assert response.status_code in (200, 403, 404, 405), (row, method, response.status_code)
    assert [m for m in world.forbidden_markers(outsider) if m in body] == []
    assert snapshot_diff(before, db_snapshot()) == {}
    if method == "HEAD" and row.method == "GET":
        assert response.status_code == 404

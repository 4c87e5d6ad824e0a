"""Bad input everywhere: a 400 (or 413/415) in the one JSON error shape, the message under the field, nothing stored.

One table per write endpoint, then the request-level failures (malformed JSON,
a JSON document that is not an object, a 10 MB body, a wrong content type)
tried against every write endpoint of the authorization matrix, so a new
endpoint is covered as soon as it has its row there.
"""
import dataclasses
import datetime as dt
import json
import re
from collections.abc import Callable

import pytest
from django.utils import timezone

from .conftest import client_for
from .snapshots import db_snapshot, snapshot_diff
from .test_authorization_matrix import ROWS
from .world import World

TOO_LONG = "x" * 2001


@dataclasses.dataclass(frozen=True)
class Case:
    name: str
    actor: str
    method: str
    path: str
    body: dict | list | str | Callable[[World], dict]
    # The field the error must be reported under (its message is shown next to that field in the app).
    field: str | None
    status: int = 400
    target: Callable[[World], object] | None = None
    headers: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        return f"{self.method} {self.path}: {self.name}"


def checkin(**changes) -> dict:
    return {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "mild"} | changes


def log(**changes) -> Callable[[World], dict]:
    return lambda w: {"plan_exercise": w.alice.plan_exercise.pk, "sets_done": 3, "reps_done": 10,
                      "pain_during": 2} | changes


def new_plan(**changes) -> Callable[[World], dict]:
    return lambda w: {"patient": w.alice.user.pk, "condition": w.free_condition.slug} | changes


def days_ago(days: int) -> str:
    return (timezone.localdate() - dt.timedelta(days=days)).isoformat()


def _plan(w):
    return w.alice.plan.pk


CHECKINS = "/api/v1/checkins/"
LOGS = "/api/v1/exercise-logs/"
PLANS = "/api/v1/plans/"
PLAN = "/api/v1/plans/{pk}/"

CASES = [
    # --- check-ins (patient)
    Case("pain 11", "patient_own", "POST", CHECKINS, checkin(pain_at_rest=11), "pain_at_rest"),
    Case("pain -1", "patient_own", "POST", CHECKINS, checkin(pain_during_activity=-1), "pain_during_activity"),
    Case("pain as a word", "patient_own", "POST", CHECKINS, checkin(pain_at_rest="high"), "pain_at_rest"),
    Case("pain as a fraction", "patient_own", "POST", CHECKINS, checkin(pain_at_rest=3.5), "pain_at_rest"),
    Case("pain as a list", "patient_own", "POST", CHECKINS, checkin(pain_at_rest=[3]), "pain_at_rest"),
    Case("pain null", "patient_own", "POST", CHECKINS, checkin(pain_at_rest=None), "pain_at_rest"),
    Case("pain missing", "patient_own", "POST", CHECKINS, {"pain_at_rest": 2}, "pain_during_activity"),
    Case("swelling huge", "patient_own", "POST", CHECKINS, checkin(swelling="huge"), "swelling"),
    Case("swelling as a number", "patient_own", "POST", CHECKINS, checkin(swelling=2), "swelling"),
    Case("boolean maybe", "patient_own", "POST", CHECKINS, checkin(fever="maybe"), "fever"),
    Case("boolean as an object", "patient_own", "POST", CHECKINS, checkin(calf_pain={"yes": 1}), "calf_pain"),
    Case("recorded_at in the year 3000", "patient_own", "POST", CHECKINS,
         checkin(recorded_at="3000-01-01T08:00:00Z"), "recorded_at"),
    Case("recorded_at tomorrow", "patient_own", "POST", CHECKINS,
         checkin(recorded_at=(timezone.now() + dt.timedelta(days=1)).isoformat()), "recorded_at"),
    Case("recorded_at malformed", "patient_own", "POST", CHECKINS, checkin(recorded_at="yesterday at 8"),
         "recorded_at"),
    Case("recorded_at 31 February", "patient_own", "POST", CHECKINS, checkin(recorded_at="2026-02-31T08:00:00Z"),
         "recorded_at"),
    Case("client_id not a UUID", "patient_own", "POST", CHECKINS, checkin(client_id="not-a-uuid"), "client_id"),
    Case("notes over 2000 characters", "patient_own", "POST", CHECKINS, checkin(notes=TOO_LONG), "notes"),
    Case("unknown field", "patient_own", "POST", CHECKINS, checkin(pain_level=3), "pain_level"),
    Case("misspelt symptom", "patient_own", "POST", CHECKINS, checkin(feaver=True), "feaver"),
    Case("Idempotency-Key over 255 characters", "patient_own", "POST", CHECKINS, checkin(), "Idempotency-Key",
         headers={"HTTP_IDEMPOTENCY_KEY": "k" * 256}),
    # --- exercise logs (patient)
    Case("pain 11", "patient_own", "POST", LOGS, log(pain_during=11), "pain_during"),
    Case("negative sets", "patient_own", "POST", LOGS, log(sets_done=-1), "sets_done"),
    Case("sets as a word", "patient_own", "POST", LOGS, log(sets_done="three"), "sets_done"),
    Case("absurd reps", "patient_own", "POST", LOGS, log(reps_done=100000), "reps_done"),
    Case("date before the plan", "patient_own", "POST", LOGS, log(date=days_ago(30)), "date"),
    Case("date in the future", "patient_own", "POST", LOGS, log(date=days_ago(-2)), "date"),
    Case("date in the year 3000", "patient_own", "POST", LOGS, log(date="3000-01-01"), "date"),
    Case("date malformed", "patient_own", "POST", LOGS, log(date="13/13/2026"), "date"),
    Case("plan_exercise that does not exist", "patient_own", "POST", LOGS, log(plan_exercise=99999999),
         "plan_exercise"),
    Case("plan_exercise as a word", "patient_own", "POST", LOGS, log(plan_exercise="squats"), "plan_exercise"),
    Case("client_id not a UUID", "patient_own", "POST", LOGS, log(client_id="1234"), "client_id"),
    Case("notes over 2000 characters", "patient_own", "POST", LOGS, log(notes=TOO_LONG), "notes"),
    Case("unknown field", "patient_own", "POST", LOGS, log(duration_minutes=5), "duration_minutes"),
    # --- plans (physiotherapist)
    Case("unknown condition", "physio_caseload", "POST", PLANS, new_plan(condition="no-such-condition"),
         "condition"),
    Case("condition as a number", "physio_caseload", "POST", PLANS, new_plan(condition=12), "condition"),
    Case("patient as a word", "physio_caseload", "POST", PLANS, new_plan(patient="alice"), "patient"),
    Case("start date malformed", "physio_caseload", "POST", PLANS, new_plan(start_date="2026-13-45"), "start_date"),
    Case("start date long before today", "physio_caseload", "POST", PLANS, new_plan(start_date=days_ago(400)),
         "start_date"),
    Case("reminder time 25:00", "physio_caseload", "POST", PLANS, new_plan(reminder_times=["25:00"]),
         "reminder_times"),
    Case("reminder time in words", "physio_caseload", "POST", PLANS, new_plan(reminder_times=["8 in the morning"]),
         "reminder_times"),
    Case("reminder times not a list", "physio_caseload", "POST", PLANS, new_plan(reminder_times="08:00"),
         "reminder_times"),
    Case("auto_advance maybe", "physio_caseload", "POST", PLANS, new_plan(auto_advance="maybe"), "auto_advance"),
    Case("dose out of range", "physio_caseload", "POST", PLANS,
         new_plan(overrides=[{"phase": "rice", "exercise": "sec-quad-sets", "sets": 999}]), "overrides"),
    Case("dose for an unknown phase", "physio_caseload", "POST", PLANS,
         new_plan(overrides=[{"phase": "surgery", "exercise": "sec-quad-sets", "sets": 2}]), "overrides"),
    Case("unknown field", "physio_caseload", "POST", PLANS, new_plan(priority="high"), "priority"),
    Case("status archived", "physio_caseload", "PATCH", PLAN, {"status": "archived"}, "status", target=_plan),
    Case("reminder time 25:00", "physio_caseload", "PATCH", PLAN, {"reminder_times": ["07:00", "25:00"]},
         "reminder_times", target=_plan),
    Case("reminder time 08:60", "physio_caseload", "PATCH", PLAN, {"reminder_times": ["08:60"]}, "reminder_times",
         target=_plan),
    Case("auto_advance maybe", "physio_caseload", "PATCH", PLAN, {"auto_advance": "maybe"}, "auto_advance",
         target=_plan),
    Case("unknown field", "physio_caseload", "PATCH", PLAN, {"colour": "blue"}, "colour", target=_plan),
    Case("unknown from_phase", "physio_caseload", "POST", PLAN + "advance/", {"from_phase": "surgery"},
         "from_phase", target=_plan),
    Case("reason over 2000 characters", "physio_caseload", "POST", PLAN + "step-back/", {"reason": TOO_LONG},
         "reason", target=_plan),
    # --- the caseload, the profile, devices, erasure
    Case("unknown time zone", "physio_caseload", "POST", "/api/v1/patients/",
         {"username": "new_patient_t1", "timezone": "Mars/Olympus_Mons"}, "timezone"),
    Case("username with spaces", "physio_caseload", "POST", "/api/v1/patients/", {"username": "new patient!"},
         "username"),
    Case("username taken", "physio_caseload", "POST", "/api/v1/patients/", {"username": "patient_bob_q9"},
         "username"),
    Case("email malformed", "physio_caseload", "POST", "/api/v1/patients/",
         {"username": "new_patient_t2", "email": "not-an-email"}, "email"),
    Case("unknown time zone", "patient_own", "PATCH", "/api/v1/me/", {"timezone": "Europe/Atlantis"}, "timezone"),
    Case("time zone as a number", "patient_own", "PATCH", "/api/v1/me/", {"timezone": 2}, "timezone"),
    Case("quiet hours 25:00", "patient_own", "PATCH", "/api/v1/me/", {"quiet_hours_start": "25:00"},
         "quiet_hours_start"),
    Case("reminders maybe", "patient_own", "PATCH", "/api/v1/me/", {"reminders_enabled": "maybe"},
         "reminders_enabled"),
    Case("email malformed", "patient_own", "PATCH", "/api/v1/me/", {"email": "alice-at-example"}, "email"),
    Case("unknown platform", "patient_own", "POST", "/api/v1/devices/", {"token": "t-1", "platform": "blackberry"},
         "platform"),
    Case("token missing", "patient_own", "POST", "/api/v1/devices/", {"platform": "ios"}, "token"),
    Case("token over its length", "patient_own", "POST", "/api/v1/devices/", {"token": "t" * 600, "platform": "ios"},
         "token"),
    Case("confirm maybe", "patient_own", "POST", "/api/v1/me/erase/",
         lambda w: {"password": w.password, "confirm": "maybe"}, "confirm"),
    Case("password missing", "patient_own", "POST", "/api/v1/me/erase/", {"confirm": True}, "password"),
    # --- query parameters of reads
    Case("progress since malformed", "patient_own", "GET", "/api/v1/progress/?since=last-week", None, "since"),
    Case("progress range reversed", "patient_own", "GET",
         f"/api/v1/progress/?since={days_ago(0)}&until={days_ago(5)}", None, "since"),
    Case("check-ins since malformed", "physio_caseload", "GET", "/api/v1/checkins/?since=soon", None, "since"),
    Case("check-ins level huge", "physio_caseload", "GET", "/api/v1/checkins/?level=huge", None, "level"),
    Case("logs since malformed", "physio_caseload", "GET", "/api/v1/exercise-logs/?since=31-31-2026", None, "since"),
    Case("plans status archived", "physio_caseload", "GET", "/api/v1/plans/?status=archived", None, "status"),
    Case("plans patient as a word", "physio_caseload", "GET", "/api/v1/plans/?patient=alice", None, "patient"),
    # Found by the fuzzer: a number beyond any id reached the database (integer overflow, a 500).
    Case("plans patient beyond any id", "physio_caseload", "GET", "/api/v1/plans/?patient=-2.2e166", None, "patient"),
    Case("check-ins patient beyond any id", "physio_caseload", "GET", "/api/v1/checkins/?patient=1e300", None,
         "patient"),
    Case("logs plan beyond any id", "patient_own", "GET", "/api/v1/exercise-logs/?plan=99999999999999999999", None,
         "plan"),
    # Found by the fuzzer: dates at the ends of the calendar overflowed the date arithmetic (a 500).
    Case("progress until the year 9999", "patient_own", "GET", "/api/v1/progress/?until=9999-12-31", None, "until"),
    Case("progress until the year 1", "physio_caseload", "GET", "/api/v1/patients/{pk}/progress/?until=0001-01-05",
         None, "until", target=lambda w: w.alice.user.pk),
    Case("check-ins until the year 9999", "physio_caseload", "GET", "/api/v1/checkins/?until=9999-12-31", None,
         "until"),
    Case("check-ins since the last second of 9999", "patient_own", "GET",
         "/api/v1/checkins/?since=9999-12-31T23:59:59-12:00", None, "since"),
    Case("alerts patient as a fraction", "physio_caseload", "GET", "/api/v1/alerts/?patient=1.5", None, "patient"),
]


def send(world: World, actor: str, method: str, path: str, body, content_type="application/json", **headers):
    if isinstance(body, Callable):
        body = body(world)
    if body is not None and not isinstance(body, str | bytes):
        body = json.dumps(body)
    return client_for(world.user_for(actor)).generic(method, path, body or "", content_type=content_type,
                                                     **headers)


def assert_json_error(response, status):
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) <= {"code", "message", "fields"}
    assert body["message"]
    return body


@pytest.mark.parametrize("case", CASES, ids=str)
def test_bad_input_is_refused_under_its_field_and_nothing_is_stored(case, world):
    path = re.sub(r"\{[^}]+\}", str(case.target(world)), case.path) if case.target else case.path
    before = db_snapshot()

    response = send(world, case.actor, case.method, path, case.body, **case.headers)

    body = assert_json_error(response, case.status)
    # Serializers answer "validation_error"; services (ApplicationError) default to "invalid".
    assert body["code"] in ("validation_error", "invalid")
    messages = body["fields"].get(case.field)
    assert messages, f"no message under {case.field!r}: {body}"
    assert all(isinstance(m, str | dict) and m for m in messages)
    assert snapshot_diff(before, db_snapshot()) == {}


def _write_rows():
    """Each write endpoint of the matrix, with a caller it lets through."""
    for row in ROWS:
        if row.method not in ("POST", "PUT", "PATCH"):
            continue
        actor = next((a for a, status in row.expect.items() if status < 300 and a != "anonymous"), None)
        if actor is not None:
            yield pytest.param(row, actor, id=str(row))


def _row_path(row, world):
    return re.sub(r"\{[^}]+\}", str(row.target(world)), row.path) if row.target else row.path


@pytest.mark.parametrize(("row", "actor"), list(_write_rows()))
@pytest.mark.parametrize(("raw", "code"), [
    ('{"pain_at_rest": 3,', "parse_error"),
    ("{'single': 'quotes'}", "parse_error"),
    ('{"a": NaN}', "parse_error"),
    ("\xff\xfe not utf-8", "parse_error"),
], ids=["truncated", "single-quotes", "nan", "not-utf-8"])
def test_malformed_json_is_a_json_400_everywhere(row, actor, raw, code, world):
    before = db_snapshot()
    response = send(world, actor, row.method, _row_path(row, world), raw.encode("latin-1"))
    if row.body is None and response.status_code < 300:
        return  # an action that takes no body never parses one
    assert assert_json_error(response, 400)["code"] == code
    assert snapshot_diff(before, db_snapshot()) == {}


@pytest.mark.parametrize(("row", "actor"), list(_write_rows()))
@pytest.mark.parametrize("document", ["[]", "[1, 2]", '"text"', "42", "null", "true"])
def test_a_json_document_that_is_not_an_object_is_a_400(row, actor, document, world):
    before = db_snapshot()
    response = send(world, actor, row.method, _row_path(row, world), document)
    if response.status_code < 300:
        # Endpoints that take no body at all (mark as read, acknowledge) may ignore it; nothing else may.
        assert row.body is None, f"{row} accepted {document}"
        return
    assert_json_error(response, 400)
    assert snapshot_diff(before, db_snapshot()) == {}


@pytest.mark.parametrize(("row", "actor"), list(_write_rows()))
def test_a_ten_megabyte_body_is_a_413_everywhere(row, actor, world):
    before = db_snapshot()
    huge = json.dumps({"notes": "x" * (10 * 1024 * 1024)})
    response = send(world, actor, row.method, _row_path(row, world), huge)
    assert assert_json_error(response, 413)["code"] == "payload_too_large"
    assert snapshot_diff(before, db_snapshot()) == {}


@pytest.mark.parametrize(("row", "actor"), list(_write_rows()))
def test_a_body_in_another_format_is_a_415(row, actor, world):
    before = db_snapshot()
    response = send(world, actor, row.method, _row_path(row, world), "<checkin pain='3'/>",
                    content_type="application/xml")
    if row.body is None and response.status_code < 300:
        return  # no body expected, none read
    assert assert_json_error(response, 415)["code"] == "unsupported_media_type"
    assert snapshot_diff(before, db_snapshot()) == {}


def test_bad_input_never_reaches_the_database_constraints(world):
    """The API answers before the database would: a constraint violation would be a 500, not a 400."""
    response = send(world, "patient_own", "POST", CHECKINS, checkin(pain_at_rest=10 ** 12))
    assert assert_json_error(response, 400)["fields"]["pain_at_rest"]

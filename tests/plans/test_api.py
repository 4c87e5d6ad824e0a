"""The caseload, plans and today endpoints, as the mobile app and the physiotherapist's browser use them."""
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient

from conditions.models import PhaseKey
from kneerehab.users.models import User
from plans.models import Plan, PlanStatus
from plans.services import plan_create
from tests.factories import PatientFactory, PhysiotherapistFactory, make_dvt
from tracker.models import Alert

from .conftest import log_all_sessions, record_checkin, record_log

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def stranger_physio():
    return PhysiotherapistFactory(username="elsewhere")


@pytest.fixture
def stranger_patient(stranger_physio):
    return PatientFactory(username="not-mine", physiotherapists=[stranger_physio])


@pytest.fixture
def stranger_plan(stranger_physio, stranger_patient, meniscus):
    return plan_create(physiotherapist=stranger_physio, patient_id=stranger_patient.pk,
                       condition_slug=meniscus.slug)


def assert_error(response, status, field=None, contains=""):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "message"}
    if field:
        assert field in body["fields"], body
        assert contains in str(body["fields"][field]), body  # nested items (overrides) come as objects
    else:
        assert contains in body["message"], body


# --- caseload -----------------------------------------------------------------------------------------------------


def test_caseload_list(physio_client, physio, patient, make_plan, stranger_patient):
    plan = make_plan()
    checkin = record_checkin(patient, NOW - timedelta(hours=3))
    Alert.objects.create(patient=patient, physiotherapist=physio, checkin=checkin, level="urgent")
    log_all_sessions(plan, NOW.date())

    response = physio_client.get("/api/v1/patients/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"] == [{
        "id": patient.pk, "username": patient.username, "first_name": "", "last_name": "",
        "email": patient.email, "timezone": "UTC",
        "active_plan": {"id": plan.pk, "condition": "meniscus-tear", "condition_name": "Meniscus tear",
                        "current_phase": "rice", "status": "active"},
        "last_checkin_at": "2026-06-15T07:00:00Z", "open_alert_count": 1, "adherence_7d": 100.0,
    }]


def test_caseload_search(physio_client, physio):
    PatientFactory(username="alice", first_name="Alice", last_name="Moreau", physiotherapists=[physio])
    PatientFactory(username="bob", first_name="Robert", last_name="Alves", physiotherapists=[physio])
    PatientFactory(username="carol", physiotherapists=[physio])
    found = lambda q: [p["username"] for p in physio_client.get("/api/v1/patients/", {"search": q}).json()["results"]]  # noqa: E731
    assert found("al") == ["alice", "bob"]  # username or last name
    assert found("robert") == ["bob"]
    assert found("zz") == []


def test_caseload_detail_and_isolation(physio_client, patient, stranger_patient):
    assert physio_client.get(f"/api/v1/patients/{patient.pk}/").json()["username"] == patient.username
    assert_error(physio_client.get(f"/api/v1/patients/{stranger_patient.pk}/"), 404)
    assert_error(physio_client.get("/api/v1/patients/999999/"), 404)


def test_patients_cannot_use_the_caseload(patient_client, patient):
    assert_error(patient_client.get("/api/v1/patients/"), 403)
    assert_error(patient_client.get(f"/api/v1/patients/{patient.pk}/"), 403)
    assert_error(patient_client.post("/api/v1/patients/", {"username": "sneaky"}), 403)
    assert_error(APIClient().get("/api/v1/patients/"), 401)


def test_add_a_patient(physio_client, physio):
    response = physio_client.post("/api/v1/patients/", {
        "username": "newbie", "email": "newbie@example.org", "timezone": "Europe/Madrid",
        "password": "a-long-enough-password-42"})
    assert response.status_code == 201, response.content
    body = response.json()
    created = User.objects.get(username="newbie")
    assert body["id"] == created.pk
    assert (body["timezone"], body["active_plan"], body["open_alert_count"], body["adherence_7d"]) == (
        "Europe/Madrid", None, 0, None)
    assert "password" not in body
    assert created.is_patient and created.check_password("a-long-enough-password-42")
    assert list(created.physiotherapists.all()) == [physio]


def test_add_a_patient_defaults(physio_client):
    response = physio_client.post("/api/v1/patients/", {"username": "minimal"})
    assert response.status_code == 201
    created = User.objects.get(username="minimal")
    assert created.timezone == "UTC"
    assert not created.has_usable_password()


@pytest.mark.parametrize(("payload", "field", "contains"), [
    ({"username": "PATIENT-TAKEN"}, "username", "already taken"),
    ({"username": "x", "timezone": "Mars/Olympus_Mons"}, "timezone", "not a known IANA time zone"),
    ({"username": "has space"}, "username", "valid username"),
    ({}, "username", "required"),
    ({"username": "y", "role": "physiotherapist"}, "role", "Unknown field"),
    ({"username": "z", "password": "123"}, "password", "too short"),
])
def test_add_a_patient_bad_input(physio_client, payload, field, contains):
    PatientFactory(username="patient-taken")
    assert_error(physio_client.post("/api/v1/patients/", payload), 400, field, contains)


# --- plans --------------------------------------------------------------------------------------------------------


def test_assign_a_plan(physio_client, physio, patient, meniscus):
    response = physio_client.post("/api/v1/plans/", {
        "patient": patient.pk, "condition": "meniscus-tear", "reminder_times": ["18:30", "08:00"],
        "overrides": [{"phase": "rice", "exercise": "quad-sets", "reps": 12}],
    })
    assert response.status_code == 201, response.content
    body = response.json()
    plan = Plan.objects.get()
    assert body["id"] == plan.pk
    assert {k: body[k] for k in ("patient", "patient_username", "physiotherapist", "condition", "condition_name",
                                 "start_date", "status", "current_phase", "reminder_times", "auto_advance")} == {
        "patient": patient.pk, "patient_username": patient.username, "physiotherapist": physio.pk,
        "condition": "meniscus-tear", "condition_name": "Meniscus tear", "start_date": "2026-06-15",
        "status": "active", "current_phase": "rice", "reminder_times": ["08:00", "18:30"], "auto_advance": False,
    }
    assert [(e["phase"], e["exercise"]["slug"], e["sets"], e["reps"]) for e in body["exercises"]] == [
        ("rice", "quad-sets", 3, 12), ("rice", "heel-slides", 2, 8), ("physiotherapy", "bridges", 3, 12),
        ("return_to_activity", "mini-squats", 3, 15)]
    assert body["exercises"][0]["exercise"] == {"slug": "quad-sets", "name": "Quadriceps setting",
                                                "instructions": "How to do quad-sets."}
    assert body["progression"]["suggestion"] == ""
    assert body["progression"]["evaluated_at"] == "2026-06-15T10:00:00Z"
    assert {r["code"] for r in body["progression"]["reasons"]} == {
        "pain_at_rest", "swelling", "adherence_percent", "days_in_phase"}
    assert body["phase_history"] == [{"kind": "start", "from_phase": "", "to_phase": "rice",
                                      "changed_by": physio.username, "reason": "Meniscus tear plan assigned.",
                                      "created_at": "2026-06-15T10:00:00Z"}]


@pytest.mark.parametrize(("payload", "field", "contains"), [
    ({"condition": "meniscus-tear", "current_phase": "return_to_activity"}, "current_phase", "cannot be set"),
    ({"condition": "meniscus-tear", "status": "completed"}, "status", "cannot be set"),
    ({"condition": "meniscus-tear", "physiotherapist": 1}, "physiotherapist", "cannot be set"),
    ({"condition": "meniscus-tear", "colour": "blue"}, "colour", "Unknown field"),
    ({"condition": "meniscus-tear", "reminder_times": ["25:00"]}, "reminder_times", "not a time of day"),
    ({"condition": "meniscus-tear", "start_date": "3000-01-01"}, "start_date", "days ahead"),
    ({"condition": "meniscus-tear", "overrides": [{"phase": "rice", "exercise": "quad-sets", "sets": 99}]},
     "overrides", "less than or equal to 20"),
    ({"condition": "meniscus-tear", "overrides": [{"phase": "rice", "exercise": "quad-sets", "x": 1}]},
     "overrides", "Unknown field"),
    ({"condition": "no-such"}, "condition", "no condition 'no-such'"),
    ({}, "condition", "required"),
])
def test_assign_bad_input(physio_client, patient, meniscus, payload, field, contains):
    assert_error(physio_client.post("/api/v1/plans/", {"patient": patient.pk, **payload}), 400, field, contains)
    assert not Plan.objects.exists()


def test_dvt_is_refused_with_a_clear_message(physio_client, patient):
    make_dvt()
    response = physio_client.post("/api/v1/plans/", {"patient": patient.pk, "condition": "deep-vein-thrombosis"})
    assert_error(response, 400, "condition", "needs urgent medical care")
    assert "needs urgent medical care" in response.json()["message"]


def test_a_second_running_plan_for_the_condition_is_refused(physio_client, make_plan, patient):
    make_plan()
    response = physio_client.post("/api/v1/plans/", {"patient": patient.pk, "condition": "meniscus-tear"})
    assert_error(response, 400, "condition", "already has a running Meniscus tear plan")


def test_a_plan_for_a_patient_outside_the_caseload_is_refused(physio_client, stranger_patient, meniscus):
    for patient_id in (stranger_patient.pk, 987654):
        response = physio_client.post("/api/v1/plans/", {"patient": patient_id, "condition": "meniscus-tear"})
        assert_error(response, 400, "patient", "not on your caseload")
    assert not Plan.objects.exists()


def test_plan_isolation(physio_client, patient_client, make_plan, stranger_plan):
    mine = make_plan()
    assert [p["id"] for p in physio_client.get("/api/v1/plans/").json()["results"]] == [mine.pk]
    assert [p["id"] for p in patient_client.get("/api/v1/plans/").json()["results"]] == [mine.pk]
    assert patient_client.get(f"/api/v1/plans/{mine.pk}/").status_code == 200
    url = f"/api/v1/plans/{stranger_plan.pk}/"
    # Another caseload's plan: 404 for every verb, and nothing about it in the answer.
    for response in (physio_client.get(url), physio_client.patch(url, {"status": "paused"}),
                     physio_client.post(url + "advance/"), physio_client.post(url + "step-back/"),
                     patient_client.get(url)):
        assert_error(response, 404)
        assert "elsewhere" not in response.content.decode() and "not-mine" not in response.content.decode()
    stranger_plan.refresh_from_db()
    assert (stranger_plan.status, stranger_plan.current_phase) == (PlanStatus.ACTIVE, PhaseKey.RICE)


def test_patients_read_but_never_write_plans(patient_client, patient, make_plan):
    plan = make_plan()
    url = f"/api/v1/plans/{plan.pk}/"
    assert_error(patient_client.post("/api/v1/plans/", {"patient": patient.pk, "condition": "meniscus-tear"}), 403)
    assert_error(patient_client.patch(url, {"status": "completed"}), 403)
    assert_error(patient_client.post(url + "advance/"), 403)
    assert_error(patient_client.post(url + "step-back/"), 403)
    plan.refresh_from_db()
    assert (plan.status, plan.current_phase) == (PlanStatus.ACTIVE, PhaseKey.RICE)


def test_plan_filters(physio_client, physio, make_plan, meniscus):
    other = PatientFactory(physiotherapists=[physio])
    mine = make_plan()
    theirs = make_plan(patient_id=other.pk)
    physio_client.patch(f"/api/v1/plans/{theirs.pk}/", {"status": "paused"})
    ids = lambda **q: [p["id"] for p in physio_client.get("/api/v1/plans/", q).json()["results"]]  # noqa: E731
    assert ids(patient=other.pk) == [theirs.pk]
    assert ids(status="active") == [mine.pk]
    assert sorted(ids(condition="meniscus-tear")) == sorted([mine.pk, theirs.pk])
    assert ids(condition="other") == []


@pytest.mark.parametrize(("steps", "target", "ok"), [
    (["paused"], "active", True),
    ([], "paused", True),
    ([], "cancelled", True),
    (["paused"], "completed", True),
    (["completed"], "active", False),
    (["cancelled"], "paused", False),
    (["completed"], "cancelled", False),
])
def test_status_transitions_over_http(physio_client, make_plan, steps, target, ok):
    plan = make_plan()
    url = f"/api/v1/plans/{plan.pk}/"
    for step in steps:
        assert physio_client.patch(url, {"status": step}).status_code == 200
    response = physio_client.patch(url, {"status": target})
    if ok:
        assert response.status_code == 200, response.content
        assert response.json()["status"] == target
    else:
        assert_error(response, 400, "status", "a finished plan cannot be changed")


@pytest.mark.parametrize(("payload", "field", "contains"), [
    ({"status": "archived"}, "status", "not a valid choice"),
    ({"current_phase": "return_to_activity"}, "current_phase", "cannot be set"),
    ({"patient": 1}, "patient", "cannot be set"),
    ({"condition": "acl-injury"}, "condition", "cannot be set"),
    ({"reminder_times": ["07:00", "07:00"]}, "reminder_times", "only once"),
])
def test_patch_bad_input(physio_client, make_plan, payload, field, contains):
    plan = make_plan()
    assert_error(physio_client.patch(f"/api/v1/plans/{plan.pk}/", payload), 400, field, contains)


def test_patch_changes_doses_and_times(physio_client, make_plan):
    plan = make_plan()
    response = physio_client.patch(f"/api/v1/plans/{plan.pk}/", {
        "reminder_times": ["20:00"], "auto_advance": True,
        "overrides": [{"phase": "physiotherapy", "exercise": "bridges", "sets": 2, "hold_seconds": 3}]})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["reminder_times"], body["auto_advance"]) == (["20:00"], True)
    bridges = next(e for e in body["exercises"] if e["exercise"]["slug"] == "bridges")
    assert (bridges["sets"], bridges["reps"], bridges["hold_seconds"]) == (2, 12, 3)


def test_put_is_not_offered(physio_client, make_plan):
    plan = make_plan()
    assert physio_client.put(f"/api/v1/plans/{plan.pk}/", {"status": "paused"}).status_code == 405


def test_advance_and_step_back_over_http(physio_client, physio, make_plan):
    plan = make_plan()
    url = f"/api/v1/plans/{plan.pk}/"
    advanced = physio_client.post(url + "advance/", {"reason": "Settled well", "from_phase": "rice"})
    assert advanced.status_code == 200
    assert advanced.json()["current_phase"] == "physiotherapy"
    assert advanced.json()["phase_history"][-1] == {
        "kind": "advance", "from_phase": "rice", "to_phase": "physiotherapy", "changed_by": physio.username,
        "reason": "Settled well", "created_at": "2026-06-15T10:00:00Z"}
    # The same request again (a double tap): the plan has moved on.
    assert_error(physio_client.post(url + "advance/", {"from_phase": "rice"}), 409, contains="moved on")
    back = physio_client.post(url + "step-back/", {"reason": "Swelling is back"})
    assert back.json()["current_phase"] == "rice"
    assert_error(physio_client.post(url + "step-back/"), 400, "current_phase", "first phase")
    assert_error(physio_client.post(url + "advance/", {"why": "?"}), 400, "why", "Unknown field")


def test_progression_shows_in_the_plan(physio_client, patient, make_plan, clock):
    plan = make_plan()
    for n in range(6):
        clock.move_to(NOW + timedelta(days=n, hours=8))
        log_all_sessions(plan, (NOW + timedelta(days=n)).date())
        record_checkin(patient, NOW + timedelta(days=n, hours=8))
    body = physio_client.get(f"/api/v1/plans/{plan.pk}/").json()
    assert body["progression"]["suggestion"] == "advance"
    assert all(r["met"] for r in body["progression"]["reasons"])
    assert body["progression"]["evaluated_at"] == "2026-06-20T18:00:00Z"


# --- today ----------------------------------------------------------------------------------------------------------


def test_today(patient_client, make_plan):
    plan = make_plan()
    quad = plan.exercises.get(phase="rice", exercise__slug="quad-sets")
    slides = plan.exercises.get(phase="rice", exercise__slug="heel-slides")
    record_log(quad, NOW.date())
    record_log(slides, NOW.date())

    response = patient_client.get("/api/v1/today/")
    assert response.status_code == 200
    body = response.json()
    assert (body["date"], body["plan"], body["phase"]) == ("2026-06-15", plan.pk, "rice")
    assert body["plans"] == [{"id": plan.pk, "condition": "meniscus-tear", "condition_name": "Meniscus tear",
                              "current_phase": "rice", "phase_started_at": "2026-06-15T10:00:00Z",
                              "safety_hold": None}]
    assert body["safety_hold"] is None
    assert body["exercises"] == [
        {"id": quad.pk, "plan": plan.pk, "phase": "rice",
         "exercise": {"slug": "quad-sets", "name": "Quadriceps setting", "instructions": "How to do quad-sets.",
                      "feel": "A gentle stretch.", "stop_if": "Stop if the pain gets sharp."},
         "sets": 3, "reps": 10, "hold_seconds": 5, "times_per_day": 2, "logged_sessions": 1, "done": False,
         "media": []},
        {"id": slides.pk, "plan": plan.pk, "phase": "rice",
         "exercise": {"slug": "heel-slides", "name": "Heel slides", "instructions": "How to do heel-slides.",
                      "feel": "A gentle stretch.", "stop_if": "Stop if the pain gets sharp."},
         "sets": 2, "reps": 8, "hold_seconds": 0, "times_per_day": 1, "logged_sessions": 1, "done": True,
         "media": []},
    ]


def test_today_without_a_plan(patient_client):
    assert patient_client.get("/api/v1/today/").json() == {"date": "2026-06-15", "plan": None, "phase": None,
                                                           "plans": [], "exercises": [], "safety_hold": None}


def test_today_is_for_patients(physio_client):
    assert_error(physio_client.get("/api/v1/today/"), 403)


def test_today_in_the_patients_time_zone_over_http(physio, meniscus):
    # 10:00 UTC on 15 June is 22:00 in Auckland (NZST) and 03:00 in Los Angeles (PDT); 3 hours later Auckland
    # has moved to 16 June while Los Angeles is still on 15 June.
    patients = {zone: PatientFactory(timezone=zone, physiotherapists=[physio])
                for zone in ("Pacific/Auckland", "America/Los_Angeles")}
    for patient in patients.values():
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug,
                           start_date=date(2026, 6, 14))
        slides = plan.exercises.get(phase="rice", exercise__slug="heel-slides")
        record_log(slides, date(2026, 6, 15))
    with time_machine.travel(NOW + timedelta(hours=3), tick=False):
        akl = client_for(patients["Pacific/Auckland"]).get("/api/v1/today/").json()
        la = client_for(patients["America/Los_Angeles"]).get("/api/v1/today/").json()
    assert (akl["date"], la["date"]) == ("2026-06-16", "2026-06-15")
    assert [e["done"] for e in akl["exercises"]] == [False, False]
    assert [e["done"] for e in la["exercises"]] == [False, True]


# --- query counts ---------------------------------------------------------------------------------------------------


# Each request also writes one audit record (who read which health data): the "+ 1" below.
AUDIT = 1


def _populate(physio, meniscus, n):
    """n patients on the caseload, each with a plan, check-ins, an alert and logs."""
    for _ in range(n):
        patient = PatientFactory(physiotherapists=[physio])
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=meniscus.slug,
                           start_date=NOW.date() - timedelta(days=3))
        checkin = record_checkin(patient, NOW - timedelta(hours=1))
        record_checkin(patient, NOW - timedelta(hours=2))
        Alert.objects.create(patient=patient, physiotherapist=physio, checkin=checkin, level="urgent")
        log_all_sessions(plan, NOW.date())
        log_all_sessions(plan, NOW.date() - timedelta(days=1))


@pytest.mark.parametrize("rows", [1, 15])
def test_caseload_list_queries_do_not_grow(physio_client, physio, meniscus, rows, django_assert_max_num_queries):
    _populate(physio, meniscus, rows)
    # count, page (plan, check-in and alert figures as subqueries), adherence (2)
    with django_assert_max_num_queries(4 + AUDIT):
        response = physio_client.get("/api/v1/patients/", {"page_size": 100})
    assert response.json()["count"] == rows
    # Yesterday and today in full; the plan began 3 days ago, the 2 days before yesterday were missed.
    assert [p["adherence_7d"] for p in response.json()["results"]] == [50.0] * rows
    assert all(p["open_alert_count"] == 1 and p["active_plan"] for p in response.json()["results"])


@pytest.mark.parametrize("rows", [1, 15])
def test_plan_list_queries_do_not_grow(physio_client, physio, meniscus, rows, django_assert_max_num_queries):
    _populate(physio, meniscus, rows)
    # count, page (with patient, physiotherapist, condition), exercises, their media and their library
    # exercises' media, phase history, open safety holds
    with django_assert_max_num_queries(7 + AUDIT):
        response = physio_client.get("/api/v1/plans/", {"page_size": 100})
    assert response.json()["count"] == rows
    assert all(len(p["exercises"]) == 4 and len(p["phase_history"]) == 1 for p in response.json()["results"])


@pytest.mark.parametrize("conditions", [1, 4])
def test_today_queries_do_not_grow(physio, patient, patient_client, conditions, django_assert_max_num_queries):
    from tests.factories import make_path

    for n in range(conditions):
        condition = make_path(slug=f"condition-{n}", name=f"Condition {n}")
        plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug=condition.slug)
        log_all_sessions(plan, NOW.date())
    # plans, their open safety holds, exercises with today's session counts, their media, their library
    # exercises' media
    with django_assert_max_num_queries(5 + AUDIT):
        response = patient_client.get("/api/v1/today/")
    assert len(response.json()["plans"]) == conditions
    assert len(response.json()["exercises"]) == 2 * conditions
    assert all(e["done"] for e in response.json()["exercises"])

"""OWASP API3/API6 (mass assignment): fields the client may not set never move data across users.

Each write is sent with the ownership fields of the *other* side (Bob's id, his
plan, his check-in's id, a hand-made prompt, another physiotherapist). An
endpoint may refuse them (400, naming the field, nothing stored) or ignore
them; either way Bob's data stays exactly as it was, and whatever is stored
belongs to the caller.
"""
import json

import pytest
from django.forms.models import model_to_dict

from kneerehab.notifications.models import Device, Notification
from kneerehab.users.models import CaseloadLink, User
from plans.models import PhaseChange, Plan, PlanExercise
from tracker.models import Alert, CheckIn, ExerciseLog, PromptLevel

from .conftest import client_for
from .snapshots import row_counts


def bobs_data(world) -> dict:
    """Everything that is Bob's or his physiotherapist's, field by field."""
    bob, physio_b = world.bob.user, world.physio_b
    querysets = {
        "users": User.objects.filter(pk__in=[bob.pk, physio_b.pk]),
        "caseload": CaseloadLink.objects.filter(patient=bob),
        "plans": Plan.objects.filter(patient=bob),
        "plan_exercises": PlanExercise.objects.filter(plan__patient=bob),
        "phase_changes": PhaseChange.objects.filter(plan__patient=bob),
        "checkins": CheckIn.objects.filter(patient=bob),
        "logs": ExerciseLog.objects.filter(patient=bob),
        "alerts": Alert.objects.filter(patient=bob),
        "notifications": Notification.objects.filter(recipient__in=[bob, physio_b]),
        "devices": Device.objects.filter(user=bob),
    }
    picture = {name: [model_to_dict(row) for row in qs.order_by("pk")] for name, qs in querysets.items()}
    for user in picture["users"]:
        user.pop("last_login")
    return picture


def send(client, method, path, body):
    return client.generic(method, path, json.dumps(body), content_type="application/json")


def assert_refused_naming(response, names, counts_before):
    assert response.status_code == 400, response.content
    assert set(names) & set(response.json()["fields"]), response.json()
    assert row_counts() == counts_before


# --- check-ins --------------------------------------------------------------------------------------------------

HOSTILE_CHECKIN_FIELDS = {
    "patient": lambda w: w.bob.user.pk,
    "owner": lambda w: w.bob.user.pk,
    "plan": lambda w: w.bob.plan.pk,
    "id": lambda w: w.bob.checkin.pk,
    # A hand-made "all clear" must not lower what the symptoms deserve.
    "prompt": lambda w: {"level": "none", "message": "All fine.", "reasons": []},
    "prompt_level": lambda w: "none",
}


@pytest.mark.parametrize("field", HOSTILE_CHECKIN_FIELDS)
def test_a_check_in_stays_the_callers_and_is_screened_by_the_server(field, world):
    alice = world.alice.user
    before, counts = bobs_data(world), row_counts()
    body = {"pain_at_rest": 2, "pain_during_activity": 3, "trouble_breathing": True,
            field: HOSTILE_CHECKIN_FIELDS[field](world)}

    response = send(client_for(alice), "POST", "/api/v1/checkins/", body)

    assert bobs_data(world) == before
    if response.status_code == 400:
        assert_refused_naming(response, [field], counts)
        return
    assert response.status_code == 201, response.content
    stored = CheckIn.objects.get(pk=response.json()["id"])
    assert stored.pk != world.bob.checkin.pk
    assert stored.patient == alice
    assert stored.plan_id in (None, world.alice.plan.pk, world.held_plan.pk)  # one of her own plans
    assert stored.prompt_level == PromptLevel.EMERGENCY
    assert response.json()["prompt"]["level"] == PromptLevel.EMERGENCY
    assert response.json()["patient"] == alice.pk


# --- exercise logs -----------------------------------------------------------------------------------------------

HOSTILE_LOG_FIELDS = {
    "patient": lambda w: w.bob.user.pk,
    "plan": lambda w: w.bob.plan.pk,
    "id": lambda w: w.bob.exercise_log.pk,
    "phase": lambda w: "return_to_activity",
    "exercise": lambda w: "sec-mini-squats",
}


@pytest.mark.parametrize("field", HOSTILE_LOG_FIELDS)
def test_an_exercise_log_stays_the_callers(field, world):
    alice = world.alice.user
    before, counts = bobs_data(world), row_counts()
    body = {"plan_exercise": world.alice.plan_exercise.pk, "sets_done": 3, "reps_done": 10, "pain_during": 1,
            field: HOSTILE_LOG_FIELDS[field](world)}

    response = send(client_for(alice), "POST", "/api/v1/exercise-logs/", body)

    assert bobs_data(world) == before
    if response.status_code == 400:
        assert_refused_naming(response, [field], counts)
        return
    assert response.status_code == 201, response.content
    stored = ExerciseLog.objects.get(pk=response.json()["id"])
    assert stored.pk != world.bob.exercise_log.pk
    assert (stored.patient, stored.plan_exercise) == (alice, world.alice.plan_exercise)


def test_logging_against_another_patients_exercise_stores_nothing(world):
    before, counts = bobs_data(world), row_counts()
    body = {"plan_exercise": world.bob.plan_exercise.pk, "sets_done": 3, "reps_done": 10, "pain_during": 1}
    response = send(client_for(world.alice.user), "POST", "/api/v1/exercise-logs/", body)
    assert_refused_naming(response, ["plan_exercise"], counts)
    assert world.bob.marker not in response.content.decode()
    assert bobs_data(world) == before


# --- plans -------------------------------------------------------------------------------------------------------

HOSTILE_PLAN_FIELDS = {
    "physiotherapist": lambda w: w.physio_b.pk,
    "current_phase": lambda w: "return_to_activity",
    "id": lambda w: w.bob.plan.pk,
    "owner": lambda w: w.physio_b.pk,
    "phase_started_at": lambda w: "2020-01-01T00:00:00Z",
}


@pytest.mark.parametrize("field", HOSTILE_PLAN_FIELDS)
def test_a_new_plan_is_assigned_by_the_caller_from_the_first_phase(field, world):
    physio_a = world.physio_a
    before, counts = bobs_data(world), row_counts()
    body = {"patient": world.alice.user.pk, "condition": world.free_condition.slug,
            field: HOSTILE_PLAN_FIELDS[field](world)}

    response = send(client_for(physio_a), "POST", "/api/v1/plans/", body)

    assert bobs_data(world) == before
    if response.status_code == 400:
        assert_refused_naming(response, [field], counts)
        return
    assert response.status_code == 201, response.content
    plan = Plan.objects.get(pk=response.json()["id"])
    assert plan.pk != world.bob.plan.pk
    assert (plan.patient, plan.physiotherapist, plan.current_phase) == (world.alice.user, physio_a, "rice")


def test_a_plan_cannot_be_assigned_to_a_patient_off_the_caseload(world):
    before, counts = bobs_data(world), row_counts()
    body = {"patient": world.bob.user.pk, "condition": world.free_condition.slug}
    response = send(client_for(world.physio_a), "POST", "/api/v1/plans/", body)
    assert_refused_naming(response, ["patient"], counts)
    assert bobs_data(world) == before


@pytest.mark.parametrize(("field", "value"), [
    ("patient", lambda w: w.bob.user.pk),
    ("physiotherapist", lambda w: w.physio_b.pk),
    ("current_phase", lambda w: "return_to_activity"),
    ("condition", lambda w: w.free_condition.slug),
    ("id", lambda w: w.bob.plan.pk),
])
def test_changing_a_plan_never_moves_it(field, value, world):
    plan = world.alice.plan
    before, counts, plan_before = bobs_data(world), row_counts(), model_to_dict(plan)

    response = send(client_for(world.physio_a), "PATCH", f"/api/v1/plans/{plan.pk}/",
                    {"auto_advance": True, field: value(world)})

    assert bobs_data(world) == before
    plan.refresh_from_db()
    assert (plan.patient, plan.physiotherapist, plan.condition, plan.current_phase) == (
        world.alice.user, world.physio_a, world.condition, "physiotherapy")
    if response.status_code == 400:
        assert_refused_naming(response, [field], counts)
        assert model_to_dict(plan) == plan_before
    else:
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("action", ["advance", "step-back"])
def test_a_phase_move_goes_one_step_in_the_callers_name(action, world):
    plan = world.alice.plan
    before = bobs_data(world)
    response = send(client_for(world.physio_a), "POST", f"/api/v1/plans/{plan.pk}/{action}/",
                    {"reason": "checked", "to_phase": "rice", "current_phase": "rice", "changed_by": world.physio_b.pk,
                     "plan": world.bob.plan.pk})
    assert bobs_data(world) == before
    plan.refresh_from_db()
    if response.status_code == 400:
        assert plan.current_phase == "physiotherapy"
        assert set(response.json()["fields"]) & {"to_phase", "current_phase", "changed_by", "plan"}
        return
    assert response.status_code == 200, response.content
    assert plan.current_phase == ("return_to_activity" if action == "advance" else "rice")
    assert PhaseChange.objects.filter(plan=plan).latest("id").changed_by == world.physio_a


# --- accounts, caseload, devices, alerts ----------------------------------------------------------------------------


def test_a_user_cannot_promote_themselves(world):
    alice = world.alice.user
    response = send(client_for(alice), "PATCH", "/api/v1/me/",
                    {"role": "physiotherapist", "is_staff": True, "is_superuser": True, "id": world.bob.user.pk,
                     "username": "someone_else", "timezone": "Europe/Paris"})
    assert response.status_code in (200, 400), response.content
    alice.refresh_from_db()
    assert (alice.role, alice.is_staff, alice.is_superuser, alice.username) == (
        "patient", False, False, "patient_alice_x7")
    assert User.objects.get(pk=world.bob.user.pk).timezone == "UTC"


def test_a_new_patient_is_a_plain_patient_on_the_callers_caseload_only(world):
    before, counts = bobs_data(world), row_counts()
    response = send(client_for(world.physio_a), "POST", "/api/v1/patients/",
                    {"username": "new_patient_m2", "role": "physiotherapist", "is_staff": True,
                     "physiotherapists": [world.physio_b.pk]})
    assert bobs_data(world) == before
    if response.status_code == 400:
        assert_refused_naming(response, ["role", "is_staff", "physiotherapists"], counts)
        return
    assert response.status_code == 201, response.content
    created = User.objects.get(username="new_patient_m2")
    assert (created.role, created.is_staff) == ("patient", False)
    assert list(created.physiotherapists.all()) == [world.physio_a]


def test_a_device_is_registered_to_the_caller(world):
    before = bobs_data(world)
    response = send(client_for(world.alice.user), "POST", "/api/v1/devices/",
                    {"token": "fresh-device-token", "platform": "ios", "user": world.bob.user.pk})
    assert bobs_data(world) == before
    if response.status_code == 201:
        assert Device.objects.get(token="fresh-device-token").user == world.alice.user
    else:
        assert response.status_code == 400


def test_acknowledging_an_alert_records_the_caller(world):
    alert = world.alice.alert
    before = bobs_data(world)
    response = send(client_for(world.physio_a), "POST", f"/api/v1/alerts/{alert.pk}/acknowledge/",
                    {"acknowledged_by": world.physio_b.pk, "physiotherapist": world.physio_b.pk,
                     "patient": world.bob.user.pk})
    assert bobs_data(world) == before
    alert.refresh_from_db()
    if response.status_code == 200:
        assert (alert.status, alert.acknowledged_by, alert.physiotherapist, alert.patient) == (
            "acknowledged", world.physio_a, world.physio_a, world.alice.user)
    else:
        assert response.status_code == 400
        assert alert.status == "open"

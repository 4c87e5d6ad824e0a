"""Erasure erases: after POST /api/v1/me/erase/ no table, history table included, names the patient or quotes them.

The patient goes through a realistic life first, over HTTP where a user would:
signs in, registers a phone, gets a plan, is moved on with a reason that names
them, sends an emergency check-in (alerts, email and push to two
physiotherapists, an escalation to staff), and is searched for by name. Then
every text and JSON column of every model Django knows (simple-history's
tables, django-axes', the admin log, join tables) is searched for the
username, the email address and the check-in's note.
"""
import datetime as dt
import json

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from kneerehab.notifications.models import ChannelDelivery
from kneerehab.notifications.services import deliver_channel
from kneerehab.users.models import User
from plans.models import Plan
from tests.admin_forms import admin_user_form
from tests.factories import PASSWORD, PatientFactory, PhysiotherapistFactory
from tests.security.world import make_condition
from tracker.models import Alert
from tracker.services import alerts_escalate

pytestmark = pytest.mark.django_db

USERNAME = "zoe_erasure_q4"
EMAIL = "zoe.q4@mail.example"
FULL_NAME = "Zoe Quill"
FULL_NAME_IN_URL = "Zoe+Quill"
PHONE = "+44 7700 900431"
OUTCOME_NOTE = "rang-zoe-ambulance-7k2"
NOTE = "stairs-burning-calf-8z1"


def text_columns(model) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField))]


def where_mentioned(*needles: str) -> dict[str, set[str]]:
    """For each needle, the `app.Model.column`s holding it (case-insensitive), across every table."""
    found = {needle: set() for needle in needles}
    for model in apps.get_models(include_auto_created=True):
        columns = text_columns(model)
        if not columns or model._meta.proxy:
            continue
        for row in model._base_manager.values_list(*columns):
            for column, value in zip(columns, row, strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
                for needle in needles:
                    if needle.lower() in text.lower():
                        found[needle].add(f"{model._meta.label}.{column}")
    return found


def signed_in(username: str, password: str = PASSWORD) -> APIClient:
    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")
    assert tokens.status_code == 200, tokens.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    return client


@pytest.fixture
def life(client):
    """A patient with a history worth erasing; returns what the test needs to look at it afterwards."""
    condition = make_condition("erase-meniscus", "Meniscus tear (erasure)")
    physio, cover = PhysiotherapistFactory(), PhysiotherapistFactory()
    staff = PhysiotherapistFactory(is_staff=True, is_superuser=True)
    patient = PatientFactory(username=USERNAME, email=EMAIL, first_name="Zoe", last_name="Quill", phone=PHONE,
                             country="GB", physiotherapists=[physio, cover])
    bystander = PatientFactory(physiotherapists=[physio])

    # A mistyped password (django-axes keeps the attempt) and a browser sign-in (its access log).
    for typed in (USERNAME, USERNAME.upper()):
        assert APIClient().post("/api/v1/auth/token/", {"username": typed, "password": "typo"},
                                format="json").status_code == 401
    Client().force_login(patient)
    as_patient = signed_in(USERNAME)
    as_physio = signed_in(physio.username)
    assert as_patient.post("/api/v1/devices/", {"token": "zoe-phone-token", "platform": "ios"},
                           format="json").status_code == 201
    assert as_physio.post("/api/v1/devices/", {"token": "physio-phone-token", "platform": "android"},
                          format="json").status_code == 201

    plan = as_physio.post("/api/v1/plans/", {"patient": patient.pk, "condition": condition.slug}, format="json")
    assert plan.status_code == 201, plan.content
    plan_id = plan.json()["id"]
    # The physiotherapist's clinical context of the plan.
    Plan.objects.filter(pk=plan_id).update(surgery_date=timezone.localdate() - dt.timedelta(days=20),
                                           clot_risk_factors=["recent_surgery"], immunosuppressed=True)
    advanced = as_physio.post(f"/api/v1/plans/{plan_id}/advance/",
                              {"reason": f"Zoe Quill ({USERNAME}) walks without a limp"}, format="json")
    assert advanced.status_code == 200, advanced.content

    checkin = as_patient.post("/api/v1/checkins/", {"pain_at_rest": 6, "pain_during_activity": 8,
                                                    "trouble_breathing": True, "notes": NOTE}, format="json")
    assert checkin.status_code == 201, checkin.content
    assert checkin.json()["prompt"]["level"] == "emergency"
    alerts_escalate(now=timezone.now() + dt.timedelta(hours=5))
    alert = Alert.objects.get(physiotherapist=physio)
    alert.outcome, alert.outcome_note = "called_patient", OUTCOME_NOTE
    alert.save()
    # What a worker does with the email and push deliveries queued after those commits.
    for delivery_id in ChannelDelivery.objects.values_list("pk", flat=True):
        deliver_channel(delivery_id=delivery_id)

    assert as_physio.get("/api/v1/patients/", {"search": USERNAME}).json()["count"] == 1
    client.force_login(physio)
    assert client.get("/caseload/", {"q": USERNAME}).status_code == 200
    assert client.get("/caseload/", {"q": FULL_NAME}).status_code == 200
    # Staff changed the account in the admin: its log names the account and the caseload link it added.
    added = {"added": {"name": "physiotherapist (caseload)", "object": str(patient.physiotherapist_links.first())}}
    LogEntry.objects.create(user=staff, content_type=ContentType.objects.get_for_model(User),
                            object_id=str(patient.pk), object_repr=str(patient), action_flag=CHANGE,
                            change_message=json.dumps([added]))
    return {"patient": patient, "physio": physio, "plan_id": plan_id, "as_patient": as_patient, "as_physio": as_physio,
            "condition": condition, "bystander": bystander}


def test_after_erasure_no_table_names_the_patient_or_holds_their_note(life):
    needles = (USERNAME, EMAIL, FULL_NAME, FULL_NAME_IN_URL, PHONE, NOTE, OUTCOME_NOTE)
    before = where_mentioned(*needles)
    # The search can find what it looks for: the patient is all over the database beforehand.
    assert {"audit.AuditEvent.username", "audit.AuditEvent.query", "plans.PhaseChange.reason",
            "axes.AccessLog.username", "axes.AccessAttempt.username",
            "admin.LogEntry.object_repr", "admin.LogEntry.change_message", "users.User.username"
            } <= before[USERNAME], before[USERNAME]
    assert {"notifications.Notification.title", "notifications.PushRecord.title",
            "plans.PhaseChange.reason"} <= before[FULL_NAME], before[FULL_NAME]
    assert {"tracker.CheckIn.notes", "tracker.HistoricalCheckIn.notes"} <= before[NOTE], before[NOTE]
    assert {"users.User.phone", "notifications.Notification.body"} <= before[PHONE]  # alerts give it
    assert before[FULL_NAME_IN_URL] == {"audit.AuditEvent.query"}
    assert {"tracker.Alert.outcome_note", "tracker.HistoricalAlert.outcome_note"} <= before[OUTCOME_NOTE]

    response = life["as_patient"].post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True},
                                       format="json")

    assert response.status_code == 200, response.content
    assert where_mentioned(*needles) == {needle: set() for needle in needles}
    patient = User.objects.get(pk=life["patient"].pk)
    assert (patient.phone, patient.country, patient.first_name, patient.email) == ("", "", "", "")
    plan = Plan.objects.get(pk=life["plan_id"])
    assert (plan.status, plan.surgery_date, plan.clot_risk_factors, plan.immunosuppressed) == (
        "cancelled", None, [], False)


def test_the_receipt_counts_each_kind_under_its_own_name(life):
    response = life["as_patient"].post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True},
                                       format="json")
    erased = response.json()["erased"]
    assert erased["checkins"] == 1
    assert erased["alerts"] == 2  # one per physiotherapist
    assert erased["devices"] == 1
    assert erased["caseload_links"] == 2
    # The patient's own prompt, the two alerts, and the escalation to the physiotherapist and to staff
    # (the cover's alert escalates too).
    assert erased["notifications"] == 7


def test_the_erased_account_leaves_every_caseload_and_gets_no_plan(life):
    patient, as_physio = life["patient"], life["as_physio"]
    life["as_patient"].post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json")

    caseload = as_physio.get("/api/v1/patients/").json()
    assert [p["id"] for p in caseload["results"]] == [life["bystander"].pk]
    assigned = as_physio.post("/api/v1/plans/", {"patient": patient.pk, "condition": "sec-other"}, format="json")
    assert assigned.status_code == 400
    assert "patient" in assigned.json()["fields"]
    patient.refresh_from_db()
    assert patient.is_erased and not patient.is_active
    assert not patient.physiotherapists.exists()


def test_the_erased_patients_tokens_stop_working(life):
    as_patient = life["as_patient"]
    as_patient.post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json")
    assert as_patient.get("/api/v1/me/").status_code == 401


def test_erasure_password_guesses_count_towards_the_sign_in_lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    PatientFactory(username=USERNAME)
    client = signed_in(USERNAME)
    answers = [client.post("/api/v1/me/erase/", {"password": f"guess-{n}", "confirm": True}, format="json")
               for n in range(3)]
    assert [a.status_code for a in answers] == [400, 400, 429]
    assert answers[-1].json()["code"] == "locked_out"
    # Locked: the right password is refused too, nothing is erased, and signing in is locked as well.
    right = client.post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json")
    assert right.status_code == 429
    assert User.objects.get(username=USERNAME).is_active
    assert APIClient().post("/api/v1/auth/token/", {"username": USERNAME, "password": PASSWORD},
                            format="json").status_code == 429


def test_an_erased_account_cannot_be_switched_back_on_in_the_admin(life):
    patient = life["patient"]
    life["as_patient"].post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json")
    browser = Client()
    browser.force_login(User.objects.filter(is_superuser=True).get())
    patient.refresh_from_db()
    answer = browser.post(f"/admin/users/user/{patient.pk}/change/", admin_user_form(browser, patient, is_active=True))
    assert answer.status_code == 200
    assert "stays off" in answer.content.decode()
    assert not User.objects.get(pk=patient.pk).is_active

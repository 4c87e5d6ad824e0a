import datetime as dt

import pytest
from django.utils import timezone

from kneerehab.audit.models import AuditEvent
from kneerehab.notifications.services import notify
from kneerehab.users.models import User
from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db


def make_checkin(patient, **fields):
    from tracker.models import CheckIn

    values = {"pain_at_rest": 3, "pain_during_activity": 4, "recorded_at": timezone.now()} | fields
    return CheckIn.objects.create(patient=patient, **values)


def test_export_holds_the_patients_data_and_nobody_elses(patient_client, patient):
    make_checkin(patient, notes="stairs were hard")
    other = PatientFactory()
    make_checkin(other, notes="not yours")
    notify(recipient=patient, kind="prompt", title="Check-in received", body="Thanks")

    response = patient_client.get("/api/v1/me/export/")

    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = response.json()
    assert data["profile"]["username"] == patient.username
    assert [c["notes"] for c in data["checkins"]] == ["stairs were hard"]
    assert [n["title"] for n in data["notifications"]] == ["Check-in received"]


def test_export_is_for_patients(physio_client):
    assert physio_client.get("/api/v1/me/export/").status_code == 403


def test_erase_removes_health_data_anonymises_and_is_recorded(patient_client, patient):
    make_checkin(patient)
    make_checkin(patient, recorded_at=timezone.now() - dt.timedelta(days=1))
    patient_id = patient.id

    refused = patient_client.post("/api/v1/me/erase/", {"password": "wrong", "confirm": True}, format="json")
    assert refused.status_code == 400
    assert "password" in refused.json()["fields"]

    unconfirmed = patient_client.post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": False}, format="json")
    assert unconfirmed.status_code == 400

    response = patient_client.post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json")
    assert response.status_code == 200
    assert response.json()["erased"]["checkins"] == 2

    from tracker.models import CheckIn

    assert not CheckIn.objects.filter(patient_id=patient_id).exists()
    assert not CheckIn.history.filter(patient_id=patient_id).exists()
    user = User.objects.get(pk=patient_id)
    assert user.username == f"erased-{patient_id}"
    assert not user.is_active and not user.has_usable_password() and user.email == ""
    erase_event = AuditEvent.objects.get(action="erase")
    assert erase_event.subject_patient_id == patient_id
    assert erase_event.detail["checkins"] == 2


def test_health_data_requests_are_audited_with_who_what_when_where(patient, client):
    client.force_login(patient)
    before = timezone.now()
    client.get("/api/v1/me/export/?format=json", HTTP_USER_AGENT="kneerehab-ios/1.0", REMOTE_ADDR="203.0.113.9")

    request_event = AuditEvent.objects.filter(resource="me-export").get()
    assert request_event.user == patient
    assert request_event.username == patient.username
    assert request_event.action == "read"
    assert request_event.status_code == 200
    assert request_event.ip_address == "203.0.113.9"
    assert request_event.user_agent == "kneerehab-ios/1.0"
    assert request_event.query == "format=json"
    assert request_event.at >= before
    assert request_event.subject_patient_id == patient.id


def test_refused_attempts_are_audited_too(client):
    client.get("/api/v1/me/export/")
    event = AuditEvent.objects.get()
    assert event.user is None
    assert event.status_code == 401


def test_requests_outside_health_data_are_not_audited(patient_client):
    patient_client.get("/api/v1/me/")
    assert not AuditEvent.objects.exists()


def test_jwt_callers_are_identified_in_the_audit(patient):
    from rest_framework.test import APIClient

    client = APIClient()
    tokens = client.post("/api/v1/auth/token/", {"username": patient.username, "password": PASSWORD},
                         format="json").json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    client.get("/api/v1/me/export/")
    assert AuditEvent.objects.filter(resource="me-export").get().user == patient


def test_staff_see_the_audit_trail_in_the_admin(client, patient, patient_client):
    patient_client.get("/api/v1/me/export/")
    admin = User.objects.create_superuser("root-admin", "admin@example.org", "admin-pass-123", role="physiotherapist")
    client.force_login(admin)
    page = client.get("/admin/audit/auditevent/")
    assert page.status_code == 200
    assert patient.username in page.content.decode()
    # Read-only: no add, and a change form cannot be posted.
    assert client.get("/admin/audit/auditevent/add/").status_code == 403


def test_web_pages_with_health_data_are_audited(client, physio, patient):
    client.force_login(physio)
    assert client.get(f"/patients/{patient.id}/").status_code == 200
    event = AuditEvent.objects.get(resource="web:patient")
    assert event.user == physio
    assert event.subject_patient_id == patient.id
    assert event.action == "read"


def test_erase_and_export_cover_the_safety_hold_the_plan_context_and_the_phone(patient_client, patient, physio):
    from plans.models import Plan, SafetyHold
    from tests.factories import PlanFactory

    plan = PlanFactory(patient=patient, physiotherapist=physio, immunosuppressed=True,
                       clot_risk_factors=["cancer"], surgery_date=timezone.localdate())
    patient.phone, patient.country = "+44 20 7946 0000", "GB"
    patient.save()
    patient_client.post("/api/v1/checkins/", {"pain_at_rest": 2, "pain_during_activity": 3, "fever": True},
                        format="json")
    exported = patient_client.get("/api/v1/me/export/").json()
    assert (exported["profile"]["phone"], exported["profile"]["country"]) == ("+44 20 7946 0000", "GB")
    [held] = exported["plans"]
    assert held["immunosuppressed"] is True and held["clot_risk_factors"] == ["cancer"]
    assert [h["level"] for h in held["safety_holds"]] == ["emergency"]  # fever while immunosuppressed

    erased = patient_client.post("/api/v1/me/erase/", {"password": PASSWORD, "confirm": True}, format="json").json()
    assert erased["erased"]["safety_holds"] == 1
    assert not SafetyHold.objects.exists()
    plan = Plan.objects.get(pk=plan.pk)
    assert (plan.surgery_date, plan.clot_risk_factors, plan.immunosuppressed) == (None, [], False)
    assert not plan.history.filter(immunosuppressed=True).exists()
    user = User.objects.get(pk=patient.pk)
    assert (user.phone, user.country) == ("", "")

"""Every page and endpoint that shows health data is on the audit trail, and no cache keeps its answer."""
import pytest
from django.test import Client
from django.utils import timezone

from kneerehab.audit.models import AuditEvent
from kneerehab.notifications.services import notify
from tests.factories import PhysiotherapistFactory
from tracker.models import CheckIn

pytestmark = pytest.mark.django_db


@pytest.fixture
def checkin(patient):
    return CheckIn.objects.create(patient=patient, pain_at_rest=3, pain_during_activity=4, notes="stiff",
                                  recorded_at=timezone.now())


@pytest.fixture
def staff_browser():
    browser = Client()
    browser.force_login(PhysiotherapistFactory(is_staff=True, is_superuser=True))
    return browser


def test_reading_the_inbox_over_the_api_is_audited(physio_client, physio, patient):
    notify(recipient=physio, kind="alert", title=f"Urgent: check-in from {patient.username}", body="b",
           channels_wanted=())
    assert physio_client.get("/api/v1/notifications/").status_code == 200
    event = AuditEvent.objects.get(resource="notification-list")
    assert (event.user, event.action, event.status_code) == (physio, "read", 200)


def test_the_web_inbox_is_audited(client, physio):
    client.force_login(physio)
    assert client.get("/inbox/").status_code == 200
    assert AuditEvent.objects.get(resource="web:inbox").user == physio


@pytest.mark.parametrize("path", ["/admin/tracker/checkin/{checkin}/change/", "/admin/users/user/{patient}/change/",
                                  "/admin/tracker/checkin/"])
def test_admin_pages_of_health_data_are_audited(staff_browser, checkin, patient, path):
    url = path.format(checkin=checkin.pk, patient=patient.pk)
    assert staff_browser.get(url).status_code == 200
    event = AuditEvent.objects.get(path=url)
    assert event.user.is_staff and event.action == "read"
    if "change" in url:
        assert event.object_id == str(checkin.pk if "checkin" in url else patient.pk)


@pytest.mark.parametrize("path", ["/api/v1/checkins/", "/api/v1/notifications/", "/api/v1/me/",
                                  "/api/v1/me/export/", "/api/v1/today/"])
def test_health_data_answers_are_not_stored_by_caches(patient_client, checkin, path):
    response = patient_client.get(path)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_health_data_pages_are_not_stored_by_caches(client, physio, patient, checkin):
    client.force_login(physio)
    for path in ("/caseload/", f"/patients/{patient.pk}/", "/inbox/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "no-store" in response["Cache-Control"], path

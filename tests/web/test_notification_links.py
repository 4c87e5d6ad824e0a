import pytest
from django.utils import timezone

from kneerehab.notifications.services import notify
from tests.factories import PatientFactory, PhysiotherapistFactory
from tracker.models import Alert, CheckIn

pytestmark = pytest.mark.django_db


def checkin_for(patient):
    return CheckIn.objects.create(patient=patient, pain_at_rest=2, pain_during_activity=3,
                                  recorded_at=timezone.now())


def test_a_patients_prompt_opens_the_checkin_page_and_is_marked_read(client, patient):
    checkin = checkin_for(patient)
    n = notify(recipient=patient, kind="prompt", title="t", body="b", link=f"/api/v1/checkins/{checkin.pk}/")
    client.force_login(patient)
    response = client.post(f"/inbox/{n.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == f"/checkins/{checkin.pk}/"
    n.refresh_from_db()
    assert n.read


def test_following_the_link_with_a_get_changes_nothing(client, patient):
    """A GET may come from a prefetching browser or a mail scanner: it follows, it does not mark read."""
    n = notify(recipient=patient, kind="reminder", title="t", body="b", link="/api/v1/today/")
    client.force_login(patient)
    response = client.get(f"/inbox/{n.pk}/open/")
    assert response.status_code == 302
    assert response["Location"] == "/today/"
    n.refresh_from_db()
    assert not n.read
    # The inbox offers the marking Open as a form (POST) while the item is unread, and a plain link after.
    page = client.get("/inbox/").content.decode()
    assert f'<form method="post" action="/inbox/{n.pk}/open/">' in page
    client.post(f"/inbox/{n.pk}/open/")
    assert f'<a href="/inbox/{n.pk}/open/">Open</a>' in client.get("/inbox/").content.decode()


def test_an_alert_opens_the_patient_page_for_its_physiotherapist(client, physio, patient):
    checkin = checkin_for(patient)
    alert = Alert.objects.create(patient=patient, physiotherapist=physio, checkin=checkin, level="urgent")
    n = notify(recipient=physio, kind="alert", title="t", body="b", link=f"/api/v1/alerts/{alert.pk}/")
    client.force_login(physio)
    assert client.get(f"/inbox/{n.pk}/open/")["Location"] == f"/patients/{patient.pk}/#alerts"


def test_a_link_to_something_the_reader_may_not_see_leads_back_to_the_inbox(client):
    stranger = PatientFactory()
    reader = PhysiotherapistFactory()
    checkin = checkin_for(stranger)
    n = notify(recipient=reader, kind="alert", title="t", body="b", link=f"/api/v1/checkins/{checkin.pk}/")
    client.force_login(reader)
    assert client.get(f"/inbox/{n.pk}/open/")["Location"] == "/inbox/"


def test_nobody_opens_another_users_notification(client, patient):
    other = PatientFactory()
    n = notify(recipient=other, kind="reminder", title="t", body="b", link="/api/v1/today/")
    client.force_login(patient)
    assert client.get(f"/inbox/{n.pk}/open/").status_code == 404
    assert client.post(f"/inbox/{n.pk}/open/").status_code == 404
    n.refresh_from_db()
    assert not n.read


def test_the_inbox_shows_an_open_link(client, patient):
    notify(recipient=patient, kind="reminder", title="Time for your exercises", body="b", link="/api/v1/today/")
    client.force_login(patient)
    page = client.get("/inbox/").content.decode()
    assert "/open/" in page and "Time for your exercises" in page

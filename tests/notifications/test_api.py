"""The in-app inbox and device registration over the API."""
import pytest
from rest_framework.test import APIClient

from kneerehab.notifications.channels import send_push
from kneerehab.notifications.models import Device, Notification, PushRecord
from kneerehab.notifications.services import notify
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

URL = "/api/v1/notifications/"


def note(user, kind="prompt", title="Book a visit", **kwargs) -> Notification:
    return notify(recipient=user, kind=kind, title=title, body="Your knee locked.", channels_wanted=(), **kwargs)


def test_the_inbox_lists_own_items_newest_first(patient_client, patient):
    older = note(patient, kind="reminder", title="Time for your exercises")
    newer = note(patient, kind="prompt", link="/api/v1/checkins/1/")
    note(PatientFactory())  # someone else's
    body = patient_client.get(URL).json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [newer.pk, older.pk]
    assert body["results"][0] == {
        "id": newer.pk, "kind": "prompt", "title": "Book a visit", "body": "Your knee locked.",
        "link": "/api/v1/checkins/1/", "created_at": body["results"][0]["created_at"], "read": False,
        "read_at": None,
    }


def test_filter_by_kind_and_unread(patient_client, patient):
    reminder = note(patient, kind="reminder")
    prompt = note(patient, kind="prompt")
    Notification.objects.filter(pk=reminder.pk).update(read_at=reminder.created_at)
    assert [i["id"] for i in patient_client.get(URL, {"kind": "reminder"}).json()["results"]] == [reminder.pk]
    assert [i["id"] for i in patient_client.get(URL, {"unread": "true"}).json()["results"]] == [prompt.pk]
    assert patient_client.get(URL, {"kind": "gossip"}).status_code == 400


def test_mark_one_and_all_read(patient_client, patient):
    first, second, third = note(patient), note(patient), note(patient)
    response = patient_client.post(f"{URL}{first.pk}/read/")
    assert response.status_code == 200
    assert response.json()["read"] is True
    assert response.json()["read_at"]
    assert patient_client.post(f"{URL}read-all/").json() == {"marked": 2}
    assert patient_client.get(URL, {"unread": "1"}).json()["count"] == 0
    assert {second.pk, third.pk} == set(Notification.objects.filter(read_at__isnull=False).exclude(pk=first.pk)
                                        .values_list("pk", flat=True))


def test_someone_elses_item_is_404_and_stays_unread(patient_client):
    theirs = note(PatientFactory())
    assert patient_client.get(f"{URL}{theirs.pk}/").status_code == 404
    assert patient_client.post(f"{URL}{theirs.pk}/read/").status_code == 404
    theirs.refresh_from_db()
    assert not theirs.read


def test_physiotherapists_have_an_inbox_too(physio_client, physio):
    alert = note(physio, kind="alert", title="Urgent: check-in from sam")
    assert [i["id"] for i in physio_client.get(URL).json()["results"]] == [alert.pk]


def test_anonymous_is_401(api_client):
    assert api_client.get(URL).status_code == 401


@pytest.mark.parametrize("rows", [2, 40])
def test_inbox_queries_do_not_grow_with_rows(patient_client, patient, rows, django_assert_max_num_queries):
    for i in range(rows):
        note(patient, kind=["prompt", "reminder", "alert"][i % 3])
    with django_assert_max_num_queries(3):  # count, page and the audit row
        response = patient_client.get(URL, {"page_size": 100})
    assert response.json()["count"] == rows


def test_register_a_device_once_and_remove_it(patient_client, patient):
    created = patient_client.post("/api/v1/devices/", {"token": "apns-123", "platform": "ios"}, format="json")
    assert created.status_code == 201
    again = patient_client.post("/api/v1/devices/", {"token": "apns-123", "platform": "ios"}, format="json")
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert Device.objects.count() == 1
    stranger = APIClient()
    stranger.force_authenticate(PatientFactory())
    assert stranger.delete(f"/api/v1/devices/{created.json()['id']}/").status_code == 404
    assert patient_client.delete(f"/api/v1/devices/{created.json()['id']}/").status_code == 204
    assert patient_client.post("/api/v1/devices/", {"token": "t", "platform": "blackberry"},
                               format="json").status_code == 400


def test_registering_another_accounts_token_neither_moves_it_nor_tells_that_it_exists(patient_client, patient):
    """A token taken from someone's phone must not divert their alerts to the caller's account's pushes."""
    assert patient_client.post("/api/v1/devices/", {"token": "victim-apns-1", "platform": "ios"},
                               format="json").status_code == 201
    attacker = APIClient()
    attacker.force_authenticate(PatientFactory())

    known = attacker.post("/api/v1/devices/", {"token": "victim-apns-1", "platform": "ios"}, format="json")
    unknown = attacker.post("/api/v1/devices/", {"token": "nobody-has-this", "platform": "ios"}, format="json")

    # Alike: the same status and the same shape, each about the caller's own registration.
    assert known.status_code == unknown.status_code == 201
    assert set(known.json()) == set(unknown.json()) == {"id", "token", "platform", "active", "created_at"}
    assert known.json()["active"] is unknown.json()["active"] is True
    # The victim keeps the token, and their pushes still go to it.
    assert [d["token"] for d in patient_client.get("/api/v1/devices/").json()["results"]] == ["victim-apns-1"]
    notification = note(patient, kind="alert")
    send_push(notification)
    assert PushRecord.objects.filter(notification=notification, device__user=patient).exists()
    assert not PushRecord.objects.filter(notification=notification).exclude(device__user=patient).exists()

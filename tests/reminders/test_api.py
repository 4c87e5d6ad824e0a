"""What the mobile app sees: registering a device for push, and reminders in the inbox."""
import datetime as dt

import pytest

from kneerehab.notifications.models import Device, PushRecord
from tests.factories import PatientFactory, plan_with_exercises

from .conftest import NEW_YORK

pytestmark = pytest.mark.django_db

EIGHT_NY = dt.datetime(2026, 6, 15, 8, 0, tzinfo=NEW_YORK)


@pytest.fixture
def new_york_patient(patient):
    patient.timezone = "America/New_York"
    patient.save()
    return patient


def test_a_registered_device_receives_the_reminder_as_push_and_the_inbox_lists_it(
    new_york_patient, patient_client, clock, dispatch
):
    response = patient_client.post("/api/v1/devices/", {"token": "apns-abc123", "platform": "ios"}, format="json")
    assert response.status_code == 201
    assert response.json()["platform"] == "ios"
    plan_with_exercises(patient=new_york_patient, start_date=EIGHT_NY.date(), reminder_times=["08:00"])

    clock.at(EIGHT_NY)
    dispatch()

    [push] = PushRecord.objects.all()
    assert (push.device.token, push.title) == ("apns-abc123", "Time for your knee exercises")
    inbox = patient_client.get("/api/v1/notifications/").json()
    assert inbox["count"] == 1
    item = inbox["results"][0]
    assert {k: item[k] for k in ("kind", "title", "read", "link")} == {
        "kind": "reminder", "title": "Time for your knee exercises", "read": False, "link": "/api/v1/today/"}
    assert "2 exercises" in item["body"]
    assert dt.datetime.fromisoformat(item["created_at"]) == EIGHT_NY

    assert patient_client.get("/api/v1/notifications/?kind=follow_up").json()["count"] == 0
    assert patient_client.post(f"/api/v1/notifications/{item['id']}/read/").json()["read"] is True


def test_registering_a_token_another_account_holds_leaves_it_with_them(patient, patient_client, api_client):
    other = PatientFactory()
    Device.objects.create(user=other, token="shared-phone", platform="android")
    response = patient_client.post("/api/v1/devices/", {"token": "shared-phone", "platform": "android"},
                                   format="json")
    assert response.status_code == 201
    assert sorted(Device.objects.filter(token="shared-phone").values_list("user_id", flat=True)) == sorted(
        [other.pk, patient.pk])


def test_devices_are_private_and_validated(patient, patient_client):
    other_device = Device.objects.create(user=PatientFactory(), token="not-yours", platform="ios")
    mine = Device.objects.create(user=patient, token="mine", platform="web")
    listed = patient_client.get("/api/v1/devices/").json()
    assert [d["token"] for d in listed["results"]] == ["mine"]
    assert patient_client.delete(f"/api/v1/devices/{other_device.pk}/").status_code == 404
    assert Device.objects.filter(pk=other_device.pk).exists()
    assert patient_client.delete(f"/api/v1/devices/{mine.pk}/").status_code == 204

    bad = patient_client.post("/api/v1/devices/", {"token": "x", "platform": "blackberry"}, format="json")
    assert bad.status_code == 400
    assert "platform" in bad.json()["fields"]


def test_a_reminder_goes_to_the_patients_inbox_only(new_york_patient, patient_client, physio_client, clock,
                                                     dispatch):
    plan_with_exercises(patient=new_york_patient, start_date=EIGHT_NY.date())
    clock.at(EIGHT_NY)
    dispatch()
    assert patient_client.get("/api/v1/notifications/").json()["count"] == 1
    assert physio_client.get("/api/v1/notifications/").json()["count"] == 0


def test_devices_need_a_signed_in_user(api_client):
    assert api_client.post("/api/v1/devices/", {"token": "t", "platform": "ios"}, format="json").status_code == 401


@pytest.mark.parametrize("devices", [1, 15])
def test_listing_devices_costs_the_same_queries_however_many(patient, patient_client, devices,
                                                             django_assert_max_num_queries):
    for n in range(devices):
        Device.objects.create(user=patient, token=f"token-{n}", platform="android")
    with django_assert_max_num_queries(3):
        response = patient_client.get("/api/v1/devices/")
    assert response.json()["count"] == devices
    assert response.json()["results"][0]["token"] == f"token-{devices - 1}"  # newest first

"""Who hears of a red flag, how often, and what they see and record (issue 12, items 6, 7, 10 and 11).

Through HTTP, as the patient, the physiotherapist and staff meet it.
"""
import pytest
from rest_framework.test import APIClient

from kneerehab.notifications.models import ChannelDelivery, Device, Notification
from kneerehab.users.emergency import EMERGENCY_NUMBERS
from tests.factories import PatientFactory, PhysiotherapistFactory
from tracker.models import Alert

pytestmark = pytest.mark.django_db

BENIGN = {"pain_at_rest": 2, "pain_during_activity": 3}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def check_in(client, **answers) -> dict:
    response = client.post("/api/v1/checkins/", {**BENIGN, **answers}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def alert_notes(user):
    return Notification.objects.filter(recipient=user, kind="alert").order_by("pk")


# --- item 6: nobody left out --------------------------------------------------------------------------------

@pytest.fixture
def staff():
    return PhysiotherapistFactory(username="on-call", is_staff=True)


@pytest.mark.parametrize("answers", [{"fever": True}, {"trouble_breathing": True}], ids=["urgent", "emergency"])
def test_a_patient_without_a_physiotherapist_reaches_staff(staff, answers):
    PhysiotherapistFactory(username="retired-staff", is_staff=True, is_active=False)
    patient = PatientFactory(physiotherapists=[])
    checkin = check_in(client_for(patient), **answers)
    [alert] = Alert.objects.all()
    assert (alert.physiotherapist, alert.checkin_id, alert.level) == (staff, checkin["id"], checkin["prompt"]["level"])
    [note] = alert_notes(staff)
    assert "no active physiotherapist" in note.body
    assert note.link == f"/admin/tracker/alert/{alert.pk}/change/"
    # The patient is told who was told.
    assert "We have let the clinic team know." in checkin["prompt"]["message"]
    assert "physiotherapist know" not in checkin["prompt"]["message"]


def test_an_inactive_physiotherapist_does_not_count(staff):
    gone = PhysiotherapistFactory(is_active=False)
    patient = PatientFactory(physiotherapists=[gone])
    check_in(client_for(patient), trouble_breathing=True)
    assert list(Alert.objects.values_list("physiotherapist__username", flat=True)) == ["on-call"]
    assert not alert_notes(gone).exists()


def test_an_assigned_patient_alerts_the_physiotherapist_not_staff(staff, patient_client, physio):
    check_in(patient_client, fever=True)
    assert list(Alert.objects.values_list("physiotherapist", flat=True)) == [physio.pk]
    assert not alert_notes(staff).exists()


def test_a_see_clinician_prompt_of_an_unassigned_patient_does_not_page_staff(staff):
    patient = PatientFactory(physiotherapists=[])
    assert check_in(client_for(patient), limits_daily_activities=True)["prompt"]["level"] == "see_clinician"
    assert not Alert.objects.exists()


def test_with_nobody_at_all_the_check_in_is_stored_and_the_failure_logged(caplog):
    patient = PatientFactory(physiotherapists=[])
    checkin = check_in(client_for(patient), trouble_breathing=True)
    assert checkin["prompt"]["level"] == "emergency"
    assert "no active staff account" in caplog.text


# --- item 7: repeat alerts ----------------------------------------------------------------------------------

def test_a_repeat_of_an_open_alert_updates_it_and_still_reaches_the_inbox(patient_client, physio_client, physio):
    first = check_in(patient_client, fever=True)
    second = check_in(patient_client, fever=True, calf_pain=True)
    [alert] = Alert.objects.all()
    assert alert.occurrences == 2
    assert alert.checkin_id == second["id"]
    assert alert.last_seen_at is not None
    codes = [r["code"] for r in alert.reasons]
    assert codes[0] == first["prompt"]["reasons"][0]["code"]
    assert set(codes) == {r["code"] for r in first["prompt"]["reasons"] + second["prompt"]["reasons"]}
    body = physio_client.get(f"/api/v1/alerts/{alert.pk}/").json()
    assert (body["occurrences"], body["report"]["id"]) == (2, second["id"])
    # A repeated urgent alert is not silenced: a second inbox item (and email) says it was seen again; only
    # the first interrupts with a push.
    notes = list(alert_notes(physio))
    assert len(notes) == 2
    assert "again (2 times)" in notes[1].title
    assert ChannelDelivery.objects.filter(notification=notes[1], channel="email").exists()


def test_a_higher_level_makes_a_new_alert_and_a_lower_one_joins_the_open_one(patient_client, physio):
    check_in(patient_client, calf_pain=True)
    check_in(patient_client, calf_pain=True, trouble_breathing=True)
    assert sorted(Alert.objects.values_list("level", flat=True)) == ["emergency", "urgent"]
    # Back to urgent with a clot sign: the open emergency alert (a reason in common, higher) takes it.
    check_in(patient_client, calf_pain=True)
    emergency = Alert.objects.get(level="emergency")
    urgent = Alert.objects.get(level="urgent")
    assert (emergency.occurrences + urgent.occurrences) == 3
    assert Alert.objects.count() == 2


def test_a_different_reason_makes_a_new_alert(patient_client):
    check_in(patient_client, fever=True)
    check_in(patient_client, cannot_bear_weight=True)
    assert Alert.objects.count() == 2


def test_an_acknowledged_alert_is_not_reopened_by_a_repeat(patient_client, physio_client):
    check_in(patient_client, fever=True)
    alert = Alert.objects.get()
    physio_client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {"outcome": "called_patient"}, format="json")
    check_in(patient_client, fever=True)
    assert Alert.objects.count() == 2
    alert.refresh_from_db()
    assert (alert.status, alert.occurrences) == ("acknowledged", 1)


def pushed(notification) -> bool:
    return ChannelDelivery.objects.filter(notification=notification, channel="push").exists()


def test_every_repeat_of_an_emergency_is_pushed_and_a_repeated_see_clinician_is_quiet(patient_client, physio):
    Device.objects.create(user=physio, token="physio-phone", platform="android")
    for _ in range(3):
        check_in(patient_client, trouble_breathing=True)
    notes = list(alert_notes(physio))
    assert len(notes) == 3
    assert all(pushed(n) for n in notes)
    for _ in range(2):
        check_in(patient_client, limits_daily_activities=True)
    see = Alert.objects.get(level="see_clinician")
    assert see.occurrences == 2
    assert len(alert_notes(physio)) == 4  # one for the first see_clinician check-in only


def test_acknowledging_marks_every_inbox_item_of_the_alert_read(patient_client, physio_client, physio):
    check_in(patient_client, fever=True)
    check_in(patient_client, fever=True)
    alert = Alert.objects.get()
    physio_client.post(f"/api/v1/alerts/{alert.pk}/acknowledge/", {"outcome": "booked_visit"}, format="json")
    assert not alert_notes(physio).filter(read_at__isnull=True).exists()


# --- item 10: the emergency number ------------------------------------------------------------------------------

@pytest.mark.parametrize(("country", "timezone", "number"), [
    ("", "Europe/Paris", "112"),
    ("", "Europe/London", "999"),
    ("", "America/New_York", "911"),
    ("", "America/Toronto", "911"),
    ("", "Australia/Sydney", "000"),
    ("", "Pacific/Auckland", "111"),
    ("", "Asia/Kolkata", "112"),
    ("", "UTC", "112"),  # no country: the fallback
    ("", "Asia/Tokyo", "112"),  # not in the table: the fallback
    ("US", "Europe/Paris", "911"),  # the profile's country wins over the time zone's
])
def test_the_emergency_prompt_gives_the_patients_own_number(physio, country, timezone, number):
    patient = PatientFactory(physiotherapists=[physio], country=country, timezone=timezone)
    prompt = check_in(client_for(patient), trouble_breathing=True)["prompt"]
    assert prompt["level"] == "emergency"
    assert prompt["emergency_number"]["number"] == number
    assert prompt["emergency_number"]["tel"] == f"tel:{number}"
    assert prompt["message"].startswith(f"Call emergency services now on {number}")
    assert "999, 112 or 911" not in prompt["message"]


def test_every_prompt_carries_the_number_and_the_table_covers_the_countries_asked_for(patient_client):
    assert check_in(patient_client)["prompt"]["emergency_number"]["number"] == "112"
    eu_eea = ["AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
              "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"]
    assert all("112" in EMERGENCY_NUMBERS[c] for c in eu_eea)
    assert EMERGENCY_NUMBERS["GB"] == ("999", "112")
    assert (EMERGENCY_NUMBERS["US"], EMERGENCY_NUMBERS["CA"]) == (("911",), ("911",))
    assert (EMERGENCY_NUMBERS["AU"][0], EMERGENCY_NUMBERS["NZ"][0], EMERGENCY_NUMBERS["IN"][0]) == ("000", "111",
                                                                                                   "112")


# --- item 11: an alert a clinician can act on ----------------------------------------------------------------

def test_the_alert_shows_the_ticked_answers_the_note_and_the_phone(physio, physio_client):
    patient = PatientFactory(physiotherapists=[physio], phone="+44 20 7946 0000", first_name="Sam")
    checkin = check_in(client_for(patient), fever=True, red_skin=True, pain_at_rest=6,
                       notes="Knee hot since last night.")
    [alert] = physio_client.get("/api/v1/alerts/").json()["results"]
    assert alert["patient"]["phone"] == "+44 20 7946 0000"
    assert alert["patient"]["first_name"] == "Sam"
    report = alert["report"]
    assert report["id"] == checkin["id"]
    assert [a["name"] for a in report["answered_yes"]] == ["fever", "red_skin"]
    assert all(a["question"] for a in report["answered_yes"])
    assert report["notes"] == "Knee hot since last night."
    assert (report["pain_at_rest"], report["pain_during_activity"]) == (6, 3)
    assert alert["exercise_session"] is None
    assert "+44 20 7946 0000" in alert_notes(physio).get().body


def test_acknowledging_needs_an_outcome_and_other_needs_a_note(patient_client, physio_client):
    check_in(patient_client, fever=True)
    alert = Alert.objects.get()
    url = f"/api/v1/alerts/{alert.pk}/acknowledge/"
    missing = physio_client.post(url, {}, format="json")
    assert missing.status_code == 400 and "outcome" in missing.json()["fields"]
    unknown = physio_client.post(url, {"outcome": "shrugged"}, format="json")
    assert unknown.status_code == 400 and "outcome" in unknown.json()["fields"]
    other = physio_client.post(url, {"outcome": "other"}, format="json")
    assert other.status_code == 400 and "note" in other.json()["fields"]
    alert.refresh_from_db()
    assert alert.status == "open"
    done = physio_client.post(url, {"outcome": "other", "note": "Texted the patient; will call back at 5."},
                              format="json")
    assert done.status_code == 200
    assert (done.json()["outcome"], done.json()["outcome_note"]) == ("other",
                                                                     "Texted the patient; will call back at 5.")

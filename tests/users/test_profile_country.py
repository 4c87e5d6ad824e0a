"""Country and phone on the profile (issue 12, items 10 and 11): the emergency number follows them."""
import pytest

from kneerehab.users.emergency import country_for_timezone, emergency_number_for
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db


def test_me_shows_the_emergency_number_of_the_time_zone_until_a_country_is_set(patient_client, patient):
    patient.timezone = "Europe/London"
    patient.save()
    me = patient_client.get("/api/v1/me/").json()
    assert (me["country"], me["emergency_number"]["number"], me["emergency_number"]["also"]) == ("", "999", ["112"])
    changed = patient_client.patch("/api/v1/me/", {"country": "au", "phone": "+61 2 9999 0000"}, format="json")
    assert changed.status_code == 200, changed.content
    body = changed.json()
    assert (body["country"], body["phone"]) == ("AU", "+61 2 9999 0000")
    assert body["emergency_number"] == {"number": "000", "tel": "tel:000", "country": "AU", "also": ["112"]}
    cleared = patient_client.patch("/api/v1/me/", {"country": ""}, format="json").json()
    assert cleared["emergency_number"]["number"] == "999"


@pytest.mark.parametrize(("field", "value"), [("country", "XX"), ("country", "FRA"), ("country", "1"),
                                              ("phone", "call me"), ("phone", "12"), ("phone", "+44 20 7946 0000 x"
                                                                                                  " 1234567890123")])
def test_a_bad_country_or_phone_is_refused(patient_client, patient, field, value):
    response = patient_client.patch("/api/v1/me/", {field: value}, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]
    patient.refresh_from_db()
    assert getattr(patient, field) == ""


def test_the_time_zone_table_is_read_from_the_tz_database():
    assert country_for_timezone("Europe/Berlin") == "DE"
    assert country_for_timezone("America/Vancouver") == "CA"
    assert country_for_timezone("Etc/UTC") == ""
    assert emergency_number_for(PatientFactory.build(timezone="Europe/Oslo", country="")).number == "113"

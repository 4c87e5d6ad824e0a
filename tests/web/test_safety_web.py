"""Issue 12 in the browser: the plan's clinical context, the safety hold, exercise pain advice, the
tap-to-call emergency number and alerts a clinician can act on."""
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from plans.models import Plan, SafetyHold
from tests.factories import PatientFactory
from tests.web.conftest import DVT_SIGNS, checkin, csrf_post
from tracker.models import Alert

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.fixture
def physio_web(physio):
    return signed_in(physio)


@pytest.fixture
def patient_web(patient):
    return signed_in(patient)


def done(client, plan_exercise, pain: int, **headers):
    data = {"client_id": str(uuid.uuid4()), f"log-{plan_exercise.pk}-sets_done": 2,
            f"log-{plan_exercise.pk}-reps_done": 10, f"log-{plan_exercise.pk}-pain_during": pain}
    return csrf_post(client, f"/today/exercises/{plan_exercise.pk}/done/", data, **headers)


# --- item 3: the plan's clinical context -------------------------------------------------------------------

def test_assigning_and_editing_a_plan_with_its_clinical_context(physio_web, patient, catalog):
    today = timezone.localdate()
    response = csrf_post(physio_web, f"/patients/{patient.pk}/plans/new/", {
        "condition": "meniscus-tear", "start_date": today.isoformat(), "reminder_times": "08:00",
        "surgery_date": today.isoformat(), "clot_risk_factors": ["recent_surgery", "immobilised"],
        "immunosuppressed": "on",
    })
    plan = Plan.objects.get(patient=patient)
    assert response.status_code == 302
    assert (plan.surgery_date, plan.clot_risk_factors, plan.immunosuppressed) == (
        today, ["recent_surgery", "immobilised"], True)
    edit = physio_web.get(f"/plans/{plan.pk}/edit/").content.decode()
    checked = set(re.findall(r'name="clot_risk_factors" value="(\w+)"[^>]*checked', edit))
    assert checked == {"recent_surgery", "immobilised"}
    html = physio_web.get(f"/patients/{patient.pk}/").content.decode()
    assert "Recent surgery, Immobilised (cast, brace or bed rest)" in html
    assert "immunosuppressed: yes" in html


def test_a_future_surgery_date_is_refused_on_the_form(physio_web, patient, catalog):
    tomorrow = timezone.localdate() + timezone.timedelta(days=1)
    response = csrf_post(physio_web, f"/patients/{patient.pk}/plans/new/", {
        "condition": "meniscus-tear", "start_date": timezone.localdate().isoformat(), "reminder_times": "08:00",
        "surgery_date": tomorrow.isoformat(),
    })
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert not Plan.objects.exists()


# --- item 8: the safety hold ------------------------------------------------------------------------------------

def test_after_an_urgent_check_in_today_shows_the_hold_instead_of_exercises(patient_web, patient, meniscus_plan):
    exercise = meniscus_plan.exercises.filter(phase="rice").select_related("exercise").first()
    assert exercise.exercise.name in patient_web.get("/today/").content.decode()
    checkin(patient, **DVT_SIGNS)
    html = patient_web.get("/today/").content.decode()
    assert "Your exercises are on hold" in html
    assert "Do not do your exercises" in html
    assert f'id="exercise-{exercise.pk}"' not in html
    assert '<a class="button button-call" href="tel:112">112</a>' in html


def test_the_physiotherapist_clears_the_hold_with_a_note(physio_web, patient, physio, meniscus_plan):
    checkin(patient, fever=True)
    page = physio_web.get(f"/patients/{patient.pk}/").content.decode()
    assert "On safety hold since" in page and "Clear the hold" in page
    refused = csrf_post(physio_web, f"/plans/{meniscus_plan.pk}/clear-hold/", {"note": ""}, follow=True)
    assert "the hold was not cleared" in refused.content.decode()
    assert SafetyHold.objects.get().cleared_at is None
    cleared = csrf_post(physio_web, f"/plans/{meniscus_plan.pk}/clear-hold/",
                        {"note": "Spoke to the patient: GP says no infection."})
    assert cleared.status_code == 302
    hold = SafetyHold.objects.get()
    assert (hold.cleared_by, hold.clear_note) == (physio, "Spoke to the patient: GP says no infection.")
    assert "Advance to Physiotherapy" in physio_web.get(f"/patients/{patient.pk}/").content.decode()


def test_another_caseloads_hold_cannot_be_cleared(physio_web, catalog):
    from plans.services import plan_create
    from tests.factories import PhysiotherapistFactory

    other = PhysiotherapistFactory()
    outsider = PatientFactory(physiotherapists=[other])
    plan = plan_create(physiotherapist=other, patient_id=outsider.pk, condition_slug="meniscus-tear")
    checkin(outsider, fever=True)
    assert csrf_post(physio_web, f"/plans/{plan.pk}/clear-hold/", {"note": "not mine"}).status_code == 404
    assert SafetyHold.objects.get().cleared_at is None


# --- item 9: exercise pain --------------------------------------------------------------------------------------

def test_acceptable_pain_is_well_done_and_more_gets_advice_instead(patient_web, meniscus_plan):
    exercise = meniscus_plan.exercises.filter(phase="rice").first()
    fine = done(patient_web, exercise, 5, HTTP_HX_REQUEST="true").content.decode()
    assert "Well done" in fine
    sore = done(patient_web, exercise, 6, HTTP_HX_REQUEST="true").content.decode()
    assert "Well done" not in sore
    assert "fewer repetitions or sets" in sore
    page = done(patient_web, exercise, 7, follow=True).content.decode()
    assert "7/10 is more than an exercise should cause" in page and "Well done" not in page


def test_severe_pain_during_an_exercise_puts_the_plan_on_hold(patient_web, physio, meniscus_plan):
    exercise = meniscus_plan.exercises.filter(phase="rice").first()
    response = done(patient_web, exercise, 9, HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/today/"
    html = patient_web.get("/today/").content.decode()
    assert "Your exercises are on hold" in html and "9/10" in html
    assert Alert.objects.get(physiotherapist=physio).exercise_log.pain_during == 9


# --- item 10: the emergency number ------------------------------------------------------------------------------

def test_the_emergency_result_page_has_a_tap_to_call_link_with_the_patients_number(physio):
    patient = PatientFactory(physiotherapists=[physio], timezone="America/Chicago")
    stored = checkin(patient, trouble_breathing=True)
    html = signed_in(patient).get(f"/checkins/{stored.pk}/").content.decode()
    assert '<a class="button button-call" href="tel:911">Call 911</a>' in html
    assert "Call emergency services now on 911" in html
    assert "999, 112 or 911" not in html


def test_an_urgent_result_page_offers_the_number_and_says_exercises_are_on_hold(patient, patient_web):
    stored = checkin(patient, fever=True)
    html = patient_web.get(f"/checkins/{stored.pk}/").content.decode()
    assert '<a href="tel:112">112</a>' in html
    assert "Your exercises are on hold" in html


# --- item 11: alerts a clinician can act on ---------------------------------------------------------------------

def test_the_alert_card_shows_answers_note_phone_and_repeats(physio_web, physio):
    patient = PatientFactory(physiotherapists=[physio], phone="+33 1 23 45 67 89")
    checkin(patient, fever=True)
    checkin(patient, fever=True, knee_locked=True, notes="Knee is hot to touch")
    html = physio_web.get(f"/patients/{patient.pk}/").content.decode()
    # One alert seen twice, showing the latest check-in's answers and note.
    assert html.count('class="card card-alert"') == 1 and "Seen 2 times" in html
    answers = html[html.index("Answered yes:"):]
    assert "fever" in answers.lower() and "straighten" in answers.lower()
    assert "<strong>The patient's note:</strong> Knee is hot to touch" in html
    assert '<a href="tel:+33123456789">+33 1 23 45 67 89</a>' in html
    assert 'name="outcome"' in html and "Called the patient" in html

"""The patient's pages through Django's test client: today, exercise logs, check-in and prompt, progress."""
import json
import re
import uuid

import pytest
from django.test import Client
from django.utils import timezone

from tests.factories import PatientFactory
from tests.web.conftest import DVT_SIGNS, checkin, csrf_post
from tracker.models import DEPRECATED_FLAGS, SYMPTOM_FLAGS, Alert, CheckIn, ExerciseLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient_web(patient):
    client = Client(enforce_csrf_checks=True)
    client.force_login(patient)
    return client


def test_home_sends_a_patient_to_today(patient_web):
    response = patient_web.get("/")
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_physiotherapist_pages_are_forbidden_to_a_patient(patient_web, patient):
    for path in ("/caseload/", "/patients/new/", f"/patients/{patient.pk}/"):
        assert patient_web.get(path).status_code == 403, path


def test_today_lists_the_current_phase_with_dose_and_instructions(patient_web, meniscus_plan):
    html = patient_web.get("/today/").content.decode()
    current = list(meniscus_plan.exercises.filter(phase="rice").select_related("exercise"))
    assert current
    for pe in current:
        assert pe.exercise.name in html
        assert f"{pe.sets} set{'s' if pe.sets != 1 else ''} of {pe.reps} rep" in html
    later = meniscus_plan.exercises.exclude(phase="rice").exclude(
        exercise__in=[pe.exercise for pe in current]).select_related("exercise").first()
    assert later is None or later.exercise.name not in html
    # The home page links to the check-in, labelled as such.
    assert re.search(r'<a class="button" href="/checkin/">Check-in</a>', html)


def test_done_logs_a_session_through_the_tracker(patient_web, patient, meniscus_plan):
    pe = meniscus_plan.exercises.filter(phase="rice").first()
    client_id = uuid.uuid4()
    data = {"client_id": str(client_id), f"log-{pe.pk}-sets_done": pe.sets, f"log-{pe.pk}-reps_done": pe.reps,
            f"log-{pe.pk}-pain_during": 2}
    response = csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<li class="card') and f'id="exercise-{pe.pk}"' in html
    assert f"Sessions logged today: <strong>1 of {pe.times_per_day}</strong>" in html
    log = ExerciseLog.objects.get(patient=patient)
    assert (log.plan_exercise_id, log.sets_done, log.reps_done, log.pain_during, log.client_id) == (
        pe.pk, pe.sets, pe.reps, 2, client_id)
    # The same form sent twice (a retry) stores one log.
    csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data, HTTP_HX_REQUEST="true")
    assert ExerciseLog.objects.filter(patient=patient).count() == 1


def test_done_until_every_session_is_logged(patient_web, meniscus_plan):
    pe = meniscus_plan.exercises.filter(phase="rice").first()
    for _ in range(pe.times_per_day):
        data = {"client_id": str(uuid.uuid4()), f"log-{pe.pk}-sets_done": pe.sets,
                f"log-{pe.pk}-reps_done": pe.reps, f"log-{pe.pk}-pain_during": 0}
        csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data)
    html = patient_web.get("/today/").content.decode()
    card = html[html.index(f'id="exercise-{pe.pk}"'):]
    assert "Done for today" in card[:card.index("</li>")]


def test_done_without_htmx_redirects_back_to_today(patient_web, meniscus_plan):
    pe = meniscus_plan.exercises.filter(phase="rice").first()
    data = {"client_id": str(uuid.uuid4()), f"log-{pe.pk}-sets_done": 1, f"log-{pe.pk}-reps_done": 5,
            f"log-{pe.pk}-pain_during": 0}
    response = csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data)
    assert response.status_code == 302 and response["Location"] == "/today/"


def test_another_patients_exercise_cannot_be_logged(patient_web, patient, catalog, physio):
    from plans.services import plan_create

    other = PatientFactory(physiotherapists=[physio])
    plan = plan_create(physiotherapist=physio, patient_id=other.pk, condition_slug="meniscus-tear")
    pe = plan.exercises.filter(phase="rice").first()
    data = {"client_id": str(uuid.uuid4()), f"log-{pe.pk}-sets_done": 1, f"log-{pe.pk}-reps_done": 5,
            f"log-{pe.pk}-pain_during": 0}
    assert csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data).status_code == 404
    assert not ExerciseLog.objects.exists()


def test_checkin_form_inputs_are_named_like_the_api_fields(patient_web):
    page = patient_web.get("/checkin/").content.decode()
    html = re.search(r'<form method="post" action="/checkin/".*?</form>', page, re.S).group(0)
    names = set(re.findall(r'name="([a-z_]+)"', html)) - {"csrfmiddlewaretoken"}
    asked = set(SYMPTOM_FLAGS) - set(DEPRECATED_FLAGS) - {"wound_problem"}  # no surgery on this plan
    assert names == {"pain_at_rest", "pain_during_activity", "morning_pain", "swelling", *asked, "notes", "client_id"}
    # Every visible input has a label.
    for input_id in re.findall(r'<input type="(?:checkbox|radio)" name="[a-z_]+"[^>]* id="([^"]+)"', html):
        assert f'for="{input_id}"' in html, input_id


def post_checkin(client, **fields):
    html = client.get("/checkin/").content.decode()
    client_id = re.search(r'name="client_id" value="([^"]+)"', html).group(1)
    data = {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "mild", "client_id": client_id}
    data.update({k: ("on" if v is True else v) for k, v in fields.items()})
    return csrf_post(client, "/checkin/", data, follow=True)


def test_a_benign_checkin_says_so(patient_web, patient):
    response = post_checkin(patient_web)
    html = response.content.decode()
    stored = CheckIn.objects.get(patient=patient)
    assert response.redirect_chain == [(f"/checkins/{stored.pk}/", 302)]
    assert "prompt-none" in html and 'role="status"' in html
    assert stored.prompt_level == "none"


def test_dvt_signs_show_an_urgent_prompt_as_an_alert(patient_web, patient, physio):
    html = post_checkin(patient_web, **DVT_SIGNS).content.decode()
    assert re.search(r'<section class="prompt prompt-urgent"[^>]*role="alert"', html)
    assert "Urgent: get medical attention today" in html
    stored = CheckIn.objects.get(patient=patient)
    for reason in stored.prompt["reasons"]:
        assert reason["message"] in html.replace("&#x27;", "'")
    assert Alert.objects.filter(patient=patient, physiotherapist=physio, level="urgent").exists()


def test_trouble_breathing_tells_to_call_emergency_services(patient_web):
    html = post_checkin(patient_web, trouble_breathing=True).content.decode()
    assert re.search(r'<section class="prompt prompt-emergency"[^>]*role="alert"', html)
    assert "Emergency: call emergency services now" in html


def test_sending_the_same_checkin_form_twice_stores_one(patient_web, patient):
    html = patient_web.get("/checkin/").content.decode()
    client_id = re.search(r'name="client_id" value="([^"]+)"', html).group(1)
    data = {"pain_at_rest": 1, "pain_during_activity": 1, "swelling": "none", "client_id": client_id}
    first = csrf_post(patient_web, "/checkin/", data)
    second = csrf_post(patient_web, "/checkin/", data)
    assert first["Location"] == second["Location"]
    assert CheckIn.objects.filter(patient=patient).count() == 1


def test_an_invalid_checkin_shows_field_errors_and_stores_nothing(patient_web, patient):
    response = csrf_post(patient_web, "/checkin/", {"pain_at_rest": 11, "swelling": "huge",
                                                    "client_id": str(uuid.uuid4())})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'role="alert"' in html and "Please correct the fields marked below." in html
    assert html.count('class="errorlist"') == 3
    assert not CheckIn.objects.exists()


def test_another_patients_checkin_is_not_found(patient_web):
    other = PatientFactory()
    stored = checkin(other, **DVT_SIGNS)
    assert patient_web.get(f"/checkins/{stored.pk}/").status_code == 404


def test_progress_shows_charts_from_the_tracker(patient_web, patient, meniscus_plan):
    checkin(patient, pain_at_rest=4, pain_during_activity=6)
    html = patient_web.get("/progress/").content.decode()
    data = re.search(r'<script id="progress-data" type="application/json">(.*?)</script>', html, re.S).group(1)
    series = json.loads(data)
    assert len(series["labels"]) == 30
    assert series["pain_at_rest"][-1] == 4.0 and series["pain_during_activity"][-1] == 6.0
    assert series["pain_at_rest"][0] is None
    assert len(series["adherence_percent"]) == 30
    assert "vendor/chart.js/chart.umd.min.js" in html
    assert "Plan started" in html


def test_progress_takes_the_apis_date_range(patient_web, patient):
    html = patient_web.get("/progress/", {"since": "2026-01-01", "until": "2026-01-07"}).content.decode()
    assert "Pain and exercise, 1 Jan to 7 Jan 2026" in html
    assert 'name="since" value="2026-01-01"' in html and 'name="until" value="2026-01-07"' in html
    # An impossible range falls back to the default (the last 30 days) instead of an error page.
    html = patient_web.get("/progress/", {"since": "2026-02-01", "until": "2026-01-01"}).content.decode()
    series = json.loads(re.search(r'<script id="progress-data" type="application/json">(.*?)</script>', html,
                                  re.S).group(1))
    assert len(series["labels"]) == 30
    assert series["labels"][-1] == timezone.localdate(timezone=patient.tzinfo).isoformat()


def test_today_and_progress_query_counts_do_not_grow_with_history(patient_web, patient, meniscus_plan,
                                                                  django_assert_max_num_queries):
    pe = meniscus_plan.exercises.filter(phase="rice").first()
    counts = []
    for total in (1, 12):
        while patient.checkins.count() < total:
            checkin(patient)
            data = {"client_id": str(uuid.uuid4()), f"log-{pe.pk}-sets_done": 1, f"log-{pe.pk}-reps_done": 5,
                    f"log-{pe.pk}-pain_during": 0}
            csrf_post(patient_web, f"/today/exercises/{pe.pk}/done/", data)
        measured = []
        # Each budget includes the audit trail's one insert per health-data page.
        # Today reads the plans' open safety holds too (issue 12), and the exercises' media in two reads.
        for path, budget in (("/today/", 9), ("/progress/", 11)):
            with django_assert_max_num_queries(budget) as captured:
                assert patient_web.get(path).status_code == 200
            measured.append(len(captured))
        counts.append(measured)
    assert counts[0] == counts[1], counts

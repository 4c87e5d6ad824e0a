"""The physiotherapist's pages through Django's test client: triage, patient page, plans, alerts, isolation."""
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from kneerehab.users.models import User
from plans.models import PhaseChange, Plan, PlanStatus
from tests.factories import PatientFactory, PhysiotherapistFactory
from tests.web.conftest import DVT_SIGNS, checkin, csrf_post
from tracker.models import Alert, AlertStatus

pytestmark = pytest.mark.django_db


@pytest.fixture
def physio_web(physio):
    client = Client(enforce_csrf_checks=True)
    client.force_login(physio)
    return client


def caseload_order(client, query="") -> list[str]:
    import re

    html = client.get("/caseload/", {"q": query} if query else {}).content.decode()
    return re.findall(r'data-patient="([^"]+)"', html)


def test_home_sends_a_physiotherapist_to_the_caseload(physio_web):
    response = physio_web.get("/")
    assert response.status_code == 302 and response["Location"] == "/caseload/"


def test_patient_pages_are_forbidden_to_a_physiotherapist(physio_web):
    for path in ("/today/", "/checkin/", "/progress/"):
        assert physio_web.get(path).status_code == 403, path


def test_caseload_is_triaged_by_risk(catalog, physio, physio_web, django_capture_on_commit_callbacks):
    from plans.services import plan_create
    from tests.plans.conftest import sweep_progression

    def on_caseload(name):
        return PatientFactory(username=name, physiotherapists=[physio])

    quiet, _silent, emergency, urgent, worse = (on_caseload(n) for n in
                                                ("quiet", "silent", "emergency", "urgent", "worse"))
    checkin(quiet)
    checkin(urgent, **DVT_SIGNS)
    checkin(emergency, trouble_breathing=True)
    # Not on this caseload: never listed, whatever their alerts.
    stranger = PatientFactory(username="stranger", physiotherapists=[PhysiotherapistFactory()])
    checkin(stranger, trouble_breathing=True)
    # Worsening: pain rising over the check-ins of the plan's phase. The check-ins ask for the plan to be
    # re-evaluated; beat's progression sweep does it once the debounce has passed.
    plan_create(physiotherapist=physio, patient_id=worse.pk, condition_slug="meniscus-tear")
    for rest in (1, 3, 5):
        with django_capture_on_commit_callbacks(execute=True):
            checkin(worse, pain_at_rest=rest, swelling="none")
    assert sweep_progression() == 1

    order = caseload_order(physio_web)
    assert order[:3] == ["emergency", "urgent", "worse"]
    # Then nobody with a flag: the one who never checked in comes before the one who did today.
    assert order[3:] == ["silent", "quiet"]
    html = physio_web.get("/caseload/").content.decode()
    assert "1 open emergency alert" in html
    assert "Pain at rest rose over the last 3 check-ins (1/10, 3/10, 5/10)." in html


def test_low_adherence_comes_before_patients_without_flags(physio, physio_web, catalog):
    from plans.services import plan_create

    lazy = PatientFactory(username="lazy", physiotherapists=[physio])
    PatientFactory(username="plain", physiotherapists=[physio])
    # A plan started a week ago with nothing logged: 0% adherence.
    plan_create(physiotherapist=physio, patient_id=lazy.pk, condition_slug="meniscus-tear",
                start_date=timezone.localdate() - timedelta(days=7))
    assert caseload_order(physio_web) == ["lazy", "plain"]
    assert "Adherence 0% over 7 days" in physio_web.get("/caseload/").content.decode()


def test_caseload_search(physio, physio_web):
    PatientFactory(username="alice", first_name="Alice", last_name="Moreau", physiotherapists=[physio])
    PatientFactory(username="bob", physiotherapists=[physio])
    PatientFactory(username="alicia-elsewhere", physiotherapists=[PhysiotherapistFactory()])
    assert caseload_order(physio_web, "ali") == ["alice"]
    assert caseload_order(physio_web, "moreau") == ["alice"]
    assert "No patient on your caseload matches" in physio_web.get("/caseload/", {"q": "zzz"}).content.decode()


def test_caseload_query_count_does_not_grow_with_the_caseload(physio, physio_web, catalog,
                                                             django_assert_max_num_queries):
    from plans.services import plan_create

    counts = []
    for size in (2, 12):
        while physio.caseload.count() < size:
            patient = PatientFactory(physiotherapists=[physio])
            plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug="meniscus-tear")
            checkin(patient, **DVT_SIGNS)
        # 8 reads and the audit trail's insert.
        with django_assert_max_num_queries(9) as captured:
            assert physio_web.get("/caseload/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts


def test_patient_page_shows_charts_alerts_plan_and_checkins(physio_web, patient, meniscus_plan):
    checkin(patient, **DVT_SIGNS, notes="Calf feels tight")
    response = physio_web.get(f"/patients/{patient.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-chart="pain"' in html and 'data-chart="adherence"' in html
    assert '<script id="progress-data" type="application/json">' in html
    assert "Urgent: get medical attention today" not in html  # that is the patient's wording
    assert "Acknowledge" in html
    # Clot signs are urgent: the plan is on a safety hold, so advancing waits for the hold to be cleared.
    assert "Meniscus" in html and "Advance to Physiotherapy" not in html
    assert "On safety hold since" in html and "Advancing waits until the safety hold is cleared" in html
    assert "Calf feels tight" in html
    assert "Plan started" in html  # phase history


def test_another_physiotherapists_patient_is_not_found(physio_web):
    outsider = PatientFactory(physiotherapists=[PhysiotherapistFactory()])
    assert physio_web.get(f"/patients/{outsider.pk}/").status_code == 404
    assert physio_web.get(f"/patients/{outsider.pk}/plans/new/").status_code == 404
    assert physio_web.get("/patients/999999/").status_code == 404


def test_another_caseloads_plan_and_alert_are_not_found(physio_web, catalog):
    from plans.services import plan_create

    other_physio = PhysiotherapistFactory()
    outsider = PatientFactory(physiotherapists=[other_physio])
    plan = plan_create(physiotherapist=other_physio, patient_id=outsider.pk, condition_slug="meniscus-tear")
    checkin(outsider, trouble_breathing=True)
    alert = Alert.objects.get(patient=outsider)

    assert physio_web.get(f"/plans/{plan.pk}/edit/").status_code == 404
    assert csrf_post(physio_web, f"/plans/{plan.pk}/advance/", {"from_phase": "rice"}).status_code == 404
    assert csrf_post(physio_web, f"/alerts/{alert.pk}/acknowledge/").status_code == 404
    plan.refresh_from_db()
    alert.refresh_from_db()
    assert plan.current_phase == "rice" and alert.status == AlertStatus.OPEN


def test_acknowledging_an_alert(physio, physio_web, patient):
    checkin(patient, **DVT_SIGNS)
    alert = Alert.objects.get(patient=patient, physiotherapist=physio)
    response = csrf_post(physio_web, f"/alerts/{alert.pk}/acknowledge/",
                         {"outcome": "booked_visit", "note": "Scan tomorrow 9:00."})
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/#alerts"
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == physio
    assert (alert.outcome, alert.outcome_note) == ("booked_visit", "Scan tomorrow 9:00.")


def test_acknowledging_without_an_outcome_leaves_the_alert_open(physio_web, patient):
    checkin(patient, **DVT_SIGNS)
    alert = Alert.objects.get(patient=patient)
    response = csrf_post(physio_web, f"/alerts/{alert.pk}/acknowledge/")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/#alert-{alert.pk}"
    html = csrf_post(physio_web, f"/alerts/{alert.pk}/acknowledge/", {"outcome": "other"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert 'aria-invalid="true"' in html and "Say in the note what you did." in html
    alert.refresh_from_db()
    assert alert.status == AlertStatus.OPEN


def test_acknowledging_with_htmx_returns_the_updated_alert(physio_web, patient):
    checkin(patient, **DVT_SIGNS)
    alert = Alert.objects.get(patient=patient)
    html = csrf_post(physio_web, f"/alerts/{alert.pk}/acknowledge/", {"outcome": "called_patient"},
                     HTTP_HX_REQUEST="true").content.decode()
    assert html.lstrip().startswith(f'<li class="card" id="alert-{alert.pk}">')
    assert "Acknowledged by" in html and "called the patient" in html


def test_advancing_a_plan_records_the_change_once(physio, physio_web, patient, meniscus_plan):
    url = f"/plans/{meniscus_plan.pk}/advance/"
    assert csrf_post(physio_web, url, {"from_phase": "rice"}).status_code == 302
    # The same form sent again (a double click, a stale page) does not advance a second time.
    response = csrf_post(physio_web, url, {"from_phase": "rice"}, follow=True)
    assert "The plan has moved on" in response.content.decode()
    meniscus_plan.refresh_from_db()
    assert meniscus_plan.current_phase == "physiotherapy"
    change = PhaseChange.objects.filter(plan=meniscus_plan, kind="advance").get()
    assert change.changed_by == physio


def test_adding_a_patient_puts_them_on_the_caseload(physio, physio_web):
    response = csrf_post(physio_web, "/patients/new/", {"username": "newpatient", "email": "new@example.org",
                                                        "timezone": "Europe/Paris", "password": ""})
    patient = User.objects.get(username="newpatient")
    assert response.status_code == 302 and response["Location"] == f"/patients/{patient.pk}/plans/new/"
    assert patient.is_patient and patient.timezone == "Europe/Paris"
    assert physio.caseload.filter(pk=patient.pk).exists()


def test_adding_a_patient_with_a_taken_username_shows_the_services_error(physio_web):
    PatientFactory(username="taken")
    response = csrf_post(physio_web, "/patients/new/", {"username": "taken", "timezone": "UTC"})
    assert response.status_code == 200
    assert "The username &#x27;taken&#x27; is already taken." in response.content.decode()


def test_assigning_a_plan(physio_web, patient, catalog):
    response = csrf_post(physio_web, f"/patients/{patient.pk}/plans/new/", {
        "condition": "meniscus-tear", "start_date": timezone.localdate().isoformat(),
        "reminder_times": "18:30, 08:00",
    })
    plan = Plan.objects.get(patient=patient)
    assert response.status_code == 302 and response["Location"] == f"/plans/{plan.pk}/edit/"
    assert plan.reminder_times == ["08:00", "18:30"] and plan.current_phase == "rice"


def test_assigning_a_plan_with_a_bad_reminder_time_shows_the_services_message(physio_web, patient, catalog):
    response = csrf_post(physio_web, f"/patients/{patient.pk}/plans/new/", {
        "condition": "meniscus-tear", "start_date": timezone.localdate().isoformat(), "reminder_times": "25:00",
    })
    assert response.status_code == 200
    assert "is not a time of day as HH:MM" in response.content.decode()
    assert not Plan.objects.filter(patient=patient).exists()


def test_a_condition_without_home_care_is_not_offered(physio_web, patient, catalog):
    html = physio_web.get(f"/patients/{patient.pk}/plans/new/").content.decode()
    assert 'value="meniscus-tear"' in html
    assert 'value="deep-vein-thrombosis"' not in html


def test_editing_doses_status_and_reminders(physio_web, meniscus_plan):
    exercises = list(meniscus_plan.exercises.all())
    data = {"status": "paused", "reminder_times": "07:15"}
    for pe in exercises:
        for name, value in pe.dose().items():
            data[f"dose-{pe.pk}-{name}"] = value
    first = exercises[0]
    data[f"dose-{first.pk}-sets"] = first.sets + 1
    response = csrf_post(physio_web, f"/plans/{meniscus_plan.pk}/edit/", data)
    assert response.status_code == 302
    meniscus_plan.refresh_from_db()
    first.refresh_from_db()
    assert meniscus_plan.status == PlanStatus.PAUSED and meniscus_plan.reminder_times == ["07:15"]
    assert first.sets == exercises[0].sets
    assert [pe.dose() for pe in meniscus_plan.exercises.exclude(pk=first.pk)] == [
        pe.dose() for pe in exercises[1:]]


def test_a_dose_out_of_range_is_refused_on_the_field(physio_web, meniscus_plan):
    exercises = list(meniscus_plan.exercises.all())
    data = {"status": "active", "reminder_times": "08:00"}
    for pe in exercises:
        for name, value in pe.dose().items():
            data[f"dose-{pe.pk}-{name}"] = value
    data[f"dose-{exercises[0].pk}-sets"] = 99
    response = csrf_post(physio_web, f"/plans/{meniscus_plan.pk}/edit/", data)
    assert response.status_code == 200
    assert "Ensure this value is less than or equal to 20." in response.content.decode()


def test_patient_page_query_count_does_not_grow_with_history(physio, physio_web, patient, meniscus_plan,
                                                            django_assert_max_num_queries):
    counts = []
    for total in (1, 15):
        while patient.checkins.count() < total:
            checkin(patient, **DVT_SIGNS)
        # 19 reads (the plans' open safety holds and, in two, the plan exercises' media among them) and the
        # audit trail's insert.
        with django_assert_max_num_queries(20) as captured:
            assert physio_web.get(f"/patients/{patient.pk}/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

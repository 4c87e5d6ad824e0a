"""The journeys of the issue, in Debian's headless Chromium against the live server, with a screenshot of each
main page in test-artifacts/screenshots/."""
import io
import re

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from kneerehab.users.models import User
from plans.services import plan_create
from tests.factories import PASSWORD, PatientFactory
from tests.web.conftest import checkin
from tracker.models import Alert, AlertStatus, ExerciseLog
from tracker.questions import QUESTIONS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEMO_PHYSIO = ("demo-physio", "physio-demo-2026")
DEMO_PATIENT = ("demo-patient", "patient-demo-2026")


@pytest.fixture
def demo(catalog):
    """What `make run` sets up (the catalogue, then setup_demo: the two demo accounts and the demo patient's
    meniscus plan with a few days of history), and two more patients on the caseload so that "on top" means
    something."""
    call_command("setup_demo", stdout=io.StringIO())
    physio = User.objects.get(username=DEMO_PHYSIO[0])
    patient = User.objects.get(username=DEMO_PATIENT[0])
    assert patient.plans.exists() and patient.checkins.exists()
    for name in ("aaron-steady", "bella-steady"):
        other = PatientFactory(username=name, physiotherapists=[physio])
        plan_create(physiotherapist=physio, patient_id=other.pk, condition_slug="calf-strain")
        checkin(other, pain_at_rest=1, pain_during_activity=2, swelling="none")
    return physio, patient


def charts_drawn(page):
    """Chart.js ran: both canvases were drawn from the page's progress data."""
    expect(page.locator('canvas[data-chart="pain"][data-drawn="true"]')).to_have_count(1)
    expect(page.locator('canvas[data-chart="adherence"][data-drawn="true"]')).to_have_count(1)
    assert page.evaluate("() => typeof window.Chart === 'function'")


def test_demo_physio_patient_dvt_checkin_and_acknowledged_alert(browser, demo):
    physio, patient = demo
    page = browser.page

    # 1. The physiotherapist sees the demo patient, and a chart on their page.
    browser.login(*DEMO_PHYSIO)
    expect(page).to_have_url(re.compile(r"/caseload/$"))
    expect(page.get_by_role("heading", name="Your caseload")).to_be_visible()
    expect(page.locator("#caseload").get_by_role("link", name="demo-patient")).to_be_visible()
    browser.screenshot("01-physio-caseload")
    page.locator("#caseload").get_by_role("link", name="demo-patient").click()
    expect(page.get_by_role("heading", name="demo-patient", exact=True)).to_be_visible()
    charts_drawn(page)
    browser.screenshot("02-physio-patient-page")
    browser.logout()

    # 2. The patient sends a check-in with signs of a DVT and sees the urgent prompt at once.
    browser.login(*DEMO_PATIENT)
    expect(page).to_have_url(re.compile(r"/today/$"))
    expect(page.get_by_role("heading", name=re.compile(r"^Today"))).to_be_visible()
    browser.screenshot("03-patient-today")
    page.get_by_role("main").get_by_role("link", name="Check-in", exact=True).click()
    expect(page.get_by_role("heading", name="Daily check-in")).to_be_visible()
    page.get_by_role("group", name=re.compile("^Pain at rest")).get_by_label("4", exact=True).check()
    page.get_by_role("group", name=re.compile("^Pain during activity")).get_by_label("7", exact=True).check()
    page.get_by_label("Moderate").check()
    page.get_by_label(QUESTIONS["calf_pain"]).check()
    page.get_by_label(QUESTIONS["leg_swelling"]).check()
    page.get_by_label(QUESTIONS["red_skin"]).check()
    page.get_by_label(QUESTIONS["sudden_swelling_or_warmth"]).check()
    browser.screenshot("04-patient-checkin-form")
    page.get_by_role("button", name="Send check-in").click()

    prompt = page.get_by_role("alert")
    expect(prompt).to_be_visible()
    expect(prompt).to_contain_text("Urgent: get medical attention today")
    expect(prompt).to_contain_text("not a diagnosis")
    # Unmistakable: white on the strong red, not the calm colours of the other levels.
    colours = prompt.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
    assert colours == ["rgb(164, 22, 26)", "rgb(255, 255, 255)"]
    browser.screenshot("05-patient-urgent-prompt")

    page.get_by_role("link", name="Progress", exact=True).click()
    charts_drawn(page)
    browser.screenshot("06-patient-progress")
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    browser.screenshot("07-patient-inbox")
    browser.logout()

    # 3. The physiotherapist sees the alert on top of the caseload and acknowledges it.
    browser.login(*DEMO_PHYSIO)
    first_row = page.locator("#caseload tbody tr").first
    expect(first_row).to_contain_text("demo-patient")
    expect(first_row).to_contain_text("Urgent alert")
    browser.screenshot("08-physio-caseload-with-alert")
    first_row.get_by_role("link", name="demo-patient").click()
    alert_card = page.locator("#alerts li.card").first
    expect(alert_card).to_contain_text("Get medical attention today")
    # The card shows what the patient ticked; acknowledging records what was done.
    expect(alert_card).to_contain_text("Answered yes:")
    alert_card.get_by_label("What you did").select_option("called_patient")
    alert_card.get_by_label(re.compile("^Note")).fill("Called: sent to the DVT clinic today.")
    alert_card.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.locator("#alerts")).to_contain_text("Acknowledged by demo-physio")
    browser.screenshot("09-physio-alert-acknowledged")
    alert = Alert.objects.get(patient=patient, physiotherapist=physio)
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.acknowledged_by == physio
    assert (alert.outcome, alert.outcome_note) == ("called_patient", "Called: sent to the DVT clinic today.")

    page.reload()
    expect(page.locator("#alerts")).to_contain_text("No open alerts.")
    page.get_by_role("link", name=re.compile("^Inbox")).click()
    expect(page.get_by_role("main")).to_contain_text("demo-patient")
    browser.screenshot("10-physio-inbox")


def test_patient_marks_an_exercise_done_without_a_page_load(browser, demo):
    _, patient = demo
    page = browser.page
    browser.login(*DEMO_PATIENT)
    card = page.locator("li.card").first
    name = card.get_by_role("heading").inner_text()
    page.evaluate("() => { window.stillThisPage = true; }")
    card.get_by_label("Pain during the exercise (0–10)").select_option("1")
    card.get_by_role("button", name=re.compile("^Done")).click()
    card = page.locator("li.card").first
    expect(card).to_contain_text("Logged. Well done.")
    expect(card).to_contain_text("Sessions logged today: 1 of")
    assert page.evaluate("() => window.stillThisPage === true"), "htmx should have swapped the card in place"
    log = ExerciseLog.objects.filter(patient=patient).latest("created_at")
    assert log.plan_exercise.exercise.name in name and log.pain_during == 1
    assert log.date == timezone.localdate(timezone=patient.tzinfo)
    browser.screenshot("11-patient-exercise-done")


def test_physio_adds_a_patient_and_assigns_a_plan(browser, demo):
    page = browser.page
    browser.login(*DEMO_PHYSIO)
    page.get_by_role("link", name="Add patient").click()
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Email").fill("carla@example.org")
    page.get_by_label("Timezone").select_option("America/New_York")
    browser.screenshot("12-physio-add-patient")
    page.get_by_role("button", name="Add patient").click()

    expect(page.get_by_role("heading", name="Assign a plan to carla")).to_be_visible()
    page.get_by_label("Condition").select_option("jumpers-knee")
    page.get_by_label("Reminder times").fill("07:30, 19:00")
    page.get_by_role("button", name="Assign plan").click()

    expect(page.get_by_role("heading", name=re.compile("plan for carla"))).to_be_visible()
    first_sets = page.get_by_label("Sets").first
    first_sets.fill("4")
    browser.screenshot("13-physio-edit-plan")
    page.get_by_role("button", name="Save plan").click()
    expect(page.get_by_role("status")).to_contain_text("Plan saved.")

    carla = User.objects.get(username="carla")
    plan = carla.plans.get()
    assert plan.condition.slug == "jumpers-knee" and plan.reminder_times == ["07:30", "19:00"]
    assert plan.exercises.order_by("id").filter(sets=4).exists()
    page.get_by_role("button", name="Advance to Physiotherapy").click()
    expect(page.get_by_role("status")).to_contain_text("Moved to Physiotherapy")
    plan.refresh_from_db()
    assert plan.current_phase == "physiotherapy"


def test_keyboard_users_get_a_skip_link_and_a_visible_focus(browser, demo):
    page = browser.page
    browser.goto("/accounts/login/")
    assert page.evaluate("() => document.documentElement.lang") == "en"
    # Signing in by keyboard alone: the username field has the focus when the page opens.
    page.keyboard.type(DEMO_PATIENT[0])
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PATIENT[1])
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/today/$"))
    # The first Tab reaches the skip link, drawn with a visible outline; Enter moves the focus to the content.
    page.keyboard.press("Tab")
    focused = page.evaluate("() => [document.activeElement.textContent.trim(), "
                            "getComputedStyle(document.activeElement).outlineStyle, "
                            "getComputedStyle(document.activeElement).outlineWidth]")
    assert focused == ["Skip to main content", "solid", "3px"]
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.closest('main') !== null")


def test_pages_fit_a_phone_screen(phone, demo):
    page = phone.page
    phone.login(*DEMO_PATIENT)
    for path, name in (("/today/", "14-phone-today"), ("/checkin/", "15-phone-checkin"),
                       ("/progress/", "16-phone-progress")):
        phone.goto(path)
        assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"), path
        phone.screenshot(name)
    phone.logout()
    phone.login(*DEMO_PHYSIO)
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    phone.screenshot("17-phone-caseload")


def test_a_patient_cannot_open_another_patients_checkin(browser, demo):
    physio, _ = demo
    other = PatientFactory(physiotherapists=[physio])
    theirs = checkin(other, trouble_breathing=True)
    browser.login(other.username, PASSWORD)
    response = browser.goto(f"/checkins/{theirs.pk}/")
    assert response.status == 200
    browser.logout()
    browser.login(*DEMO_PATIENT)
    response = browser.goto(f"/checkins/{theirs.pk}/")
    assert response.status == 404
    expect(browser.page.get_by_role("heading", name="Page not found")).to_be_visible()
    # Chromium reports the 404 on its console; that one is expected here.
    browser.errors[:] = [e for e in browser.errors if "404" not in e]


def test_the_api_docs_work_under_the_content_security_policy(browser, demo):
    """Swagger UI from our static files: it draws every operation, with no script error and no policy violation
    (the browser fixture fails the test on any console error, which is where Chromium reports violations)."""
    page = browser.page
    browser.goto("/api/v1/docs/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/api/v1/docs/$"))
    page.get_by_label("Username").fill(DEMO_PHYSIO[0])
    page.get_by_label("Password").fill(DEMO_PHYSIO[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/api/v1/docs/$"))
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("kneerehab API")
    expect(page.locator(".opblock").first).to_be_visible()
    assert page.locator(".opblock").count() > 30
    page.locator(".opblock-summary-path", has_text="/api/v1/me/").first.click()
    expect(page.locator(".opblock.is-open")).to_have_count(1)
    browser.screenshot("api-docs")

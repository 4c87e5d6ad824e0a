"""Pictures and videos in the browser: a physiotherapist uploads them on the plan's page; the patient sees them
on Today; nobody else can open them."""
import re

import pytest
from django.test import Client

from plans.services import plan_create
from tests.factories import PatientFactory, PhysiotherapistFactory
from tests.media.files import picture, text_renamed, video
from tests.web.conftest import csrf_post

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def upload(client, plan, plan_exercise, file, audience="library", title=""):
    return csrf_post(client, f"/plans/{plan.pk}/media/",
                     {"plan_exercise": plan_exercise.pk, "audience": audience, "file": file, "title": title})


def test_uploaded_on_the_plan_page_and_seen_on_today(catalog, physio, patient, meniscus_plan):
    physio_web = browser(physio)
    first = meniscus_plan.exercises.filter(phase=meniscus_plan.current_phase).order_by("order").first()
    page = physio_web.get(f"/plans/{meniscus_plan.pk}/media/")
    assert page.status_code == 200 and 'enctype="multipart/form-data"' in page.content.decode()

    response = upload(physio_web, meniscus_plan, first, picture(gps=True), title="Side view")
    assert response.status_code == 302
    response = upload(physio_web, meniscus_plan, first, video(), audience="plan", title="Recorded in clinic")
    assert response.status_code == 302

    today = browser(patient).get("/today/").content.decode()
    card = today[today.index(f'id="exercise-{first.pk}"'):]
    card = card[:card.index("</li>\n", card.index("<form"))]
    images = re.findall(r'<img src="([^"]+)" alt="([^"]+)"', card)
    videos = re.findall(r'<video controls preload="metadata" src="([^"]+)"', card)
    assert [alt for _src, alt in images] == ["Side view"]
    assert len(videos) == 1
    patient_web = browser(patient)
    for src in [images[0][0], videos[0]]:
        response = patient_web.get(src)
        assert response.status_code == 200, src
        assert response["Content-Type"] in ("image/jpeg", "video/mp4")

    stranger_physio = PhysiotherapistFactory()
    stranger = PatientFactory(physiotherapists=[stranger_physio])
    plan_create(physiotherapist=stranger_physio, patient_id=stranger.pk, condition_slug="meniscus-tear")
    stranger_web = browser(stranger)
    assert "<img src=" not in stranger_web.get("/today/").content.decode()
    for src in [images[0][0], videos[0]]:
        assert stranger_web.get(src).status_code == 404


def test_a_renamed_text_file_is_shown_as_a_form_error(catalog, physio, meniscus_plan):
    physio_web = browser(physio)
    first = meniscus_plan.exercises.first()
    response = upload(physio_web, meniscus_plan, first, text_renamed("exercise.png"))
    assert response.status_code == 200
    assert "not a picture or video" in response.content.decode()


def test_another_physiotherapists_plan_page_is_not_found(catalog, meniscus_plan):
    assert browser(PhysiotherapistFactory()).get(f"/plans/{meniscus_plan.pk}/media/").status_code == 404


def test_a_patient_makes_and_turns_off_a_calendar_link_in_the_browser(catalog, patient, meniscus_plan):
    web = browser(patient)
    assert "Put your exercise times in your phone" in web.get("/today/").content.decode()
    page = csrf_post(web, "/calendar/new/").content.decode()
    url = re.search(r'value="(http://testserver/api/v1/calendar/[^"]+\.ics)"', page).group(1)
    assert 'href="webcal://testserver/api/v1/calendar/' in page
    assert Client().get(url.removeprefix("http://testserver")).status_code == 200
    assert csrf_post(web, "/calendar/off/").status_code == 302
    assert Client().get(url.removeprefix("http://testserver")).status_code == 404
    assert "You have no calendar link yet." in web.get("/calendar/").content.decode()


def test_the_programme_buttons_are_on_today_and_the_patient_page(catalog, physio, patient, meniscus_plan):
    pdf_url = f"/api/v1/plans/{meniscus_plan.pk}/programme.pdf"
    assert f'href="{pdf_url}"' in browser(patient).get("/today/").content.decode()
    assert f'href="{pdf_url}"' in browser(physio).get(f"/patients/{patient.pk}/").content.decode()

"""The printable programme, read back as a patient would see it: its text (pdftotext) and page 1 as a picture
(pdftoppm), both from Debian's poppler-utils (`make test` installs them when missing)."""
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image
from rest_framework.test import APIClient

from conditions.services import exercise_media_add
from plans.services import plan_create
from tests.factories import PatientFactory, PhysiotherapistFactory, make_path
from tests.media.files import picture
from tracker.questions import QUESTIONS

pytestmark = pytest.mark.django_db

ARTIFACTS = Path("test-artifacts")
PICTURE_COLOUR = (200, 60, 40)


def poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is missing: install Debian's poppler-utils (make test does)")
    return path


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def plan(physio):
    make_path()
    patient = PatientFactory(physiotherapists=[physio], first_name="Rosa", last_name="Okafor")
    physio.first_name, physio.last_name = "Tomas", "Berg"
    physio.save()
    plan = plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug="meniscus-tear")
    quad = plan.exercises.get(exercise__slug="quad-sets")
    exercise_media_add(exercise=quad.exercise, uploaded_by=physio,
                       upload=picture(size=(600, 400), color=PICTURE_COLOUR))
    return plan


def download(user, plan):
    response = client_for(user).get(f"/api/v1/plans/{plan.pk}/programme.pdf")
    return response


def pdf_text(pdf: bytes, tmp_path) -> str:
    path = tmp_path / "programme.pdf"
    path.write_bytes(pdf)
    result = subprocess.run([poppler("pdftotext"), "-layout", str(path), "-"], capture_output=True, check=True,
                            text=True)
    return " ".join(result.stdout.split())


def test_the_programme_holds_every_exercise_the_help_card_and_the_people(plan, tmp_path):
    response = download(plan.patient, plan)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="programme-plan-{plan.pk}.pdf"'
    assert response.content.startswith(b"%PDF-")

    text = pdf_text(response.content, tmp_path)

    assert "Patient Rosa Okafor" in text and "Physiotherapist Tomas Berg" in text
    assert "Phase Protect and settle" in text
    for pe in plan.exercises.filter(phase=plan.current_phase).select_related("exercise"):
        assert pe.exercise.name in text
        assert pe.exercise.instructions in text and pe.exercise.stop_if in text
        assert f"{pe.sets} sets of {pe.reps} reps" in text
    assert "Bridges" not in text  # a later phase's exercise
    assert "When to get help now" in text
    assert "Call the emergency number 112 now if" in text
    assert QUESTIONS["trouble_breathing"] in text and QUESTIONS["calf_snap_or_cannot_tiptoe"] in text
    assert "My pain is 8 out of 10 or worse" in text
    assert "not a diagnosis" in text
    assert "tick each session" in text and "Mon Tue Wed Thu Fri Sat Sun" in text
    assert "Scan to check in: http://testserver/checkin/ " in text


def test_page_one_shows_the_exercise_picture(plan, tmp_path):
    pdf = tmp_path / "programme.pdf"
    pdf.write_bytes(download(plan.patient, plan).content)
    subprocess.run([poppler("pdftoppm"), "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile", str(pdf),
                    str(tmp_path / "page-1")], check=True)
    ARTIFACTS.mkdir(exist_ok=True)
    page = ARTIFACTS / "programme-page-1.png"
    shutil.copy(tmp_path / "page-1.png", page)

    with Image.open(page) as image:
        pixels = image.convert("RGB").get_flattened_data()
        near = sum(1 for r, g, b in pixels if abs(r - 200) < 25 and abs(g - 60) < 25 and abs(b - 40) < 25)
    # The 45 mm wide picture at 60 dpi is about 100 × 70 pixels of that colour; nothing else on the page is.
    assert near > 3000


def test_with_help_facts_from_the_plan_the_card_says_more(plan, tmp_path):
    plan.immunosuppressed = True
    plan.save(update_fields=["immunosuppressed"])
    text = pdf_text(download(plan.patient, plan).content, tmp_path)
    assert "A fever while your immune system is suppressed by treatment" in text


def test_only_the_patient_and_their_physiotherapist_get_it(plan):
    assert download(plan.physiotherapist, plan).status_code == 200
    stranger = PatientFactory()
    other_physio = PhysiotherapistFactory()
    for user in (stranger, other_physio):
        response = download(user, plan)
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
    assert APIClient().get(f"/api/v1/plans/{plan.pk}/programme.pdf").status_code == 401


def test_the_card_gives_the_patients_own_emergency_number(plan, tmp_path):
    patient = plan.patient
    patient.timezone, patient.country = "Europe/London", ""
    patient.save(update_fields=["timezone", "country"])
    assert "Call the emergency number 999 (or 112) now if" in pdf_text(download(patient, plan).content, tmp_path)
    patient.country = "US"
    patient.save(update_fields=["country"])
    assert "Call the emergency number 911 now if" in pdf_text(download(patient, plan).content, tmp_path)


def test_a_plan_on_a_safety_hold_says_so_above_the_exercises(plan, tmp_path):
    from plans.models import SafetyHold

    SafetyHold.objects.create(plan=plan, level="urgent", reasons=[{"code": "fever", "message": "Fever."}],
                              advice="Get medical attention today and stop your exercises until you are checked.")
    text = pdf_text(download(plan.patient, plan).content, tmp_path)
    hold = text.index("Your exercises are on hold")
    assert hold < text.index("Your exercises 1.")
    assert "Get medical attention today and stop your exercises until you are checked." in text
    assert "Do not do the exercises below until your physiotherapist" in text

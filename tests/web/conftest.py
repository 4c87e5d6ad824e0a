import pytest
from django.test import Client


@pytest.fixture
def web_client():
    """Django's test client: a browser without scripts, with CSRF checks on like a real one."""
    return Client(enforce_csrf_checks=True)


def csrf_post(client: Client, url: str, data: dict | None = None, **kwargs):
    """POST with the CSRF token a form on the site would carry."""
    client.get("/inbox/")  # any page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    return client.post(url, {**(data or {}), "csrfmiddlewaretoken": token}, **kwargs)


@pytest.fixture
def meniscus_plan(catalog, physio, patient):
    """The patient's meniscus-tear plan from the real catalogue, assigned by their physiotherapist."""
    from plans.services import plan_create

    return plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug="meniscus-tear")


# A check-in with the signs of a deep vein thrombosis: calf pain worse on standing, a swollen, warm, red leg.
DVT_SIGNS = {"calf_pain": True, "leg_swelling": True, "red_skin": True, "sudden_swelling_or_warmth": True}


def checkin(patient, **fields):
    """A check-in through the tracker's service (screened, alerts raised), as the API and the web form do."""
    from tracker.services import checkin_create

    data = {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "mild", **fields}
    stored, _ = checkin_create(patient=patient, data=data)
    return stored

"""The plan's clinical context (issue 12, item 3), set by the physiotherapist through the API."""
from datetime import UTC, datetime

import pytest
import time_machine

from plans.models import Plan

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def assign(physio_client, patient, meniscus, **context):
    return physio_client.post("/api/v1/plans/", {"patient": patient.pk, "condition": meniscus.slug, **context},
                              format="json")


def test_assigning_with_the_context_stores_and_shows_it(physio_client, patient_client, patient, meniscus):
    response = assign(physio_client, patient, meniscus, surgery_date="2026-06-01",
                      clot_risk_factors=["previous_clot", "recent_surgery"], immunosuppressed=True)
    assert response.status_code == 201, response.content
    body = response.json()
    # Stored in the order of the choices, whatever order they were sent in.
    assert (body["surgery_date"], body["clot_risk_factors"], body["immunosuppressed"]) == (
        "2026-06-01", ["recent_surgery", "previous_clot"], True)
    mine = patient_client.get(f"/api/v1/plans/{body['id']}/").json()
    assert (mine["surgery_date"], mine["immunosuppressed"]) == ("2026-06-01", True)


def test_without_context_the_plan_has_none(physio_client, patient, meniscus):
    body = assign(physio_client, patient, meniscus).json()
    assert (body["surgery_date"], body["clot_risk_factors"], body["immunosuppressed"]) == (None, [], False)


def test_editing_the_context_changes_only_what_is_sent(physio_client, patient, meniscus):
    plan_id = assign(physio_client, patient, meniscus, clot_risk_factors=["cancer"]).json()["id"]
    changed = physio_client.patch(f"/api/v1/plans/{plan_id}/", {"surgery_date": "2026-05-20"}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["surgery_date"], changed.json()["clot_risk_factors"]) == ("2026-05-20", ["cancer"])
    cleared = physio_client.patch(f"/api/v1/plans/{plan_id}/", {"surgery_date": None, "clot_risk_factors": [],
                                                                "immunosuppressed": True}, format="json")
    assert (cleared.json()["surgery_date"], cleared.json()["clot_risk_factors"],
            cleared.json()["immunosuppressed"]) == (None, [], True)
    plan = Plan.objects.get(pk=plan_id)
    assert plan.history.count() >= 3  # each change is in the plan's history


@pytest.mark.parametrize(("context", "field"), [
    ({"clot_risk_factors": ["smoking"]}, "clot_risk_factors"),
    ({"clot_risk_factors": "cancer"}, "clot_risk_factors"),
    ({"clot_risk_factors": ["cancer", "cancer"]}, "clot_risk_factors"),
    ({"surgery_date": "2026-07-01"}, "surgery_date"),
    ({"surgery_date": "1990-01-01"}, "surgery_date"),
    ({"surgery_date": "yesterday"}, "surgery_date"),
    ({"immunosuppressed": "perhaps"}, "immunosuppressed"),
])
def test_bad_context_is_refused_per_field(physio_client, patient, meniscus, context, field):
    response = assign(physio_client, patient, meniscus, **context)
    assert response.status_code == 400
    assert field in response.json()["fields"]
    assert not Plan.objects.exists()


def test_a_patient_cannot_set_the_context(patient_client, physio_client, patient, meniscus):
    plan_id = assign(physio_client, patient, meniscus).json()["id"]
    refused = patient_client.patch(f"/api/v1/plans/{plan_id}/", {"immunosuppressed": True}, format="json")
    assert refused.status_code == 403
    assert Plan.objects.get(pk=plan_id).immunosuppressed is False

"""Changes made through the API keep their history, with who made them (django-simple-history)."""
import json

from plans.models import Plan
from tracker.models import Alert, CheckIn

from .conftest import client_for


def test_a_plan_change_through_the_api_is_kept_with_its_author(world):
    plan = world.alice.plan
    response = client_for(world.physio_a).patch(f"/api/v1/plans/{plan.pk}/", json.dumps({"status": "paused"}),
                                                content_type="application/json")
    assert response.status_code == 200
    latest, before = Plan.history.filter(id=plan.pk).order_by("-history_id")[:2]
    assert (latest.status, latest.history_type, latest.history_user) == ("paused", "~", world.physio_a)
    assert before.status == "active"


def test_acknowledging_an_alert_is_kept_with_its_author(world):
    alert = world.alice.alert
    assert client_for(world.physio_a).post(f"/api/v1/alerts/{alert.pk}/acknowledge/",
                                          {"outcome": "called_patient"}, format="json").status_code == 200
    latest = Alert.history.filter(id=alert.pk).latest("history_id")
    assert (latest.status, latest.history_user) == ("acknowledged", world.physio_a)


def test_a_new_check_in_is_kept_with_its_author(world):
    response = client_for(world.alice.user).post(
        "/api/v1/checkins/", json.dumps({"pain_at_rest": 1, "pain_during_activity": 2}),
        content_type="application/json")
    assert response.status_code == 201
    created = CheckIn.history.get(id=response.json()["id"])
    assert (created.history_type, created.history_user) == ("+", world.alice.user)

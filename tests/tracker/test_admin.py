"""Staff read check-ins, logs and alerts in the admin and may acknowledge alerts; they cannot rewrite them."""
import pytest

from tests.factories import AlertFactory, CheckInFactory, ExerciseLogFactory
from tracker.models import Alert, AlertStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("model", ["checkin", "exerciselog", "alert"])
def test_changelists_and_detail_pages_open(admin_client, model):
    made = {"checkin": CheckInFactory, "exerciselog": ExerciseLogFactory, "alert": AlertFactory}[model]()
    assert admin_client.get(f"/admin/tracker/{model}/").status_code == 200
    assert admin_client.get(f"/admin/tracker/{model}/?q=patient").status_code == 200
    assert admin_client.get(f"/admin/tracker/{model}/{made.pk}/change/").status_code == 200
    assert admin_client.get(f"/admin/tracker/{model}/add/").status_code == 403


def test_a_checkin_cannot_be_edited_or_deleted_in_the_admin(admin_client):
    checkin = CheckInFactory(pain_at_rest=3)
    response = admin_client.post(f"/admin/tracker/checkin/{checkin.pk}/change/", {"pain_at_rest": 0})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/tracker/checkin/{checkin.pk}/delete/", {"post": "yes"}).status_code == 403
    checkin.refresh_from_db()
    assert checkin.pain_at_rest == 3


def test_staff_acknowledge_alerts_with_the_action(admin_client, admin_user):
    open_alert = AlertFactory()
    done = AlertFactory(status=AlertStatus.ACKNOWLEDGED)
    response = admin_client.post("/admin/tracker/alert/", {"action": "acknowledge",
                                                           "_selected_action": [open_alert.pk, done.pk]})
    assert response.status_code == 302
    open_alert.refresh_from_db()
    assert open_alert.status == AlertStatus.ACKNOWLEDGED
    assert open_alert.acknowledged_by == admin_user
    assert Alert.objects.get(pk=done.pk).acknowledged_by is None  # already acknowledged: left as it was

"""Racing requests against a real PostgreSQL: one key stores one check-in; one alert escalates once.

Skipped on SQLite: its writers queue behind one database lock, so requests never
really overlap there (CI runs these against PostgreSQL).
"""
import threading
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kneerehab.notifications.models import Notification
from tests.concurrency import postgresql_only, run_together  # noqa: F401 (fixture)
from tests.factories import PatientFactory, PhysiotherapistFactory
from tracker import services
from tracker.models import Alert, CheckIn

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]


@pytest.fixture
def people():
    physio = PhysiotherapistFactory()
    return PatientFactory(physiotherapists=[physio]), physio


def test_concurrent_posts_with_one_client_id_store_one_checkin(people):
    patient, physio = people
    body = {"pain_at_rest": 2, "pain_during_activity": 3, "fever": True, "client_id": str(uuid.uuid4())}

    def post(_):
        client = APIClient()
        client.force_authenticate(patient)
        response = client.post("/api/v1/checkins/", body, format="json")
        return response.status_code, response.json()

    results = run_together(8, post)
    assert not [r for r in results if isinstance(r, Exception)], results
    statuses = sorted(status for status, _ in results)
    assert statuses.count(201) == 1
    assert set(statuses) <= {200, 201, 409}
    bodies = [body for status, body in results if status in (200, 201)]
    assert all(b == bodies[0] for b in bodies)
    assert CheckIn.objects.count() == 1
    assert Alert.objects.count() == 1
    assert Notification.objects.filter(recipient=physio, kind="alert").count() == 1


def test_the_loser_of_a_race_past_the_first_lookup_reads_the_winners_checkin(people, monkeypatch):
    """Both requests are inside their transaction before either inserts: the unique constraint decides,
    the loser replays. (Nothing looks for a replay before inserting; the constraint is the check.)"""
    patient, physio = people
    original = services.running_plans
    both_started = threading.Barrier(2)

    def read_then_wait(**kwargs):
        result = original(**kwargs)
        both_started.wait(timeout=10)
        return result

    monkeypatch.setattr(services, "running_plans", read_then_wait)
    key = uuid.uuid4()
    data = {"pain_at_rest": 9, "pain_during_activity": 3, "client_id": key}
    results = run_together(2, lambda _: services.checkin_create(patient=patient, data=dict(data),
                                                                idempotency_key="race-1"))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(created for _, created in results) == [False, True]
    assert results[0][0].pk == results[1][0].pk
    assert CheckIn.objects.count() == 1
    assert Alert.objects.filter(physiotherapist=physio).count() == 1


def test_concurrent_escalation_runs_escalate_each_alert_once(people):
    patient, physio = people
    # Six patients: the same patient's repeated fever would update one open alert instead of raising six.
    for someone in [patient, *(PatientFactory(physiotherapists=[physio]) for _ in range(5))]:
        services.checkin_create(patient=someone, data={"pain_at_rest": 2, "pain_during_activity": 2, "fever": True})
    assert Alert.objects.count() == 6
    Alert.objects.update(created_at=timezone.now() - timedelta(hours=3))

    results = run_together(4, lambda _: services.alerts_escalate(limit=2))
    results += [services.alerts_escalate()]
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == 6
    assert Notification.objects.filter(recipient=physio, kind="escalation").count() == 6

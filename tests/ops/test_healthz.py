from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from kneerehab.notifications.services import notify
from kneerehab.ops import selectors
from kneerehab.ops.models import WorkerHeartbeat
from tests.factories import PatientFactory, PhysiotherapistFactory

pytestmark = pytest.mark.django_db


def beat_ran(ago: timedelta) -> None:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=60, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.update_or_create(name="worker-heartbeat", defaults={
        "task": "kneerehab.ops.tasks.record_worker_heartbeat", "interval": every_minute,
        "last_run_at": timezone.now() - ago})


def worker_seen(ago: timedelta, hostname: str = "worker@host") -> None:
    WorkerHeartbeat.objects.update_or_create(hostname=hostname, defaults={"seen_at": timezone.now() - ago})


@pytest.fixture
def background_alive():
    """Beat sent the heartbeat 20 s ago and a worker ran it."""
    beat_ran(timedelta(seconds=20))
    worker_seen(timedelta(seconds=19))


@pytest.fixture
def staff_client():
    staff = Client()
    staff.force_login(PhysiotherapistFactory(is_staff=True))
    return staff


def test_healthz_is_200_when_database_and_broker_answer(staff_client, background_alive):
    response = staff_client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["failing"] == []


def test_healthz_is_503_naming_the_broker_to_staff_when_it_is_down(staff_client, monkeypatch, settings):
    from kneerehab.celery import app

    monkeypatch.setitem(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    # The embedded settings name the filesystem transport class, which would win over the URL's scheme.
    monkeypatch.setitem(app.conf, "CELERY_BROKER_TRANSPORT", None)
    settings.BROKER_HEALTH_TIMEOUT_SECONDS = 0.5
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_healthz_is_503_naming_the_database_to_staff_when_it_is_down(staff_client, monkeypatch):
    monkeypatch.setattr(selectors, "database_status", lambda: {"ok": False, "error": "OperationalError"})
    from kneerehab.ops import views

    monkeypatch.setattr(views, "database_status", selectors.database_status)
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_database_status_reports_a_real_failure(monkeypatch):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    assert selectors.database_status() == {"ok": False, "error": "OperationalError"}


# --- background work ------------------------------------------------------------------------

def test_healthz_is_degraded_with_a_stale_worker_heartbeat_and_says_which_part_to_staff_only(
        client, staff_client, background_alive):
    worker_seen(timedelta(minutes=4))  # the worker stopped (or its queue is stuck) four minutes ago
    anonymous = client.get("/healthz")
    assert anonymous.status_code == 503
    assert anonymous.json() == {"status": "degraded"}

    staff = staff_client.get("/healthz")
    assert staff.status_code == 503
    background = staff.json()["background"]
    assert background["late"] == ["worker"]
    assert background["checks"]["worker"]["age_seconds"] == pytest.approx(240, abs=5)
    assert background["checks"]["worker"]["max_age_seconds"] == 180


def test_the_thresholds_are_settings(client, background_alive, settings):
    worker_seen(timedelta(minutes=4))
    settings.HEALTH_WORKER_MAX_AGE_SECONDS = 300
    assert client.get("/healthz").status_code == 200


def test_the_newest_heartbeat_of_any_worker_counts(client, background_alive):
    worker_seen(timedelta(hours=3), hostname="old-worker@gone")
    assert client.get("/healthz").json()["status"] == "ok"


def test_healthz_is_degraded_when_no_worker_was_ever_seen(staff_client):
    beat_ran(timedelta(seconds=5))
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["background"]["late"] == ["worker"]
    assert response.json()["background"]["checks"]["worker"]["at"] is None


def test_healthz_is_degraded_when_beat_has_gone_quiet(staff_client, background_alive):
    beat_ran(timedelta(minutes=5))
    response = staff_client.get("/healthz")
    assert (response.status_code, response.json()["status"]) == (503, "degraded")
    assert response.json()["background"]["late"] == ["beat"]


def test_healthz_is_degraded_while_an_urgent_email_waits_too_long(staff_client, background_alive, time_machine):
    physio = PhysiotherapistFactory(email="physio@example.org")
    time_machine.move_to(timezone.now() - timedelta(minutes=3), tick=False)
    notify(recipient=physio, kind="alert", title="Urgent: check-in", body="Fever.", enqueue=False)
    notify(recipient=PatientFactory(email="p@example.org"), kind="reminder", title="Exercises", body="Two.",
           enqueue=False)
    time_machine.move_to(timezone.now() + timedelta(minutes=3) - timedelta(seconds=90), tick=False)
    assert staff_client.get("/healthz").status_code == 200  # waiting 90 s: within the two minutes
    time_machine.move_to(timezone.now() + timedelta(seconds=60), tick=False)
    response = staff_client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["background"]["late"] == ["urgent_deliveries"]
    assert response.json()["background"]["checks"]["urgent_deliveries"]["age_seconds"] == 150


INTERNALS = ("broker", "database", "transport", "filesystem", "redis", "worker", "beat", "Error")


@pytest.fixture
def broker_down(monkeypatch, settings):
    from kneerehab.celery import app

    monkeypatch.setitem(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(app.conf, "CELERY_BROKER_TRANSPORT", None)
    settings.BROKER_HEALTH_TIMEOUT_SECONDS = 0.5


@pytest.mark.parametrize("down", [False, True])
def test_anyone_else_learns_the_status_and_nothing_of_the_insides(client, background_alive, request, down):
    if down:
        request.getfixturevalue("broker_down")
    for caller in (None, PatientFactory()):
        if caller is not None:
            client.force_login(caller)
        response = client.get("/healthz")
        assert response.status_code == (503 if down else 200)
        assert response.json() == {"status": "unavailable" if down else "ok"}
        assert not any(word in response.content.decode() for word in INTERNALS)


def test_a_private_probe_may_be_shown_the_details(client, settings, background_alive, broker_down):
    settings.HEALTHZ_DETAILS = True
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]

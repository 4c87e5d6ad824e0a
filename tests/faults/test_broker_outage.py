"""The broker is unreachable: check-ins and their prompts still work, and the alert goes out after recovery.

The check-in goes through the API in this process while the Celery app points
at a port where nothing listens. Then the broker comes back, a real worker
starts, and the outbox sweeper (which beat runs every minute) hands the waiting
email and push to it.
"""
import time

import pytest
from rest_framework.test import APIClient

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from kneerehab.notifications.services import sweep_pending_deliveries
from tests.celery_processes import real_broker, wait_for, worker
from tests.factories import PatientFactory, PhysiotherapistFactory
from tests.reminders.fakes import dead_broker
from tracker.models import Alert, CheckIn

from .backends import emails_sent, pushes_sent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

URGENT_CHECKIN = {"pain_at_rest": 6, "pain_during_activity": 8, "swelling": "moderate", "fever": True,
                  "notes": "hot and swollen since this morning"}


def test_a_check_in_answers_at_once_with_the_broker_down_and_its_alert_goes_out_after_recovery(
        test_queue, channel_env, fault_dir):
    physio = PhysiotherapistFactory(email="physio@example.org")
    phone = Device.objects.create(user=physio, token="physio-phone", platform="ios")
    patient = PatientFactory(physiotherapists=[physio])
    client = APIClient()
    client.force_authenticate(patient)

    with dead_broker():
        started = time.monotonic()
        response = client.post("/api/v1/checkins/", URGENT_CHECKIN, format="json")
        answered_in = time.monotonic() - started

    # The patient gets the prompt in the answer, whatever the queue is doing.
    assert response.status_code == 201, response.content
    prompt = response.json()["prompt"]
    assert prompt["level"] == "urgent"
    assert "fever" in {reason["code"] for reason in prompt["reasons"]}
    # Publishing gives up after Celery's short publish retries; it never holds the answer for long.
    assert answered_in < 10, f"the answer waited {answered_in:.1f}s for the broker"
    # Everything is stored: the check-in, the alert, the physiotherapist's inbox item and its outbox rows.
    checkin = CheckIn.objects.get(patient=patient)
    alert = Alert.objects.get(checkin=checkin, physiotherapist=physio)
    assert (alert.level, alert.status) == ("urgent", "open")
    notification = Notification.objects.get(recipient=physio, kind="alert")
    deliveries = ChannelDelivery.objects.filter(notification=notification)
    assert sorted(deliveries.values_list("channel", "status", "attempts")) == [
        ("email", "pending", 0), ("push", "pending", 0)]

    # The broker is back; a worker runs; the sweeper hands the waiting deliveries over.
    with worker(test_queue, f"{test_queue}@recovered", **channel_env) as proc, real_broker():
        assert sweep_pending_deliveries() == 2
        sent = wait_for(lambda: not deliveries.exclude(status="sent").exists(), timeout=60)
    assert sent, f"the deliveries stayed pending; the worker said:\n{getattr(proc, 'output', '')}"
    assert pushes_sent(fault_dir) == [(notification.pk, phone.pk)]
    assert PushRecord.objects.filter(notification=notification).count() == 1
    [email] = emails_sent(fault_dir / "mail")
    assert "physio@example.org" in email and notification.title in email

"""A worker killed in the middle of sending loses nothing and sends nothing twice.

A real worker runs with a push backend that stalls once it has started a push;
the test SIGKILLs it there (no clean shutdown, as the OOM killer or a lost
machine would). The delivery's transaction never committed, so the row is still
pending; a new worker and the outbox sweeper send it, and a redelivery of the
killed task's message (acks_late: the broker hands an unacknowledged message
out again) finds it sent and does nothing.
"""
import signal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from kneerehab.notifications.services import requeue_after, sweep_pending_deliveries
from kneerehab.notifications.tasks import deliver_notification_channel
from kneerehab.ops.models import WorkerHeartbeat
from kneerehab.ops.tasks import record_worker_heartbeat
from plans.models import ReminderDelivery
from plans.reminders import dispatch_due_reminders
from plans.tasks import send_reminder_batch
from tests.celery_processes import real_broker, wait_for, worker
from tests.factories import PatientFactory, PhysiotherapistFactory, QuickPatientFactory, plan_with_exercises

from .backends import emails_sent, pushes_sent
from .test_broker_outage import URGENT_CHECKIN

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STALL_SECONDS = "300"


def output(*procs) -> str:
    return "\n".join(getattr(proc, "output", "") or "" for proc in procs)


def fail_with_output(proc, message: str):
    proc.kill()
    output_so_far, _ = proc.communicate(timeout=30)
    pytest.fail(f"{message}; the worker said:\n{output_so_far}")


def kill_while_pushing(proc, fault_dir, notification):
    """Wait until the worker is inside the push of `notification`, then SIGKILL it."""
    if not wait_for(lambda: (fault_dir / f"push-started-{notification.pk}").exists(), timeout=90):
        fail_with_output(proc, "the worker never started the push")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def rescue(queue, channel_env, notification, push):
    """A new worker; the sweeper re-queues what is pending; then the killed task's message comes back."""
    deliveries = ChannelDelivery.objects.filter(notification=notification)
    with worker(queue, f"{queue}@rescuer", **channel_env) as rescuer, real_broker():
        # Its message went to the killed worker, so the row was left to it for a while; once that has passed:
        assert sweep_pending_deliveries(now=timezone.now() + requeue_after()) >= 1
        sent = wait_for(lambda: not deliveries.exclude(status="sent").exists(), timeout=60)
        # As the broker would after the visibility timeout: the unacknowledged message again.
        deliver_notification_channel.apply_async((push.pk,), queue=queue)
        # A solo worker takes its queue in order: once this heartbeat is recorded, the redelivery has run.
        record_worker_heartbeat.apply_async(queue=queue)
        drained = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname=f"{queue}@rescuer").exists(), timeout=60)
    assert sent and drained, f"the rescue did not finish; the worker said:\n{output(rescuer)}"


def test_an_alert_push_interrupted_by_a_killed_worker_is_sent_once(test_queue, channel_env, fault_dir):
    physio = PhysiotherapistFactory(email="physio@example.org")
    phone = Device.objects.create(user=physio, token="physio-phone", platform="android")
    patient = PatientFactory(physiotherapists=[physio])
    client = APIClient()
    client.force_authenticate(patient)
    with real_broker():
        # Queued before any worker runs, so the request's own writes never wait on the worker's transaction.
        response = client.post("/api/v1/checkins/", URGENT_CHECKIN, format="json")
    assert response.status_code == 201
    assert response.json()["prompt"]["level"] == "urgent"
    notification = Notification.objects.get(recipient=physio, kind="alert")

    with worker(test_queue, f"{test_queue}@doomed", **channel_env, FAULT_PUSH_STALL_SECONDS=STALL_SECONDS) as doomed:
        kill_while_pushing(doomed, fault_dir, notification)

    # The push's transaction died with the worker: still pending, no attempt counted, nothing sent.
    push = ChannelDelivery.objects.get(notification=notification, channel="push")
    assert (push.status, push.attempts, push.sent_at) == ("pending", 0, None)
    assert pushes_sent(fault_dir) == []
    assert not PushRecord.objects.exists()

    rescue(test_queue, channel_env, notification, push)

    push.refresh_from_db()
    assert (push.status, push.attempts) == ("sent", 1)
    assert pushes_sent(fault_dir) == [(notification.pk, phone.pk)]
    assert PushRecord.objects.filter(notification=notification).count() == 1
    assert len(emails_sent(fault_dir / "mail")) == 1
    assert Notification.objects.filter(recipient=physio).count() == 1


def test_a_reminder_push_interrupted_by_a_killed_worker_is_sent_once(test_queue, channel_env, fault_dir):
    patient = QuickPatientFactory(timezone="UTC", email="pat@example.org")
    phone = Device.objects.create(user=patient, token="patient-phone", platform="ios")
    now = timezone.now()
    plan = plan_with_exercises(patient=patient, start_date=now.date(), reminder_times=[now.strftime("%H:%M")])
    with real_broker():
        result = dispatch_due_reminders(now=now, publish=send_reminder_batch.delay)
    assert (result.claimed, result.queued) == (1, 1)

    # The worker decides and records the reminder, then stalls in its push.
    with worker(test_queue, f"{test_queue}@doomed", **channel_env, FAULT_PUSH_STALL_SECONDS=STALL_SECONDS) as doomed:
        notification = wait_for(lambda: Notification.objects.filter(recipient=patient, kind="reminder").first(),
                                timeout=90)
        if not notification:
            fail_with_output(doomed, "no reminder was recorded")
        kill_while_pushing(doomed, fault_dir, notification)

    row = ReminderDelivery.objects.get(plan=plan)
    assert row.status == "sent"
    push = ChannelDelivery.objects.get(notification=notification, channel="push")
    assert (push.status, push.attempts) == ("pending", 0)
    assert pushes_sent(fault_dir) == []

    rescue(test_queue, channel_env, notification, push)
    # The dispatcher runs again (beat, every minute): the slot is done, nothing is made or sent again.
    with real_broker():
        again = dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay)
    assert again.claimed == 0

    assert ReminderDelivery.objects.filter(plan=plan).count() == 1
    assert Notification.objects.filter(recipient=patient, kind="reminder").count() == 1
    assert pushes_sent(fault_dir) == [(notification.pk, phone.pk)]
    assert PushRecord.objects.filter(notification=notification).count() == 1
    assert len(emails_sent(fault_dir / "mail")) == 1

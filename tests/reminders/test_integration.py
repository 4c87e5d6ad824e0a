"""Real Celery beat and worker processes against the configured broker (Redis in CI) and the test database."""
import pytest
from django.utils import timezone

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from kneerehab.notifications.services import notify
from plans.models import ReminderDelivery
from plans.reminders import dispatch_due_reminders
from plans.tasks import send_reminder_batch
from tests.celery_processes import celery_process, new_queue, wait_for, worker
from tests.factories import QuickPatientFactory, plan_with_exercises

from .fakes import dead_broker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Beat runs the dispatcher and the outbox sweeper every second instead of every minute.
FAST_BEAT = {"REMINDER_DISPATCH_INTERVAL_SECONDS": "1", "NOTIFICATION_SWEEP_INTERVAL_SECONDS": "1"}


def plan_due_this_minute():
    """A plan whose reminder slot is the current minute (UTC): due now, in real time, for real processes."""
    patient = QuickPatientFactory(timezone="UTC")
    Device.objects.create(user=patient, token=f"device-of-{patient.pk}", platform="android")
    now = timezone.now()
    return plan_with_exercises(patient=patient, start_date=now.date(), reminder_times=[now.strftime("%H:%M")])


def output_of(*procs):
    return "\n".join(getattr(p, "output", "") or "" for p in procs)


def test_beat_and_a_worker_put_a_reminder_in_the_inbox_once():
    plan = plan_due_this_minute()
    queue = new_queue()
    with worker(queue, f"{queue}@test") as work, celery_process("beat", "--loglevel", "INFO", queue=queue,
                                                                **FAST_BEAT) as beat:
        delivered = wait_for(
            lambda: ChannelDelivery.objects.filter(notification__recipient=plan.patient, status="sent").count() == 2,
            timeout=90,
        )
        # Beat keeps dispatching every second meanwhile; give it a few more runs to (not) send again.
        wait_for(lambda: False, timeout=3)
    assert delivered, f"no reminder was delivered; worker and beat said:\n{output_of(work, beat)}"
    [reminder] = Notification.objects.filter(recipient=plan.patient)
    assert (reminder.kind, reminder.title) == ("reminder", "Time for your knee exercises")
    row = ReminderDelivery.objects.get(plan=plan)
    assert (row.status, row.attempts) == ("sent", 1)
    assert PushRecord.objects.filter(notification=reminder).count() == 1


def test_nothing_is_lost_while_the_broker_is_down():
    plan = plan_due_this_minute()
    with dead_broker():
        # The dispatcher cannot hand the reminder on: it stays pending in the database.
        result = dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay)
        assert (result.claimed, result.queued) == (1, 0)
        # A notification made meanwhile (say, for an alert) is stored; its email and push cannot be queued.
        stored = notify(recipient=plan.patient, kind="alert", title="Your physiotherapist was told",
                        body="Your check-in was passed on.", dedupe_key="outage")
    assert ReminderDelivery.objects.get(plan=plan).status == "pending"
    assert set(ChannelDelivery.objects.filter(notification=stored).values_list("status", "attempts")) == {
        ("pending", 0)}

    # The broker is back: beat's next runs pick both up and the worker sends them.
    queue = new_queue()
    with worker(queue, f"{queue}@test") as work, celery_process("beat", "--loglevel", "INFO", queue=queue,
                                                                **FAST_BEAT) as beat:
        everything_out = wait_for(
            lambda: ReminderDelivery.objects.filter(plan=plan, status="sent").exists()
            and ChannelDelivery.objects.filter(notification__recipient=plan.patient).count() == 4
            and not ChannelDelivery.objects.filter(notification__recipient=plan.patient).exclude(status="sent"),
            timeout=90,
        )
    assert everything_out, f"something stayed behind; worker and beat said:\n{output_of(work, beat)}"
    assert sorted(Notification.objects.filter(recipient=plan.patient).values_list("kind", flat=True)) == [
        "alert", "reminder"]
    assert PushRecord.objects.filter(device__user=plan.patient).count() == 2

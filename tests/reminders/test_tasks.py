"""Reminders through Celery: the beat task, channel retries, two dispatchers at once, an unreachable broker."""
import datetime as dt
import threading

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from kneerehab.notifications.services import notify
from kneerehab.notifications.tasks import sweep_notification_outbox
from plans.models import ReminderDelivery
from plans.reminders import dispatch_due_reminders
from plans.tasks import dispatch_reminders, send_reminder_batch
from tests.factories import QuickPatientFactory, plan_with_exercises

from .conftest import NEW_YORK
from .fakes import dead_broker

UTC = dt.UTC
EIGHT_NY = dt.datetime(2026, 6, 15, 8, 0, tzinfo=NEW_YORK)


def patient_with_phone(**fields):
    fields.setdefault("timezone", "America/New_York")
    patient = QuickPatientFactory(**fields)
    Device.objects.create(user=patient, token=f"token-{patient.pk}", platform="ios")
    return patient


def channel(notification, name):
    return ChannelDelivery.objects.get(notification=notification, channel=name)


def test_beat_runs_the_dispatcher_every_minute(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["reminder-dispatch"]
    assert entry["task"] == dispatch_reminders.name == "plans.tasks.dispatch_reminders"
    assert entry["schedule"] == 60.0


@pytest.mark.django_db
def test_the_beat_task_hands_each_due_row_to_a_send_task(clock, django_capture_on_commit_callbacks):
    plans = [plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date()) for _ in range(3)]
    clock.at(EIGHT_NY)
    with django_capture_on_commit_callbacks(execute=True):
        summary = dispatch_reminders.delay().get()
    assert summary["materialised"] == summary["claimed"] == 3
    for plan in plans:
        [reminder] = Notification.objects.filter(recipient=plan.patient, kind="reminder")
        assert channel(reminder, "email").status == "sent"
        assert channel(reminder, "push").status == "sent"
        assert PushRecord.objects.filter(notification=reminder, device__user=plan.patient).count() == 1
    assert len(mail.outbox) == 3
    assert {m.to[0] for m in mail.outbox} == {p.patient.email for p in plans}


# --- Channels fail independently and are retried with backoff -------------------------------

@pytest.mark.django_db
def test_a_failing_push_provider_is_retried_with_backoff_and_holds_back_neither_inbox_nor_email(
    clock, dispatch, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_BACKEND = "tests.reminders.fakes.UnreachablePushBackend"
    plan = plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date())
    clock.at(EIGHT_NY)
    dispatch()

    [reminder] = Notification.objects.filter(recipient=plan.patient, kind="reminder")
    assert [m.subject for m in mail.outbox] == ["Time for your knee exercises"]
    push = channel(reminder, "push")
    assert (push.status, push.attempts) == ("pending", 1)
    assert push.last_error == "ConnectionError: push provider unreachable"
    assert push.next_attempt_at == EIGHT_NY + dt.timedelta(minutes=1)

    def sweep_at(moment):
        clock.at(moment)
        with django_capture_on_commit_callbacks(execute=True):
            sweep_notification_outbox.delay()
        push.refresh_from_db()

    sweep_at(EIGHT_NY + dt.timedelta(seconds=30))  # not yet due again
    assert push.attempts == 1
    sweep_at(EIGHT_NY + dt.timedelta(minutes=1))
    assert (push.status, push.attempts, push.next_attempt_at) == (
        "pending", 2, EIGHT_NY + dt.timedelta(minutes=3))  # the wait doubles

    settings.PUSH_BACKEND = "kneerehab.notifications.channels.RecordingPushBackend"  # the provider is back
    sweep_at(EIGHT_NY + dt.timedelta(minutes=3))
    assert (push.status, push.attempts) == ("sent", 3)
    assert PushRecord.objects.get(notification=reminder).title == "Time for your knee exercises"
    assert len(mail.outbox) == 1  # email went once, at the start, and was not repeated


@pytest.mark.django_db
def test_a_channel_that_keeps_failing_is_given_up_after_the_last_attempt(
    clock, dispatch, settings, django_capture_on_commit_callbacks
):
    settings.PUSH_BACKEND = "tests.reminders.fakes.UnreachablePushBackend"
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    plan = plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date())
    clock.at(EIGHT_NY)
    dispatch()
    push = channel(Notification.objects.get(recipient=plan.patient), "push")
    for minutes in (1, 3, 7, 15):
        clock.at(EIGHT_NY + dt.timedelta(minutes=minutes))
        with django_capture_on_commit_callbacks(execute=True):
            sweep_notification_outbox.delay()
    push.refresh_from_db()
    assert (push.status, push.attempts) == ("failed", 3)


@pytest.mark.django_db
def test_a_failing_mail_server_does_not_hold_back_push_or_inbox(clock, dispatch, settings):
    settings.EMAIL_BACKEND = "tests.reminders.fakes.UnreachableEmailBackend"
    plan = plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date())
    clock.at(EIGHT_NY)
    dispatch()
    reminder = Notification.objects.get(recipient=plan.patient)
    assert channel(reminder, "push").status == "sent"
    email = channel(reminder, "email")
    assert (email.status, email.attempts) == ("pending", 1)
    assert "mail server went away" in email.last_error


@pytest.mark.django_db
def test_a_patient_without_email_or_device_still_gets_the_inbox_item(clock, dispatch):
    plan = plan_with_exercises(patient=QuickPatientFactory(timezone="America/New_York", email=""),
                               start_date=EIGHT_NY.date())
    clock.at(EIGHT_NY)
    dispatch()
    reminder = Notification.objects.get(recipient=plan.patient)
    assert not reminder.deliveries.exists()
    assert mail.outbox == []


# --- An unreachable broker loses nothing --------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_while_the_broker_is_down_due_reminders_stay_pending_and_go_out_after(dispatch):
    # Real time throughout: the broker outage is real, only short.
    plan = plan_with_exercises(patient=patient_with_phone(timezone="UTC"), start_date=timezone.now().date(),
                               reminder_times=[timezone.now().strftime("%H:%M")])
    with dead_broker():
        result = dispatch_due_reminders(now=timezone.now(), publish=send_reminder_batch.delay)
    assert (result.claimed, result.queued, result.broker_unreachable) == (1, 0, True)
    row = ReminderDelivery.objects.get(plan=plan)
    assert (row.status, row.claimed_at, row.attempts) == ("pending", None, 0)  # released for the next run
    assert not Notification.objects.exists()

    dispatch()  # the broker is back (tasks run in-process in tests)
    row.refresh_from_db()
    assert row.status == "sent"
    assert Notification.objects.filter(recipient=plan.patient, kind="reminder").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_made_while_the_broker_is_down_is_stored_and_its_channels_swept_later(api_client):
    patient = patient_with_phone()
    with dead_broker():
        notification = notify(recipient=patient, kind="reminder", title="Time for your knee exercises",
                              body="Two exercises to go.", dedupe_key="outage-test")
        # The API keeps answering, and the inbox already has it.
        api_client.force_authenticate(patient)
        response = api_client.get("/api/v1/notifications/")
        assert response.status_code == 200
        assert [item["title"] for item in response.json()["results"]] == ["Time for your knee exercises"]
    deliveries = ChannelDelivery.objects.filter(notification=notification)
    assert sorted(deliveries.values_list("channel", "status", "attempts")) == [
        ("email", "pending", 0), ("push", "pending", 0)]

    swept = sweep_notification_outbox.delay().get()  # the broker is back: the sweeper queues them again
    assert swept == 2
    assert set(deliveries.values_list("status", flat=True)) == {"sent"}
    assert len(mail.outbox) == 1
    assert PushRecord.objects.filter(notification=notification).count() == 1


# --- Two dispatchers at once (PostgreSQL: SQLite has no row locks) ----------------------

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SELECT ... FOR UPDATE SKIP LOCKED is what keeps concurrent dispatchers apart, "
           "and SQLite has no row locks (it serialises writers instead); runs in CI against PostgreSQL",
)


def run_concurrently(target, count=2):
    barrier = threading.Barrier(count)
    results, errors = [], []

    def body():
        try:
            barrier.wait(timeout=30)
            results.append(target())
        except Exception as exc:  # surfaced by the assertion below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=body) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    return results


@postgresql_only
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("inline", [True, False], ids=["in-process", "through-send-tasks"])
def test_two_dispatchers_running_at_once_send_each_reminder_exactly_once(inline):
    plans = [plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date()) for _ in range(30)]
    with time_machine.travel(EIGHT_NY, tick=False):
        publish = None if inline else send_reminder_batch.delay
        results = run_concurrently(lambda: dispatch_due_reminders(now=timezone.now(), publish=publish, batch_size=4))
    for plan in plans:
        assert Notification.objects.filter(recipient=plan.patient, kind="reminder").count() == 1
    assert set(ReminderDelivery.objects.values_list("status", flat=True)) == {"sent"}
    assert ReminderDelivery.objects.count() == 30
    assert sum(r.claimed for r in results) == 30  # every row claimed by exactly one of them
    assert PushRecord.objects.count() == 30
    assert len(mail.outbox) == 30


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_sending_the_same_row_at_once_send_it_once():
    from plans.reminders import deliver_reminder, materialise_due_reminders

    plan = plan_with_exercises(patient=patient_with_phone(), start_date=EIGHT_NY.date())
    materialise_due_reminders(now=EIGHT_NY)
    pk = ReminderDelivery.objects.get(plan=plan).pk
    outcomes = run_concurrently(lambda: deliver_reminder(delivery_id=pk, now=EIGHT_NY).status, count=4)
    assert sorted(outcomes) == ["sent", "taken", "taken", "taken"]
    assert Notification.objects.filter(recipient=plan.patient).count() == 1

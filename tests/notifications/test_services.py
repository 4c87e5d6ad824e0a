"""The inbox and the outbox: notify, deliveries after commit, retries with backoff, the sweeper."""
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from kneerehab.notifications import services
from kneerehab.notifications.channels import SENDERS
from kneerehab.notifications.models import ChannelDelivery, Device, Notification, PushRecord
from kneerehab.notifications.services import (
    deliver_channel,
    notification_mark_read,
    notifications_mark_all_read,
    notify,
    retry_delay,
    sweep_pending_deliveries,
)
from tests.factories import PatientFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def send(user, **kwargs) -> Notification:
    kwargs.setdefault("kind", "alert")
    kwargs.setdefault("title", "Urgent: check-in from sam")
    kwargs.setdefault("body", "Fever reported.")
    return notify(recipient=user, **kwargs)


@pytest.fixture
def user(db):
    return PatientFactory(email="sam@example.org")


def test_notify_puts_it_in_the_inbox_and_queues_each_channel_after_commit(user, django_capture_on_commit_callbacks):
    Device.objects.create(user=user, token="phone-1", platform="ios")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        note = send(user, link="/api/v1/alerts/1/")
    assert Notification.objects.get() == note
    assert not note.read
    deliveries = {d.channel: d for d in note.deliveries.all()}
    assert set(deliveries) == {"email", "push"}
    assert all(d.status == "pending" and d.attempts == 0 for d in deliveries.values())
    assert len(callbacks) == 1 and not mail.outbox  # nothing leaves before commit (one callback for both)
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["sam@example.org"]]
    assert mail.outbox[0].subject == "Urgent: check-in from sam"
    assert PushRecord.objects.get().title == "Urgent: check-in from sam"
    assert set(ChannelDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_channels_only_where_the_user_can_be_reached(user):
    no_email = PatientFactory(email="")
    assert not send(no_email).deliveries.exists()
    Device.objects.create(user=user, token="old-phone", platform="android", active=False)
    assert set(send(user).deliveries.values_list("channel", flat=True)) == {"email"}
    assert not send(user, channels_wanted=()).deliveries.exists()


def test_a_dedupe_key_makes_a_second_notify_return_the_first(user):
    first = send(user, dedupe_key="alert:7")
    second = send(user, dedupe_key="alert:7", title="something else")
    assert second.pk == first.pk
    assert Notification.objects.count() == 1
    assert ChannelDelivery.objects.count() == 1
    other = PatientFactory()
    assert send(other, dedupe_key="alert:7").pk != first.pk  # keys are per recipient


def test_an_unreachable_broker_loses_nothing_and_the_sweeper_sends_later(user, monkeypatch,
                                                                         django_capture_on_commit_callbacks):
    from kneerehab.notifications import tasks

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_notification_channel, "delay", broker_down)
    with django_capture_on_commit_callbacks(execute=True):
        note = send(user)
    delivery = note.deliveries.get()
    assert delivery.status == "pending"
    assert not mail.outbox
    monkeypatch.undo()
    assert sweep_pending_deliveries() == 1
    delivery.refresh_from_db()
    assert delivery.status == "sent"
    assert len(mail.outbox) == 1


def test_a_failing_channel_is_retried_with_backoff_then_given_up(user, monkeypatch, settings, time_machine):
    settings.NOTIFICATION_MAX_ATTEMPTS = 4
    time_machine.move_to(T0, tick=False)
    failures = []

    def smtp_down(notification):
        failures.append(notification.pk)
        raise OSError("SMTP server unreachable")

    monkeypatch.setitem(SENDERS, "email", smtp_down)
    delivery = send(user).deliveries.get()
    now = T0
    for attempt, wait in enumerate([1, 2, 4], start=1):
        deliver_channel(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        assert delivery.attempts == attempt
        assert delivery.status == "pending"
        assert delivery.next_attempt_at == now + timedelta(minutes=wait)
        assert "SMTP server unreachable" in delivery.last_error
        # not due yet: the sweeper leaves it alone
        assert sweep_pending_deliveries(now=delivery.next_attempt_at - timedelta(seconds=1)) == 0
        now = delivery.next_attempt_at
        time_machine.move_to(now, tick=False)
    deliver_channel(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == "failed"
    assert delivery.attempts == 4
    assert len(failures) == 4
    assert deliver_channel(delivery_id=delivery.pk) is None  # given up: never tried again
    assert len(failures) == 4


def test_a_recovered_channel_sends_on_the_next_try_and_clears_the_error(user, monkeypatch):
    real = SENDERS["email"]
    monkeypatch.setitem(SENDERS, "email", lambda n: (_ for _ in ()).throw(OSError("down")))
    delivery = send(user).deliveries.get()
    deliver_channel(delivery_id=delivery.pk)
    monkeypatch.setitem(SENDERS, "email", real)
    deliver_channel(delivery_id=delivery.pk)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")
    assert delivery.sent_at is not None
    assert len(mail.outbox) == 1


def test_delivering_twice_sends_once(user):
    delivery = send(user).deliveries.get()
    assert deliver_channel(delivery_id=delivery.pk).status == "sent"
    assert deliver_channel(delivery_id=delivery.pk) is None
    assert len(mail.outbox) == 1


def test_retry_delay_doubles_up_to_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_sweeper_takes_only_due_pending_deliveries(user, monkeypatch, time_machine):
    time_machine.move_to(T0, tick=False)
    queued = []
    monkeypatch.setattr(services, "enqueue_delivery", queued.append)
    due = send(user, enqueue=False).deliveries.get()  # stored, never queued: due at once
    later = send(user, enqueue=False).deliveries.get()
    later.next_attempt_at = T0 + timedelta(minutes=5)  # waiting for a retry
    later.save()
    sent = send(user, enqueue=False).deliveries.get()
    sent.status = "sent"
    sent.save()
    failed = send(user, enqueue=False).deliveries.get()
    failed.status = "failed"
    failed.save()
    assert sweep_pending_deliveries(now=T0) == 1
    assert queued == [due.pk]
    assert sweep_pending_deliveries(now=T0 + timedelta(minutes=1)) == 0  # queued a minute ago: left to its message
    assert sweep_pending_deliveries(now=T0 + timedelta(minutes=5), limit=1) == 1
    assert queued == [due.pk, due.pk]  # the longest waiting first
    assert sweep_pending_deliveries(now=T0 + timedelta(minutes=5)) == 1
    assert queued == [due.pk, due.pk, later.pk]
    assert sweep_pending_deliveries(now=T0 + timedelta(minutes=5)) == 0


def test_the_sweeper_queues_one_message_per_pending_delivery_per_window(user, monkeypatch, settings, time_machine):
    """Beat runs the sweeper every minute; a delivery whose message waits in a long queue is not queued again
    each time, only once the window (NOTIFICATION_REQUEUE_AFTER_SECONDS) has passed."""
    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 180
    time_machine.move_to(T0, tick=False)
    queued = []
    monkeypatch.setattr(services, "enqueue_delivery", queued.append)
    stuck = [send(user, enqueue=False).deliveries.get().pk for _ in range(3)]  # say, the broker was down
    for minute in range(7):  # the worker never takes the messages: each stays queued
        sweep_pending_deliveries(now=T0 + timedelta(minutes=minute))
    # Minutes 0, 3 and 6: one message per delivery per three-minute window, not seven.
    assert sorted(queued) == sorted(stuck * 3)
    assert set(ChannelDelivery.objects.values_list("next_attempt_at", flat=True)) == {T0 + timedelta(minutes=9)}


def test_a_delivery_queued_when_it_is_stored_is_left_to_its_message_for_the_window(
        user, monkeypatch, settings, time_machine, django_capture_on_commit_callbacks):
    settings.NOTIFICATION_REQUEUE_AFTER_SECONDS = 180
    time_machine.move_to(T0, tick=False)
    queued = []
    monkeypatch.setattr(services, "enqueue_delivery", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = send(user).deliveries.get()
    assert queued == [delivery.pk]  # after commit, to the urgent queue
    for seconds in (0, 60, 120, 179):
        assert sweep_pending_deliveries(now=T0 + timedelta(seconds=seconds)) == 0
    assert sweep_pending_deliveries(now=T0 + timedelta(seconds=180)) == 1  # its message was lost: once more
    assert queued == [delivery.pk, delivery.pk]


def test_the_sweeper_sends_urgent_kinds_to_the_urgent_queue_and_reminders_in_chunks_to_the_bulk_queue(
        user, monkeypatch):
    from kneerehab.notifications import tasks

    urgent, chunks = [], []
    monkeypatch.setattr(services, "enqueue_delivery", urgent.append)
    monkeypatch.setattr(tasks.deliver_notification_channels, "delay", chunks.append)
    alert = send(user, kind="alert", enqueue=False).deliveries.get()
    escalation = send(user, kind="escalation", enqueue=False).deliveries.get()
    reminders = [send(user, kind="reminder", enqueue=False).deliveries.get() for _ in range(2)]
    assert sweep_pending_deliveries() == 4
    assert sorted(urgent) == sorted([alert.pk, escalation.pk])
    assert chunks == [[r.pk for r in reminders]]


def test_push_goes_to_every_active_device_once(user):
    Device.objects.create(user=user, token="phone", platform="ios")
    Device.objects.create(user=user, token="tablet", platform="android")
    Device.objects.create(user=user, token="old", platform="android", active=False)
    note = send(user)
    push = note.deliveries.get(channel="push")
    deliver_channel(delivery_id=push.pk)
    assert sorted(PushRecord.objects.values_list("device__token", flat=True)) == ["phone", "tablet"]


def test_mark_read_and_mark_all_read(user):
    first, second, third = send(user), send(user), send(user)
    notification_mark_read(notification=first)
    read_at = Notification.objects.get(pk=first.pk).read_at
    assert read_at is not None
    notification_mark_read(notification=first)
    assert Notification.objects.get(pk=first.pk).read_at == read_at  # the first read time stays
    assert notifications_mark_all_read(user=user) == 2
    assert not Notification.objects.filter(read_at__isnull=True).exists()
    assert {second.pk, third.pk} <= set(Notification.objects.values_list("pk", flat=True))


# --- notify_many: the bulk variant used by the reminder batches --------------------------

def request_for(user, key, **fields):
    fields.setdefault("kind", "reminder")
    fields.setdefault("title", "Time for your knee exercises")
    fields.setdefault("body", "Two exercises to go.")
    return services.NotificationRequest(recipient=user, dedupe_key=key, **fields)


def test_notify_many_stores_each_in_order_and_queues_channels_in_chunks_after_commit(
    user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(services, "CHANNEL_TASK_CHUNK", 3)
    phone_owner = PatientFactory(email="")
    Device.objects.create(user=phone_owner, token="phone-9", platform="android")
    unreachable = PatientFactory(email="")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        ids = services.notify_many(requests=[
            request_for(user, "reminder:1"), request_for(phone_owner, "reminder:2"),
            request_for(unreachable, "reminder:3"), request_for(user, "reminder:4", title="Another one"),
        ])
    notes = [Notification.objects.get(pk=pk) for pk in ids]
    assert [(n.recipient, n.dedupe_key) for n in notes] == [
        (user, "reminder:1"), (phone_owner, "reminder:2"), (unreachable, "reminder:3"), (user, "reminder:4")]
    assert notes[3].title == "Another one"
    assert sorted(ChannelDelivery.objects.values_list("notification__dedupe_key", "channel")) == [
        ("reminder:1", "email"), ("reminder:2", "push"), ("reminder:4", "email")]
    assert len(callbacks) == 1 and not mail.outbox  # nothing leaves before commit
    with django_capture_on_commit_callbacks(execute=True):
        callbacks[0]()  # two tasks: chunks of 3 and 1 (eager in tests)
    assert sorted(m.subject for m in mail.outbox) == ["Another one", "Time for your knee exercises"]
    assert PushRecord.objects.get().notification == notes[1]
    assert set(ChannelDelivery.objects.values_list("status", flat=True)) == {"sent"}


def test_notify_many_returns_what_is_stored_for_a_key_and_queues_nothing_again(
    user, django_capture_on_commit_callbacks
):
    first = notify(recipient=user, kind="reminder", title="First", body="b", dedupe_key="reminder:7")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [again, new] = services.notify_many(requests=[request_for(user, "reminder:7", title="Second"),
                                                      request_for(user, "reminder:8")])
    assert again == first.pk
    assert Notification.objects.get(pk=again).title == "First"
    assert Notification.objects.count() == 2
    assert list(ChannelDelivery.objects.filter(notification=again).values_list("channel", flat=True)) == ["email"]
    assert list(ChannelDelivery.objects.filter(notification_id=new).values_list("channel", flat=True)) == ["email"]
    assert len(callbacks) == 1
    assert services.notify_many(requests=[]) == []


def test_notify_many_without_enqueue_only_stores_the_deliveries(user, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        [note] = services.notify_many(requests=[request_for(user, "reminder:1")], enqueue=False)
    assert callbacks == []
    assert list(ChannelDelivery.objects.filter(notification_id=note).values_list("channel", "status")) == [
        ("email", "pending")]


def test_notify_many_with_the_broker_down_leaves_the_deliveries_for_the_sweeper(user, monkeypatch):
    from kneerehab.notifications import tasks

    def unreachable(ids):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.deliver_notification_channels, "delay", unreachable)
    services.enqueue_deliveries([1, 2, 3])  # logged, not raised
    services.notify_many(requests=[request_for(user, "reminder:1")], enqueue=False)
    assert list(ChannelDelivery.objects.values_list("status", "attempts")) == [("pending", 0)]


@pytest.mark.parametrize("count", [3, 60])
def test_notify_many_costs_the_same_queries_whatever_the_number(count, django_assert_max_num_queries):
    users = PatientFactory.create_batch(count, password="!")
    for u in users[::2]:
        Device.objects.create(user=u, token=f"phone-{u.pk}", platform="ios")
    with django_assert_max_num_queries(6):
        ids = services.notify_many(requests=[request_for(u, f"reminder:{u.pk}") for u in users])
    assert len(set(ids)) == Notification.objects.count() == count
    assert ChannelDelivery.objects.filter(channel="push").count() == len(users[::2])


def test_deliveries_in_one_task_go_on_when_one_raises(user, monkeypatch):
    from kneerehab.notifications import tasks

    [note] = services.notify_many(requests=[request_for(user, "reminder:1")], enqueue=False)
    email = ChannelDelivery.objects.get(notification_id=note)
    real = services.deliver_channel
    calls = []

    def first_breaks(*, delivery_id):
        calls.append(delivery_id)
        if len(calls) == 1:
            raise RuntimeError("database hiccup")
        return real(delivery_id=delivery_id)

    monkeypatch.setattr(services, "deliver_channel", first_breaks)
    tasks.deliver_notification_channels(delivery_ids=[email.pk + 1000, email.pk])
    email.refresh_from_db()
    assert email.status == "sent"
    assert calls == [email.pk + 1000, email.pk]

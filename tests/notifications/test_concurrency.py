"""Delivering a channel while other transactions hold the recipient's rows (PostgreSQL only).

Skipped on SQLite: its writers queue behind one database lock, so transactions never overlap there
(CI runs these against PostgreSQL).
"""
import threading

import pytest
from django.core import mail
from django.db import connection, transaction
from django.utils import timezone

from kneerehab.notifications.models import ChannelDelivery, ChannelDeliveryStatus
from kneerehab.notifications.services import deliver_channel, notify
from kneerehab.users.models import User
from tests.concurrency import postgresql_only  # noqa: F401 (fixture)
from tests.factories import PhysiotherapistFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgresql_only")]


def hold_recipient_row(recipient, holding: threading.Event, release: threading.Event):
    """Another request changes the recipient's user row (a sign-in stamps `last_login`) and has not committed yet."""
    try:
        with transaction.atomic():
            User.objects.filter(pk=recipient.pk).update(last_login=timezone.now())
            holding.set()
            release.wait(timeout=30)
    finally:
        connection.close()


def test_a_delivery_is_sent_while_another_transaction_holds_the_recipients_user_row():
    physio = PhysiotherapistFactory(email="physio@example.org")
    note = notify(recipient=physio, kind="alert", title="Urgent: check-in from sam", body="Fever reported.",
                  enqueue=False)
    delivery = note.deliveries.get(channel="email")

    holding, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_recipient_row, args=(physio, holding, release))
    holder.start()
    try:
        assert holding.wait(timeout=10)
        sent = deliver_channel(delivery_id=delivery.pk)
    finally:
        release.set()
        holder.join(timeout=30)

    # Only the delivery row is locked: the user row, which the other transaction holds, is read, not locked.
    assert sent is not None
    delivery.refresh_from_db()
    assert delivery.status == ChannelDeliveryStatus.SENT and delivery.attempts == 1
    assert [m.to for m in mail.outbox] == [["physio@example.org"]]


def test_a_delivery_another_worker_is_sending_is_still_skipped():
    physio = PhysiotherapistFactory(email="physio@example.org")
    note = notify(recipient=physio, kind="alert", title="Urgent", body="Fever reported.", enqueue=False)
    delivery = note.deliveries.get(channel="email")

    holding, release = threading.Event(), threading.Event()

    def other_worker():
        try:
            with transaction.atomic():
                ChannelDelivery.objects.select_for_update().get(pk=delivery.pk)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=other_worker)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        assert deliver_channel(delivery_id=delivery.pk) is None
    finally:
        release.set()
        holder.join(timeout=30)
    delivery.refresh_from_db()
    assert delivery.status == ChannelDeliveryStatus.PENDING and delivery.attempts == 0
    assert not mail.outbox


def test_sweepers_running_at_once_queue_each_due_delivery_once(monkeypatch):
    from kneerehab.notifications import services
    from kneerehab.notifications.services import sweep_pending_deliveries
    from tests.concurrency import run_together

    physio = PhysiotherapistFactory(email="physio@example.org")
    deliveries = [notify(recipient=physio, kind="alert", title=f"Alert {n}", body="Fever.", enqueue=False)
                  .deliveries.get().pk for n in range(8)]
    queued, lock = [], threading.Lock()

    def record(pk):
        with lock:
            queued.append(pk)

    monkeypatch.setattr(services, "enqueue_delivery", record)
    results = run_together(4, lambda _: sweep_pending_deliveries(limit=3))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert len(queued) == len(set(queued)) == sum(results)  # no delivery queued by two sweepers
    assert set(queued) <= set(deliveries)

"""Writes on notifications: create (inbox + outbox rows), deliver a channel, mark read."""
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from kneerehab.users.models import User

from . import channels
from .models import URGENT_KINDS, Channel, ChannelDelivery, ChannelDeliveryStatus, Device, Notification
from .signals import deliveries_ready

logger = logging.getLogger(__name__)


def requeue_after() -> timedelta:
    """How long a queued delivery is left to its message before the sweeper queues it again.

    A delivery's `next_attempt_at` is moved this far ahead whenever a message for it is
    queued, so the sweeper only takes what is really stuck (a lost message, a failed
    publish, a retry that is due), not what is merely waiting in a busy queue.
    """
    return timedelta(seconds=settings.NOTIFICATION_REQUEUE_AFTER_SECONDS)


def _leave_for_sweeper(delivery_ids: list[int]) -> None:
    """After a failed publish: due now, so the sweeper's next run takes them (rather than after requeue_after)."""
    try:
        ChannelDelivery.objects.filter(pk__in=delivery_ids, status=ChannelDeliveryStatus.PENDING).update(
            next_attempt_at=timezone.now())
    except Exception:  # the database may be failing too; the rows are due after requeue_after anyway
        logger.warning("could not mark %s deliveries due for the sweeper", len(delivery_ids), exc_info=True)


def enqueue_delivery(delivery_id: int) -> None:
    """Hand an urgent delivery to a worker; if the broker is unreachable the row stays pending for the sweeper."""
    try:
        deliveries_ready.send(sender=Notification, delivery_ids=[delivery_id], urgent=True)
    except Exception:  # the outbox row is safe in the database; the sweeper retries
        logger.warning("could not queue channel delivery %s; the sweeper will retry", delivery_id, exc_info=True)
        _leave_for_sweeper([delivery_id])


def notify(*, recipient: User, kind: str, title: str, body: str, link: str = "",
           dedupe_key: str | None = None, channels_wanted: tuple[str, ...] = ("email", "push"),
           enqueue: bool = True, subject_patient: User | None = None) -> Notification:
    """Put a notification in the recipient's inbox and schedule email and push after commit.

    With a `dedupe_key`, a second call for the same cause returns the first notification.
    With `enqueue=False` the channel deliveries are only stored: the caller sends
    them itself (`deliver_channel`), or the outbox sweeper picks them up.
    `subject_patient`: the patient it is about, when that is not the recipient (erasure finds it by this).
    """
    if dedupe_key:
        existing = Notification.objects.filter(recipient=recipient, dedupe_key=dedupe_key).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                recipient=recipient, kind=kind, title=title, body=body, link=link, dedupe_key=dedupe_key,
                subject_patient=subject_patient,
            )
    except IntegrityError:  # a concurrent caller created it first
        return Notification.objects.get(recipient=recipient, dedupe_key=dedupe_key)

    wanted = []
    if "email" in channels_wanted and recipient.email:
        wanted.append(Channel.EMAIL)
    if "push" in channels_wanted and recipient.devices.filter(active=True).exists():
        wanted.append(Channel.PUSH)
    # Queued now, the sweeper leaves them to their message for a while; stored only, it may take them at once.
    next_attempt_at = timezone.now() + (requeue_after() if enqueue else timedelta(0))
    deliveries = ChannelDelivery.objects.bulk_create(
        [ChannelDelivery(notification=notification, channel=c, next_attempt_at=next_attempt_at) for c in wanted]
    )
    if enqueue and deliveries:
        ids = [delivery.pk for delivery in deliveries]
        transaction.on_commit(lambda: enqueue_deliveries(ids, urgent=kind in URGENT_KINDS))
    return notification


@dataclass(frozen=True)
class NotificationRequest:
    """One notification for `notify_many`; the dedupe key is required, as it is how the stored rows are found."""

    recipient: User
    kind: str
    title: str
    body: str
    dedupe_key: str
    link: str = ""


# Channel deliveries handed to one worker task by notify_many: one publish per chunk instead of per delivery.
CHANNEL_TASK_CHUNK = 500


def enqueue_deliveries(delivery_ids: list[int], *, urgent: bool = False) -> None:
    """Hand deliveries to workers; if the broker is unreachable they stay pending for the sweeper.

    Urgent ones (alerts, escalations, prompts) go one message each to the urgent queue; the
    others (reminders) in chunks to the bulk queue, one publish per chunk.
    """
    if urgent:
        for delivery_id in delivery_ids:
            enqueue_delivery(delivery_id)
        return
    for start in range(0, len(delivery_ids), CHANNEL_TASK_CHUNK):
        chunk = delivery_ids[start:start + CHANNEL_TASK_CHUNK]
        try:
            deliveries_ready.send(sender=Notification, delivery_ids=chunk, urgent=False)
        except Exception:  # the outbox rows are safe in the database; the sweeper retries
            logger.warning("could not queue %s channel deliveries; the sweeper will retry",
                           len(delivery_ids) - start, exc_info=True)
            _leave_for_sweeper(delivery_ids[start:])
            return


def notify_many(*, requests: list[NotificationRequest], channels_wanted: tuple[str, ...] = ("email", "push"),
                enqueue: bool = True) -> list[int]:
    """`notify` for many notifications at once, in a constant number of queries whatever their number.

    Returns the notifications' ids in the order of `requests`. As with `notify`, a
    request whose (recipient, dedupe key) is already stored gets the stored
    notification and queues nothing again; email and push are stored for the new
    ones and queued after commit (in chunks), or left to the caller / the outbox
    sweeper with `enqueue=False`.
    """
    if not requests:
        return []
    keys = {(r.recipient.pk, r.dedupe_key) for r in requests}
    recipient_ids = {pk for pk, _ in keys}
    dedupe_keys = {key for _, key in keys}

    def stored() -> dict[tuple[int, str], int]:
        found = Notification.objects.filter(recipient_id__in=recipient_ids, dedupe_key__in=dedupe_keys).values_list(
            "recipient_id", "dedupe_key", "id"
        )
        return {(recipient_id, key): pk for recipient_id, key, pk in found if (recipient_id, key) in keys}

    existing = stored()
    fresh, seen = [], set()
    for r in requests:
        key = (r.recipient.pk, r.dedupe_key)
        if key not in existing and key not in seen:
            seen.add(key)
            fresh.append(Notification(recipient_id=r.recipient.pk, kind=r.kind, title=r.title, body=r.body,
                                      link=r.link, dedupe_key=r.dedupe_key))
    # A concurrent caller may store the same key meanwhile: its row wins, ours is dropped (the unique constraint).
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    by_key = stored()
    created = {key: pk for key, pk in by_key.items() if key not in existing}

    recipients = {r.recipient.pk: r.recipient for r in requests}
    with_device = set()
    if "push" in channels_wanted and created:
        with_device = set(
            Device.objects.filter(user_id__in={recipient_id for recipient_id, _ in created}, active=True)
            .values_list("user_id", flat=True).distinct()
        )
    next_attempt_at = timezone.now() + (requeue_after() if enqueue else timedelta(0))  # as in notify
    wanted = []
    for (recipient_id, _), pk in created.items():
        if "email" in channels_wanted and recipients[recipient_id].email:
            wanted.append(ChannelDelivery(notification_id=pk, channel=Channel.EMAIL, next_attempt_at=next_attempt_at))
        if recipient_id in with_device:
            wanted.append(ChannelDelivery(notification_id=pk, channel=Channel.PUSH, next_attempt_at=next_attempt_at))
    if wanted:
        # Conflicts only if a concurrent caller's notification was counted as ours: its deliveries stand.
        ChannelDelivery.objects.bulk_create(wanted, ignore_conflicts=True)
        if enqueue:
            delivery_ids = list(
                ChannelDelivery.objects.filter(notification_id__in=created.values(),
                                               status=ChannelDeliveryStatus.PENDING)
                .order_by("notification_id", "channel").values_list("pk", flat=True)
            )
            urgent = all(r.kind in URGENT_KINDS for r in requests)
            transaction.on_commit(lambda: enqueue_deliveries(delivery_ids, urgent=urgent))
    return [by_key[(r.recipient.pk, r.dedupe_key)] for r in requests]


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff: 1, 2, 4, 8 … minutes, at most an hour."""
    return timedelta(minutes=min(60, 2 ** max(0, attempts - 1)))


def deliver_channel(*, delivery_id: int) -> ChannelDelivery | None:
    """Send one pending delivery once. Safe to call twice: a sent delivery is left alone."""
    with transaction.atomic():
        # Lock the delivery row only: the joined recipient row may be held by another request (a sign-in,
        # a profile change), and SKIP LOCKED would then skip the delivery and leave it to the sweeper.
        delivery = (
            ChannelDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification__recipient")
            .filter(pk=delivery_id, status=ChannelDeliveryStatus.PENDING)
            .first()
        )
        if delivery is None:  # already sent, given up, or being sent by another worker
            return None
        delivery.attempts += 1
        try:
            channels.send(delivery)
        except Exception as exc:  # any channel failure is retried later; other channels go on
            delivery.last_error = f"{exc.__class__.__name__}: {exc}"[:2000]
            if delivery.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
                delivery.status = ChannelDeliveryStatus.FAILED
                logger.error("giving up on %s after %s attempts", delivery, delivery.attempts)
            else:
                delivery.next_attempt_at = timezone.now() + retry_delay(delivery.attempts)
        else:
            delivery.status = ChannelDeliveryStatus.SENT
            delivery.sent_at = timezone.now()
            delivery.last_error = ""
        delivery.save(update_fields=["attempts", "status", "sent_at", "last_error", "next_attempt_at"])
        return delivery


def sweep_pending_deliveries(*, now=None, limit: int = 500) -> int:
    """Queue again the deliveries that are due: a publish failed, a message was lost, or a retry is due.

    Each one taken is claimed (`SKIP LOCKED`, so two sweepers never take the same row) and its
    `next_attempt_at` moved `requeue_after()` ahead before it is queued: one message per pending
    delivery per window, however often the sweeper runs and however long the queue is. A delivery
    whose message is still waiting when the window ends gets a second one; the row decides, so
    nothing is sent twice. Urgent kinds go to the urgent queue, the others to the bulk queue.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            ChannelDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .filter(status=ChannelDeliveryStatus.PENDING, next_attempt_at__lte=now)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", "notification__kind")[:limit]
        )
        if due:
            ChannelDelivery.objects.filter(pk__in=[pk for pk, _ in due]).update(next_attempt_at=now + requeue_after())
    # Published after the commit, so a worker that takes one at once finds the row as the sweeper left it.
    enqueue_deliveries([pk for pk, kind in due if kind in URGENT_KINDS], urgent=True)
    enqueue_deliveries([pk for pk, kind in due if kind not in URGENT_KINDS])
    return len(due)


def device_register(*, user: User, token: str, platform: str) -> tuple[Device, bool]:
    """Register `token` for `user`'s push notifications; return the device and whether it is new to `user`.

    Only the caller's own registrations are looked at or changed: another account
    holding the same token keeps it, and the answer is the same either way.
    """
    try:
        with transaction.atomic():
            return Device.objects.update_or_create(user=user, token=token,
                                                   defaults={"platform": platform, "active": True})
    except IntegrityError:  # the same account registering the same token twice at once
        device = Device.objects.get(user=user, token=token)
        return device, False


def notification_mark_read(*, notification: Notification) -> Notification:
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())

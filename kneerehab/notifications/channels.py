"""Channels beyond the in-app inbox. Each send raises on failure; the caller retries with backoff."""
from django.conf import settings
from django.core.mail import send_mail
from django.utils.module_loading import import_string

from .models import ChannelDelivery, Device, Notification, PushRecord


class PushBackend:
    """The interface a push provider implements (APNs, FCM, …)."""

    def send(self, *, device: Device, notification: Notification) -> None:
        raise NotImplementedError


class RecordingPushBackend(PushBackend):
    """The default: records what it would send, so operators and tests can see it."""

    def send(self, *, device: Device, notification: Notification) -> None:
        PushRecord.objects.get_or_create(
            device=device, notification=notification,
            defaults={"title": notification.title, "body": notification.body},
        )


def push_backend() -> PushBackend:
    return import_string(settings.PUSH_BACKEND)()


def send_email(notification: Notification) -> None:
    send_mail(
        subject=notification.title,
        message=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[notification.recipient.email],
        fail_silently=False,
    )


def send_push(notification: Notification) -> None:
    backend = push_backend()
    for device in notification.recipient.devices.filter(active=True):
        backend.send(device=device, notification=notification)


SENDERS = {"email": send_email, "push": send_push}


def send(delivery: ChannelDelivery) -> None:
    SENDERS[delivery.channel](delivery.notification)

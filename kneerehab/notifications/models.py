"""The in-app inbox and the outbox of deliveries to other channels (email, push).

A notification is stored first, in the same transaction as what caused it; the
channel deliveries are rows too, so an unreachable broker or a failing channel
delays them but never loses them.
"""
from django.conf import settings
from django.db import models


class NotificationKind(models.TextChoices):
    REMINDER = "reminder", "Exercise reminder"
    FOLLOW_UP = "follow_up", "Follow-up"
    PROMPT = "prompt", "Screening prompt"
    ALERT = "alert", "Alert"
    ESCALATION = "escalation", "Escalation"


# Kinds whose email and push go through the urgent queue, ahead of reminders and other bulk work.
URGENT_KINDS = frozenset({NotificationKind.ALERT, NotificationKind.ESCALATION, NotificationKind.PROMPT})


class Notification(models.Model):
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    # The patient a notification is about (an alert to a physiotherapist names the patient), so that
    # erasing the patient's data finds it in other people's inboxes too.
    subject_patient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True, help_text="Where the app should open.")
    # Guards against doubles: the cause of a notification names it (e.g. "alert:42").
    dedupe_key = models.CharField(max_length=120, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "-created_at"], name="notification_inbox_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], condition=models.Q(dedupe_key__isnull=False),
                name="notification_dedupe",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient_id}: {self.title}"

    @property
    def read(self) -> bool:
        return self.read_at is not None


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    PUSH = "push", "Push"


class ChannelDeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed (gave up)"


class ChannelDelivery(models.Model):
    """One notification on one channel beyond the inbox; retried with backoff until sent or given up."""

    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    status = models.CharField(
        max_length=10, choices=ChannelDeliveryStatus.choices, default=ChannelDeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(help_text="When the sweeper may (re)try it.")
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "channel"], name="delivery_once_per_channel"),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="delivery_due_idx")]

    def __str__(self) -> str:
        return f"{self.channel} for notification {self.notification_id} ({self.status})"


class DevicePlatform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"
    WEB = "web", "Web"


class Device(models.Model):
    """A mobile device registered for push notifications by one account.

    A token is unique per account, not overall: registering a token another
    account holds must neither move it (that would divert the other account's
    alerts) nor tell the caller that it exists. Each account's registration is
    its own row; the app deregisters its token when someone signs out.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="devices")
    token = models.CharField(max_length=512)
    platform = models.CharField(max_length=10, choices=DevicePlatform.choices)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="device_token_once_per_user")]

    def __str__(self) -> str:
        return f"{self.platform} device of {self.user_id}"


class PushRecord(models.Model):
    """What the default push backend would have sent (a real provider plugs in by settings)."""

    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="push_records")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="push_records")
    title = models.CharField(max_length=200)
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["device", "notification"], name="push_once_per_device"),
        ]

    def __str__(self) -> str:
        return f"push to device {self.device_id}: {self.title}"

"""Hand stored deliveries to the workers: the Celery side of `signals.deliveries_ready`."""
from django.dispatch import receiver

from .signals import deliveries_ready
from .tasks import deliver_notification_channel, deliver_notification_channels


@receiver(deliveries_ready, dispatch_uid="notifications.publish_deliveries")
def publish_deliveries(sender, delivery_ids: list[int], urgent: bool, **kwargs) -> None:
    # A publishing error propagates to the service, which leaves the rows to the outbox sweeper.
    if urgent:
        for delivery_id in delivery_ids:
            deliver_notification_channel.delay(delivery_id)
    else:
        deliver_notification_channels.delay(delivery_ids)

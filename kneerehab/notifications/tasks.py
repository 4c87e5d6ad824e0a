import logging

from celery import shared_task

from . import services

logger = logging.getLogger(__name__)


@shared_task
def deliver_notification_channel(delivery_id: int) -> None:
    services.deliver_channel(delivery_id=delivery_id)


@shared_task
def deliver_notification_channels(delivery_ids: list[int]) -> None:
    """Several deliveries in one task (queued by notify_many); each is sent, or retried later, on its own."""
    for delivery_id in delivery_ids:
        try:
            services.deliver_channel(delivery_id=delivery_id)
        except Exception:  # the row stays pending: the sweeper queues it again; the others go on
            logger.exception("channel delivery %s could not be attempted", delivery_id)


@shared_task
def sweep_notification_outbox() -> int:
    return services.sweep_pending_deliveries()

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def deliver_notification_channel(delivery_id: int) -> None:
    services.deliver_channel(delivery_id=delivery_id)


@shared_task
def sweep_notification_outbox() -> int:
    return services.sweep_pending_deliveries()

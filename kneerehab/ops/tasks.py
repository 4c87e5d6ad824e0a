from celery import shared_task

from .services import worker_heartbeat_record


@shared_task(bind=True)
def record_worker_heartbeat(self) -> None:
    """Run by beat every minute, so operators can see that beat and a worker are alive."""
    worker_heartbeat_record(hostname=self.request.hostname or "unknown")

import pytest

from kneerehab.ops.models import WorkerHeartbeat
from kneerehab.ops.tasks import record_worker_heartbeat
from tests.celery_processes import new_queue, real_broker, wait_for, worker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_real_worker_runs_a_task_sent_through_the_configured_broker(settings):
    queue = new_queue()
    name = f"{queue}@test"
    with worker(queue, name) as proc, real_broker():
        record_worker_heartbeat.apply_async(queue=queue)
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname=name).exists())
    assert seen, f"the worker never ran the task; its output:\n{getattr(proc, 'output', '')}"
    assert proc.returncode is not None


def test_beat_triggers_the_worker_through_the_broker(settings):
    """Beat (the database scheduler) sends the heartbeat; the worker runs it."""
    from tests.celery_processes import celery_process

    queue = new_queue()
    name = f"{queue}@test"
    with worker(queue, name), celery_process(
        "beat", "--loglevel", "INFO", queue=queue, HEARTBEAT_INTERVAL_SECONDS="2"
    ) as beat:
        seen = wait_for(lambda: WorkerHeartbeat.objects.filter(hostname=name).exists(), timeout=90)
    assert seen, f"beat and worker did not exchange the task; beat said:\n{getattr(beat, 'output', '')}"

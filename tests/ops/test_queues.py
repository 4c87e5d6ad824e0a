"""Which queue each task goes to: urgent deliveries, scheduled jobs and bulk work apart."""
import pytest

from kneerehab.celery import BULK, SCHEDULED, TASK_QUEUES, URGENT, queue_name
from kneerehab.celery import app as celery_app

PROJECT_PACKAGES = ("kneerehab.", "conditions.", "plans.", "tracker.")

EXPECTED = {
    # The email and push of an alert, an escalation or a prompt: first.
    "kneerehab.notifications.tasks.deliver_notification_channel": URGENT,
    # What beat triggers: on time, never behind bulk work.
    "kneerehab.notifications.tasks.sweep_notification_outbox": SCHEDULED,
    "kneerehab.ops.tasks.record_worker_heartbeat": SCHEDULED,
    "tracker.tasks.escalate_overdue_alerts": SCHEDULED,
    "plans.tasks.dispatch_reminders": SCHEDULED,
    # What may wait a little.
    "kneerehab.notifications.tasks.deliver_notification_channels": BULK,
    "plans.tasks.send_reminder_batch": BULK,
    "plans.tasks.send_reminder": BULK,
    "plans.tasks.evaluate_due_progressions": BULK,
    "plans.tasks.evaluate_patient_progression": BULK,
    "plans.tasks.evaluate_plan_progression": BULK,
}


def project_tasks() -> set[str]:
    celery_app.loader.import_default_modules()
    return {name for name in celery_app.tasks if name.startswith(PROJECT_PACKAGES)}


def routed_queue(task_name: str) -> str:
    return celery_app.amqp.router.route({}, task_name, (), {})["queue"].name


def test_every_task_of_the_project_has_a_queue_and_every_route_names_a_task():
    assert project_tasks() == set(TASK_QUEUES) == set(EXPECTED)


@pytest.mark.parametrize(("task_name", "kind"), sorted(EXPECTED.items()))
def test_each_task_is_routed_to_its_queue(task_name, kind):
    assert TASK_QUEUES[task_name] == kind
    assert routed_queue(task_name) == f"kneerehab.{kind}"


def test_queue_names_follow_the_default_queue_so_a_second_installation_or_a_test_gets_its_own():
    original = celery_app.conf.task_default_queue
    celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE="clinic-b")
    try:
        assert routed_queue("kneerehab.notifications.tasks.deliver_notification_channel") == "clinic-b.urgent"
        assert queue_name(BULK) == "clinic-b.bulk"
    finally:
        celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE=original)
    with pytest.raises(ValueError, match="unknown queue kind"):
        queue_name("whenever")


def test_a_worker_without_a_queue_list_serves_them_in_priority_order():
    assert [queue.name for queue in celery_app.conf.task_queues] == [
        "kneerehab.urgent", "kneerehab.scheduled", "kneerehab.bulk", "kneerehab"]

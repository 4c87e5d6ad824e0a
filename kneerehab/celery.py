"""The one Celery application of the project, and which queue each of its tasks goes to.

Configuration comes from Django settings. Work is split over three queues so that
what must be fast never waits behind what may wait:

- ``urgent``: the email and push of alerts, escalations and prompts;
- ``scheduled``: the jobs beat triggers (reminder dispatch, outbox sweep, alert
  escalation, the worker heartbeat), which must run on time;
- ``bulk``: work that may lag a little (reminder batches, progression re-evaluation).

Queue names are derived from ``CELERY_TASK_DEFAULT_QUEUE`` (``kneerehab`` →
``kneerehab.urgent`` …), so a test or a second installation sharing a broker gets
queues of its own by changing that one name.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kneerehab.settings")

app = Celery("kneerehab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

URGENT, SCHEDULED, BULK = "urgent", "scheduled", "bulk"
# In the order a worker serving several of them should prefer them.
QUEUE_KINDS = (URGENT, SCHEDULED, BULK)

# Every task of the project and its queue; a task missing here would go to the default queue (tests check).
TASK_QUEUES = {
    "kneerehab.notifications.tasks.deliver_notification_channel": URGENT,
    "kneerehab.notifications.tasks.deliver_notification_channels": BULK,
    "kneerehab.notifications.tasks.sweep_notification_outbox": SCHEDULED,
    "kneerehab.ops.tasks.record_worker_heartbeat": SCHEDULED,
    "tracker.tasks.escalate_overdue_alerts": SCHEDULED,
    "plans.tasks.dispatch_reminders": SCHEDULED,
    "plans.tasks.send_reminder_batch": BULK,
    "plans.tasks.send_reminder": BULK,
    "plans.tasks.evaluate_due_progressions": BULK,
    "plans.tasks.evaluate_patient_progression": BULK,
    "plans.tasks.evaluate_plan_progression": BULK,
}


def queue_name(kind: str, *, base: str | None = None) -> str:
    """The broker queue of a kind of work, e.g. ``kneerehab.urgent``."""
    if kind not in QUEUE_KINDS:
        raise ValueError(f"unknown queue kind {kind!r}; expected one of {QUEUE_KINDS}")
    return f"{base or app.conf.task_default_queue}.{kind}"


def route_task(name, args, kwargs, options, task=None, **kw):
    """Celery router (CELERY_TASK_ROUTES): the queue of a task by its name, read when it is sent."""
    kind = TASK_QUEUES.get(name)
    return {"queue": queue_name(kind)} if kind else None

"""Stand-ins for unreliable outside services, and a way to make the broker unreachable."""
import contextlib
import os
from smtplib import SMTPServerDisconnected

from django.core.mail.backends.base import BaseEmailBackend

from kneerehab.celery import app as celery_app
from kneerehab.notifications.channels import PushBackend

# Nothing listens on port 1: connecting is refused at once.
DEAD_BROKER_URL = "redis://127.0.0.1:1/0"


class UnreachablePushBackend(PushBackend):
    def send(self, *, device, notification):
        raise ConnectionError("push provider unreachable")


class UnreachableEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise SMTPServerDisconnected("mail server went away")


def _forget_broker_connections() -> None:
    # The app keeps a connection pool to the broker it first used; drop it so the next publish reconnects.
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextlib.contextmanager
def dead_broker():
    """Publish to a broker that refuses connections (tasks are not run in-process meanwhile)."""
    original_url = celery_app.conf.broker_url
    original_transport = celery_app.conf.broker_transport
    original_eager = celery_app.conf.task_always_eager
    original_env = os.environ.get("CELERY_BROKER_URL")
    # Celery reads the CELERY_BROKER_URL environment variable before its configuration, and the configuration
    # under the namespaced keys (Django settings define CELERY_BROKER_URL and CELERY_TASK_ALWAYS_EAGER). The
    # embedded settings also name the filesystem transport's class, which would win over the URL's scheme.
    os.environ["CELERY_BROKER_URL"] = DEAD_BROKER_URL
    celery_app.conf.update(CELERY_BROKER_URL=DEAD_BROKER_URL, CELERY_BROKER_TRANSPORT=None,
                           CELERY_TASK_ALWAYS_EAGER=False)
    _forget_broker_connections()
    try:
        assert celery_app.connection_for_write().as_uri() == DEAD_BROKER_URL
        yield
    finally:
        if original_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = original_env
        celery_app.conf.update(CELERY_BROKER_URL=original_url, CELERY_BROKER_TRANSPORT=original_transport,
                               CELERY_TASK_ALWAYS_EAGER=original_eager)
        _forget_broker_connections()

import pytest

from kneerehab.celery import app as celery_app
from tests.celery_processes import new_queue


@pytest.fixture
def test_queue():
    """A queue of this test's own; what this process publishes goes there (and only its worker reads it)."""
    name = new_queue()
    original = celery_app.conf.task_default_queue
    # The Django settings namespace: Celery reads CELERY_TASK_DEFAULT_QUEUE, not task_default_queue.
    celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE=name)
    yield name
    celery_app.conf.update(CELERY_TASK_DEFAULT_QUEUE=original)


@pytest.fixture
def fault_dir(tmp_path):
    (tmp_path / "mail").mkdir()
    return tmp_path


@pytest.fixture
def channel_env(fault_dir):
    """Worker environment: pushes logged by the stalling backend, emails written to files."""
    return {
        "PUSH_BACKEND": "tests.faults.backends.StallingPushBackend",
        "FAULT_DIR": str(fault_dir),
        # filemail:////abs/path: the backend writes one file per message to that folder.
        "EMAIL_URL": f"filemail:///{fault_dir / 'mail'}",
    }

"""Start real Celery worker and beat processes against the test database and the configured broker.

Each run uses a queue of its own, so a worker left running elsewhere (make run)
never takes the test's messages and the test's worker never takes anyone else's.
"""
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

from kneerehab.celery import app as celery_app

ROOT = Path(settings.BASE_DIR)


def test_database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def process_env(queue: str, **extra: str) -> dict:
    env = os.environ.copy()
    env.update(
        DATABASE_URL=test_database_url(),
        CELERY_BROKER_URL=settings.CELERY_BROKER_URL,
        CELERY_FILESYSTEM_BROKER_DIR=str(settings.CELERY_FILESYSTEM_BROKER_DIR),
        CELERY_TASK_DEFAULT_QUEUE=queue,
        HTTPS="0",
    )
    env.update(extra)
    return env


def new_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


@contextlib.contextmanager
def celery_process(*args: str, queue: str, **extra_env: str):
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kneerehab", *args],
        cwd=ROOT,
        env=process_env(queue, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            output, _ = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            output, _ = proc.communicate()
        proc.output = output


def worker(queue: str, name: str, **extra_env: str):
    """A worker serving every queue of this base name (`queue`.urgent, .scheduled, .bulk, and `queue` itself)."""
    return celery_process(
        "worker", "--pool", "solo", "--loglevel", "INFO",
        "--hostname", name, "--without-gossip", "--without-mingle",
        queue=queue, **extra_env,
    )


@contextlib.contextmanager
def real_broker():
    """Inside this block tasks go through the broker instead of running in-process."""
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    try:
        yield
    finally:
        celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)


def wait_for(predicate, *, timeout: float = 60.0, interval: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()

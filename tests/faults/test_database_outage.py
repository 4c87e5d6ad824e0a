"""The database goes away for a moment: requests fail with a clean 503 JSON, and the service recovers by itself.

A real gunicorn (one sync worker, the production WSGI app) runs against the
test database, so its worker keeps a persistent connection (CONN_MAX_AGE) as
in production. pytest-django's live_server would not show this: it opens and
closes a connection per request.

PostgreSQL only: the outage is made by terminating the server's backends
(pg_terminate_backend) and, for a longer one, refusing new connections to the
database (ALLOW_CONNECTIONS false) until it is lifted. SQLite has no server to
lose.
"""
import contextlib
import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request

import psycopg
import pytest
from django.db import connection

from kneerehab.users.tokens import refresh_token_for
from tests.celery_processes import ROOT, new_queue, process_env, wait_for
from tests.factories import PatientFactory, PhysiotherapistFactory

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql",
                       reason="needs PostgreSQL: the outage is made by terminating server backends (runs in CI)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn():
    port = free_port()
    env = process_env(new_queue(), CONN_MAX_AGE="600")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "kneerehab.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", "-", "--graceful-timeout", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        if not wait_for(lambda: proc.poll() is None and call(base + "/api/v1/")[0] == 200, timeout=60):
            proc.kill()
            pytest.fail(f"gunicorn did not come up:\n{proc.communicate()[0]}")
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def call(url: str, *, token: str | None = None, method: str = "GET", body: dict | None = None):
    """(status, headers, JSON body or None); never raises for an HTTP error status."""
    data = json.dumps(body).encode() if body else None
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 (http to the local test server)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    except OSError:
        return 0, {}, None
    try:
        return status, headers, json.loads(raw)
    except ValueError:
        return status, headers, raw.decode(errors="replace")


def server_backends() -> list[int]:
    """Backends connected to the test database other than this test's own."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid()")
        return [row[0] for row in cursor.fetchall()]


def terminate_server_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                       "WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return cursor.fetchone()[0]


@contextlib.contextmanager
def database_refusing_connections():
    """No new connection to the test database is accepted, and the server's are cut, until the block ends.

    Run from the maintenance database: PostgreSQL does not let a session shut its own database.
    """
    db = connection.settings_dict
    name = connection.ops.quote_name(db["NAME"])
    with psycopg.connect(dbname="postgres", host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432,
                         user=db["USER"], password=db["PASSWORD"] or None, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        try:
            terminate_server_backends()
            yield
        finally:
            admin.execute(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")


@pytest.fixture
def patient_token():
    patient = PatientFactory(physiotherapists=[PhysiotherapistFactory()])
    return patient, str(refresh_token_for(patient).access_token)


def test_connections_killed_under_the_server_are_replaced_on_the_next_request(patient_token):
    patient, token = patient_token
    with gunicorn() as (base, proc):
        assert call(base + "/api/v1/me/", token=token)[0] == 200
        # The worker keeps its connection between requests, as in production.
        assert server_backends(), "the server holds no persistent connection; nothing would be tested"

        assert terminate_server_backends() >= 1

        # CONN_HEALTH_CHECKS: the dead connection is noticed before it is used, and replaced.
        status, _, body = call(base + "/api/v1/me/", token=token)
        assert (status, body["username"]) == (200, patient.username)
        status, _, body = call(base + "/api/v1/checkins/", token=token, method="POST",
                               body={"pain_at_rest": 2, "pain_during_activity": 3})
        assert status == 201, body
        assert proc.poll() is None


def test_while_the_database_is_down_requests_get_a_clean_503_and_the_service_recovers_by_itself(patient_token):
    patient, token = patient_token
    with gunicorn() as (base, proc):
        assert call(base + "/api/v1/me/", token=token)[0] == 200

        with database_refusing_connections():
            for method, path, body in [("GET", "/api/v1/me/", None), ("GET", "/api/v1/checkins/", None),
                                       ("POST", "/api/v1/checkins/", {"pain_at_rest": 2,
                                                                      "pain_during_activity": 3})]:
                status, headers, answer = call(base + path, token=token, method=method, body=body)
                assert status == 503, (method, path, answer)
                assert headers["Content-Type"].startswith("application/json")
                assert answer["code"] == "service_unavailable"
                assert int(headers["Retry-After"]) > 0
                assert "Traceback" not in json.dumps(answer)

        # The database is back: the same server answers, without a restart.
        status, _, answer = call(base + "/api/v1/me/", token=token)
        assert (status, answer["username"]) == (200, patient.username)
        status, _, answer = call(base + "/api/v1/checkins/", token=token, method="POST",
                                 body={"pain_at_rest": 2, "pain_during_activity": 3})
        assert status == 201, answer
        assert proc.poll() is None

import pytest

from kneerehab.ops import selectors

pytestmark = pytest.mark.django_db


def test_healthz_is_200_when_database_and_broker_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["broker"]["ok"] is True
    assert body["failing"] == []


def test_healthz_is_503_naming_the_broker_when_it_is_down(client, monkeypatch, settings):
    from kneerehab.celery import app

    monkeypatch.setitem(app.conf, "broker_write_url", "redis://127.0.0.1:1/0")
    settings.BROKER_HEALTH_TIMEOUT_SECONDS = 0.5
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["broker"]


def test_healthz_is_503_naming_the_database_when_it_is_down(client, monkeypatch):
    monkeypatch.setattr(selectors, "database_status", lambda: {"ok": False, "error": "OperationalError"})
    from kneerehab.ops import views

    monkeypatch.setattr(views, "database_status", selectors.database_status)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["failing"] == ["database"]


def test_database_status_reports_a_real_failure(monkeypatch):
    from django.db import OperationalError, connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("could not connect")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    assert selectors.database_status() == {"ok": False, "error": "OperationalError"}

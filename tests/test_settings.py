"""The defaults a fresh clone runs with, and what the environment changes."""
import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

# Variables that would otherwise leak from the test run (CI sets the first two).
CLEARED = ("DATABASE_URL", "CELERY_BROKER_URL", "CACHE_URL", "NUM_PROXIES", "DEBUG", "HTTPS", "SECRET_KEY",
           "ALLOWED_HOSTS", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "SECURE_HSTS_SECONDS")

PROBE = """
import json, django
from django.conf import settings
django.setup()
db = settings.DATABASES["default"]
print(json.dumps({
    "engine": db["ENGINE"], "name": str(db["NAME"]), "conn_max_age": db["CONN_MAX_AGE"],
    "health": db["CONN_HEALTH_CHECKS"], "broker": settings.CELERY_BROKER_URL,
    "broker_dir": settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in"),
    "debug": settings.DEBUG, "tz": settings.TIME_ZONE, "use_tz": settings.USE_TZ,
    "ssl_redirect": settings.SECURE_SSL_REDIRECT, "hsts": settings.SECURE_HSTS_SECONDS,
    "secure_cookies": settings.SESSION_COOKIE_SECURE and settings.CSRF_COOKIE_SECURE,
    "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
    "cache_location": settings.CACHES["default"].get("LOCATION"), "num_proxies": settings.NUM_PROXIES,
}))
"""


A_REAL_KEY = "k" + secrets.token_urlsafe(50)


def start(code: str, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in CLEARED}
    # A clone where `make run` ran has a key file; these probes are about the environment alone.
    env.update({"SECRET_KEY_FILE": "/nonexistent/secret-key", **env_vars}, DJANGO_SETTINGS_MODULE="kneerehab.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=60)


def probe(**env_vars: str) -> dict:
    env_vars.setdefault("SECRET_KEY", A_REAL_KEY)
    result = start(PROBE, **env_vars)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_embedded_defaults():
    s = probe()
    assert s["engine"] == "django.db.backends.sqlite3"
    assert s["name"].endswith("db.sqlite3")
    assert s["broker"] == "filesystem://"
    assert s["broker_dir"].endswith(".celery-broker/queue")
    assert s["debug"] is False
    assert s["tz"] == "UTC" and s["use_tz"] is True
    assert s["health"] is True
    # Production-safe unless told otherwise.
    assert s["ssl_redirect"] is True and s["secure_cookies"] is True and s["hsts"] > 0


def test_scaled_mode_from_the_environment():
    s = probe(DATABASE_URL="postgres://u@db.internal:5432/rehab", CELERY_BROKER_URL="redis://cache:6379/1",
              CONN_MAX_AGE="120")
    assert s["engine"] == "django.db.backends.postgresql"
    assert s["name"] == "rehab"
    assert s["conn_max_age"] == 120
    assert s["health"] is True
    assert s["broker"] == "redis://cache:6379/1"
    # Rate-limit counters shared by every process: the broker's Redis serves as the cache.
    assert s["cache"] == "RedisCache" and s["cache_location"] == "redis://cache:6379/1"


def test_the_cache_is_per_process_memory_in_the_embedded_mode_and_can_be_named():
    assert probe()["cache"] == "LocMemCache"
    s = probe(CELERY_BROKER_URL="redis://cache:6379/1", CACHE_URL="redis://other:6379/5")
    assert s["cache"] == "RedisCache" and s["cache_location"] == "redis://other:6379/5"


def test_no_proxy_is_trusted_unless_configured():
    assert probe()["num_proxies"] == 0
    assert probe(NUM_PROXIES="1")["num_proxies"] == 1


def test_plain_http_switch_for_local_runs():
    s = probe(HTTPS="0")
    assert s["ssl_redirect"] is False and s["secure_cookies"] is False and s["hsts"] == 0


# What gunicorn, a Celery worker and manage.py each load first.
ENTRY_POINTS = ("import kneerehab.wsgi", "from kneerehab.celery import app; app.loader.import_default_modules()",
                "import django; django.setup()")


@pytest.mark.parametrize("key", [None, "", "django-insecure-kneerehab-development-key-change-me-0123456789abcdef",
                                 "django-insecure-" + "x" * 60, "short-key", "ab" * 40])
@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_without_a_real_secret_key_the_service_refuses_to_start_with_debug_off(key, entry_point):
    result = start(entry_point, **({} if key is None else {"SECRET_KEY": key}))
    assert result.returncode != 0
    assert "ImproperlyConfigured: SECRET_KEY must be set to a long random value when DEBUG is off" in result.stderr


def test_a_real_key_is_used_as_given():
    result = start("from django.conf import settings; print(settings.SECRET_KEY)", SECRET_KEY=A_REAL_KEY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == A_REAL_KEY


def test_a_key_file_is_read_when_the_environment_sets_none(tmp_path):
    key_file = tmp_path / "secret-key"
    key_file.write_text(A_REAL_KEY + "\n")
    result = start("from django.conf import settings; print(settings.SECRET_KEY)", SECRET_KEY_FILE=str(key_file))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == A_REAL_KEY
    key_file.write_text("short\n")
    assert "ImproperlyConfigured" in start("import django; django.setup()", SECRET_KEY_FILE=str(key_file)).stderr


def test_debug_mode_alone_may_use_the_development_key():
    result = start("from django.conf import settings; print(settings.SECRET_KEY)", DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("django-insecure-kneerehab-development-key")

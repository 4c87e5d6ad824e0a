import os

import pytest
from celery._state import _set_task_join_will_block
from rest_framework.test import APIClient

from kneerehab.celery import app as celery_app
from tests.factories import PatientFactory, PhysiotherapistFactory


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """A test database of this run's own, on disk for SQLite.

    On disk, so that real Celery worker processes started by the integration
    tests can open it too; named per run, so that two runs never collide.
    """
    from django.conf import settings

    db = settings.DATABASES["default"]
    test = db.setdefault("TEST", {})
    if db["ENGINE"].endswith("sqlite3"):
        test["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")
    else:
        test["NAME"] = f"test_{db['NAME']}_{os.getpid()}"


@pytest.fixture(autouse=True)
def _plain_http_and_eager_tasks(settings):
    # The test client speaks plain HTTP; production's HTTPS redirect would answer 301.
    settings.SECURE_SSL_REDIRECT = False
    # PBKDF2 costs ~0.5 s per password on these machines; tests need no slow hashing.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Tasks run in-process unless a test starts a real worker (see tests/celery_worker.py).
    # The namespaced key: settings.CELERY_TASK_ALWAYS_EAGER exists, so it wins over `task_always_eager`.
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=True, CELERY_TASK_EAGER_PROPAGATES=True)
    # Celery keeps "a task is running, joins would block" in one process-wide flag that eager
    # tasks set and restore; tasks run eagerly in several threads at once (the race tests) can
    # restore it in the wrong order and leave it on for the tests that follow.
    _set_task_join_will_block(False)
    yield
    celery_app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)


@pytest.fixture(scope="session")
def _media_root(tmp_path_factory):
    return tmp_path_factory.mktemp("media")


@pytest.fixture(autouse=True)
def _media_in_a_temporary_folder(settings, _media_root):
    # Uploaded files of a test run never land in the working tree.
    settings.MEDIA_ROOT = str(_media_root)


@pytest.fixture(autouse=True)
def _fresh_cache():
    # Throttle counters live in the cache; each test starts with none.
    from django.core.cache import caches

    clear_cache(caches["default"])


def clear_cache(cache) -> None:
    """Empty the cache; on Redis only the cache's own keys (clear() would flush the broker's queues too)."""
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def physio(db):
    return PhysiotherapistFactory()


@pytest.fixture
def patient(db, physio):
    return PatientFactory(physiotherapists=[physio])


@pytest.fixture
def physio_client(physio):
    client = APIClient()
    client.force_authenticate(physio)
    return client


@pytest.fixture
def patient_client(patient):
    client = APIClient()
    client.force_authenticate(patient)
    return client


@pytest.fixture(scope="session")
def _checked_catalog():
    # Parsed and validated once per run; loading it is what each test pays for.
    from conditions.catalog_validation import catalog_read

    return catalog_read()


@pytest.fixture
def catalog(db, _checked_catalog):
    """The real condition catalogue (conditions/catalog/catalog.yaml) loaded into the test database.

    Returns the load report; look rows up by slug, e.g. Condition.objects.get(slug="meniscus-tear").
    """
    from conditions.services import catalog_load

    return catalog_load(catalog=_checked_catalog)

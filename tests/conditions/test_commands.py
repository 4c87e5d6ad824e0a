import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from conditions.models import Condition, Exercise
from tests.conditions.conftest import SMALL_CATALOG, write_yaml

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_catalog", *args, stdout=out)
    return out.getvalue()


def test_load_then_reload(small_catalog_data):
    first = run("--file", str(SMALL_CATALOG))
    assert "exercises        4 created, 0 updated, 0 unchanged" in first
    assert "Catalogue loaded." in first
    second = run("--file", str(SMALL_CATALOG))
    assert "exercises        0 created, 0 updated, 4 unchanged" in second
    assert "conditions       0 created, 0 updated, 2 unchanged" in second
    assert "Catalogue already up to date." in second
    assert Condition.objects.count() == len(small_catalog_data["conditions"])


def test_check_validates_without_writing():
    output = run("--file", str(SMALL_CATALOG), "--check")
    assert f"{SMALL_CATALOG} is valid: version 3, 4 exercises, 2 conditions." in output
    assert not Exercise.objects.exists()


def test_the_default_file_is_the_real_catalogue():
    assert "is valid" in run("--check")


def test_a_bad_file_fails_with_the_problems_named(tmp_path, small_data):
    small_data["conditions"][0]["phases"][1]["exercises"][0]["exercise"] = "foo"
    path = write_yaml(tmp_path / "catalog.yaml", small_data)
    for extra in ([], ["--check"]):
        with pytest.raises(CommandError) as caught:
            run("--file", str(path), *extra)
        assert "conditions[0] (meniscus-tear).phases[1] (physiotherapy).exercises[0]: unknown exercise 'foo'" in (
            str(caught.value))
    assert not Exercise.objects.exists()


def test_force_reapplies_entries_edited_in_the_admin():
    run("--file", str(SMALL_CATALOG))
    Exercise.objects.filter(slug="quad-sets").update(name="Edited by staff")
    run("--file", str(SMALL_CATALOG))
    assert Exercise.objects.get(slug="quad-sets").name == "Edited by staff"
    assert "exercises        0 created, 1 updated, 3 unchanged" in run("--file", str(SMALL_CATALOG), "--force")
    assert Exercise.objects.get(slug="quad-sets").name == "Quadriceps setting"


def test_the_command_exits_non_zero_with_the_message_on_a_bad_file(tmp_path, small_data):
    small_data["exercises"][0]["body_area"] = "elbow"
    path = write_yaml(tmp_path / "catalog.yaml", small_data)
    result = subprocess.run(
        [sys.executable, "manage.py", "load_catalog", "--file", str(path), "--check"],
        cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert result.returncode != 0
    assert "exercises[0] (quad-sets).body_area: 'elbow' is not one of" in result.stderr

import pytest
from django.core.management import CommandError, call_command

from kneerehab.users.models import Role, User

pytestmark = pytest.mark.django_db


def test_create_user_creates_a_patient_on_a_caseload():
    call_command("create_user", "pat", role="physiotherapist", password="pw-long-enough")
    call_command("create_user", "ann", role="patient", password="pw-long-enough",
                 timezone="America/New_York", physio="pat", email="ann@example.org")
    ann = User.objects.get(username="ann")
    assert ann.role == Role.PATIENT
    assert ann.timezone == "America/New_York"
    assert ann.email == "ann@example.org"
    assert ann.check_password("pw-long-enough")
    assert list(ann.physiotherapists.values_list("username", flat=True)) == ["pat"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["dup", "--role", "patient", "--password", "x"], "already taken"),
        (["new", "--role", "surgeon", "--password", "x"], "Unknown role"),
        (["new", "--role", "patient", "--password", "x", "--physio", "nobody"], "No physiotherapist"),
        (["new", "--role", "patient", "--password", "x", "--timezone", "Mars/Olympus"], "not a known IANA"),
    ],
)
def test_create_user_errors_are_clear_and_create_nothing(args, message):
    User.objects.create_user("dup", password="x", role=Role.PATIENT)
    with pytest.raises(CommandError, match=message):
        call_command("create_user", *args)
    assert User.objects.count() == 1


def test_the_command_exits_non_zero_on_error(tmp_path):
    import subprocess
    import sys

    from django.conf import settings

    result = subprocess.run(
        [sys.executable, "manage.py", "create_user", "x", "--role", "wizard", "--password", "p"],
        cwd=settings.BASE_DIR, capture_output=True, text=True,
        env={**__import__("os").environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"},
    )
    assert result.returncode != 0

"""What can be checked of the container deployment without a container engine."""
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_five_services_with_health_checks_and_a_database_volume():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "beat"}
    for name in ("postgres", "redis", "web", "worker"):
        assert services[name]["healthcheck"]["test"], name
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in compose()["volumes"]


def test_app_services_share_one_image_and_point_at_postgres_and_redis():
    services = compose()["services"]
    for name in ("web", "worker", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "0"
        assert services[name]["depends_on"]
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "kneerehab", "worker"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "kneerehab", "beat"]


def test_dockerfile_installs_the_pinned_requirements_and_runs_unprivileged():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install -r requirements.txt" in dockerfile
    assert "\nUSER " in dockerfile
    assert "collectstatic" in dockerfile


def test_every_requirement_is_pinned():
    for name in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / name).read_text().splitlines():
            line = line.strip()
            if line and not line.startswith(("#", "-r")):
                assert "==" in line, f"{name}: {line} is not pinned"


def test_production_runs_need_a_secret_key_of_their_own():
    # Compose stops with a message when SECRET_KEY is unset; the image carries none.
    for name in ("web", "worker", "beat"):
        assert compose()["services"][name]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENV SECRET_KEY" not in dockerfile and "ARG SECRET_KEY" not in dockerfile
    commands = [line for line in (ROOT / "Procfile").read_text().splitlines() if not line.startswith("#")]
    assert not any("SECRET_KEY=" in line for line in commands)

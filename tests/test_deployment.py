"""What can be checked of the container deployment without a container engine."""
from pathlib import Path

import yaml
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_has_the_services_with_health_checks_and_a_database_volume():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "web", "worker", "worker-bulk", "beat"}
    for name in ("postgres", "redis", "web", "worker", "worker-bulk"):
        assert services[name]["healthcheck"]["test"], name
    assert "postgres-data:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "postgres-data" in compose()["volumes"]


def test_app_services_share_one_image_and_point_at_postgres_and_redis():
    services = compose()["services"]
    for name in ("web", "worker", "worker-bulk", "beat"):
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "0"
        assert services[name]["depends_on"]
    assert "gunicorn" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "kneerehab", "worker"]
    assert services["worker-bulk"]["command"][:4] == ["celery", "-A", "kneerehab", "worker"]
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
    for name in ("web", "worker", "worker-bulk", "beat"):
        assert compose()["services"][name]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ENV SECRET_KEY" not in dockerfile and "ARG SECRET_KEY" not in dockerfile
    # A clone's local key file (make run) never goes into an image.
    assert ".secret-key" in (ROOT / ".dockerignore").read_text().splitlines()
    commands = [line for line in (ROOT / "Procfile").read_text().splitlines() if not line.startswith("#")]
    assert not any("SECRET_KEY=" in line for line in commands)


def served_queues(command: list[str]) -> list[str]:
    return command[command.index("--queues") + 1].split(",")


def procfile() -> dict[str, list[str]]:
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip() and not line.startswith("#")]
    return {name: command.split() for name, command in (line.split(": ", 1) for line in lines)}


def test_workers_serve_every_queue_and_urgent_work_never_shares_a_worker_with_bulk_work():
    """In compose (scaled) and in the Procfile (make run): every queue has a worker; urgent and bulk work are apart."""
    every_queue = {queue.name for queue in settings.CELERY_TASK_QUEUES}
    assert every_queue == {"kneerehab.urgent", "kneerehab.scheduled", "kneerehab.bulk", "kneerehab"}
    services = compose()["services"]
    processes = procfile()
    for workers in (
        [served_queues(services["worker"]["command"]), served_queues(services["worker-bulk"]["command"])],
        [served_queues(processes["worker"]), served_queues(processes["bulk"])],
    ):
        assert {queue for queues in workers for queue in queues} == every_queue
        for queues in workers:
            assert not {"kneerehab.urgent", "kneerehab.bulk"} <= set(queues)
            if "kneerehab.urgent" in queues:
                assert queues[0] == "kneerehab.urgent"  # listed first: taken first when several have work
    assert set(processes) == {"web", "worker", "bulk", "beat"}

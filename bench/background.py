"""Background work under load: `python -m bench.background` (embedded) or `… --scaled` (PostgreSQL + Redis).

What a small clinic gets from `make run`, measured the way it fails:

1. a fresh folder of its own holds the SQLite file and the filesystem broker (with
   `--scaled`: the database `--database-url` is dropped and re-created and the Redis
   database `--broker-url` is flushed); migrate, load the catalogue, and seed
   physiotherapists (each with an email address and a phone for push) and patients
   on their caseloads, each with a running plan;
2. start every process of the `Procfile` as `make run` does (gunicorn, the urgent and
   scheduled worker, the bulk worker, beat) on 127.0.0.1:`--port`, and wait until
   `/healthz` says `ok` (beat's first heartbeat);
3. `--clients` threads post check-ins for `--seconds`, every tenth one urgent (fever),
   each with a patient's own token;
4. meanwhile, and until the queues are empty (at most `--drain` seconds after the load),
   sample once a second: the age of the newest worker heartbeat and of beat's last run,
   the messages in each queue, and `/healthz`;
5. then time one worker draining 1,000 small tasks (a delivery that is not pending: one
   query each) from the urgent queue;
6. report, per urgent alert, how long after its check-in its email and its push were
   sent, and check the targets: every one within 60 s, the heartbeat never older than
   2 minutes, the queues empty within 2 minutes of the load's end, ≥ 50 tasks/s.

Results go to bench/results/background-embedded.json (or -scaled) and are printed.
Ports: loopback only. The processes run with the real settings, throttles raised.
"""
import argparse
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
QUEUE_BASE = "kneerehab"
QUEUES = [f"{QUEUE_BASE}.urgent", f"{QUEUE_BASE}.scheduled", f"{QUEUE_BASE}.bulk", QUEUE_BASE]

TARGETS = {
    "urgent_within_60s": "every urgent alert's email and push sent within 60 s of its check-in",
    "heartbeat_under_2min": "the worker heartbeat never older than 2 minutes",
    "queues_empty_2min": "the queues empty within 2 minutes of the load's end",
    "worker_50_tasks_per_s": "one worker runs ≥ 50 small tasks/s",
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scaled", action="store_true", help="PostgreSQL + Redis instead of SQLite + filesystem")
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/kneerehab_background",
                        help="with --scaled: the database to drop, re-create and use")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/14",
                        help="with --scaled: the Redis database to flush and use")
    parser.add_argument("--port", type=int, default=18000, help="gunicorn's port on 127.0.0.1")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the clients post check-ins")
    parser.add_argument("--physiotherapists", type=int, default=20)
    parser.add_argument("--patients-per-physiotherapist", type=int, default=10)
    parser.add_argument("--drain", type=float, default=180.0, help="how long to wait for the queues to empty")
    parser.add_argument("--workdir", help="folder for the SQLite file, broker and logs (default: a new temp one)")
    return parser.parse_args(argv)


# --- set-up ---------------------------------------------------------------------------

def environment(args, workdir: Path) -> dict[str, str]:
    env = {
        "DJANGO_SETTINGS_MODULE": "kneerehab.settings",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        "THROTTLE_USER_WRITE": "100000000/minute",
        "THROTTLE_ANON": "100000000/minute",
        "JWT_ACCESS_MINUTES": "600",
        # Every email is written to a file: sent means handed to the mail backend.
        "EMAIL_URL": f"filemail:///{workdir / 'mail'}",
        "CELERY_TASK_DEFAULT_QUEUE": QUEUE_BASE,
    }
    if args.scaled:
        env.update(DATABASE_URL=args.database_url, CELERY_BROKER_URL=args.broker_url)
    else:
        env.update(DATABASE_URL=f"sqlite:///{workdir / 'db.sqlite3'}", CELERY_BROKER_URL="filesystem://",
                   CELERY_FILESYSTEM_BROKER_DIR=str(workdir / "broker"))
    return env


def prepare_stores(args) -> None:
    if not args.scaled:
        return
    import redis

    from bench.run import recreate_database

    recreate_database(args.database_url)
    redis.Redis.from_url(args.broker_url).flushdb()


def seed(args) -> tuple[list[int], dict[int, str]]:
    """Physiotherapists with email and a phone, patients with a running plan; returns patient ids and tokens."""
    from django.core.management import call_command
    from django.db import transaction
    from django.utils import timezone
    from rest_framework_simplejwt.tokens import AccessToken

    call_command("migrate", verbosity=0)
    call_command("load_catalog", verbosity=0)
    patients = []
    start = timezone.localdate() - timedelta(days=3)
    with transaction.atomic():
        _seed_caseloads(args, start, patients)
    return [p.pk for p in patients], {p.pk: str(AccessToken.for_user(p)) for p in patients}


def _seed_caseloads(args, start, patients: list) -> None:
    from kneerehab.notifications.models import Device
    from kneerehab.users.models import Role
    from kneerehab.users.services import caseload_add, user_create
    from plans.services import plan_create

    for p in range(args.physiotherapists):
        physio = user_create(username=f"physio-{p}", role=Role.PHYSIOTHERAPIST, password=None,
                             timezone="Europe/London", email=f"physio-{p}@bench.kneerehab.local",
                             validate_password_strength=False)
        Device.objects.create(user=physio, token=f"phone-{p}", platform="android")
        for n in range(args.patients_per_physiotherapist):
            patient = user_create(username=f"patient-{p}-{n}", role=Role.PATIENT,
                                  password=None, timezone="Europe/London",
                                  email=f"patient-{p}-{n}@bench.kneerehab.local", validate_password_strength=False)
            caseload_add(physiotherapist=physio, patient=patient)
            plan_create(physiotherapist=physio, patient_id=patient.pk, condition_slug="meniscus-tear",
                        start_date=start, reminder_times=["08:00"])
            patients.append(patient)


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def start_processes(args, env: dict, workdir: Path) -> dict[str, subprocess.Popen]:
    processes = {}
    for name, command in procfile().items():
        log = (workdir / f"{name}.log").open("w")
        command = command.replace("$PORT", str(args.port)).replace("--bind 0.0.0.0", "--bind 127.0.0.1")
        processes[name] = subprocess.Popen(
            ["sh", "-c", "exec " + command],
            cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return processes


def stop_processes(processes: dict[str, subprocess.Popen]) -> None:
    for proc in processes.values():
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc in processes.values():
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- observation -----------------------------------------------------------------------

def healthz(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())["status"]
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())["status"]
    except (OSError, ValueError):
        return 0, "no answer"


class QueueLengths:
    def __init__(self, args, env):
        self.scaled = args.scaled
        if self.scaled:
            import redis

            self.redis = redis.Redis.from_url(args.broker_url)
        else:
            self.folder = Path(env["CELERY_FILESYSTEM_BROKER_DIR"]) / "queue"

    def __call__(self) -> dict[str, int]:
        if self.scaled:
            lengths = {queue: self.redis.llen(queue) for queue in QUEUES}
            lengths["unacked"] = self.redis.hlen("unacked")
            return lengths
        names = os.listdir(self.folder)
        return {queue: sum(1 for n in names if n.endswith(f".{queue}.msg")) for queue in QUEUES}


class Sampler(threading.Thread):
    """Once a second: heartbeat and beat ages, queue lengths, /healthz."""

    def __init__(self, port: int, queue_lengths: QueueLengths):
        super().__init__(daemon=True)
        self.port, self.queue_lengths = port, queue_lengths
        self.samples: list[dict] = []
        self.stop = threading.Event()

    def run(self):
        from django.db import close_old_connections

        from kneerehab.ops.selectors import last_beat_run, last_worker_heartbeat

        while not self.stop.is_set():
            close_old_connections()
            now = datetime.now(UTC)
            heartbeat, beat = last_worker_heartbeat(), last_beat_run()
            status, health = healthz(self.port)
            self.samples.append({
                "t": time.monotonic(), "at": now.isoformat(),
                "heartbeat_age": (now - heartbeat).total_seconds() if heartbeat else None,
                "beat_age": (now - beat).total_seconds() if beat else None,
                "queues": self.queue_lengths(), "healthz": [status, health],
            })
            self.stop.wait(1.0)


def wait_until(predicate, timeout: float, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(interval)
    return predicate()


# --- load -----------------------------------------------------------------------------

def post_checkin(port: int, token: str, body: dict) -> tuple[int, dict | None]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/checkins/", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, None
    except OSError:
        return 0, None


def run_load(args, patient_ids: list[int], tokens: dict[int, str]) -> list[dict]:
    results: list[dict] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + args.seconds

    def client(index: int):
        mine = patient_ids[index::args.clients]
        sent = 0
        while time.monotonic() < stop_at:
            patient = mine[sent % len(mine)]
            urgent = sent % 10 == 9
            body = {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "mild", "fever": urgent}
            started = time.monotonic()
            status, answer = post_checkin(args.port, tokens[patient], body)
            with lock:
                results.append({"client": index, "status": status, "urgent": urgent,
                                "seconds": time.monotonic() - started,
                                "level": (answer or {}).get("prompt", {}).get("level"),
                                "checkin": (answer or {}).get("id")})
            sent += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(args.clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def urgent_delivery_delays(checkin_ids: list[int]) -> list[dict]:
    """Per urgent alert of these check-ins: seconds from the check-in to its email's and its push's sending."""
    from kneerehab.notifications.models import ChannelDelivery
    from tracker.models import Alert

    alerts = {f"alert:{a.pk}": a for a in Alert.objects.filter(checkin_id__in=checkin_ids).select_related("checkin")}
    rows = []
    deliveries = ChannelDelivery.objects.filter(notification__dedupe_key__in=list(alerts)).values_list(
        "notification__dedupe_key", "channel", "status", "sent_at")
    for key, channel, status, sent_at in deliveries:
        recorded = alerts[key].checkin.recorded_at
        rows.append({"alert": key, "channel": channel, "status": status,
                     "delay": (sent_at - recorded).total_seconds() if sent_at else None})
    return rows


def worker_throughput(queue_lengths: QueueLengths, tasks: int = 1000) -> dict:
    """Publish small tasks to the urgent queue and time the worker draining them."""
    from kneerehab.notifications.tasks import deliver_notification_channel

    for n in range(tasks):
        deliver_notification_channel.delay(10**12 + n)  # no such delivery: one query, nothing sent
    published = time.monotonic()
    wait_until(lambda: queue_lengths()[f"{QUEUE_BASE}.urgent"] == 0, timeout=300, interval=0.05)
    seconds = time.monotonic() - published
    return {"tasks": tasks, "seconds": round(seconds, 2), "tasks_per_second": round(tasks / seconds, 1)}


# --- report ---------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def summarise(args, load, delays, samples, load_end, emptied_after, throughput) -> dict:
    accepted = [r for r in load if r["status"] == 201]
    urgent = [r for r in accepted if r["urgent"]]
    during = [s for s in samples if s["t"] >= load_end - args.seconds]
    heartbeat_ages = [s["heartbeat_age"] for s in during if s["heartbeat_age"] is not None]
    beat_ages = [s["beat_age"] for s in during if s["beat_age"] is not None]
    sent = [d["delay"] for d in delays if d["delay"] is not None]
    by_channel = {c: [d["delay"] for d in delays if d["channel"] == c and d["delay"] is not None]
                  for c in ("email", "push")}
    peak = {q: max((s["queues"].get(q, 0) for s in during), default=0) for q in QUEUES}
    health_seen: dict[str, int] = {}
    for s in during:
        key = f"{s['healthz'][0]} {s['healthz'][1]}"
        health_seen[key] = health_seen.get(key, 0) + 1
    summary = {
        "mode": "scaled (PostgreSQL + Redis)" if args.scaled else "embedded (SQLite + filesystem broker)",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "clients": args.clients, "seconds": args.seconds,
        "patients": args.physiotherapists * args.patients_per_physiotherapist,
        "checkins_posted": len(load), "checkins_accepted": len(accepted),
        "errors": {str(k): v for k, v in _count(r["status"] for r in load if r["status"] != 201).items()},
        "checkins_per_second": round(len(accepted) / args.seconds, 1),
        "checkin_p50_ms": round(1000 * statistics.median(r["seconds"] for r in accepted), 1) if accepted else None,
        "urgent_checkins": len(urgent),
        "urgent_deliveries": len(delays), "urgent_deliveries_sent": len(sent),
        "urgent_delay_s": {c: {"p50": _round(percentile(v, 0.5)), "p95": _round(percentile(v, 0.95)),
                               "max": _round(max(v, default=None))} for c, v in by_channel.items()},
        "urgent_within_60s": sum(1 for d in sent if d <= 60),
        "heartbeat_age_max_s": _round(max(heartbeat_ages, default=None)),
        "beat_age_max_s": _round(max(beat_ages, default=None)),
        "queue_peak": peak,
        "queues_empty_after_load_s": _round(emptied_after),
        "healthz_seen": health_seen,
        "worker_throughput": throughput,
    }
    summary["targets"] = {
        "urgent_within_60s": bool(delays) and summary["urgent_within_60s"] == len(delays),
        "heartbeat_under_2min": bool(heartbeat_ages) and max(heartbeat_ages) < 120,
        "queues_empty_2min": emptied_after is not None and emptied_after <= 120,
        "worker_50_tasks_per_s": throughput["tasks_per_second"] >= 50,
    }
    return summary


def _count(values) -> dict:
    counts: dict = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    return counts


def _round(value):
    return round(value, 1) if value is not None else None


def print_summary(summary: dict) -> None:
    print(f"\n{summary['mode']}, {summary['clients']} clients for {summary['seconds']:.0f} s, "
          f"{summary['patients']} patients")
    print(f"  check-ins accepted {summary['checkins_accepted']} of {summary['checkins_posted']} "
          f"({summary['checkins_per_second']}/s, p50 {summary['checkin_p50_ms']} ms), errors {summary['errors']}")
    print(f"  urgent check-ins {summary['urgent_checkins']}: {summary['urgent_deliveries_sent']} of "
          f"{summary['urgent_deliveries']} emails and pushes sent, {summary['urgent_within_60s']} within 60 s")
    for channel, figures in summary["urgent_delay_s"].items():
        print(f"    {channel}: delay after the check-in p50 {figures['p50']} s, p95 {figures['p95']} s, "
              f"max {figures['max']} s")
    print(f"  worker heartbeat at most {summary['heartbeat_age_max_s']} s old, beat's last run at most "
          f"{summary['beat_age_max_s']} s old")
    print(f"  queue peaks {summary['queue_peak']}; empty {summary['queues_empty_after_load_s']} s after the load")
    print(f"  /healthz answers seen (1 per second): {summary['healthz_seen']}")
    tp = summary["worker_throughput"]
    print(f"  one worker: {tp['tasks']} small tasks in {tp['seconds']} s = {tp['tasks_per_second']} tasks/s")
    for key, met in summary["targets"].items():
        print(f"  [{'met' if met else 'NOT MET'}] {TARGETS[key]}")


def main(argv=None) -> int:
    args = parse_args(argv)
    # Stopped from outside, still stop the processes it started (the finally below).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="kneerehab-background-"))
    (workdir / "mail").mkdir(parents=True, exist_ok=True)
    env = environment(args, workdir)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    prepare_stores(args)
    import django

    django.setup()
    print(f"bench: working in {workdir}; seeding …", flush=True)
    patient_ids, tokens = seed(args)
    from django.db import connections

    connections.close_all()
    processes = start_processes(args, env, workdir)
    try:
        print("bench: processes started; waiting for /healthz to say ok (beat's first heartbeat) …", flush=True)
        if not wait_until(lambda: healthz(args.port) == (200, "ok"), timeout=180, interval=1.0):
            raise SystemExit(f"bench: /healthz never said ok: {healthz(args.port)}; logs in {workdir}")
        queue_lengths = QueueLengths(args, env)
        sampler = Sampler(args.port, queue_lengths)
        sampler.start()
        print(f"bench: {args.clients} clients posting check-ins for {args.seconds:.0f} s …", flush=True)
        load = run_load(args, patient_ids, tokens)
        load_end = time.monotonic()
        print("bench: load over; waiting for the queues to empty …", flush=True)
        empty = wait_until(lambda: not any(queue_lengths().values()), timeout=args.drain, interval=0.5)
        emptied_after = time.monotonic() - load_end if empty else None
        # Keep watching the heartbeat for at least a minute and a half after the load (one more beat round).
        time.sleep(max(0.0, load_end + 90 - time.monotonic()))
        sampler.stop.set()
        sampler.join()
        urgent_ids = [r["checkin"] for r in load if r["urgent"] and r["checkin"]]
        wait_until(lambda: all(d["delay"] is not None for d in urgent_delivery_delays(urgent_ids)), timeout=5)
        delays = urgent_delivery_delays(urgent_ids)
        print("bench: timing one worker on 1,000 small tasks …", flush=True)
        throughput = worker_throughput(queue_lengths)
    finally:
        stop_processes(processes)
    summary = summarise(args, load, delays, sampler.samples, load_end, emptied_after, throughput)
    summary["workdir"] = str(workdir)
    RESULTS.mkdir(exist_ok=True)
    name = "background-scaled" if args.scaled else "background-embedded"
    (RESULTS / f"{name}.json").write_text(json.dumps({**summary, "samples": sampler.samples}, indent=1) + "\n")
    print_summary(summary)
    return 0 if all(summary["targets"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())

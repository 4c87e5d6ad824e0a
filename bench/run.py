"""The benchmark: `make bench` (or `python -m bench.run [--small]`).

One run, on this machine's PostgreSQL and Redis:

1. drops and re-creates the database `kneerehab_bench`, migrates it, loads the
   catalogue and seeds the data set (bench/seed.py);
2. starts gunicorn as production does (sync workers, 2 of them by default) with
   the real settings plus a bare view at /bench/baseline/ (bench/settings.py),
   throttles raised so that the limits do not become the measurement;
3. drives each endpoint with wrk (bench/wrk/*.lua) for a fixed time against
   127.0.0.1 only, after a short warm-up, and records throughput and latency
   percentiles, the CPU used by wrk and by the web workers, and the workers'
   peak resident memory;
4. stops gunicorn, seeds 100,000 patients whose reminder is due now, starts one
   Celery worker (one process) and times the dispatcher until every reminder
   is sent or skipped;
5. writes bench/results/latest.json and latest.md and prints the table with the
   ratios against the targets.

Access tokens for the thousands of bench accounts are minted with the project's
own JWT settings (signing in 5,000 times would measure PBKDF2 and hit the login
throttle); one token is obtained through POST /api/v1/auth/token/ to check that
the two agree.
"""
import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
RESULTS = BENCH_DIR / "results"
WRK_DIR = BENCH_DIR / "wrk"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

TARGETS_TEXT = {
    "checkin_create_vs_me": "check-in create throughput ≥ 0.5 × GET /me/",
    "list_90d_vs_1d": "list latency (p50) with 90 days ≤ 1.3 × with 1 day",
    "caseload_200_vs_5": "caseload page latency (p50) with 200 patients ≤ 1.5 × with 5",
    "reminders_100k": "100,000 due reminders dispatched with one worker in < 60 s",
    "web_worker_rss": "peak RSS of a web worker under load < 150 MB",
}


# --- the environment --------------------------------------------------------

def bench_env(args) -> dict[str, str]:
    """Settings for every process of the run: the real ones, pointed at the bench database and queue."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.redis_url,
        "CELERY_TASK_DEFAULT_QUEUE": "kneerehab-bench",
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(40),
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
        # The limits protect production; here they would only measure themselves.
        "THROTTLE_USER_WRITE": "100000000/minute",
        "THROTTLE_ANON": "100000000/minute",
        "THROTTLE_LOGIN": "100000/minute",
        "JWT_ACCESS_MINUTES": "600",
        # Persistent connections as in production, kept for the whole run so that each PostgreSQL backend's CPU
        # can be followed from start to end of a measurement.
        "CONN_MAX_AGE": "3600",
        # Email goes nowhere: everything up to the SMTP call is measured, not a mail server.
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
    }


def recreate_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"bench: unexpected database name {name!r}")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def require(condition: bool, message: str) -> None:
    if not condition:
        raise SystemExit(f"bench: {message}")


def reachable(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or default_port), timeout=3).close()
        return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes ----------------------------------------------------------------

def cpu_ticks(pid: int) -> int:
    """User + system CPU of a process, in clock ticks (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError):
        return 0


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


def proc_status_kb(pid: int, key: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class Gunicorn:
    def __init__(self, *, env: dict, port: int, workers: int, log: Path):
        self.env, self.port, self.workers, self.log = env, port, workers, log
        self.proc: subprocess.Popen | None = None
        self.base = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        command = [sys.executable, "-m", "gunicorn", "kneerehab.wsgi", "--bind", f"127.0.0.1:{self.port}",
                   "--workers", str(self.workers), "--graceful-timeout", "5", "--log-level", "warning"]
        self.log_file = self.log.open("w")
        self.proc = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log_file,
                                     stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            require(self.proc.poll() is None, f"gunicorn exited; see {self.log}")
            with contextlib.suppress(OSError):
                if http("GET", self.base + "/healthz")[0] == 200 and len(self.worker_pids()) == self.workers:
                    return
            time.sleep(0.3)
        raise SystemExit(f"bench: gunicorn did not become healthy; see {self.log}")

    def worker_pids(self) -> list[int]:
        return children(self.proc.pid) if self.proc else []

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log_file.close()


# --- HTTP ---------------------------------------------------------------------

def http(method: str, url: str, *, token: str | None = None, body: dict | None = None) -> tuple[int, bytes]:
    require(url.startswith("http://127.0.0.1:"), f"the bench only talks to 127.0.0.1, not {url}")
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (checked above)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@dataclass
class Case:
    name: str
    path: str
    tokens: str | None  # key of the token file; None: anonymous
    script: str = "get.lua"
    group: str = "endpoints"
    note: str = ""


@dataclass
class Measured:
    name: str
    path: str
    group: str
    note: str
    status: str = "ok"  # ok | unavailable | errors
    detail: str = ""
    figures: dict = field(default_factory=dict)


def database_backends(database_url: str) -> list[int]:
    """The PostgreSQL server processes serving the bench database (the web workers keep theirs open)."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                            "AND pid <> pg_backend_pid()").fetchall()
    return [row[0] for row in rows]


def run_wrk(case: Case, *, base: str, token_files: dict[str, Path], duration: int, connections: int,
            threads: int, nonce: str, workers: list[int], database_url: str) -> dict:
    """One wrk run; returns its figures plus the CPU that wrk, the web workers, PostgreSQL and the rest used."""
    env = {**os.environ, "BENCH_PATH": case.path, "BENCH_NONCE": nonce,
           "BENCH_TOKENS": str(token_files[case.tokens]) if case.tokens else ""}
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               "-s", str(WRK_DIR / case.script), base + case.path]
    before = {pid: cpu_ticks(pid) for pid in database_backends(database_url)}
    busy0, total0 = machine_ticks()
    worker0 = sum(cpu_ticks(pid) for pid in workers)
    resource_usage_of_last_child()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = proc.communicate(timeout=duration + 60)
    usage = resource_usage_of_last_child()
    busy1, total1 = machine_ticks()
    worker1 = sum(cpu_ticks(pid) for pid in workers)
    # A backend that appeared during the run counts whole; one that ended took its last ticks with it.
    after = {pid: cpu_ticks(pid) for pid in database_backends(database_url)}
    pg_ticks = sum(max(0, ticks - before.get(pid, 0)) for pid, ticks in after.items())
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed ({proc.returncode}): {err.strip() or out.strip()}")
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {out.strip()} {err.strip()}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    wall_ticks = figures["seconds"] * CLOCK_TICKS
    cores = os.cpu_count() or 1
    figures["cpu_wrk_percent_of_one_core"] = round(100 * usage / max(figures["seconds"], 1e-9), 1)
    figures["cpu_web_workers_percent_of_one_core"] = round(100 * (worker1 - worker0) / max(wall_ticks, 1), 1)
    figures["cpu_postgres_percent_of_one_core"] = round(100 * pg_ticks / max(wall_ticks, 1), 1)
    # /proc/stat counts every core: busy share of the machine times the cores = percent of one core.
    machine = 100 * cores * (busy1 - busy0) / max(total1 - total0, 1)
    figures["cpu_other_percent_of_one_core"] = round(max(0.0, machine - figures["cpu_wrk_percent_of_one_core"]
                                                         - figures["cpu_web_workers_percent_of_one_core"]
                                                         - figures["cpu_postgres_percent_of_one_core"]), 1)
    figures["cores"] = cores
    # CPU time per request barely depends on what else the machine is doing, unlike throughput and latency:
    # the figure to trust when the machine is shared.
    requests = max(figures["requests"], 1)
    figures["cpu_ms_per_request_web"] = round(1000 * (worker1 - worker0) / CLOCK_TICKS / requests, 3)
    figures["cpu_ms_per_request_postgres"] = round(1000 * pg_ticks / CLOCK_TICKS / requests, 3)
    figures["cpu_ms_per_request"] = round(figures["cpu_ms_per_request_web"]
                                          + figures["cpu_ms_per_request_postgres"], 3)
    return figures


def median_figures(runs: list[dict]) -> dict:
    """Per figure, the median over the rounds (the rounds interleave the cases, so drift hits all alike)."""
    import statistics

    merged = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    merged["rounds"] = len(runs)
    merged["rps_each_round"] = [round(run["rps"], 1) for run in runs]
    merged["p50_ms_each_round"] = [round(run["p50_ms"], 2) for run in runs]
    return merged


_last_children_cpu = [0.0]


def resource_usage_of_last_child() -> float:
    """CPU seconds used by the child that just ended (the difference of RUSAGE_CHILDREN)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    delta, _last_children_cpu[0] = total - _last_children_cpu[0], total
    return delta


class MemorySampler(threading.Thread):
    """Samples the web workers' resident memory; the kernel's high-water mark (VmHWM) is read at the end too."""

    def __init__(self, server: Gunicorn):
        super().__init__(daemon=True)
        self.server = server
        self.peak_rss_kb: dict[int, int] = {}
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(0.25):
            self.sample()

    def sample(self) -> None:
        for pid in self.server.worker_pids():
            rss = max(proc_status_kb(pid, "VmRSS"), proc_status_kb(pid, "VmHWM"))
            self.peak_rss_kb[pid] = max(self.peak_rss_kb.get(pid, 0), rss)

    def stop(self) -> dict:
        self.stopping.set()
        self.join()
        self.sample()
        return {str(pid): round(kb / 1024, 1) for pid, kb in sorted(self.peak_rss_kb.items())}


# --- the run ----------------------------------------------------------------

def mint_tokens(user_ids: list[int]) -> list[str]:
    from rest_framework_simplejwt.tokens import AccessToken

    from kneerehab.users.models import User

    users = User.objects.in_bulk(user_ids)
    return [str(AccessToken.for_user(users[pk])) for pk in user_ids]


def cases(n_patients: int) -> list[Case]:
    history = "90 days of history vs 1 day (same condition and phase)"
    caseload = "200 patients vs 5 (default page of 20)"
    return [
        Case("baseline", "/bench/baseline/", None, note="bare Django view, no database, no auth"),
        Case("me", "/api/v1/me/", "patients", note="authenticated GET (JWT)"),
        Case("checkins_create", "/api/v1/checkins/", "patients", script="checkin_create.lua",
             note=f"POST, a new client_id each time, over {n_patients} patients"),
        Case("checkins_list", "/api/v1/checkins/", "patients", note=f"first page, over {n_patients} patients"),
        Case("exercise_logs_list", "/api/v1/exercise-logs/", "patients", note="first page"),
        Case("today", "/api/v1/today/", "patients"),
        Case("progress", "/api/v1/progress/", "patients"),
        Case("patients_caseload", "/api/v1/patients/", "physios", note="100 patients per physiotherapist"),
        Case("alerts", "/api/v1/alerts/", "physios", note="open alerts of the physiotherapist"),
        Case("checkins_list_1d", "/api/v1/checkins/", "patient_1d", group="history", note=history),
        Case("checkins_list_90d", "/api/v1/checkins/", "patient_90d", group="history", note=history),
        Case("exercise_logs_list_1d", "/api/v1/exercise-logs/", "patient_1d", group="history", note=history),
        Case("exercise_logs_list_90d", "/api/v1/exercise-logs/", "patient_90d", group="history", note=history),
        Case("today_1d", "/api/v1/today/", "patient_1d", group="history", note=history),
        Case("today_90d", "/api/v1/today/", "patient_90d", group="history", note=history),
        Case("progress_1d", "/api/v1/progress/", "patient_1d", group="history", note=history),
        Case("progress_90d", "/api/v1/progress/", "patient_90d", group="history", note=history),
        Case("caseload_5", "/api/v1/patients/", "physio_5", group="caseload", note=caseload),
        Case("caseload_200", "/api/v1/patients/", "physio_200", group="caseload", note=caseload),
        Case("alerts_5", "/api/v1/alerts/", "physio_5", group="caseload", note="1 open alert vs 40"),
        Case("alerts_200", "/api/v1/alerts/", "physio_200", group="caseload", note="1 open alert vs 40"),
    ]


def probe(case: Case, *, base: str, tokens: dict[str, list[str]]) -> tuple[bool, str]:
    """One request first: an endpoint that is not there (yet) or fails is reported, not hammered."""
    token = tokens[case.tokens][0] if case.tokens else None
    if case.script == "checkin_create.lua":
        status, body = http("POST", base + case.path, token=token,
                            body={"pain_at_rest": 1, "pain_during_activity": 2, "swelling": "none"})
    else:
        status, body = http("GET", base + case.path, token=token)
    if 200 <= status < 300:
        return True, ""
    return False, f"HTTP {status}: {body[:200].decode(errors='replace')}"


def dispatch_reminders(args, env: dict, log_dir: Path) -> dict:
    """Seed N due reminders and let one Celery worker process run the dispatcher as beat would trigger it.

    The dispatcher task (plans.tasks.dispatch_reminders) and the per-reminder work it
    queues all run on that one worker; the clock runs from queueing the dispatcher
    until every one of the N reminders is sent or skipped, or the deadline passes.
    """
    from django.db import close_old_connections
    from django.db.models import Count

    from bench.seed import seed_due_reminders
    from plans.models import ReminderDelivery

    try:
        from plans.tasks import dispatch_reminders as dispatch_task
    except ImportError as exc:
        return {"status": "unavailable", "detail": f"plans.tasks.dispatch_reminders: {exc}"}

    # The HTTP cases leave work of their own in the queue (a progression re-evaluation per check-in,
    # alert emails); the reminder figure is about reminders alone, so that backlog is dropped first.
    with contextlib.suppress(Exception):
        import redis

        redis.Redis.from_url(args.redis_url).delete(env["CELERY_TASK_DEFAULT_QUEUE"])
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    seeded = seed_due_reminders(args.reminders, now=now)
    close_old_connections()
    log = (log_dir / "celery-worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "kneerehab", "worker", "--concurrency", "1", "--pool", "prefork",
         "--loglevel", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
         "-Q", env["CELERY_TASK_DEFAULT_QUEUE"], "--hostname", f"bench-{os.getpid()}@%h"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    due = ReminderDelivery.objects.filter(plan__patient__username__startswith="bench-due-")
    timeline = []
    try:
        time.sleep(3)  # the worker connects to the broker
        require(worker.poll() is None, f"the Celery worker exited; see {log.name}")
        started = time.monotonic()
        dispatch_task.delay()
        handled, deadline, all_claimed_at = 0, started + args.reminder_deadline, None
        while time.monotonic() < deadline and worker.poll() is None:
            time.sleep(1)
            elapsed = time.monotonic() - started
            rows = due.count()
            claimed = due.filter(claimed_at__isnull=False).count()
            handled = due.exclude(status="pending").count()
            if len(timeline) < 2 or int(elapsed) % 10 == 0:
                timeline.append({"seconds": round(elapsed), "rows": rows, "claimed": claimed, "handled": handled})
            if all_claimed_at is None and claimed >= args.reminders:
                all_claimed_at = round(elapsed, 1)
            if handled >= args.reminders:
                break
        elapsed = time.monotonic() - started
        outcomes = dict(due.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        log.close()
    finished = handled >= args.reminders
    return {
        "status": "ok" if finished else "deadline",
        "reminders": args.reminders, "handled": handled, "outcomes": outcomes,
        "seconds": round(elapsed, 1), "per_second": round(handled / elapsed, 1) if elapsed else 0.0,
        "all_claimed_after_seconds": all_claimed_at, "deadline_seconds": args.reminder_deadline,
        "timeline": timeline, "seed": seeded,
        "worker": "one Celery worker process (prefork, concurrency 1) running the dispatcher task and the "
                  "reminder tasks it queues",
    }


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 2)


def evaluate(results: dict[str, Measured], memory: dict, reminders: dict) -> list[dict]:
    def fig(name, key):
        m = results.get(name)
        return m.figures.get(key) if m and m.status == "ok" else None

    targets = []

    def add(key, value, limit, ok_when, detail="", cpu=None):
        ok = None if value is None else (value >= limit if ok_when == ">=" else value <= limit if ok_when == "<="
                                         else value < limit)
        targets.append({"key": key, "target": TARGETS_TEXT[key], "value": value, "limit": limit, "op": ok_when,
                        "met": ok, "detail": detail, "cpu_ratio": cpu})

    # The CPU ratios say the same in CPU time per request (for throughput: the inverse ratio of costs).
    add("checkin_create_vs_me", ratio(fig("checkins_create", "rps"), fig("me", "rps")), 0.5, ">=",
        "throughput ratio", ratio(fig("me", "cpu_ms_per_request"), fig("checkins_create", "cpu_ms_per_request")))
    for name in ("checkins_list", "exercise_logs_list", "today", "progress"):
        add("list_90d_vs_1d", ratio(fig(f"{name}_90d", "p50_ms"), fig(f"{name}_1d", "p50_ms")), 1.3, "<=",
            f"/{name.replace('_list', '').replace('_', '-')}/: p50 latency ratio",
            ratio(fig(f"{name}_90d", "cpu_ms_per_request"), fig(f"{name}_1d", "cpu_ms_per_request")))
    add("caseload_200_vs_5", ratio(fig("caseload_200", "p50_ms"), fig("caseload_5", "p50_ms")), 1.5, "<=",
        "/patients/: p50 latency ratio",
        ratio(fig("caseload_200", "cpu_ms_per_request"), fig("caseload_5", "cpu_ms_per_request")))
    if reminders.get("status") == "ok":
        add("reminders_100k", reminders["seconds"], 60, "<", f"seconds for {reminders['reminders']:,} reminders")
    elif reminders.get("status") == "deadline":
        targets.append({"key": "reminders_100k", "target": TARGETS_TEXT["reminders_100k"],
                        "value": f"> {reminders['seconds']}", "limit": 60, "op": "<", "met": False,
                        "detail": f"{reminders['handled']:,} of {reminders['reminders']:,} handled when the "
                                  f"{reminders['deadline_seconds']} s deadline passed", "cpu_ratio": None})
    else:
        add("reminders_100k", None, 60, "<", reminders.get("detail", "not measured"))
    peak = max(memory.values()) if memory else None
    add("web_worker_rss", peak, 150, "<", "MB, highest of the workers")
    return targets


def markdown(report: dict) -> str:
    meta = report["meta"]
    lines = [
        "# kneerehab benchmark",
        "",
        f"{meta['when']} · commit {meta['commit']} · {meta['cores']} cores · PostgreSQL {meta['postgresql']} · "
        f"Python {meta['python']}",
        "",
        f"gunicorn {meta['gunicorn']} · wrk {meta['wrk']}",
        "",
        "Data: " + ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in report["seed"]["counts"].items())
        + f" (seeded in {report['seed']['seconds']} s)",
        "",
        "| endpoint | requests/s | × baseline | p50 ms | p95 ms | p99 ms | CPU ms/request (web + pg) "
        "| CPU % web / pg / wrk / other | note |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    baseline = report["endpoints"].get("baseline", {}).get("figures", {}).get("rps")
    for m in report["endpoints"].values():
        f = m["figures"]
        if m["status"] != "ok":
            lines.append(f"| {m['name']} `{m['path']}` | – | – | – | – | – | – | – | {m['status']}: "
                         f"{m['detail'][:80]} |")
            continue
        errors = f["non_2xx_3xx"] + f["errors_connect"] + f["errors_read"] + f["errors_timeout"]
        note = m["note"] + (f"; {errors} errors" if errors else "")
        lines.append(
            f"| {m['name']} `{m['path']}` | {f['rps']:.0f} | {ratio(f['rps'], baseline) or '–'} | "
            f"{f['p50_ms']:.1f} | {f['p95_ms']:.1f} | {f['p99_ms']:.1f} | "
            f"{f['cpu_ms_per_request']:.2f} ({f['cpu_ms_per_request_web']:.2f} + "
            f"{f['cpu_ms_per_request_postgres']:.2f}) | "
            f"{f['cpu_web_workers_percent_of_one_core']:.0f} / {f['cpu_postgres_percent_of_one_core']:.0f} / "
            f"{f['cpu_wrk_percent_of_one_core']:.0f} / {f['cpu_other_percent_of_one_core']:.0f} % | {note} |")
    lines += ["", f"Each figure is the median of {meta.get('rounds', 1)} interleaved runs. CPU: percent of one "
              f"core (the machine has {meta['cores']}) used by the gunicorn workers, the PostgreSQL backends of the "
              "bench database, wrk, and everything else on the machine.", ""]
    r = report["reminders"]
    if r.get("status") in ("ok", "deadline"):
        claimed = (f"the dispatcher had claimed all of them after {r['all_claimed_after_seconds']} s"
                   if r["all_claimed_after_seconds"] else "the dispatcher had not claimed all of them yet")
        lines += [f"Reminders: {r['handled']:,} of {r['reminders']:,} due reminders sent or skipped in "
                  f"{r['seconds']} s ({r['per_second']:,.1f}/s) by {r['worker']}; {claimed}; "
                  f"rows by status {r['outcomes']}.", ""]
    else:
        lines += [f"Reminders: {r.get('status')}: {r.get('detail', '')}", ""]
    lines += [f"Peak RSS of the web workers: {', '.join(f'{v} MB' for v in report['memory'].values())}", "",
              "| target | value | met | same ratio in CPU time per request |", "|---|---:|:-:|---:|"]
    for t in report["targets"]:
        value = "–" if t["value"] is None else t["value"]
        met = "–" if t["met"] is None else ("yes" if t["met"] else "**no**")
        cpu = "" if t.get("cpu_ratio") is None else t["cpu_ratio"]
        lines.append(f"| {t['target']} ({t['detail']}) | {value} | {met} | {cpu} |")
    return "\n".join(lines) + "\n"


def version_of(command: list[str]) -> str:
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).splitlines()[0].strip()
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="kneerehab benchmark (see bench/run.py)")
    parser.add_argument("--small", action="store_true", help="small data set and short runs, for a quick check")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kneerehab_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2: one per core)")
    parser.add_argument("--duration", type=int, help="seconds per measured wrk run (default 8; --small 3)")
    parser.add_argument("--rounds", type=int, help="rounds over all cases; each figure is the median (default 3; "
                        "--small 1)")
    parser.add_argument("--warmup", type=int, help="seconds of warm-up before each run (default 2; --small 1)")
    parser.add_argument("--connections", type=int, default=8, help="concurrent wrk connections (default 8)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--reminders", type=int, help="due reminders to dispatch (default 100000; --small 5000)")
    parser.add_argument("--reminder-deadline", type=int, default=180,
                        help="stop waiting for the reminders after this many seconds (default 180: 3 × the target)")
    parser.add_argument("--only", help="comma-separated case names to run (default all)")
    parser.add_argument("--keep-server", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.duration = args.duration or (3 if args.small else 8)
    args.rounds = args.rounds or (1 if args.small else 3)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.small else 2)
    args.reminders = args.reminders if args.reminders is not None else (5000 if args.small else 100_000)

    require(shutil.which("wrk") is not None, "wrk is not installed (Debian: apt-get install wrk; make bench does it)")
    require(reachable(args.database_url, 5432), f"PostgreSQL is not reachable at {args.database_url}")
    require(reachable(args.redis_url, 6379), f"Redis is not reachable at {args.redis_url}")
    RESULTS.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="kneerehab-bench-"))
    env = {**os.environ, **bench_env(args)}
    os.environ.update(bench_env(args) | {"SECRET_KEY": env["SECRET_KEY"]})
    os.chdir(ROOT)
    sys.path.insert(0, str(ROOT))

    started = time.monotonic()
    print(f"bench: database {args.database_url} (dropped and re-created)", flush=True)
    recreate_database(args.database_url)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from bench.seed import Seeder, Sizes

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_catalog", verbosity=0)
    sizes = Sizes.small() if args.small else Sizes()
    seeded = Seeder(sizes).run()
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]

    ids = {
        "patients": seeded.patient_ids, "physios": seeded.physio_ids, "patient_1d": [seeded.patient_1d],
        "patient_90d": [seeded.patient_90d], "physio_5": [seeded.physio_5], "physio_200": [seeded.physio_200],
    }
    tokens = {key: mint_tokens(value) for key, value in ids.items()}
    token_files = {}
    for key, values in tokens.items():
        token_files[key] = work / f"tokens-{key}.txt"
        token_files[key].write_text("\n".join(values) + "\n")
    connection.close()

    server = Gunicorn(env=env, port=free_port(), workers=args.workers, log=work / "gunicorn.log")
    results: dict[str, Measured] = {}
    memory: dict = {}
    try:
        server.start()
        # The real sign-in, once: its token must work like the minted ones.
        status, body = http("POST", server.base + "/api/v1/auth/token/",
                            body={"username": "bench-history-90d", "password": "bench-password-2026"})
        require(status == 200, f"sign-in failed: HTTP {status} {body[:200]!r}")
        status, _ = http("GET", server.base + "/api/v1/me/", token=json.loads(body)["access"])
        require(status == 200, f"a token from /auth/token/ was refused by /me/: HTTP {status}")

        sampler = MemorySampler(server)
        sampler.start()
        selected = set(args.only.split(",")) if args.only else None
        runnable = []
        for case in cases(len(seeded.patient_ids)):
            if selected and case.name not in selected:
                continue
            measured = Measured(case.name, case.path, case.group, case.note)
            results[case.name] = measured
            available, detail = probe(case, base=server.base, tokens=tokens)
            if available:
                runnable.append(case)
            else:
                measured.status, measured.detail = "unavailable", detail
                print(f"bench: {case.name:<24} skipped: {detail[:120]}", flush=True)
        common = {"base": server.base, "token_files": token_files, "connections": args.connections,
                  "threads": args.threads, "workers": server.worker_pids(), "database_url": args.database_url}
        runs: dict[str, list[dict]] = {case.name: [] for case in runnable}
        for round_number in range(1, args.rounds + 1):
            for case in runnable:
                # Every wrk run gets a nonce of its own, so check-in client_ids never repeat.
                if args.warmup and round_number == 1:
                    run_wrk(case, duration=args.warmup, nonce=secrets.token_hex(4), **common)
                figures = run_wrk(case, duration=args.duration, nonce=secrets.token_hex(4), **common)
                runs[case.name].append(figures)
                errors = figures["non_2xx_3xx"] + figures["errors_timeout"] + figures["errors_read"]
                print(f"bench: round {round_number} {case.name:<24} {figures['rps']:8.0f} req/s  "
                      f"p50 {figures['p50_ms']:7.1f} ms  p95 {figures['p95_ms']:7.1f} ms  "
                      f"p99 {figures['p99_ms']:7.1f} ms  other CPU {figures['cpu_other_percent_of_one_core']:.0f} %"
                      + (f"  ({errors} errors)" if errors else ""), flush=True)
        for case in runnable:
            figures = median_figures(runs[case.name])
            results[case.name].figures = figures
            # Failed requests are counted in the table; the figures still stand.
            errors = figures["non_2xx_3xx"] + figures["errors_timeout"] + figures["errors_read"]
            if errors:
                results[case.name].detail = f"{errors} failed requests (median of the rounds)"
        memory = sampler.stop()
    finally:
        if not args.keep_server:
            server.stop()

    reminders = {"status": "skipped"}
    if args.reminders:
        print(f"bench: reminders: seeding {args.reminders:,} due reminders", flush=True)
        reminders = dispatch_reminders(args, env, work)
        print(f"bench: reminders: {reminders}", flush=True)
        with contextlib.suppress(Exception):
            import redis

            redis.Redis.from_url(args.redis_url).delete(env["CELERY_TASK_DEFAULT_QUEUE"])

    report = {
        "meta": {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": version_of(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
            "cores": os.cpu_count(), "python": platform.python_version(), "postgresql": pg_version,
            "gunicorn": f"{args.workers} sync workers", "wrk": f"{args.threads} thread, {args.connections} "
            f"connections, {args.duration} s per run, {args.rounds} rounds (medians), {args.warmup} s warm-up, "
            "127.0.0.1",
            "small": args.small, "rounds": args.rounds, "total_seconds": round(time.monotonic() - started, 1),
        },
        "seed": {"counts": seeded.counts, "seconds": seeded.seconds, "sizes": asdict(sizes)},
        "endpoints": {name: asdict(m) for name, m in results.items()},
        "memory": memory,
        "reminders": reminders,
    }
    report["targets"] = evaluate(results, memory, reminders)
    name = "latest-small" if args.small else "latest"
    (RESULTS / f"{name}.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    text = markdown(report)
    (RESULTS / f"{name}.md").write_text(text)
    print()
    print(text)
    print(f"bench: written to {RESULTS / (name + '.json')} and .md; logs in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

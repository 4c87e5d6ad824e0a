"""Profile endpoints under load: `python -m bench.profile CASE [CASE …]` after a bench run.

Uses the database the last `python -m bench.run` left behind (it is not dropped
at the end), starts gunicorn the same way, drives each case with wrk and
samples both web workers with py-spy meanwhile (only while a worker holds the
GIL, i.e. runs Python: time spent waiting for PostgreSQL is not counted). Prints, per case, where the
workers' CPU went: the functions with the most samples in them (inclusive)
and on top of the stack (self), and writes the raw collapsed stacks (input
for any flame-graph tool) to bench/results/profiles/CASE.txt.
"""
import argparse
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.run import RESULTS, ROOT, Gunicorn, bench_env, cases, free_port, mint_tokens, require, run_wrk

PROFILES = RESULTS / "profiles"


def summarise(collapsed: Path, *, top: int) -> str:
    inclusive: Counter = Counter()
    own: Counter = Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():  # a frame name with a line break in it
            continue
        n = int(count)
        total += n
        # "function (file.py:line)" → "function (file.py)": one entry per function, not per line.
        frames = [frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") else frame for frame in stack.split(";")]
        own[frames[-1]] += n
        for frame in set(frames):
            inclusive[frame] += n
    if not total:
        return "  (no samples)\n"

    def project(frame: str) -> bool:
        """A frame of the project's own code (py-spy names files by absolute path or relative to the cwd)."""
        if "/.venv/" in frame or "site-packages" in frame:
            return False
        return str(ROOT) in frame or any(f"({app}/" in frame for app in ("kneerehab", "tracker", "plans",
                                                                           "conditions", "bench"))

    lines = [f"  {total} samples"]
    lines.append("  inclusive, project code:")
    for frame, n in [(f, n) for f, n in inclusive.most_common() if project(f)][:top]:
        lines.append(f"    {100 * n / total:5.1f} %  {frame}")
    lines.append("  inclusive, libraries:")
    for frame, n in [(f, n) for f, n in inclusive.most_common() if not project(f)][:top]:
        lines.append(f"    {100 * n / total:5.1f} %  {frame}")
    lines.append("  self:")
    for frame, n in own.most_common(top):
        lines.append(f"    {100 * n / total:5.1f} %  {frame}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="profile bench cases with py-spy")
    parser.add_argument("cases", nargs="+")
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/kneerehab_bench"))
    parser.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    require(shutil.which("wrk") is not None, "wrk is not installed")
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    require(Path(py_spy).exists(), "py-spy is not installed (pip install -r requirements-dev.txt)")

    env = {**os.environ, **bench_env(args)}
    os.environ.update({k: env[k] for k in bench_env(args)})
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.db import connection

    from kneerehab.users.models import User

    names = {
        "patients": list(User.objects.filter(username__startswith="bench-patient-").order_by("id")
                         .values_list("id", flat=True)),
        "physios": list(User.objects.filter(username__regex=r"^bench-physio-\d{3}$").order_by("id")
                        .values_list("id", flat=True)),
        "patient_1d": list(User.objects.filter(username="bench-history-1d").values_list("id", flat=True)),
        "patient_90d": list(User.objects.filter(username="bench-history-90d").values_list("id", flat=True)),
        "physio_5": list(User.objects.filter(username="bench-physio-5").values_list("id", flat=True)),
        "physio_200": list(User.objects.filter(username="bench-physio-200").values_list("id", flat=True)),
    }
    require(all(names.values()), "no bench data in this database: run `python -m bench.run --small` first")
    work = Path(tempfile.mkdtemp(prefix="kneerehab-profile-"))
    token_files = {}
    for key, ids in names.items():
        token_files[key] = work / f"tokens-{key}.txt"
        token_files[key].write_text("\n".join(mint_tokens(ids)) + "\n")
    connection.close()
    by_name = {case.name: case for case in cases(len(names["patients"]))}
    unknown = [name for name in args.cases if name not in by_name]
    require(not unknown, f"unknown case(s) {unknown}; known: {', '.join(by_name)}")

    PROFILES.mkdir(parents=True, exist_ok=True)
    server = Gunicorn(env=env, port=free_port(), workers=2, log=work / "gunicorn.log")
    server.start()
    try:
        for name in args.cases:
            case = by_name[name]
            common = {"base": server.base, "token_files": token_files, "connections": args.connections,
                      "threads": 1, "workers": server.worker_pids(), "database_url": args.database_url}
            run_wrk(case, duration=2, nonce=secrets.token_hex(4), **common)  # warm-up
            spies = []
            for pid in server.worker_pids():
                out = work / f"{name}-{pid}.txt"
                spies.append((out, subprocess.Popen(
                    [py_spy, "record", "--pid", str(pid), "--duration", str(args.duration), "--rate", "200",
                     "--format", "raw", "--output", str(out), "--nonblocking", "--gil"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
            time.sleep(0.5)
            figures = run_wrk(case, duration=args.duration - 1, nonce=secrets.token_hex(4), **common)
            for _, spy in spies:
                spy.wait(timeout=args.duration + 30)
            merged = PROFILES / f"{name}.txt"
            merged.write_text("".join(out.read_text(errors="replace") for out, _ in spies if out.exists()))
            print(f"{name} {case.path}: {figures['rps']:.0f} req/s, p50 {figures['p50_ms']:.1f} ms, "
                  f"web CPU {figures['cpu_web_workers_percent_of_one_core']:.0f} %, "
                  f"PostgreSQL CPU {figures['cpu_postgres_percent_of_one_core']:.0f} %")
            print(summarise(merged, top=args.top), flush=True)
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A realistic data set for the benchmark, written with PostgreSQL's COPY.

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://… python -m bench.seed [--small]

expects a migrated, empty database (bench/run.py makes one) and creates:

- the main set: `--physios` physiotherapists with `--patients` patients spread
  over their caseloads, one active plan each (copied from the catalogue's
  treatment paths, all phases), and `--days` days of history per patient: a
  daily check-in, exercise logs for the current phase's exercises (about 80 %
  adherence), a sent reminder per day, and an open alert for one patient in
  twenty;
- the comparison set: a physiotherapist with 5 patients and one with 200 (both
  with 90 days of history and one open alert per five patients), and two
  patients on the same condition and phase, one with 1 day of history and one
  with 90.

Rows go in through COPY (tens of thousands of rows a second on two cores);
fields the seeder does not set get their model default, so a field added later
with a default needs no change here. Historical (audit) rows are not written:
the data arrives as if imported.
"""
import argparse
import json
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

PASSWORD = "bench-password-2026"
TIMEZONES = ["Europe/London", "America/New_York", "Europe/Berlin", "Australia/Sydney", "Asia/Kolkata", "UTC"]
SWELLING_BY_PAIN = ["none", "none", "none", "mild", "mild", "moderate", "moderate", "severe", "severe", "severe",
                    "severe"]
PROMPT_NONE = json.dumps({
    "level": "none", "reasons": [],
    "message": "Nothing in this check-in needs a clinician; this is support, not a diagnosis.",
})
PROMPT_URGENT = json.dumps({
    "level": "urgent", "reasons": [{"code": "fever", "message": "A fever with knee pain can mean an infection."}],
    "message": "Get medical attention today. This is support, not a diagnosis.",
})
ALERT_REASONS = json.dumps([{"code": "fever", "message": "A fever with knee pain can mean an infection."}])


@dataclass
class Sizes:
    physios: int = 50
    patients: int = 5000
    days: int = 90
    comparison_days: int = 90

    @classmethod
    def small(cls) -> "Sizes":
        return cls(physios=5, patients=300, days=30)


@dataclass
class Seeded:
    """Who the benchmark signs in as."""

    physio_ids: list[int] = field(default_factory=list)
    patient_ids: list[int] = field(default_factory=list)
    physio_5: int = 0
    physio_200: int = 0
    patient_1d: int = 0
    patient_90d: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


# --- COPY -------------------------------------------------------------------

def copy_rows(model, columns: Sequence[str], rows: Iterable[tuple], *, now: datetime) -> int:
    """COPY `rows` (tuples in the order of `columns`, given as attnames) into the model's table.

    Every other concrete field but the primary key gets its model default (auto_now
    fields get `now`), computed once; a field with no default and no NULL stops the
    seeding with a message naming it.
    """
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    by_attname = {f.attname: f for f in fields}
    unknown = [c for c in columns if c not in by_attname]
    if unknown:
        raise SystemExit(f"bench.seed: {model.__name__} has no field(s) {unknown}")
    template = model()
    constant_fields, constants = [], []
    for f in fields:
        if f.attname in columns:
            continue
        value = now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else getattr(
            template, f.attname)
        if value is None and not f.null:
            raise SystemExit(f"bench.seed: {model.__name__}.{f.name} needs a value; set it in bench/seed.py")
        constant_fields.append(f)
        constants.append(f.get_db_prep_save(value, connection))
    constants = tuple(constants)
    quoted = ", ".join(connection.ops.quote_name(by_attname[c].column) for c in columns)
    if constant_fields:
        quoted += ", " + ", ".join(connection.ops.quote_name(f.column) for f in constant_fields)
    n = 0
    with connection.cursor() as cursor:
        sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({quoted}) FROM STDIN"
        with cursor.cursor.copy(sql) as copy:
            for row in rows:
                copy.write_row(row + constants)
                n += 1
    return n


# --- the data set -------------------------------------------------------------

@dataclass
class PathExercise:
    phase: str
    exercise_id: int
    order: int
    dose: tuple[int, int, int, int, int]  # sets, reps, hold_seconds, times_per_day, days_per_week


def catalogue_paths() -> dict[int, list[PathExercise]]:
    """Home-care conditions and their path exercises (all phases), from the loaded catalogue."""
    from conditions.models import PhaseExercise

    paths: dict[int, list[PathExercise]] = defaultdict(list)
    rows = PhaseExercise.objects.filter(phase__condition__home_care=True).values_list(
        "phase__condition_id", "phase__key", "exercise_id", "order",
        "sets", "reps", "hold_seconds", "times_per_day", "days_per_week",
    ).order_by("phase__condition_id", "phase__order", "order")
    for condition_id, phase, exercise_id, order, *dose in rows:
        paths[condition_id].append(PathExercise(phase, exercise_id, order, tuple(dose)))
    phases_needed = {"rice", "physiotherapy", "return_to_activity"}
    complete = {cid: pes for cid, pes in paths.items() if phases_needed <= {pe.phase for pe in pes}}
    if not complete:
        raise SystemExit("bench.seed: the catalogue has no home-care path with exercises in every phase; "
                         "run `manage.py load_catalog` first")
    return complete


@dataclass
class PatientSpec:
    username: str
    physio_index: int  # into the physio list
    days: int
    phase: str
    condition_id: int
    timezone: str
    alert: bool
    user_id: int = 0
    plan_id: int = 0


class Seeder:
    def __init__(self, sizes: Sizes, *, seed: int = 2026, verbose: bool = True):
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.today = self.now.date()
        self.verbose = verbose
        self.counts: dict[str, int] = defaultdict(int)

    def log(self, message: str) -> None:
        if self.verbose:
            print(f"  seed: {message}", flush=True)

    def run(self) -> Seeded:
        from django.db import connection, transaction

        from kneerehab.users.models import User

        started = time.monotonic()
        if User.objects.filter(username__startswith="bench-").exists():
            raise SystemExit("bench.seed: this database already has bench users; seed an empty one")
        paths = catalogue_paths()
        condition_ids = sorted(paths)
        s = self.sizes

        physio_names = [f"bench-physio-{i:03d}" for i in range(s.physios)] + ["bench-physio-5", "bench-physio-200"]
        specs: list[PatientSpec] = []
        for i in range(s.patients):
            specs.append(PatientSpec(
                username=f"bench-patient-{i:05d}", physio_index=i % s.physios, days=s.days,
                phase=self.rng.choices(["rice", "physiotherapy", "return_to_activity"], [2, 5, 3])[0],
                condition_id=self.rng.choice(condition_ids), timezone=self.rng.choice(TIMEZONES),
                alert=i % 20 == 7,
            ))
        # The comparison set: same condition and phase everywhere, so only the size differs.
        same_condition = condition_ids[0]
        for name, physio_index, count in (("c5", s.physios, 5), ("c200", s.physios + 1, 200)):
            for i in range(count):
                specs.append(PatientSpec(
                    username=f"bench-{name}-{i:03d}", physio_index=physio_index, days=s.comparison_days,
                    phase="physiotherapy", condition_id=same_condition, timezone="Europe/London", alert=i % 5 == 0,
                ))
        for name, days in (("bench-history-1d", 1), ("bench-history-90d", s.comparison_days)):
            specs.append(PatientSpec(username=name, physio_index=0, days=days, phase="physiotherapy",
                                     condition_id=same_condition, timezone="Europe/London", alert=False))

        with transaction.atomic():
            physio_ids = self.users(physio_names, role="physiotherapist", timezones=["Europe/London"])
            patient_ids = self.users([p.username for p in specs], role="patient",
                                     timezones=[p.timezone for p in specs])
            for spec, user_id in zip(specs, patient_ids, strict=True):
                spec.user_id = user_id
            self.caseloads(specs, physio_ids)
            self.plans(specs, physio_ids, paths)
            plan_exercises = self.plan_exercises(specs, paths)
            self.history(specs, physio_ids, plan_exercises)
        self.log("VACUUM ANALYZE")
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        by_name = {spec.username: spec.user_id for spec in specs}
        seeded = Seeded(
            physio_ids=physio_ids[: s.physios],
            patient_ids=[spec.user_id for spec in specs[: s.patients]],
            physio_5=physio_ids[s.physios],
            physio_200=physio_ids[s.physios + 1],
            patient_1d=by_name["bench-history-1d"],
            patient_90d=by_name["bench-history-90d"],
            counts=dict(self.counts),
            seconds=round(time.monotonic() - started, 1),
        )
        self.log(f"done in {seeded.seconds} s: {seeded.counts}")
        return seeded

    # Each step COPYs one table and reads back the ids it needs.

    def users(self, usernames: list[str], *, role: str, timezones: list[str]) -> list[int]:
        from django.contrib.auth.hashers import make_password

        from kneerehab.users.models import User

        password = make_password(PASSWORD)  # hashed once: every bench account shares it
        tz = (timezones * len(usernames))[: len(usernames)] if len(timezones) == 1 else timezones
        rows = ((name, f"{name}@bench.invalid", password, role, zone, True, self.now)
                for name, zone in zip(usernames, tz, strict=True))
        self.counts["users"] += copy_rows(
            User, ["username", "email", "password", "role", "timezone", "is_active", "date_joined"], rows,
            now=self.now)
        ids = dict(User.objects.filter(username__in=usernames).values_list("username", "id"))
        return [ids[name] for name in usernames]

    def caseloads(self, specs: list[PatientSpec], physio_ids: list[int]) -> None:
        from kneerehab.users.models import CaseloadLink

        rows = ((physio_ids[spec.physio_index], spec.user_id, self.now) for spec in specs)
        self.counts["caseload_links"] += copy_rows(
            CaseloadLink, ["physiotherapist_id", "patient_id", "created_at"], rows, now=self.now)

    def start_date(self, spec: PatientSpec) -> date:
        return self.today - timedelta(days=spec.days)

    def plans(self, specs: list[PatientSpec], physio_ids: list[int], paths) -> None:
        from plans.models import PhaseChange, Plan

        def rows():
            for spec in specs:
                started = datetime.combine(self.start_date(spec), datetime.min.time(), UTC)
                phase_started = started + timedelta(days=spec.days * self._phase_offset(spec.phase))
                yield (spec.user_id, physio_ids[spec.physio_index], spec.condition_id, self.start_date(spec),
                       "active", spec.phase, phase_started, json.dumps(["08:00"]), started, started)

        self.counts["plans"] += copy_rows(
            Plan, ["patient_id", "physiotherapist_id", "condition_id", "start_date", "status", "current_phase",
                   "phase_started_at", "reminder_times", "created_at", "updated_at"], rows(), now=self.now)
        plan_ids = dict(Plan.objects.filter(patient_id__in=[s.user_id for s in specs]).values_list(
            "patient_id", "id"))
        for spec in specs:
            spec.plan_id = plan_ids[spec.user_id]

        order = ["rice", "physiotherapy", "return_to_activity"]

        def changes():
            for spec in specs:
                started = datetime.combine(self.start_date(spec), datetime.min.time(), UTC)
                physio_id = physio_ids[spec.physio_index]
                yield (spec.plan_id, "start", "", "rice", physio_id, "Plan assigned.", started)
                for i in range(1, order.index(spec.phase) + 1):
                    at = started + timedelta(days=spec.days * self._phase_offset(order[i]))
                    yield (spec.plan_id, "advance", order[i - 1], order[i], physio_id, "Exit criteria met.", at)

        self.counts["phase_changes"] += copy_rows(
            PhaseChange, ["plan_id", "kind", "from_phase", "to_phase", "changed_by_id", "reason", "created_at"],
            changes(), now=self.now)

    @staticmethod
    def _phase_offset(phase: str) -> float:
        """When, as a fraction of the plan's age, the plan entered this phase."""
        return {"rice": 0.0, "physiotherapy": 0.15, "return_to_activity": 0.6}[phase]

    def plan_exercises(self, specs: list[PatientSpec], paths) -> dict[int, list[tuple[int, int]]]:
        """Copies each plan's path; returns, per plan, (plan exercise id, times per day) of the current phase."""
        from plans.models import PlanExercise

        def rows():
            for spec in specs:
                for pe in paths[spec.condition_id]:
                    yield (spec.plan_id, pe.phase, pe.exercise_id, pe.order, *pe.dose)

        self.counts["plan_exercises"] += copy_rows(
            PlanExercise, ["plan_id", "phase", "exercise_id", "order", "sets", "reps", "hold_seconds",
                           "times_per_day", "days_per_week"], rows(), now=self.now)
        phase_of = {spec.plan_id: spec.phase for spec in specs}
        current: dict[int, list[tuple[int, int]]] = defaultdict(list)
        for pe_id, plan_id, phase, times in PlanExercise.objects.filter(plan_id__in=list(phase_of)).values_list(
                "id", "plan_id", "phase", "times_per_day").order_by("plan_id", "order", "id"):
            if phase_of[plan_id] == phase:
                current[plan_id].append((pe_id, times))
        return current

    def history(self, specs: list[PatientSpec], physio_ids: list[int], plan_exercises) -> None:
        from plans.models import ReminderDelivery
        from tracker.models import Alert, CheckIn, ExerciseLog

        rng = self.rng
        zones = {name: ZoneInfo(name) for name in TIMEZONES}
        flags = ["fever"]

        def checkins():
            for spec in specs:
                zone = zones[spec.timezone]
                start = self.start_date(spec)
                for day in range(spec.days):
                    local = date.fromordinal(start.toordinal() + day)
                    at = datetime(local.year, local.month, local.day, 8, rng.randrange(60),
                                  tzinfo=zone).astimezone(UTC)
                    trend = 1 - day / max(spec.days, 1)
                    rest = max(0, min(10, round(1 + 5 * trend + rng.uniform(-1, 1))))
                    activity = min(10, rest + rng.randrange(3))
                    last = day == spec.days - 1
                    urgent = spec.alert and last
                    yield (spec.user_id, spec.plan_id, uuid.UUID(int=rng.getrandbits(128), version=4), at, at,
                           rest, activity, SWELLING_BY_PAIN[rest], urgent,
                           "urgent" if urgent else "none", PROMPT_URGENT if urgent else PROMPT_NONE, "")

        self.log("check-ins")
        self.counts["checkins"] += copy_rows(
            CheckIn, ["patient_id", "plan_id", "client_id", "recorded_at", "created_at", "pain_at_rest",
                      "pain_during_activity", "swelling", *flags, "prompt_level", "prompt", "request_fingerprint"],
            checkins(), now=self.now)

        def logs():
            for spec in specs:
                start = self.start_date(spec)
                exercises = plan_exercises[spec.plan_id]
                for day in range(spec.days):
                    local = date.fromordinal(start.toordinal() + day)
                    created = datetime(local.year, local.month, local.day, 18, tzinfo=UTC)
                    for pe_id, times in exercises:
                        for _ in range(times):
                            if rng.random() < 0.8:
                                yield (spec.user_id, pe_id, local, 3, 10, rng.randrange(4),
                                       uuid.UUID(int=rng.getrandbits(128), version=4), created)

        self.log("exercise logs")
        self.counts["exercise_logs"] += copy_rows(
            ExerciseLog, ["patient_id", "plan_exercise_id", "date", "sets_done", "reps_done", "pain_during",
                          "client_id", "created_at"], logs(), now=self.now)

        def reminders():
            for spec in specs:
                start = self.start_date(spec)
                zone = zones[spec.timezone]
                for day in range(spec.days):
                    local = date.fromordinal(start.toordinal() + day)
                    due = datetime(local.year, local.month, local.day, 8, tzinfo=zone).astimezone(UTC)
                    yield (spec.plan_id, local, "08:00", "reminder", due, "sent", 1, due, due, due)

        self.log("reminder deliveries")
        self.counts["reminder_deliveries"] += copy_rows(
            ReminderDelivery, ["plan_id", "local_date", "slot", "kind", "due_at", "status", "attempts",
                               "created_at", "claimed_at", "sent_at"], reminders(), now=self.now)

        alerting = {spec.user_id: spec for spec in specs if spec.alert}
        urgent = CheckIn.objects.filter(patient_id__in=list(alerting), prompt_level="urgent").values_list(
            "id", "patient_id", "recorded_at")
        rows = ((patient_id, physio_ids[alerting[patient_id].physio_index], checkin_id, "urgent", ALERT_REASONS,
                 "open", at) for checkin_id, patient_id, at in urgent)
        self.counts["alerts"] += copy_rows(
            Alert, ["patient_id", "physiotherapist_id", "checkin_id", "level", "reasons", "status", "created_at"],
            rows, now=self.now)


def seed_due_reminders(count: int, *, now: datetime, verbose: bool = True) -> dict:
    """`count` patients, each with an active plan whose reminder fell due a minute before `now`.

    The patients are spread over several time zones; each zone's plans carry the
    local time of `now - 1 minute` as their reminder slot, so every reminder is
    due and none is late. Each patient logged one exercise yesterday, as an
    adherent patient does (so the reminder goes out as a reminder, not a
    follow-up), and has an email address (so the email channel is queued too).
    """
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from kneerehab.users.models import CaseloadLink, User
    from plans.models import Plan, PlanExercise
    from tracker.models import ExerciseLog

    started = time.monotonic()
    paths = catalogue_paths()
    condition_ids = sorted(paths)
    due = now - timedelta(minutes=1)
    local = {name: due.astimezone(ZoneInfo(name)) for name in TIMEZONES}
    password = make_password(PASSWORD)
    created = now - timedelta(days=20)
    rng = random.Random(7)

    def zone_of(i: int) -> str:
        return TIMEZONES[i % len(TIMEZONES)]

    with transaction.atomic():
        copy_rows(User, ["username", "email", "password", "role", "timezone", "is_active", "date_joined"],
                  ((f"bench-due-{i:06d}", f"bench-due-{i:06d}@bench.invalid", password,
                    "physiotherapist" if i == 0 else "patient", zone_of(i), True, created)
                   for i in range(count + 1)), now=now)
        ids = dict(User.objects.filter(username__startswith="bench-due-").values_list("username", "id"))
        physio_id = ids.pop("bench-due-000000")
        patients = [(ids[f"bench-due-{i:06d}"], zone_of(i)) for i in range(1, count + 1)]
        copy_rows(CaseloadLink, ["physiotherapist_id", "patient_id", "created_at"],
                  ((physio_id, pid, created) for pid, _ in patients), now=now)
        copy_rows(Plan, ["patient_id", "physiotherapist_id", "condition_id", "start_date", "status", "current_phase",
                         "phase_started_at", "reminder_times", "created_at", "updated_at"],
                  ((pid, physio_id, condition_ids[i % len(condition_ids)], created.date(), "active", "physiotherapy",
                    created, json.dumps([local[zone].strftime("%H:%M")]), created, created)
                   for i, (pid, zone) in enumerate(patients)), now=now)
        plans = list(Plan.objects.filter(patient_id__in=[pid for pid, _ in patients]).values_list(
            "id", "condition_id", "patient_id", "patient__timezone"))
        copy_rows(PlanExercise, ["plan_id", "phase", "exercise_id", "order", "sets", "reps", "hold_seconds",
                                 "times_per_day", "days_per_week"],
                  ((plan_id, pe.phase, pe.exercise_id, pe.order, *pe.dose)
                   for plan_id, condition_id, _, _ in plans for pe in paths[condition_id]), now=now)
        first_exercise = dict(
            PlanExercise.objects.filter(plan_id__in=[p[0] for p in plans], phase="physiotherapy")
            .order_by("plan_id", "order", "id").distinct("plan_id").values_list("plan_id", "id"))
        copy_rows(ExerciseLog, ["patient_id", "plan_exercise_id", "date", "sets_done", "reps_done", "pain_during",
                                "client_id", "created_at"],
                  ((patient_id, first_exercise[plan_id], local[zone].date() - timedelta(days=1), 3, 10, 1,
                    uuid.UUID(int=rng.getrandbits(128), version=4), created)
                   for plan_id, _, patient_id, zone in plans if plan_id in first_exercise), now=now)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    seconds = round(time.monotonic() - started, 1)
    if verbose:
        print(f"  seed: {count:,} due reminders over {len(TIMEZONES)} time zones in {seconds} s", flush=True)
    return {"patients": count, "time_zones": len(TIMEZONES), "due_at": due.isoformat(), "seconds": seconds}


def main(argv: list[str] | None = None) -> None:
    import os

    import django

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true", help="a quick set: 5 physios, 300 patients, 30 days")
    parser.add_argument("--physios", type=int)
    parser.add_argument("--patients", type=int)
    parser.add_argument("--days", type=int)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    django.setup()
    sizes = Sizes.small() if args.small else Sizes()
    for name in ("physios", "patients", "days"):
        if getattr(args, name):
            setattr(sizes, name, getattr(args, name))
    Seeder(sizes).run()


if __name__ == "__main__":
    main()

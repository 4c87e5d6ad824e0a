"""Reading and checking the condition catalogue file (see conditions/catalog/FORMAT.md).

`catalog_read()` parses the YAML, checks every entry against the format and returns a
`Catalog` whose values are ready for the models. Every problem found is collected, each
naming the entry it is in, for example

    conditions[3] (meniscus-tear).phases[1] (physiotherapy).exercises[2]: unknown exercise 'foo'

(indexes count from 0, as in the file's lists), and raised together as one `CatalogError`,
so whoever edits the file sees all that is wrong at once. Nothing here touches the database.

The pieces (`check_exit_criteria`, `check_warnings`, …) are also used by the admin, so that
a staff edit cannot store what the file could not.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kneerehab.errors import ApplicationError

from .models import BodyArea, Dose, PhaseKey
from .symptoms import CHECKIN_METRICS, DEPRECATED_FLAGS, SYMPTOM_FLAGS, Swelling

CATALOG_PATH = Path(__file__).resolve().parent / "catalog" / "catalog.yaml"

SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# The database's own limits (Dose.dose_constraints), checked here first so that a bad
# dose is reported against its entry instead of failing as an IntegrityError mid-load.
DOSE_RANGES = Dose.DOSE_RANGES

SWELLING_LEVELS = tuple(Swelling.values)
EXIT_METRICS = (*CHECKIN_METRICS, "adherence_percent", "days_in_phase")
COMPARISONS = ("lt", "lte", "eq", "gte", "gt")
# Phases that end when their exit criteria hold; the last phase simply runs its course.
PHASES_WITH_EXIT_CRITERIA = (PhaseKey.RICE, PhaseKey.PHYSIOTHERAPY)

SMALLINT_MAX = 32767


def checkin_flags() -> tuple[str, ...]:
    """The yes/no check-in fields a warning may be triggered by."""
    return SYMPTOM_FLAGS


# The pain scores are check-in questions too: a red flag about how bad the pain is ("severe pain")
# is asked by them, not by a yes/no question.
PAIN_SCORES = ("pain_at_rest", "pain_during_activity")


def retired_flags() -> tuple[str, ...]:
    """Yes/no fields older clients still send but the check-in no longer asks."""
    return DEPRECATED_FLAGS


def red_flag_questions() -> tuple[str, ...]:
    """The check-in questions a red flag may name: those the check-in asks today."""
    retired = retired_flags()
    return (*(flag for flag in checkin_flags() if flag not in retired), *PAIN_SCORES)


class CatalogError(ApplicationError):
    """The catalogue file cannot be loaded; `errors` lists every problem, each naming its entry."""

    def __init__(self, errors: list[str], *, source: str = ""):
        self.errors = list(errors)
        where = f"{source}: " if source else ""
        count = len(self.errors)
        shown = self.errors[:50]
        more = [f"… and {count - len(shown)} more"] if count > len(shown) else []
        message = f"{where}{count} problem{'s' if count != 1 else ''} in the catalogue:\n" + "\n".join(
            f"  - {error}" for error in [*shown, *more]
        )
        super().__init__(message, code="invalid_catalog")


# ---------------------------------------------------------------------------
# What a checked catalogue looks like: plain values named as the model fields.


@dataclass(frozen=True)
class PhaseExerciseEntry:
    exercise: str  # slug
    order: int
    dose: dict[str, int]  # all five dose fields: the exercise's default with the phase's overrides


@dataclass(frozen=True)
class PhaseEntry:
    key: str
    order: int
    fields: dict[str, Any]  # name, goals, guidance, duration_days_min/max, exit_criteria
    exercises: tuple[PhaseExerciseEntry, ...]


@dataclass(frozen=True)
class ConditionEntry:
    slug: str
    fields: dict[str, Any]  # every Condition field the file sets, by model field name
    phases: tuple[PhaseEntry, ...]


@dataclass(frozen=True)
class ExerciseEntry:
    slug: str
    fields: dict[str, Any]  # every Exercise field the file sets, default dose included


@dataclass(frozen=True)
class Catalog:
    version: int
    exercises: tuple[ExerciseEntry, ...]
    conditions: tuple[ConditionEntry, ...]


# ---------------------------------------------------------------------------
# Parsing


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML, except that a key given twice in one mapping is an error instead of a silent overwrite."""


def _construct_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"found the key {key!r} twice", key_node.start_mark
            )
        seen[key] = True
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def parse_yaml(text: str, *, source: str = "") -> Any:
    try:
        # _UniqueKeyLoader is a SafeLoader: no arbitrary objects are built.
        return yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506  # nosec B506
    except yaml.YAMLError as exc:
        raise CatalogError([f"not valid YAML: {exc}"], source=source) from exc


def catalog_read(*, path: Path | str | None = None) -> Catalog:
    """Parse and check the catalogue file (by default the one in the repository)."""
    path = Path(path) if path is not None else CATALOG_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CatalogError([f"cannot read the file: {exc.strerror or exc}"], source=str(path)) from exc
    return catalog_check(parse_yaml(text, source=str(path)), source=str(path))


def catalog_check(data: Any, *, source: str = "") -> Catalog:
    """Check parsed catalogue data; return it as model-ready values or raise CatalogError listing every problem."""
    checker = _Checker()
    catalog = checker.catalog(data)
    if checker.errors:
        raise CatalogError(checker.errors, source=source)
    return catalog


# ---------------------------------------------------------------------------
# Checks usable one by one (the admin forms use these for the JSON fields).


def check_exit_criteria(value: Any, *, phase_key: str, path: str = "exit_criteria") -> list[str]:
    checker = _Checker()
    checker.exit_criteria(value, path, phase_key=phase_key)
    return checker.errors


def check_warnings(value: Any, *, path: str = "warnings") -> list[str]:
    checker = _Checker()
    checker.warnings(value, path)
    return checker.errors


def check_subtypes(value: Any, *, path: str = "subtypes") -> list[str]:
    checker = _Checker()
    checker.subtypes(value, path)
    return checker.errors


def check_sources(value: Any, *, path: str = "sources") -> list[str]:
    checker = _Checker()
    checker.sources(value, path)
    return checker.errors


def check_red_flags(value: Any, *, path: str = "red_flags") -> list[str]:
    checker = _Checker()
    checker.red_flags(value, path)
    return checker.errors


def check_text_list(value: Any, *, path: str, required: bool = True) -> list[str]:
    checker = _Checker()
    checker.text_list(value, path, required=required)
    return checker.errors


# ---------------------------------------------------------------------------


def _label(entry: Any, key: str) -> str:
    value = entry.get(key) if isinstance(entry, dict) else None
    return f" ({value})" if isinstance(value, str) and value else ""


def _quoted_label(entry: Any, key: str, *, length: int = 40) -> str:
    """A long text named by its beginning, e.g. ` ("Severe pain that does not ease with…")`; a bare text too."""
    value = entry.get(key) if isinstance(entry, dict) else entry
    if not isinstance(value, str) or not value.strip():
        return ""
    value = " ".join(value.split())
    if len(value) > length:  # cut at a word, so the label still reads as the text's beginning
        value = value[:length + 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"
    return f' ("{value}")'


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return {bool: "true/false", int: "a number", float: "a number", str: "text", list: "a list",
            dict: "a mapping"}.get(type(value), type(value).__name__)


@dataclass
class _Checker:
    errors: list[str] = field(default_factory=list)

    def error(self, path: str, message: str) -> None:
        self.errors.append(f"{path}: {message}")

    # -- generic pieces ----------------------------------------------------

    def mapping(self, value: Any, path: str, *, required: set[str], optional: set[str] = frozenset()) -> bool:
        if not isinstance(value, dict):
            self.error(path, f"expected a mapping, found {_type_name(value)}")
            return False
        for key in sorted(set(value) - required - set(optional), key=str):
            allowed = ", ".join(sorted(required | set(optional)))
            self.error(path, f"unknown key {key!r} (allowed: {allowed})")
        for key in sorted(required - set(value)):
            self.error(path, f"missing {key!r}")
        return True

    def text(self, entry: dict, key: str, path: str, *, required: bool = True, max_length: int | None = None,
             nullable: bool = False) -> str:
        """A string value, stripped; '' when absent (or null, where null is allowed)."""
        value = entry.get(key)
        if value is None:
            if key in entry and not nullable and required:
                self.error(f"{path}.{key}", "must not be empty")
            return ""
        if not isinstance(value, str):
            self.error(f"{path}.{key}", f"expected text, found {_type_name(value)}")
            return ""
        value = value.strip()
        if required and not value:
            self.error(f"{path}.{key}", "must not be empty")
        if max_length is not None and len(value) > max_length:
            self.error(f"{path}.{key}", f"is {len(value)} characters long, at most {max_length} allowed")
        return value

    def text_list(self, value: Any, path: str, *, required: bool = True) -> list[str]:
        if value is None and not required:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list of texts, found {_type_name(value)}")
            return []
        if required and not value:
            self.error(path, "must list at least one item")
        items = []
        for index, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.error(f"{path}[{index}]", f"expected non-empty text, found {_type_name(item)} {item!r}")
                continue
            items.append(item.strip())
        return items

    def slug(self, entry: dict, path: str, *, max_length: int = 80) -> str:
        value = entry.get("slug")
        if "slug" not in entry:
            return ""
        if not isinstance(value, str) or not SLUG_RE.match(value):
            self.error(f"{path}.slug", f"{value!r} is not lower-case-hyphenated (e.g. 'meniscus-tear')")
            return ""
        if len(value) > max_length:
            self.error(f"{path}.slug", f"is longer than {max_length} characters")
        return value

    def count(self, value: Any, path: str, *, low: int, high: int) -> int | None:
        if not _is_int(value):
            self.error(path, f"expected a whole number, found {_type_name(value)} {value!r}")
            return None
        if not low <= value <= high:
            self.error(path, f"{value} is out of range ({low}–{high})")
            return None
        return value

    def min_max(self, value: Any, path: str, *, low: int = 0) -> tuple[int, int] | None:
        if not self.mapping(value, path, required={"min", "max"}):
            return None
        if "min" not in value or "max" not in value:
            return None
        low_value = self.count(value["min"], f"{path}.min", low=low, high=SMALLINT_MAX)
        high_value = self.count(value["max"], f"{path}.max", low=low, high=SMALLINT_MAX)
        if low_value is None or high_value is None:
            return None
        if low_value > high_value:
            self.error(path, f"min ({low_value}) is greater than max ({high_value})")
            return None
        return low_value, high_value

    def dose(self, value: Any, path: str, *, complete: bool) -> dict[str, int]:
        fields = set(DOSE_RANGES)
        if not self.mapping(value, path, required=fields if complete else set(), optional=fields):
            return {}
        dose = {}
        for name, (low, high) in DOSE_RANGES.items():
            if name in value:
                checked = self.count(value[name], f"{path}.{name}", low=low, high=high)
                if checked is not None:
                    dose[name] = checked
        return dose

    def unique(self, slugs: list[tuple[str, str]], what: str) -> None:
        first_seen: dict[str, str] = {}
        for path, slug in slugs:
            if not slug:
                continue
            if slug in first_seen:
                self.error(path, f"{what} {slug!r} is already used by {first_seen[slug]}")
            else:
                first_seen[slug] = path

    # -- the file ------------------------------------------------------------

    def catalog(self, data: Any) -> Catalog:
        if not self.mapping(data, "catalog", required={"version", "exercises", "conditions"}):
            return Catalog(version=0, exercises=(), conditions=())
        version = self.count(data.get("version"), "version", low=1, high=2**31 - 1) if "version" in data else 0

        raw_exercises = data.get("exercises", [])
        exercises: list[ExerciseEntry] = []
        if not isinstance(raw_exercises, list) or not raw_exercises:
            self.error("exercises", "expected a non-empty list of exercises")
            raw_exercises = raw_exercises if isinstance(raw_exercises, list) else []
        for index, raw in enumerate(raw_exercises):
            entry = self.exercise(raw, f"exercises[{index}]{_label(raw, 'slug')}")
            if entry is not None:
                exercises.append(entry)
        self.unique([(f"exercises[{i}]{_label(raw, 'slug')}.slug", raw.get("slug"))
                     for i, raw in enumerate(raw_exercises) if isinstance(raw, dict)
                     and isinstance(raw.get("slug"), str)], "slug")
        default_doses = {entry.slug: {name: entry.fields[name] for name in DOSE_RANGES if name in entry.fields}
                         for entry in exercises}
        # Slugs that exist but were invalid elsewhere must not also be reported as unknown.
        known_slugs = {raw.get("slug") for raw in raw_exercises if isinstance(raw, dict)}

        raw_conditions = data.get("conditions", [])
        conditions: list[ConditionEntry] = []
        if not isinstance(raw_conditions, list) or not raw_conditions:
            self.error("conditions", "expected a non-empty list of conditions")
            raw_conditions = raw_conditions if isinstance(raw_conditions, list) else []
        for index, raw in enumerate(raw_conditions):
            entry = self.condition(raw, f"conditions[{index}]{_label(raw, 'slug')}", default_doses=default_doses,
                                   known_slugs=known_slugs)
            if entry is not None:
                conditions.append(entry)
        self.unique([(f"conditions[{i}]{_label(raw, 'slug')}.slug", raw.get("slug"))
                     for i, raw in enumerate(raw_conditions) if isinstance(raw, dict)
                     and isinstance(raw.get("slug"), str)], "slug")
        return Catalog(version=version or 0, exercises=tuple(exercises), conditions=tuple(conditions))

    def exercise(self, raw: Any, path: str) -> ExerciseEntry | None:
        if not self.mapping(raw, path, required={"slug", "name", "body_area", "instructions", "stop_if",
                                                 "default_dose"}, optional={"feel"}):
            return None
        before = len(self.errors)
        slug = self.slug(raw, path)
        fields: dict[str, Any] = {
            "name": self.text(raw, "name", path, max_length=120),
            "body_area": raw.get("body_area"),
            "instructions": self.text(raw, "instructions", path),
            "feel": self.text(raw, "feel", path, required=False, nullable=True),
            "stop_if": self.text(raw, "stop_if", path),
        }
        if "body_area" in raw and fields["body_area"] not in BodyArea.values:
            self.error(f"{path}.body_area", f"{fields['body_area']!r} is not one of {', '.join(BodyArea.values)}")
        if "default_dose" in raw:
            fields.update(self.dose(raw["default_dose"], f"{path}.default_dose", complete=True))
        if len(self.errors) > before or not slug:
            return None
        return ExerciseEntry(slug=slug, fields=fields)

    def condition(self, raw: Any, path: str, *, default_doses: dict, known_slugs: set) -> ConditionEntry | None:
        if not self.mapping(
            raw, path,
            required={"slug", "name", "summary", "causes", "symptoms", "typical_recovery", "typical_recovery_weeks",
                      "home_care", "red_flags", "sources"},
            optional={"also_known_as", "subtypes", "urgent_care_note", "surgery_note", "warnings", "phases"},
        ):
            return None
        before = len(self.errors)
        slug = self.slug(raw, path)
        fields: dict[str, Any] = {
            "name": self.text(raw, "name", path, max_length=120),
            "also_known_as": self.text_list(raw.get("also_known_as"), f"{path}.also_known_as", required=False),
            "subtypes": self.subtypes(raw.get("subtypes"), f"{path}.subtypes"),
            "summary": self.text(raw, "summary", path),
            "causes": self.text_list(raw.get("causes"), f"{path}.causes") if "causes" in raw else [],
            "symptoms": self.text_list(raw.get("symptoms"), f"{path}.symptoms") if "symptoms" in raw else [],
            "typical_recovery": self.text(raw, "typical_recovery", path, max_length=300),
            "urgent_care_note": self.text(raw, "urgent_care_note", path, required=False, nullable=True),
            "surgery_note": self.text(raw, "surgery_note", path, required=False, nullable=True),
            "red_flags": self.red_flags(raw.get("red_flags"), f"{path}.red_flags") if "red_flags" in raw else [],
            "warnings": self.warnings(raw.get("warnings", []), f"{path}.warnings"),
            "sources": self.sources(raw.get("sources"), f"{path}.sources") if "sources" in raw else [],
        }
        weeks = self.min_max(raw["typical_recovery_weeks"], f"{path}.typical_recovery_weeks") \
            if "typical_recovery_weeks" in raw else None
        if weeks:
            fields["recovery_weeks_min"], fields["recovery_weeks_max"] = weeks

        home_care = raw.get("home_care")
        if "home_care" in raw and not isinstance(home_care, bool):
            self.error(f"{path}.home_care", f"expected true or false, found {_type_name(home_care)}")
        fields["home_care"] = home_care is True
        raw_phases = raw.get("phases") or []
        phases: tuple[PhaseEntry, ...] = ()
        if home_care is False:
            if not fields["urgent_care_note"]:
                self.error(f"{path}.urgent_care_note",
                           "is required when home_care is false: say plainly what care is needed and how urgently")
            if raw_phases:
                self.error(f"{path}.phases", "must be empty when home_care is false (no home plan)")
        elif home_care is True:
            phases = self.phases(raw.get("phases"), f"{path}.phases", default_doses=default_doses,
                                 known_slugs=known_slugs)
        if len(self.errors) > before or not slug:
            return None
        return ConditionEntry(slug=slug, fields=fields, phases=phases)

    def subtypes(self, value: Any, path: str) -> list[dict]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list, found {_type_name(value)}")
            return []
        subtypes = []
        for index, raw in enumerate(value):
            item_path = f"{path}[{index}]{_label(raw, 'slug')}"
            if self.mapping(raw, item_path, required={"slug", "name", "summary"}):
                subtypes.append({"slug": self.slug(raw, item_path), "name": self.text(raw, "name", item_path),
                                 "summary": self.text(raw, "summary", item_path)})
        self.unique([(f"{path}[{i}].slug", s["slug"]) for i, s in enumerate(subtypes)], "subtype slug")
        return subtypes

    def sources(self, value: Any, path: str) -> list[dict]:
        if not isinstance(value, list) or not value:
            self.error(path, "expected a non-empty list of sources ({title, note})")
            return []
        sources = []
        for index, raw in enumerate(value):
            item_path = f"{path}[{index}]"
            if self.mapping(raw, item_path, required={"title"}, optional={"note"}):
                source = {"title": self.text(raw, "title", item_path)}
                note = self.text(raw, "note", item_path, required=False, nullable=True)
                if note:
                    source["note"] = note
                sources.append(source)
        return sources

    def red_flags(self, value: Any, path: str) -> list[dict]:
        """Each red flag says what to look out for and names the check-in question(s) that ask about it,
        so no red flag of the catalogue goes unasked."""
        if not isinstance(value, list):
            self.error(path, f"expected a list of red flags ({{text, asks}}), found {_type_name(value)}")
            return []
        if not value:
            self.error(path, "must list at least one item")
            return []
        red_flags = []
        first_seen: dict[str, int] = {}
        for index, raw in enumerate(value):
            item_path = f"{path}[{index}]{_quoted_label(raw, 'text')}"
            if isinstance(raw, str):
                self.error(item_path, "expected {text, asks}, found a text alone: name the check-in question(s) "
                                      "that ask about it under 'asks'")
                continue
            # 'asks' is checked below rather than reported as merely missing: a red flag without it is unasked.
            if not self.mapping(raw, item_path, required={"text"}, optional={"asks"}):
                continue
            text = self.text(raw, "text", item_path)
            asks = self.red_flag_asks(raw.get("asks"), f"{item_path}.asks")
            if text:
                if text in first_seen:
                    self.error(item_path, f"the same red flag is already listed at {path}[{first_seen[text]}]")
                else:
                    first_seen[text] = index
            red_flags.append({"text": text, "asks": asks})
        return red_flags

    def red_flag_asks(self, value: Any, path: str) -> list[str]:
        questions = red_flag_questions()
        if value is not None and not isinstance(value, list):
            self.error(path, f"expected a list of check-in questions, e.g. [fever], found {_type_name(value)} "
                             f"{value!r}")
            return []
        if not value:
            self.error(path, "names no check-in question: list the question(s) that ask about this red flag "
                             f"(one or more of {', '.join(questions)})")
            return []
        asks: list[str] = []
        for index, name in enumerate(value):
            if name in asks:
                self.error(f"{path}[{index}]", f"{name!r} is already named")
            elif isinstance(name, str) and name in retired_flags():
                self.error(f"{path}[{index}]", f"{name!r} is no longer asked by the check-in (it is kept for older "
                                               "app versions only): name the questions that replaced it")
            elif name not in questions:
                self.error(f"{path}[{index}]",
                           f"{name!r} is not a check-in question (one of {', '.join(questions)})")
            else:
                asks.append(name)
        return asks

    def warnings(self, value: Any, path: str) -> list[dict]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list, found {_type_name(value)}")
            return []
        warnings = []
        for index, raw in enumerate(value):
            item_path = f"{path}[{index}]{_label(raw, 'code')}"
            if not self.mapping(raw, item_path, required={"code", "message", "trigger"}):
                continue
            code = raw.get("code")
            if "code" in raw and (not isinstance(code, str) or not CODE_RE.match(code)):
                self.error(f"{item_path}.code", f"{code!r} is not a lower_snake_case code")
            warning = {"code": code, "message": self.text(raw, "message", item_path)}
            if "trigger" in raw:
                warning["trigger"] = self.trigger(raw["trigger"], f"{item_path}.trigger")
            warnings.append(warning)
        self.unique([(f"{path}[{i}].code", w["code"]) for i, w in enumerate(warnings)
                     if isinstance(w["code"], str)], "code")
        return warnings

    def trigger(self, value: Any, path: str) -> dict:
        if not self.mapping(value, path, required=set(), optional={"flag", "rise"}):
            return {}
        if len(value) != 1:
            self.error(path, "expected exactly one of 'flag' or 'rise'")
            return {}
        if "flag" in value:
            # One question, or a list of them: the warning holds when any is answered yes (a question and
            # the deprecated one older app versions still send).
            flags = checkin_flags()
            named = value["flag"] if isinstance(value["flag"], list) else [value["flag"]]
            if not named:
                self.error(f"{path}.flag", "names no check-in question")
            for name in named:
                if name not in flags:
                    self.error(f"{path}.flag", f"{name!r} is not a check-in question ({', '.join(flags)})")
            return {"flag": value["flag"]}
        rise = value["rise"]
        if not self.mapping(rise, f"{path}.rise", required={"metric", "by"}):
            return {}
        metric = rise.get("metric")
        if "metric" in rise and metric not in CHECKIN_METRICS:
            self.error(f"{path}.rise.metric", f"{metric!r} is not one of {', '.join(CHECKIN_METRICS)}")
            return {}
        if "by" in rise:
            top = len(SWELLING_LEVELS) - 1 if metric == "swelling" else 10
            self.count(rise["by"], f"{path}.rise.by", low=1, high=top)
        return {"rise": {"metric": metric, "by": rise.get("by")}}

    # -- the treatment path ---------------------------------------------------

    def phases(self, value: Any, path: str, *, default_doses: dict, known_slugs: set) -> tuple[PhaseEntry, ...]:
        expected = PhaseKey.ordered()
        if not isinstance(value, list):
            self.error(path, f"a home-care condition needs the phases {', '.join(expected)}, "
                             f"found {_type_name(value)}")
            return ()
        keys = [raw.get("key") if isinstance(raw, dict) else None for raw in value]
        if keys != expected:
            self.error(path, f"expected exactly the phases {', '.join(expected)} in that order, "
                             f"found {', '.join(map(str, keys)) or 'none'}")
        phases = []
        for index, raw in enumerate(value):
            entry = self.phase(raw, f"{path}[{index}]{_label(raw, 'key')}", order=index + 1,
                               default_doses=default_doses, known_slugs=known_slugs)
            if entry is not None:
                phases.append(entry)
        return tuple(phases)

    def phase(self, raw: Any, path: str, *, order: int, default_doses: dict, known_slugs: set) -> PhaseEntry | None:
        if not self.mapping(raw, path, required={"key", "name", "goals", "typical_duration_days", "exercises"},
                            optional={"guidance", "exit_criteria"}):
            return None
        before = len(self.errors)
        key = raw.get("key")
        if key not in PhaseKey.values:
            self.error(f"{path}.key", f"{key!r} is not one of {', '.join(PhaseKey.ordered())}")
        fields: dict[str, Any] = {
            "name": self.text(raw, "name", path, max_length=120),
            "goals": self.text_list(raw.get("goals"), f"{path}.goals") if "goals" in raw else [],
            "guidance": self.text(raw, "guidance", path, required=False, nullable=True),
            "exit_criteria": self.exit_criteria(raw.get("exit_criteria"), f"{path}.exit_criteria", phase_key=key),
        }
        duration = self.min_max(raw["typical_duration_days"], f"{path}.typical_duration_days", low=1) \
            if "typical_duration_days" in raw else None
        if duration:
            fields["duration_days_min"], fields["duration_days_max"] = duration
        exercises = self.phase_exercises(raw.get("exercises"), f"{path}.exercises", default_doses=default_doses,
                                         known_slugs=known_slugs) if "exercises" in raw else ()
        if len(self.errors) > before:
            return None
        return PhaseEntry(key=key, order=order, fields=fields, exercises=exercises)

    def phase_exercises(self, value: Any, path: str, *, default_doses: dict, known_slugs: set
                        ) -> tuple[PhaseExerciseEntry, ...]:
        if not isinstance(value, list) or not value:
            self.error(path, "expected a non-empty list of exercises ({exercise, dose})")
            return ()
        entries = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(value):
            item_path = f"{path}[{index}]"
            if not self.mapping(raw, item_path, required={"exercise"}, optional={"dose"}):
                continue
            slug = raw.get("exercise")
            if "exercise" not in raw:
                continue
            if not isinstance(slug, str) or slug not in known_slugs:
                self.error(item_path, f"unknown exercise {slug!r}")
                continue
            if slug in seen:
                self.error(item_path, f"exercise {slug!r} is already listed at {path}[{seen[slug]}]")
                continue
            seen[slug] = index
            override = self.dose(raw["dose"], f"{item_path}.dose", complete=False) if "dose" in raw else {}
            if slug in default_doses:
                entries.append(PhaseExerciseEntry(exercise=slug, order=index + 1,
                                                  dose={**default_doses[slug], **override}))
        return tuple(entries)

    def exit_criteria(self, value: Any, path: str, *, phase_key: str | None) -> list[dict]:
        needs_criteria = phase_key in PHASES_WITH_EXIT_CRITERIA
        if value is None or value == []:
            if needs_criteria:
                self.error(path, f"the {phase_key} phase needs at least one exit criterion")
            return []
        if not needs_criteria and phase_key in PhaseKey.values:
            self.error(path, f"the {phase_key} phase has no exit criteria (it is the last phase)")
            return []
        if not isinstance(value, list):
            self.error(path, f"expected a list of criteria, found {_type_name(value)}")
            return []
        criteria = []
        for index, raw in enumerate(value):
            criterion = self.criterion(raw, f"{path}[{index}]")
            if criterion is not None:
                criteria.append(criterion)
        return criteria

    def criterion(self, raw: Any, path: str) -> dict | None:
        if not self.mapping(raw, path, required={"metric", "op", "value"}, optional={"consecutive_checkins", "days"}):
            return None
        before = len(self.errors)
        metric, op, value = raw.get("metric"), raw.get("op"), raw.get("value")
        if "metric" in raw and metric not in EXIT_METRICS:
            self.error(f"{path}.metric", f"{metric!r} is not one of {', '.join(EXIT_METRICS)}")
            return None
        if "op" in raw and op not in COMPARISONS:
            self.error(f"{path}.op", f"{op!r} is not one of {', '.join(COMPARISONS)}")
        if "value" in raw and metric is not None:
            self.criterion_value(metric, value, f"{path}.value")
        criterion = {"metric": metric, "op": op, "value": value}

        if metric in CHECKIN_METRICS:
            wanted, unwanted = "consecutive_checkins", "days"
        elif metric == "adherence_percent":
            wanted, unwanted = "days", "consecutive_checkins"
        else:  # days_in_phase counts days since the phase began: no window
            wanted, unwanted = None, None
            for extra in ("consecutive_checkins", "days"):
                if extra in raw:
                    self.error(f"{path}.{extra}", f"does not apply to {metric}")
        if wanted:
            if wanted not in raw:
                self.error(path, f"{metric} needs {wanted!r} (over how many {wanted.replace('_', ' ')})")
            else:
                checked = self.count(raw[wanted], f"{path}.{wanted}", low=1, high=365)
                criterion[wanted] = checked
            if unwanted in raw:
                self.error(f"{path}.{unwanted}", f"does not apply to {metric} (use {wanted!r})")
        return criterion if len(self.errors) == before else None

    def criterion_value(self, metric: str, value: Any, path: str) -> None:
        if metric == "swelling":
            if value not in SWELLING_LEVELS:
                self.error(path, f"{value!r} is not a swelling level ({', '.join(SWELLING_LEVELS)})")
        elif metric in ("pain_at_rest", "pain_during_activity"):
            self.count(value, path, low=0, high=10)
        elif metric == "adherence_percent":
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 100:
                self.error(path, f"expected a percentage 0–100, found {value!r}")
        else:
            self.count(value, path, low=0, high=SMALLINT_MAX)

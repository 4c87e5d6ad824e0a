"""The condition catalogue: conditions, their staged treatment paths and the exercise library.

The rows are loaded from `conditions/catalog/catalog.yaml` (see FORMAT.md there)
and staff may edit them in the admin. Plans copy what they need when assigned,
so an edit never changes a plan that is already running.
"""
from django.db import models
from django.db.models import Q

from kneerehab.media.models import MediaFile

# Typographic quotes as phones type them, folded to the ASCII apostrophe for search.
_QUOTE_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def fold_for_search(text: str) -> str:
    """Lower-case, with curly apostrophes made straight, so "Baker’s" and "baker's" compare equal."""
    return text.translate(_QUOTE_FOLD).lower()


def condition_search_text(*, name: str, also_known_as: list, subtypes: list, symptoms: list) -> str:
    """What `?search=` looks through: names, other names, subtype names and symptoms.

    Kept as one plain text column because symptoms are a JSON list, and searching
    inside JSON differs between SQLite and PostgreSQL; `icontains` on text works on both.
    Names are also stored without apostrophes so that "bakers" finds "Baker's cyst".
    """
    names = [name, *also_known_as, *(subtype.get("name", "") for subtype in subtypes if isinstance(subtype, dict))]
    names = [fold_for_search(str(n)) for n in names if n]
    without_apostrophes = [n.replace("'", "") for n in names if "'" in n]
    lines = [*names, *without_apostrophes, *(fold_for_search(str(s)) for s in symptoms)]
    return "\n".join(lines)


class BodyArea(models.TextChoices):
    KNEE = "knee", "Knee"
    THIGH = "thigh", "Thigh"
    HAMSTRING = "hamstring", "Hamstring"
    CALF = "calf", "Calf"
    ANKLE = "ankle", "Ankle"
    HIP = "hip", "Hip"
    WHOLE_LEG = "whole_leg", "Whole leg"


class PhaseKey(models.TextChoices):
    """The three stages of every home-care path, in order."""

    RICE = "rice", "Protect and settle"
    PHYSIOTHERAPY = "physiotherapy", "Physiotherapy"
    RETURN_TO_ACTIVITY = "return_to_activity", "Return to activity"

    @classmethod
    def ordered(cls) -> list[str]:
        return [cls.RICE, cls.PHYSIOTHERAPY, cls.RETURN_TO_ACTIVITY]

    @classmethod
    def next_after(cls, key: str) -> str | None:
        order = cls.ordered()
        index = order.index(key)
        return order[index + 1] if index + 1 < len(order) else None

    @classmethod
    def before(cls, key: str) -> str | None:
        order = cls.ordered()
        index = order.index(key)
        return order[index - 1] if index > 0 else None


class Dose(models.Model):
    """How much of an exercise: used for library defaults, path doses and plan doses."""

    sets = models.PositiveSmallIntegerField(default=1)
    reps = models.PositiveSmallIntegerField(default=10)
    hold_seconds = models.PositiveSmallIntegerField(default=0)
    times_per_day = models.PositiveSmallIntegerField(default=1)
    days_per_week = models.PositiveSmallIntegerField(default=7)

    class Meta:
        abstract = True

    # The allowed range of each dose field: the database constraints below, the catalogue validator and
    # the plan services all read this one definition.
    DOSE_RANGES = {
        "sets": (1, 20),
        "reps": (1, 200),
        "hold_seconds": (0, 600),
        "times_per_day": (1, 6),
        "days_per_week": (1, 7),
    }
    DOSE_FIELDS = tuple(DOSE_RANGES)

    def dose(self) -> dict:
        return {field: getattr(self, field) for field in self.DOSE_FIELDS}

    @classmethod
    def dose_constraints(cls, prefix: str) -> list[models.CheckConstraint]:
        constraints = []
        for field, (low, high) in cls.DOSE_RANGES.items():
            bounds = {f"{field}__lte": high, **({f"{field}__gte": low} if low else {})}
            name = "hold" if field == "hold_seconds" else field  # the constraint's name since the first migration
            constraints.append(models.CheckConstraint(condition=Q(**bounds), name=f"{prefix}_{name}_range"))
        return constraints


class Exercise(Dose):
    """An exercise of the library; its dose fields are the default dose."""

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    body_area = models.CharField(max_length=20, choices=BodyArea.choices)
    instructions = models.TextField(help_text="What to do, step by step.")
    feel = models.TextField(blank=True, help_text="What the patient should feel.")
    stop_if = models.TextField(help_text="What to stop for, and what to do then.")
    updated_at = models.DateTimeField(auto_now=True)
    catalog_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="Fingerprint of the catalogue entry last loaded into this row; empty for rows made in the admin.",
    )

    class Meta:
        ordering = ["name"]
        constraints = Dose.dose_constraints("exercise")

    def __str__(self) -> str:
        return self.name


class Condition(models.Model):
    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=120)
    also_known_as = models.JSONField(default=list, blank=True)
    subtypes = models.JSONField(default=list, blank=True, help_text="[{slug, name, summary}]")
    summary = models.TextField()
    causes = models.JSONField(default=list)
    symptoms = models.JSONField(default=list)
    typical_recovery = models.CharField(max_length=300)
    recovery_weeks_min = models.PositiveSmallIntegerField()
    recovery_weeks_max = models.PositiveSmallIntegerField()
    home_care = models.BooleanField(
        default=True, help_text="False: the condition needs medical care and gets no home plan."
    )
    urgent_care_note = models.TextField(blank=True)
    surgery_note = models.TextField(blank=True)
    red_flags = models.JSONField(
        default=list,
        help_text="Symptoms that need medical attention the same day, each with the check-in questions that ask "
                  "about it: [{text, asks: [question, ...]}] (see catalog/FORMAT.md)",
    )
    warnings = models.JSONField(
        default=list, blank=True, help_text="Condition-specific reasons to see a clinician: [{code, message, trigger}]"
    )
    sources = models.JSONField(default=list, blank=True)
    catalog_version = models.PositiveIntegerField(default=1)
    updated_at = models.DateTimeField(auto_now=True)
    search_text = models.TextField(
        blank=True, editable=False, help_text="Derived on save from names, subtypes and symptoms; used by ?search=."
    )
    catalog_hash = models.CharField(
        max_length=64, blank=True, editable=False,
        help_text="Fingerprint of the catalogue entry (with its path) last loaded; empty for rows made in the admin.",
    )

    SEARCH_SOURCES = frozenset({"name", "also_known_as", "subtypes", "symptoms"})

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(recovery_weeks_min__lte=models.F("recovery_weeks_max")),
                name="condition_recovery_weeks_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # The admin and the loader both save through here, so the search column never goes stale.
        self.search_text = self.compose_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and self.SEARCH_SOURCES.intersection(update_fields):
            kwargs["update_fields"] = {*update_fields, "search_text"}
        super().save(*args, **kwargs)

    def compose_search_text(self) -> str:
        return condition_search_text(
            name=self.name, also_known_as=self.also_known_as or [], subtypes=self.subtypes or [],
            symptoms=self.symptoms or [],
        )


class TreatmentPhase(models.Model):
    condition = models.ForeignKey(Condition, on_delete=models.CASCADE, related_name="phases")
    key = models.CharField(max_length=32, choices=PhaseKey.choices)
    order = models.PositiveSmallIntegerField()
    name = models.CharField(max_length=120)
    goals = models.JSONField(default=list)
    guidance = models.TextField(blank=True)
    duration_days_min = models.PositiveSmallIntegerField()
    duration_days_max = models.PositiveSmallIntegerField()
    exit_criteria = models.JSONField(
        default=list, blank=True,
        help_text="[{metric, op, value, consecutive_checkins | days}], all must hold (see catalog/FORMAT.md)",
    )
    exercises = models.ManyToManyField(Exercise, through="PhaseExercise", related_name="phases")

    class Meta:
        ordering = ["condition", "order"]
        constraints = [
            models.UniqueConstraint(fields=["condition", "key"], name="phase_unique_key_per_condition"),
            models.UniqueConstraint(fields=["condition", "order"], name="phase_unique_order_per_condition"),
        ]

    def __str__(self) -> str:
        return f"{self.condition.name}: {self.get_key_display()}"


class PhaseExercise(Dose):
    """An exercise prescribed in a phase of a path, with its dose for that phase."""

    phase = models.ForeignKey(TreatmentPhase, on_delete=models.CASCADE, related_name="phase_exercises")
    exercise = models.ForeignKey(Exercise, on_delete=models.PROTECT, related_name="phase_uses")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["phase", "order"]
        constraints = [
            models.UniqueConstraint(fields=["phase", "exercise"], name="phase_exercise_unique"),
            *Dose.dose_constraints("phase_exercise"),
        ]

    def __str__(self) -> str:
        return f"{self.phase}: {self.exercise.name}"


class ExerciseMedia(MediaFile):
    """A picture or video of a library exercise.

    `shared` media (set by staff in the admin) are shown to everyone; a physiotherapist's own uploads to
    their patients only. There is no clinic yet: when clinics come, a physiotherapist's uploads become their
    clinic's.
    """

    exercise = models.ForeignKey(Exercise, on_delete=models.CASCADE, related_name="media")
    shared = models.BooleanField(default=False, help_text="Shown with this exercise to every patient.")

    MEDIA_FOLDER = "exercise-media"
    MEDIA_SOURCE = "library"
    FILE_URL_NAME = "exercise-media-file"

    class Meta(MediaFile.Meta):
        indexes = [models.Index(fields=["exercise", "uploaded_by"])]

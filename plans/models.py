"""Plans assigned to patients, their phase history, and the reminders they produce."""
from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from conditions.models import Dose, PhaseKey
from kneerehab.media.models import MediaFile


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    PAUSED = "paused", "Paused"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Progression(models.TextChoices):
    NONE = "", "None"
    ADVANCE = "advance", "Ready to advance"
    STEP_BACK = "step_back", "Step back"


class ClotRiskFactor(models.TextChoices):
    """Risk factors for a venous thrombosis that make clot signs weigh more (NICE NG158; Wells score)."""

    RECENT_SURGERY = "recent_surgery", "Recent surgery"
    IMMOBILISED = "immobilised", "Immobilised (cast, brace or bed rest)"
    CANCER = "cancer", "Active cancer"
    PREGNANCY_OR_POSTPARTUM = "pregnancy_or_postpartum", "Pregnant or recently gave birth"
    OESTROGEN_THERAPY = "oestrogen_therapy", "Oestrogen therapy (contraceptive pill or HRT)"
    PREVIOUS_CLOT = "previous_clot", "A previous blood clot"


class Plan(models.Model):
    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="plans")
    physiotherapist = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assigned_plans"
    )
    condition = models.ForeignKey("conditions.Condition", on_delete=models.PROTECT, related_name="plans")
    start_date = models.DateField()
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    current_phase = models.CharField(max_length=32, choices=PhaseKey.choices, default=PhaseKey.RICE)
    phase_started_at = models.DateTimeField()
    reminder_times = models.JSONField(default=list, help_text='Local times of day, e.g. ["08:00", "18:30"]')
    auto_advance = models.BooleanField(default=False, help_text="Advance by itself when exit criteria hold.")
    # Clinical context set by the physiotherapist; screening may only raise a level because of it.
    surgery_date = models.DateField(null=True, blank=True, help_text="Date of knee surgery, if any.")
    clot_risk_factors = models.JSONField(default=list, blank=True,
                                         help_text="Venous thrombosis risk factors (ClotRiskFactor values).")
    immunosuppressed = models.BooleanField(default=False)
    # The latest evaluation of the current phase's exit criteria (or of a worsening trend).
    progression = models.CharField(max_length=12, choices=Progression.choices, default="", blank=True)
    progression_reasons = models.JSONField(default=list, blank=True)
    progression_evaluated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "status"])]
        constraints = [
            # One running plan per patient per condition.
            models.UniqueConstraint(
                fields=["patient", "condition"],
                condition=Q(status__in=["active", "paused"]),
                name="plan_one_running_per_patient_condition",
            ),
            models.CheckConstraint(
                condition=Q(status__in=PlanStatus.values), name="plan_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(current_phase__in=PhaseKey.values), name="plan_phase_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.condition} plan for {self.patient} ({self.status})"


class ProgressionDue(models.Model):
    """A plan whose progression is to be re-evaluated, and from when: at most one row per plan.

    Check-ins and exercise logs insert it (keeping an earlier due time), the
    progression sweep claims and deletes it, then evaluates the plan once for
    however many records arrived meanwhile.
    """

    plan = models.OneToOneField(Plan, on_delete=models.CASCADE, primary_key=True, related_name="progression_due")
    due_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"progression of plan {self.plan_id} due at {self.due_at:%Y-%m-%d %H:%M:%S}"


class PlanExercise(Dose):
    """An exercise prescribed on a plan for one phase, copied from the path and possibly re-dosed."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="exercises")
    phase = models.CharField(max_length=32, choices=PhaseKey.choices)
    exercise = models.ForeignKey("conditions.Exercise", on_delete=models.PROTECT, related_name="plan_uses")
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["plan", "phase", "order"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "phase", "exercise"], name="plan_exercise_unique"),
            *Dose.dose_constraints("plan_exercise"),
        ]

    def __str__(self) -> str:
        return f"{self.exercise} ({self.phase}) on plan {self.plan_id}"


class PlanExerciseMedia(MediaFile):
    """A picture or video for one patient's exercise, e.g. a clip recorded with them in the clinic."""

    plan_exercise = models.ForeignKey(PlanExercise, on_delete=models.CASCADE, related_name="media")

    MEDIA_FOLDER = "plan-exercise-media"
    MEDIA_SOURCE = "plan"
    FILE_URL_NAME = "plan-exercise-media-file"


class PhaseChangeKind(models.TextChoices):
    START = "start", "Plan started"
    ADVANCE = "advance", "Advanced"
    AUTO_ADVANCE = "auto_advance", "Advanced automatically"
    STEP_BACK = "step_back", "Stepped back"
    COMPLETE = "complete", "Completed"


class PhaseChange(models.Model):
    """Every move between phases: who, when and why."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="phase_changes")
    kind = models.CharField(max_length=16, choices=PhaseChangeKind.choices)
    from_phase = models.CharField(max_length=32, choices=PhaseKey.choices, blank=True)
    to_phase = models.CharField(max_length=32, choices=PhaseKey.choices, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        help_text="Empty when the system made the change.",
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.plan_id}: {self.from_phase or '-'} → {self.to_phase or '-'} ({self.kind})"


class SafetyHold(models.Model):
    """A plan paused for safety after an urgent or emergency prompt, until a physiotherapist clears it.

    While a hold is open the plan sends no exercise reminders, Today shows the prompt's advice instead
    of exercises, and the plan does not progress. Cleared holds stay as the plan's history; the row says
    who cleared it, when and why.
    """

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="safety_holds")
    level = models.CharField(max_length=16, help_text="The prompt level that placed it: urgent or emergency.")
    reasons = models.JSONField(default=list, help_text="[{code, message}] of the prompt.")
    advice = models.TextField(help_text="What the prompt told the patient to do.")
    checkin = models.ForeignKey("tracker.CheckIn", null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="+", help_text="The check-in that placed (or last raised) it.")
    exercise_log = models.ForeignKey("tracker.ExerciseLog", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+", help_text="The exercise log that placed it, if one did.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    clear_note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["plan"], condition=Q(cleared_at__isnull=True),
                                    name="safety_hold_one_open_per_plan"),
            # Clearing a hold is a clinical decision: it always says who and why.
            models.CheckConstraint(
                condition=Q(cleared_at__isnull=True) | (Q(cleared_by__isnull=False) & ~Q(clear_note="")),
                name="safety_hold_cleared_with_note",
            ),
            models.CheckConstraint(condition=Q(level__in=["urgent", "emergency"]), name="safety_hold_level_valid"),
        ]

    def __str__(self) -> str:
        state = f"cleared {self.cleared_at:%Y-%m-%d}" if self.cleared_at else "open"
        return f"{self.level} safety hold on plan {self.plan_id} ({state})"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class ReminderDelivery(models.Model):
    """One reminder: a plan, a local date and a slot. The unique constraint makes a retry harmless."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminder_deliveries")
    local_date = models.DateField()
    slot = models.CharField(max_length=5, help_text="Local time of day, HH:MM")
    kind = models.CharField(max_length=16, default="reminder")  # reminder | follow_up
    due_at = models.DateTimeField(help_text="The slot as an instant (UTC).")
    status = models.CharField(max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    skip_reason = models.CharField(max_length=200, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "local_date", "slot", "kind"], name="reminder_once_per_slot"),
        ]
        indexes = [
            models.Index(fields=["status", "due_at"], name="reminder_due_idx"),
            # The dispatcher's claim reads the due rows nobody holds in this order: a partial index stays as
            # small as the backlog, and no sort of every pending row per batch.
            models.Index(fields=["due_at", "id"], name="reminder_unclaimed_due_idx",
                         condition=models.Q(status="pending", claimed_at__isnull=True)),
            # Claims whose worker died, taken again after the lease.
            models.Index(fields=["claimed_at"], name="reminder_claimed_idx",
                         condition=models.Q(status="pending", claimed_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for plan {self.plan_id} on {self.local_date} at {self.slot} ({self.status})"


class ReminderDispatchState(models.Model):
    """How far the reminder dispatcher has turned reminder slots into rows (one row, key "reminders").

    Each run only looks at the slots that fell due since then, so a run costs
    the same whatever the number of plans, and after downtime the slots missed
    meanwhile are still recorded (as skipped, when too late to send).
    """

    KEY = "reminders"

    key = models.CharField(max_length=32, unique=True)
    materialised_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.key}: slots up to {self.materialised_until:%Y-%m-%d %H:%M} materialised"


class CalendarFeed(models.Model):
    """A patient's secret calendar subscription URL. Only a hash of its token is kept: a database read does not
    reveal a working URL. Revoking it (or making a new one) makes the old URL answer 404."""

    patient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feeds")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["patient"], condition=Q(revoked_at__isnull=True),
                                    name="calendar_feed_one_live_per_patient"),
        ]

    def __str__(self) -> str:
        return f"calendar feed of {self.patient_id}{' (revoked)' if self.revoked_at else ''}"


from django.contrib.auth.validators import UnicodeUsernameValidator
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from conditions.models import Dose, PhaseKey
from kneerehab.api.serializers import StrictFieldsMixin
from kneerehab.media.serializers import MediaSerializer
from kneerehab.users.api.serializers import OptionalEmailField, TimezoneField
from kneerehab.users.models import User

from ..models import ClotRiskFactor, PhaseChange, Plan, PlanExercise, PlanStatus, Progression
from ..selectors import media_for_plan_exercise

# --- caseload -------------------------------------------------------------------------------------------------


class ActivePlanSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    condition = serializers.CharField(help_text="Condition slug")
    condition_name = serializers.CharField()
    current_phase = serializers.ChoiceField(choices=PhaseKey.choices)
    status = serializers.ChoiceField(choices=PlanStatus.choices)


class PatientSerializer(serializers.ModelSerializer):
    """A patient on the caseload, with the figures a physiotherapist triages by."""

    active_plan = serializers.SerializerMethodField()
    email = OptionalEmailField(read_only=True)
    last_checkin_at = serializers.DateTimeField(read_only=True, allow_null=True)
    open_alert_count = serializers.IntegerField(read_only=True)
    adherence_7d = serializers.SerializerMethodField(
        help_text="Logged over prescribed sessions in the last 7 local days, in percent (null: nothing prescribed)."
    )

    class Meta:
        model = User
        fields = ["id", "username", "first_name", "last_name", "email", "timezone", "active_plan",
                  "last_checkin_at", "open_alert_count", "adherence_7d"]
        read_only_fields = fields

    @extend_schema_field(ActivePlanSummarySerializer(allow_null=True))
    def get_active_plan(self, patient):
        if patient.active_plan_id is None:
            return None
        return {
            "id": patient.active_plan_id,
            "condition": patient.active_plan_condition_slug,
            "condition_name": patient.active_plan_condition_name,
            "current_phase": patient.active_plan_phase,
            "status": patient.active_plan_status,
        }

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_adherence_7d(self, patient):
        return self.context["adherence"].get(patient.pk)


class PatientCreateSerializer(StrictFieldsMixin, serializers.Serializer):
    username = serializers.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    email = serializers.EmailField(required=False, allow_blank=True, default="")
    timezone = TimezoneField(max_length=64, required=False, default="UTC")
    password = serializers.CharField(
        required=False, allow_blank=True, write_only=True, trim_whitespace=False, style={"input_type": "password"},
        help_text="Optional; without one the patient cannot sign in until a password is set.",
    )


# --- plans ----------------------------------------------------------------------------------------------------


class ExerciseSummarySerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    instructions = serializers.CharField()


class PlanExerciseMediaMixin:
    """`media` on a plan exercise: its own pictures and videos, then those of its library exercise."""

    @extend_schema_field(MediaSerializer(many=True))
    def get_media(self, plan_exercise):
        physiotherapist_id = getattr(plan_exercise, "plan_physiotherapist_id", None)
        if physiotherapist_id is None:
            physiotherapist_id = plan_exercise.plan.physiotherapist_id
        items = media_for_plan_exercise(plan_exercise, physiotherapist_id=physiotherapist_id)
        return MediaSerializer(items, many=True, context=self.context).data


class PlanExerciseSerializer(PlanExerciseMediaMixin, serializers.ModelSerializer):
    exercise = ExerciseSummarySerializer(read_only=True)
    media = serializers.SerializerMethodField()

    class Meta:
        model = PlanExercise
        fields = ["id", "phase", "exercise", "sets", "reps", "hold_seconds", "times_per_day", "days_per_week",
                  "order", "media"]
        read_only_fields = fields


class PhaseChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True,
        help_text="Who made the change; null when the system advanced the plan by itself.",
    )
    # Declared so that the schema allows "" (read-only model fields lose allow_blank).
    from_phase = serializers.ChoiceField(choices=PhaseKey.choices, allow_blank=True, read_only=True,
                                         help_text='"" when the plan started.')
    to_phase = serializers.ChoiceField(choices=PhaseKey.choices, allow_blank=True, read_only=True,
                                       help_text='"" when the plan was completed.')

    class Meta:
        model = PhaseChange
        fields = ["kind", "from_phase", "to_phase", "changed_by", "reason", "created_at"]
        read_only_fields = fields


class ProgressionReasonSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="The metric (pain_at_rest, adherence_percent, …) or worsening_<metric>")
    met = serializers.BooleanField(help_text="Whether the statement in `message` holds.")
    message = serializers.CharField()


class ProgressionSerializer(serializers.Serializer):
    suggestion = serializers.ChoiceField(
        choices=Progression.choices, source="progression",
        help_text='"advance" when every exit criterion of the current phase holds, "step_back" on a sustained '
                  'worsening, else "".',
    )
    reasons = ProgressionReasonSerializer(many=True, source="progression_reasons")
    evaluated_at = serializers.DateTimeField(source="progression_evaluated_at", allow_null=True)


class SafetyHoldReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class SafetyHoldSerializer(serializers.Serializer):
    """An open safety hold: the plan is stopped until a physiotherapist clears it."""

    plan = serializers.IntegerField(source="plan_id")
    level = serializers.CharField(help_text="The prompt level that placed it: urgent or emergency.")
    reasons = SafetyHoldReasonSerializer(many=True)
    advice = serializers.CharField(help_text="What to do instead of the exercises: the prompt's advice.")
    checkin = serializers.IntegerField(source="checkin_id", allow_null=True)
    exercise_log = serializers.IntegerField(source="exercise_log_id", allow_null=True)
    created_at = serializers.DateTimeField()


def open_hold(plan) -> dict | None:
    """The plan's open hold from the `open_holds` prefetch of the selectors (at most one: a unique constraint)."""
    holds = getattr(plan, "open_holds", None)
    if holds is None:
        holds = list(plan.safety_holds.filter(cleared_at__isnull=True))
    return SafetyHoldSerializer(holds[0]).data if holds else None


class ClotRiskFactorsField(serializers.ListField):
    child = serializers.ChoiceField(choices=ClotRiskFactor.choices)

    def to_internal_value(self, data):
        values = super().to_internal_value(data)
        if len(set(values)) != len(values):
            raise serializers.ValidationError("Each risk factor may appear only once.")
        return values


class PlanContextMixin(serializers.Serializer):
    """The clinical context the physiotherapist records; screening may only raise a level because of it."""

    surgery_date = serializers.DateField(
        required=False, allow_null=True,
        help_text="Date of knee surgery, if any (null: none). When set, the check-in asks about the wound.")
    clot_risk_factors = ClotRiskFactorsField(
        required=False, help_text="Venous thrombosis risk factors: " + ", ".join(ClotRiskFactor.values) + ".")
    immunosuppressed = serializers.BooleanField(required=False, help_text="Immunosuppressed (infection risk).")


class PlanSerializer(serializers.ModelSerializer):
    patient_username = serializers.CharField(source="patient.username", read_only=True)
    physiotherapist_username = serializers.CharField(source="physiotherapist.username", read_only=True)
    condition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    condition_name = serializers.CharField(source="condition.name", read_only=True)
    exercises = PlanExerciseSerializer(many=True, read_only=True,
                                       help_text="The prescribed exercises of every phase, in path order.")
    progression = ProgressionSerializer(source="*", read_only=True)
    phase_history = PhaseChangeSerializer(source="phase_changes", many=True, read_only=True)
    reminder_times = serializers.ListField(child=serializers.CharField(), read_only=True,
                                           help_text='Local times of day, e.g. ["08:00", "18:30"]')
    clot_risk_factors = serializers.ListField(child=serializers.ChoiceField(choices=ClotRiskFactor.choices),
                                              read_only=True)
    safety_hold = serializers.SerializerMethodField(
        help_text="The open safety hold (no reminders, no exercises today, no progression), or null.")

    class Meta:
        model = Plan
        fields = ["id", "patient", "patient_username", "physiotherapist", "physiotherapist_username", "condition",
                  "condition_name", "start_date", "status", "current_phase", "phase_started_at", "reminder_times",
                  "auto_advance", "surgery_date", "clot_risk_factors", "immunosuppressed", "safety_hold",
                  "exercises", "progression", "phase_history", "created_at", "updated_at"]
        read_only_fields = fields

    @extend_schema_field(SafetyHoldSerializer(allow_null=True))
    def get_safety_hold(self, plan) -> dict | None:
        return open_hold(plan)


PLAN_READ_ONLY = tuple(PlanSerializer.Meta.fields)


class DoseOverrideSerializer(StrictFieldsMixin, serializers.Serializer):
    """Re-dose an exercise of one phase, add one from the library, or remove one (`remove: true`)."""

    phase = serializers.ChoiceField(choices=PhaseKey.choices)
    exercise = serializers.SlugField(help_text="Exercise slug")
    remove = serializers.BooleanField(required=False, help_text="Take the exercise off this phase.")
    sets = serializers.IntegerField(required=False, min_value=Dose.DOSE_RANGES["sets"][0],
                                    max_value=Dose.DOSE_RANGES["sets"][1])
    reps = serializers.IntegerField(required=False, min_value=Dose.DOSE_RANGES["reps"][0],
                                    max_value=Dose.DOSE_RANGES["reps"][1])
    hold_seconds = serializers.IntegerField(required=False, min_value=Dose.DOSE_RANGES["hold_seconds"][0],
                                            max_value=Dose.DOSE_RANGES["hold_seconds"][1])
    times_per_day = serializers.IntegerField(required=False, min_value=Dose.DOSE_RANGES["times_per_day"][0],
                                             max_value=Dose.DOSE_RANGES["times_per_day"][1])
    days_per_week = serializers.IntegerField(required=False, min_value=Dose.DOSE_RANGES["days_per_week"][0],
                                             max_value=Dose.DOSE_RANGES["days_per_week"][1])


class PlanCreateSerializer(StrictFieldsMixin, PlanContextMixin):
    read_only_names = PLAN_READ_ONLY

    patient = serializers.IntegerField(help_text="A patient on your caseload.")
    condition = serializers.SlugField(help_text="Condition slug from the catalogue.")
    start_date = serializers.DateField(required=False, help_text="Default: the patient's local today.")
    reminder_times = serializers.ListField(
        child=serializers.CharField(), required=False, help_text='Local times "HH:MM"; default ["08:00"].')
    auto_advance = serializers.BooleanField(required=False, default=False)
    overrides = DoseOverrideSerializer(many=True, required=False)


class PlanUpdateSerializer(StrictFieldsMixin, PlanContextMixin):
    read_only_names = PLAN_READ_ONLY

    status = serializers.ChoiceField(
        choices=PlanStatus.choices, required=False,
        help_text="active ↔ paused; active or paused → completed or cancelled; completed and cancelled are final.",
    )
    reminder_times = serializers.ListField(child=serializers.CharField(), required=False)
    auto_advance = serializers.BooleanField(required=False)
    overrides = DoseOverrideSerializer(many=True, required=False)


class PhaseMoveSerializer(StrictFieldsMixin, serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=2000,
                                   help_text="Why; recorded in the phase history.")
    from_phase = serializers.ChoiceField(
        choices=PhaseKey.choices, required=False,
        help_text="The phase you saw: if the plan has moved on meanwhile, nothing changes and the answer is 409.",
    )


class ClearHoldSerializer(StrictFieldsMixin, serializers.Serializer):
    note = serializers.CharField(max_length=2000, help_text="Why the plan may go on (e.g. what the patient was "
                                                            "advised, the outcome of the visit). Required.")


# --- today ----------------------------------------------------------------------------------------------------


class TodayExerciseDetailSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    instructions = serializers.CharField()
    feel = serializers.CharField()
    stop_if = serializers.CharField()


class TodayExerciseSerializer(PlanExerciseMediaMixin, serializers.ModelSerializer):
    exercise = TodayExerciseDetailSerializer(read_only=True)
    media = serializers.SerializerMethodField()
    logged_sessions = serializers.IntegerField(read_only=True, help_text="Sessions logged today.")
    done = serializers.SerializerMethodField(help_text="Today's sessions are all logged.")

    class Meta:
        model = PlanExercise
        fields = ["id", "plan", "phase", "exercise", "sets", "reps", "hold_seconds", "times_per_day",
                  "logged_sessions", "done", "media"]
        read_only_fields = fields

    def get_done(self, plan_exercise) -> bool:
        return plan_exercise.logged_sessions >= plan_exercise.times_per_day


class TodayPlanSerializer(serializers.ModelSerializer):
    condition = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    condition_name = serializers.CharField(source="condition.name", read_only=True)
    safety_hold = serializers.SerializerMethodField(help_text="The plan's open safety hold, or null.")

    class Meta:
        model = Plan
        fields = ["id", "condition", "condition_name", "current_phase", "phase_started_at", "safety_hold"]
        read_only_fields = fields

    @extend_schema_field(SafetyHoldSerializer(allow_null=True))
    def get_safety_hold(self, plan) -> dict | None:
        return open_hold(plan)


class TodaySerializer(serializers.Serializer):
    date = serializers.DateField(help_text="The patient's local date.")
    plan = serializers.IntegerField(allow_null=True, help_text="The (first) active plan; see `plans` for all.")
    phase = serializers.ChoiceField(choices=PhaseKey.choices, allow_null=True,
                                    help_text="That plan's current phase.")
    plans = TodayPlanSerializer(many=True)
    exercises = TodayExerciseSerializer(
        many=True, help_text="Today's exercises; none from a plan on a safety hold (see `safety_hold`).")
    safety_hold = SafetyHoldSerializer(
        allow_null=True,
        help_text="While any plan is on a safety hold: the latest hold, whose `advice` says what to do instead "
                  "of exercising. Null otherwise.")

    def to_representation(self, instance):
        first = instance["plans"][0] if instance["plans"] else None
        return super().to_representation({
            **instance, "plan": first.pk if first else None, "phase": first.current_phase if first else None,
        })

"""The catalogue as the API shows it. JSON columns get explicit serializers so the schema describes them."""
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..catalog_validation import red_flag_questions
from ..models import Condition, Exercise, PhaseExercise, TreatmentPhase


class NullIfBlankCharField(serializers.CharField):
    """A text that may be absent: shown as null rather than as an empty string."""

    def __init__(self, **kwargs):
        super().__init__(allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


class DoseSerializer(serializers.Serializer):
    sets = serializers.IntegerField()
    reps = serializers.IntegerField()
    hold_seconds = serializers.IntegerField()
    times_per_day = serializers.IntegerField()
    days_per_week = serializers.IntegerField()


class WeeksRangeSerializer(serializers.Serializer):
    min = serializers.IntegerField(source="recovery_weeks_min")
    max = serializers.IntegerField(source="recovery_weeks_max")


class DaysRangeSerializer(serializers.Serializer):
    min = serializers.IntegerField(source="duration_days_min")
    max = serializers.IntegerField(source="duration_days_max")


class SubtypeSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    summary = serializers.CharField()


class SourceSerializer(serializers.Serializer):
    title = serializers.CharField()
    note = serializers.CharField(required=False)


class RedFlagSerializer(serializers.Serializer):
    text = serializers.CharField(help_text="What to look out for, in the patient's words.")
    asks = serializers.ListField(
        child=serializers.ChoiceField(choices=red_flag_questions()),
        help_text="The check-in questions that ask about this red flag: the yes/no fields of a check-in "
                  "(POST /api/v1/checkins/), or its pain scores for a red flag about how bad the pain is.",
    )


class RiseSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["pain_at_rest", "pain_during_activity", "swelling"])
    by = serializers.IntegerField(help_text="How much the metric must rise since the previous check-in.")


class TriggerSerializer(serializers.Serializer):
    flag = serializers.CharField(required=False, help_text="A yes/no check-in field that raises the warning.")
    rise = RiseSerializer(required=False)


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    trigger = TriggerSerializer()


@extend_schema_field({"oneOf": [{"type": "number"}, {"type": "string", "enum": ["none", "mild", "moderate",
                                                                                  "severe"]}]})
class CriterionValueField(serializers.JSONField):
    """A number (pain 0–10, percent, days) or a swelling level."""


class ExitCriterionSerializer(serializers.Serializer):
    metric = serializers.ChoiceField(choices=["pain_at_rest", "pain_during_activity", "swelling",
                                              "adherence_percent", "days_in_phase"])
    op = serializers.ChoiceField(choices=["lt", "lte", "eq", "gte", "gt"])
    value = CriterionValueField()
    consecutive_checkins = serializers.IntegerField(
        required=False, help_text="Check-in metrics: every one of the latest N check-ins must pass."
    )
    days = serializers.IntegerField(required=False, help_text="adherence_percent: over the last N days.")


class ExerciseSerializer(serializers.ModelSerializer):
    default_dose = DoseSerializer(source="*")

    class Meta:
        model = Exercise
        fields = ["slug", "name", "body_area", "instructions", "feel", "stop_if", "default_dose"]
        read_only_fields = fields


class ExerciseUseSerializer(serializers.ModelSerializer):
    condition = serializers.SlugRelatedField(source="phase.condition", slug_field="slug", read_only=True)
    condition_name = serializers.CharField(source="phase.condition.name", read_only=True)
    phase = serializers.CharField(source="phase.key", read_only=True)
    dose = DoseSerializer(source="*", read_only=True)

    class Meta:
        model = PhaseExercise
        fields = ["condition", "condition_name", "phase", "dose"]


class ExerciseDetailSerializer(ExerciseSerializer):
    used_in = ExerciseUseSerializer(source="phase_uses", many=True, read_only=True)

    class Meta(ExerciseSerializer.Meta):
        fields = [*ExerciseSerializer.Meta.fields, "used_in"]
        read_only_fields = fields


class PhaseExerciseSerializer(serializers.ModelSerializer):
    """One exercise of a phase: what it is, how to do it, and how much of it in this phase."""

    slug = serializers.CharField(source="exercise.slug")
    name = serializers.CharField(source="exercise.name")
    body_area = serializers.CharField(source="exercise.body_area")
    instructions = serializers.CharField(source="exercise.instructions")
    feel = serializers.CharField(source="exercise.feel")
    stop_if = serializers.CharField(source="exercise.stop_if")
    dose = DoseSerializer(source="*")

    class Meta:
        model = PhaseExercise
        fields = ["slug", "name", "body_area", "instructions", "feel", "stop_if", "order", "dose"]
        read_only_fields = fields


class TreatmentPhaseSerializer(serializers.ModelSerializer):
    goals = serializers.ListField(child=serializers.CharField())
    guidance = NullIfBlankCharField()
    typical_duration_days = DaysRangeSerializer(source="*")
    exercises = PhaseExerciseSerializer(source="phase_exercises", many=True)
    exit_criteria = ExitCriterionSerializer(many=True, help_text="All must hold to advance; empty in the last phase.")

    class Meta:
        model = TreatmentPhase
        fields = ["key", "name", "order", "goals", "guidance", "typical_duration_days", "exercises", "exit_criteria"]
        read_only_fields = fields


class ConditionSerializer(serializers.ModelSerializer):
    """A condition as listed: enough to recognise it and to know whether it has a home plan."""

    also_known_as = serializers.ListField(child=serializers.CharField())
    symptoms = serializers.ListField(child=serializers.CharField())
    typical_recovery_weeks = WeeksRangeSerializer(source="*")

    class Meta:
        model = Condition
        fields = ["slug", "name", "also_known_as", "summary", "symptoms", "typical_recovery",
                  "typical_recovery_weeks", "home_care"]
        read_only_fields = fields


class ConditionDetailSerializer(ConditionSerializer):
    subtypes = SubtypeSerializer(many=True)
    causes = serializers.ListField(child=serializers.CharField())
    red_flags = RedFlagSerializer(many=True, help_text="Symptoms that need medical attention the same day, each "
                                                       "with the check-in questions that ask about it.")
    warnings = WarningSerializer(many=True, help_text="Condition-specific reasons to book a clinician visit.")
    sources = SourceSerializer(many=True)
    urgent_care_note = NullIfBlankCharField(help_text="Set when the condition needs medical care, not a home plan.")
    surgery_note = NullIfBlankCharField(help_text="When the worst forms need surgery.")
    phases = TreatmentPhaseSerializer(many=True, help_text="The home-care path in order; empty without home care.")

    class Meta(ConditionSerializer.Meta):
        fields = [*ConditionSerializer.Meta.fields, "subtypes", "causes", "urgent_care_note", "surgery_note",
                  "red_flags", "warnings", "sources", "catalog_version", "updated_at", "phases"]
        read_only_fields = fields


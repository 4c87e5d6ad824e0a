import django_filters

from conditions.models import PhaseKey
from kneerehab.filters import IdFilter

from ..models import Plan, PlanStatus


class PlanFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    condition = django_filters.CharFilter(field_name="condition__slug", help_text="Condition slug")
    status = django_filters.ChoiceFilter(choices=PlanStatus.choices)
    current_phase = django_filters.ChoiceFilter(choices=PhaseKey.choices)

    class Meta:
        model = Plan
        fields = ["patient", "condition", "status", "current_phase"]

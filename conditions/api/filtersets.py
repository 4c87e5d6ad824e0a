import django_filters

from kneerehab.filters import CappedSearchFilter

from ..models import BodyArea, Condition, Exercise, fold_for_search


class FoldedSearchFilter(CappedSearchFilter):
    """`?search=` that treats a phone's curly apostrophe like a straight one ("Baker’s" finds "Baker's cyst")."""

    def get_search_terms(self, request):
        return [fold_for_search(term) for term in super().get_search_terms(request)]


class ConditionFilterSet(django_filters.FilterSet):
    home_care = django_filters.BooleanFilter(help_text="true: conditions with a home plan; false: those without.")

    class Meta:
        model = Condition
        fields = ["home_care"]


class ExerciseFilterSet(django_filters.FilterSet):
    body_area = django_filters.MultipleChoiceFilter(
        choices=BodyArea.choices, help_text="One or more body areas (repeat the parameter)."
    )

    class Meta:
        model = Exercise
        fields = ["body_area"]

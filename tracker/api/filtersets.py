from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.utils.dateparse import parse_date, parse_datetime

from kneerehab.filters import IdFilter

from ..models import AlertStatus, PromptLevel

EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)


class DateOrDateTimeField(forms.Field):
    """An ISO date (2026-03-01) or date-time (2026-03-01T08:00:00+01:00)."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            # A bare date first: parse_datetime would read it as midnight.
            parsed = parse_date(value) or parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError(
                "Use an ISO date (2026-03-01) or date-time (2026-03-01T08:00:00Z).", code="invalid"
            )
        # Near year 1 or 9999 the end-of-day and UTC arithmetic overflows (a 500); no record lies there.
        day = parsed.date() if isinstance(parsed, datetime) else parsed
        if not EARLIEST <= day <= LATEST:
            raise forms.ValidationError(
                f"Use a date between {EARLIEST.isoformat()} and {LATEST.isoformat()}.", code="out_of_range"
            )
        return parsed


class DateOrDateTimeFilter(django_filters.Filter):
    """Bounds a date-time field. A bare date is a local day of the asking user: `since` from its start,
    `until` to its end."""

    field_class = DateOrDateTimeField

    def __init__(self, *args, end_of_day: bool = False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        if isinstance(value, datetime):
            if value.tzinfo is None:
                value = value.replace(tzinfo=self.parent.request.user.tzinfo)
            return qs.filter(**{f"{self.field_name}__{self.lookup_expr}": value})
        tz = self.parent.request.user.tzinfo
        if self.end_of_day:
            bound = datetime.combine(value + timedelta(days=1), time.min, tzinfo=tz)
            return qs.filter(**{f"{self.field_name}__lt": bound})
        return qs.filter(**{f"{self.field_name}__gte": datetime.combine(value, time.min, tzinfo=tz)})


class CheckInFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id", help_text="A patient of your caseload.")
    since = DateOrDateTimeFilter(field_name="recorded_at", lookup_expr="gte",
                                 help_text="recorded_at from (ISO date or date-time)")
    until = DateOrDateTimeFilter(field_name="recorded_at", lookup_expr="lte", end_of_day=True,
                                 help_text="recorded_at up to (ISO date: the whole day; or date-time)")
    level = django_filters.MultipleChoiceFilter(field_name="prompt_level", choices=PromptLevel.choices,
                                                help_text="Screening level; repeat for several.")


class ExerciseLogFilter(django_filters.FilterSet):
    patient = IdFilter(field_name="patient_id")
    plan = IdFilter(field_name="plan_exercise__plan_id")
    since = django_filters.DateFilter(field_name="date", lookup_expr="gte")
    until = django_filters.DateFilter(field_name="date", lookup_expr="lte")


class AlertFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AlertStatus.choices)
    level = django_filters.MultipleChoiceFilter(choices=PromptLevel.choices)
    patient = IdFilter(field_name="patient_id")


"""Filters shared by the apps' filtersets."""
import django_filters
from django import forms

# The largest id a BigAutoField can hold; a larger number cannot name a row.
MAX_ID = 2**63 - 1


class IdFilter(django_filters.NumberFilter):
    """An object id in a query parameter: a whole number in the range of ids, else a 400.

    NumberFilter reads any decimal: "1e300" reached the database and failed
    there (integer overflow: a 500) instead of being refused as bad input.
    """

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)

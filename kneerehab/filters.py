"""Filters shared by the apps' filtersets."""
import django_filters
from django import forms
from rest_framework.filters import SearchFilter

from kneerehab.errors import ApplicationError

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


# A search is a few words. Each word adds conditions to the query (and building them costs more with
# each one), so their number and length are capped: 2,000 words took seconds of a web worker.
MAX_SEARCH_TERMS = 8
MAX_SEARCH_TERM_LENGTH = 64
SEARCH_LIMITS = f"at most {MAX_SEARCH_TERMS} words of at most {MAX_SEARCH_TERM_LENGTH} characters each"


def _refuse(field: str) -> ApplicationError:
    message = f"Search for {SEARCH_LIMITS}."
    return ApplicationError(message, fields={field: [message]})


def check_search_terms(terms: list[str], *, field: str) -> list[str]:
    """The terms, or a 400 under `field` when there are too many or one is too long."""
    if len(terms) > MAX_SEARCH_TERMS or any(len(term) > MAX_SEARCH_TERM_LENGTH for term in terms):
        raise _refuse(field)
    return terms


def check_search_text(text: str, *, field: str) -> str:
    """Refuses a search text longer than the longest allowed search before anything splits it."""
    if len(text) > MAX_SEARCH_TERMS * (MAX_SEARCH_TERM_LENGTH + 1) + 16:  # a little room for quotes and commas
        raise _refuse(field)
    return text


def split_search_terms(text: str, *, field: str) -> list[str]:
    """The words of a search box, capped; a NUL (which PostgreSQL refuses in a query) is dropped."""
    return check_search_terms(check_search_text(text, field=field).replace("\x00", "").split(), field=field)


class CappedSearchFilter(SearchFilter):
    """DRF's `?search=` with the number and length of its words capped (a 400 beyond)."""

    search_description = f"Words to look for; each must match. {SEARCH_LIMITS[0].upper()}{SEARCH_LIMITS[1:]}."

    def get_search_terms(self, request):
        check_search_text(request.query_params.get(self.search_param, ""), field=self.search_param)
        return check_search_terms(super().get_search_terms(request), field=self.search_param)

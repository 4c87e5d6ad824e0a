"""IANA time zones, validated against the zoneinfo database of this machine."""
import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            "%(value)s is not a known IANA time zone (for example Europe/London or America/New_York).",
            code="invalid_timezone",
            params={"value": value},
        )

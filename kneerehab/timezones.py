"""IANA time zones, validated against the zoneinfo database of this machine."""
import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError

# Keys the zoneinfo database can load that are no place's time: "localtime" is the server's own zone
# (a link the system may change), "Factory" a placeholder that reads "-00", "posixrules" a template.
NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def available_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones()) - NOT_PLACES


def validate_timezone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(
            "%(value)s is not a known IANA time zone (for example Europe/London or America/New_York).",
            code="invalid_timezone",
            params={"value": value},
        )

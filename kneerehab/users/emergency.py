"""The patient's local emergency number, for the tap-to-call link of an urgent or emergency prompt.

The country comes from the profile (`User.country`, ISO 3166-1 alpha-2) or, when that is empty, from
the country of the patient's time zone in the IANA time zone database (`zone.tab`). The database is
read from the `tzdata` package (pinned in requirements.txt, so a fresh virtualenv has it) and, failing
that, from the system's /usr/share/zoneinfo. A country missing from the table gets 112, the number
that GSM mobile phones route to the local emergency service in most countries.

Sources of the numbers (checked 2026-11):
- EU and EEA: 112 is the single European emergency number, free from any phone in every member
  state (Directive (EU) 2018/1972, European Electronic Communications Code, art. 109; European
  Commission, "112 - the single European emergency number",
  https://digital-strategy.ec.europa.eu/en/policies/112). Ireland also keeps 999.
  Norway answers medical emergencies on 113 (Helsenorge, "Emergency numbers",
  https://www.helsenorge.no/en/); 112 reaches the police there, who pass the call on.
- United Kingdom (and the Crown dependencies): 999 and 112 (GOV.UK, "999 and 112: the UK's national
  emergency numbers", https://www.gov.uk/guidance/999-and-112-the-uks-national-emergency-numbers).
- United States: 911 (https://www.911.gov/). Canada: 911 (CRTC, https://crtc.gc.ca/eng/phone/911/).
- Australia: 000, and 112 from mobile phones (Triple Zero, Australian Government,
  https://www.triplezero.gov.au/).
- New Zealand: 111 (New Zealand Police, https://www.police.govt.nz/).
- India: 112, the Emergency Response Support System (Ministry of Home Affairs, https://112.gov.in/).
- Switzerland: 144 for an ambulance, 112 also works (ch.ch, the Swiss authorities' portal,
  https://www.ch.ch/en/).
- The ITU's list of national emergency numbers (ITU-T E.164 supplement, Operational Bulletin) for
  the countries above.
"""
import importlib.resources
import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

logger = logging.getLogger(__name__)

FALLBACK_NUMBER = "112"

_EU_EEA = (
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
    "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",  # the 27 EU member states
    "IS", "LI", "NO",  # the rest of the EEA
)

# Country → the number to call first, then others that also work. Only what the sources above say.
EMERGENCY_NUMBERS: dict[str, tuple[str, ...]] = {
    **{country: ("112",) for country in _EU_EEA},
    "IE": ("112", "999"),
    "NO": ("113", "112"),
    "GB": ("999", "112"),
    "GG": ("999", "112"),
    "JE": ("999", "112"),
    "IM": ("999", "112"),
    "US": ("911",),
    "CA": ("911",),
    "AU": ("000", "112"),
    "NZ": ("111",),
    "IN": ("112",),
    "CH": ("144", "112"),
}


@dataclass(frozen=True)
class EmergencyNumber:
    number: str
    country: str  # "" when neither the profile nor the time zone names a country
    also: tuple[str, ...] = ()

    @property
    def tel(self) -> str:
        return f"tel:{self.number}"

    def as_dict(self) -> dict:
        return {"number": self.number, "tel": self.tel, "country": self.country, "also": list(self.also)}


def _tz_table(name: str) -> str:
    """A table of the time zone database: from the tzdata package, else from the system."""
    try:
        return importlib.resources.files("tzdata").joinpath("zoneinfo", name).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        path = Path("/usr/share/zoneinfo") / name
        try:
            return path.read_text(encoding="utf-8")
        except OSError:
            logger.warning("no %s in the tzdata package or %s; emergency numbers fall back to %s",
                           name, path.parent, FALLBACK_NUMBER)
            return ""


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


@lru_cache(maxsize=1)
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code → country name (iso3166.tab), plus every code of the table above."""
    known = {row[0]: row[1] for row in _rows(_tz_table("iso3166.tab")) if len(row) >= 2}
    for code in EMERGENCY_NUMBERS:
        known.setdefault(code, code)
    return known


@lru_cache(maxsize=1)
def _zone_countries() -> dict[str, str]:
    """IANA zone name → the ISO country code zone.tab gives it (one country per zone)."""
    return {row[2]: row[0] for row in _rows(_tz_table("zone.tab")) if len(row) >= 3}


def country_for_timezone(name: str) -> str:
    """The country of a time zone ("Europe/Paris" → "FR"); "" for zones of no country (UTC, Etc/…)."""
    return _zone_countries().get(name, "")


def validate_country(value: str) -> str:
    """The code in upper case if it is an ISO 3166-1 alpha-2 code; ValueError with a message if not."""
    code = (value or "").strip().upper()
    if code and code not in countries():
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code (for example FR, GB or US).")
    return code


def emergency_number_for(user) -> EmergencyNumber:
    """The number `user` should call in an emergency: their country's, else their time zone's, else 112."""
    country = (user.country or "").upper() or country_for_timezone(user.timezone)
    numbers = EMERGENCY_NUMBERS.get(country, (FALLBACK_NUMBER,))
    return EmergencyNumber(number=numbers[0], country=country, also=numbers[1:])


def emergency_call_sentence(number: EmergencyNumber) -> str:
    """What the emergency prompt says first, with the patient's own number."""
    also = f" (or {' or '.join(number.also)})" if number.also else ""
    return f"Call emergency services now on {number.number}{also}."

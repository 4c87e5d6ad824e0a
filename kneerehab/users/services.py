"""Writes on accounts and caseloads."""
import re

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from kneerehab.errors import ApplicationError
from kneerehab.timezones import validate_timezone

from .emergency import validate_country
from .models import CaseloadLink, Role, User

PHONE_HELP = "A phone number a clinician can call you on, e.g. +44 20 7946 0000 (optional)."
_PHONE = re.compile(r"^\+?[0-9][0-9 ()./-]{4,30}$")


def validate_phone(value: str) -> str:
    """A phone number as typed (digits, spaces, + ( ) . / -), trimmed; ValueError with a message if not."""
    phone = (value or "").strip()
    if phone and (not _PHONE.match(phone) or sum(c.isdigit() for c in phone) < 5):
        raise ValueError(f"{value!r} does not look like a phone number: use digits, spaces and an optional "
                         "leading +, e.g. +44 20 7946 0000.")
    return phone


def _field_error(field: str, message: str) -> ApplicationError:
    return ApplicationError(message, fields={field: [message]})


@transaction.atomic
def user_create(
    *,
    username: str,
    role: str,
    password: str | None = None,
    email: str = "",
    timezone: str = "UTC",
    physiotherapist: User | None = None,
    validate_password_strength: bool = True,
) -> User:
    """Create a patient or a physiotherapist; a patient may be put on a caseload at once.

    Without a password the account cannot log in until one is set (an unusable password).
    """
    if role not in Role.values:
        raise _field_error("role", f"Unknown role {role!r}: use one of {', '.join(Role.values)}.")
    try:
        validate_timezone(timezone)
    except ValidationError as exc:
        raise _field_error("timezone", exc.messages[0]) from exc
    # The name as it will be stored (Unicode NFKC: a full-width "ｐａｔ３" is "pat3"), so that the check
    # below sees the clash; checked on the raw name, it passed and the save failed (a 500 in the web page).
    username = User.normalize_username(username)
    if User.objects.filter(username__iexact=username).exists():
        raise _field_error("username", f"The username {username!r} is already taken.")
    if physiotherapist is not None:
        if role != Role.PATIENT:
            raise _field_error("physiotherapist", "Only a patient can be put on a caseload.")
        if not physiotherapist.is_physiotherapist:
            raise _field_error("physiotherapist", f"{physiotherapist.username!r} is not a physiotherapist.")
    user = User(username=username, role=role, email=email, timezone=timezone)
    if password:
        if validate_password_strength:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise ApplicationError(" ".join(exc.messages), fields={"password": exc.messages}) from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    try:
        user.full_clean(exclude=["password"])
        user.save()
    except ValidationError as exc:
        raise ApplicationError(" ".join(exc.messages), fields=exc.message_dict) from exc
    except IntegrityError as exc:  # a concurrent request took the same name
        raise _field_error("username", f"The username {username!r} is already taken.") from exc
    if physiotherapist is not None:
        caseload_add(physiotherapist=physiotherapist, patient=user)
    return user


def caseload_add(*, physiotherapist: User, patient: User) -> CaseloadLink:
    if not physiotherapist.is_physiotherapist:
        raise _field_error("physiotherapist", "Only a physiotherapist has a caseload.")
    if not patient.is_patient:
        raise _field_error("patient", "Only a patient can be put on a caseload.")
    if patient.is_erased:
        raise _field_error("patient", "This account was erased; it cannot be put on a caseload.")
    link, _ = CaseloadLink.objects.get_or_create(physiotherapist=physiotherapist, patient=patient)
    return link


def user_update_profile(*, user: User, data: dict) -> User:
    """Change the fields a user may change about themselves (time zone, country, phone, reminder preferences)."""
    allowed = {"timezone", "email", "country", "phone", "reminders_enabled", "quiet_hours_start", "quiet_hours_end"}
    checks = {"country": validate_country, "phone": validate_phone}
    for field, value in data.items():
        if field not in allowed:
            raise _field_error(field, "This field cannot be changed here.")
        if field in checks:
            try:
                value = checks[field](value)
            except ValueError as exc:
                raise _field_error(field, str(exc)) from exc
        setattr(user, field, value)
    if (user.quiet_hours_start is None) != (user.quiet_hours_end is None):
        raise ApplicationError(
            "Quiet hours need both a start and an end.",
            fields={"quiet_hours_end": ["Set both quiet_hours_start and quiet_hours_end, or neither."]},
        )
    try:
        user.full_clean(exclude=["password"])
    except ValidationError as exc:
        raise ApplicationError("Some of the data sent is not valid.", fields=exc.message_dict) from exc
    user.save()
    return user

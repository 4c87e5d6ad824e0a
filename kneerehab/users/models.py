import zoneinfo

from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from kneerehab.timezones import validate_timezone


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"


# What a JWT must not outlive: the password it was issued under, and the account being switched on.
TOKEN_STATE_FIELDS = ("password", "is_active")
_NOT_LOADED = object()


class User(AbstractUser):
    """An account: a patient or a physiotherapist. Staff work in the admin (is_staff)."""

    role = models.CharField(max_length=20, choices=Role.choices, default=Role.PATIENT, db_index=True)
    timezone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_timezone],
        help_text="IANA time zone; reminders and 'today' follow it.",
    )
    country = models.CharField(
        max_length=2, blank=True,
        help_text="ISO 3166-1 alpha-2 code, for the emergency number; empty means the time zone's country.",
    )
    phone = models.CharField(max_length=32, blank=True, help_text="So a clinician can call back.")
    # Reminder preferences. Quiet hours are local times; both empty means none.
    reminders_enabled = models.BooleanField(default=True)
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    physiotherapists = models.ManyToManyField(
        "self",
        symmetrical=False,
        through="CaseloadLink",
        through_fields=("patient", "physiotherapist"),
        related_name="caseload",
        blank=True,
        help_text="The physiotherapists whose caseload this patient is on.",
    )
    # Every JWT carries the version it was issued under; a different version here refuses it. It goes up
    # whenever the password changes or the account is switched off or on (see save()), so no token
    # outlives either, and a reactivated account gets no old token back.
    token_version = models.PositiveIntegerField(default=0, editable=False)
    erased_at = models.DateTimeField(null=True, blank=True, editable=False,
                                     help_text="When the patient erased their data; the account stays switched off.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["patient", "physiotherapist"]),
                name="user_role_valid",
            ),
            models.CheckConstraint(
                condition=Q(erased_at__isnull=True) | Q(is_active=False), name="user_erased_is_inactive",
            ),
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._token_state = self._current_token_state()

    def _current_token_state(self) -> tuple:
        # From __dict__: a field left out by only()/defer() must not cost a query per row.
        return tuple(self.__dict__.get(name, _NOT_LOADED) for name in TOKEN_STATE_FIELDS)

    def refresh_from_db(self, using=None, fields=None, from_queryset=None):
        super().refresh_from_db(using=using, fields=fields, from_queryset=from_queryset)
        current = self._current_token_state()
        self._token_state = tuple(
            now if fields is None or name in fields else before
            for name, before, now in zip(TOKEN_STATE_FIELDS, self._token_state, current, strict=True)
        )

    def save(self, *args, **kwargs):
        if self.pk is not None and self._current_token_state() != self._token_state:
            self.token_version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)
        self._token_state = self._current_token_state()

    def check_password(self, raw_password):
        """As Django's, except that upgrading the stored hash (a new hasher) keeps the tokens valid."""

        def rehash(raw):
            self.set_password(raw)
            self._password = None
            self._token_state = self._current_token_state()
            self.save(update_fields=["password"])

        return check_password(raw_password, self.password, rehash)

    def clean(self):
        super().clean()
        if self.is_erased and self.is_active:
            raise ValidationError({"is_active": "This account was erased at the patient's request; it stays off."})

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    @property
    def is_patient(self) -> bool:
        return self.role == Role.PATIENT

    @property
    def is_physiotherapist(self) -> bool:
        return self.role == Role.PHYSIOTHERAPIST

    @property
    def tzinfo(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class CaseloadLink(models.Model):
    """A patient on a physiotherapist's caseload."""

    physiotherapist = models.ForeignKey(User, on_delete=models.CASCADE, related_name="caseload_links")
    patient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="physiotherapist_links")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["physiotherapist", "patient"], name="caseload_link_unique"),
            models.CheckConstraint(
                condition=~Q(physiotherapist=models.F("patient")), name="caseload_link_not_self"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.patient} on {self.physiotherapist}'s caseload"

    def clean(self):
        if self.patient_id is not None and self.patient.is_erased:
            raise ValidationError({"patient": "This account was erased; it cannot be put on a caseload."})

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from kneerehab.timezones import validate_timezone


class Role(models.TextChoices):
    PATIENT = "patient", "Patient"
    PHYSIOTHERAPIST = "physiotherapist", "Physiotherapist"


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

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=["patient", "physiotherapist"]),
                name="user_role_valid",
            ),
        ]

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

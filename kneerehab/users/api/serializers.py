from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kneerehab.timezones import available_timezones

from ..models import User


class TimezoneField(serializers.CharField):
    """An IANA time zone name, checked against the zoneinfo database."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value not in available_timezones():
            raise serializers.ValidationError(
                f"{value!r} is not a known IANA time zone (for example Europe/London or America/New_York)."
            )
        return value


@extend_schema_field({"anyOf": [{"type": "string", "format": "email"}, {"type": "string", "maxLength": 0}],
                      "description": "An email address, or empty when none is on file."})
class OptionalEmailField(serializers.EmailField):
    """An email address that may be empty; the schema says so (format "email" alone would forbid "")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)


class MeSerializer(serializers.ModelSerializer):
    timezone = TimezoneField(max_length=64, required=False)
    email = OptionalEmailField(max_length=254, required=False)

    class Meta:
        model = User
        fields = ["id", "username", "role", "timezone", "email", "first_name", "last_name",
                  "reminders_enabled", "quiet_hours_start", "quiet_hours_end"]
        read_only_fields = ["id", "username", "role", "first_name", "last_name"]


class EraseSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, help_text="The patient's current password, to confirm.")
    confirm = serializers.BooleanField(help_text="Must be true: erasure cannot be undone.")

    def validate_confirm(self, value):
        if value is not True:
            raise serializers.ValidationError("Set confirm to true: erasure cannot be undone.")
        return value

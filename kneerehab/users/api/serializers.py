from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from kneerehab.timezones import available_timezones

from ..emergency import emergency_number_for, validate_country
from ..models import User
from ..services import PHONE_HELP, validate_phone


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


class CountryField(serializers.CharField):
    """An ISO 3166-1 alpha-2 country code (any case in, upper case out), or "" for the time zone's country."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 2)
        kwargs.setdefault("help_text", "ISO 3166-1 alpha-2 code (FR, GB, US, …), for the emergency number; "
                                       "empty: the country of your time zone.")
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return validate_country(super().to_internal_value(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class PhoneField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault("help_text", PHONE_HELP)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        try:
            return validate_phone(super().to_internal_value(data))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class EmergencyNumberSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="The number to call first, e.g. 112.")
    tel = serializers.CharField(help_text='A tap-to-call link, e.g. "tel:112".')
    country = serializers.CharField(allow_blank=True, help_text="The country it was chosen for; empty: unknown.")
    also = serializers.ListField(child=serializers.CharField(), help_text="Other numbers that also work there.")


class MeSerializer(serializers.ModelSerializer):
    timezone = TimezoneField(max_length=64, required=False)
    email = OptionalEmailField(max_length=254, required=False)
    country = CountryField(required=False)
    phone = PhoneField(required=False)
    emergency_number = serializers.SerializerMethodField(
        help_text="Your local emergency number, from `country` or else your time zone's country (112 if unknown).")

    class Meta:
        model = User
        fields = ["id", "username", "role", "timezone", "country", "phone", "emergency_number", "email",
                  "first_name", "last_name", "reminders_enabled", "quiet_hours_start", "quiet_hours_end"]
        read_only_fields = ["id", "username", "role", "first_name", "last_name"]

    @extend_schema_field(EmergencyNumberSerializer)
    def get_emergency_number(self, user) -> dict:
        return emergency_number_for(user).as_dict()


class EraseSerializer(serializers.Serializer):
    password = serializers.CharField(write_only=True, help_text="The patient's current password, to confirm.")
    confirm = serializers.BooleanField(help_text="Must be true: erasure cannot be undone.")

    def validate_confirm(self, value):
        if value is not True:
            raise serializers.ValidationError("Set confirm to true: erasure cannot be undone.")
        return value


class CredentialsShapeSerializer(serializers.Serializer):
    """The username sent to the token endpoint is a string a username could be (no NUL, not too long)."""

    username = serializers.CharField(max_length=User._meta.get_field("username").max_length, trim_whitespace=False)

    def validated_username(self) -> str:
        self.is_valid(raise_exception=True)
        return self.validated_data["username"]

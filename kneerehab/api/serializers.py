"""The serializer behaviour every write endpoint shares."""
from collections.abc import Mapping

from rest_framework import serializers

UNKNOWN_FIELD = "Unknown field."
READ_ONLY_FIELD = "This field cannot be set."


class StrictFieldsMixin:
    """A write naming a field the endpoint does not take is an error, never silently ignored.

    A field the response shows but the client may not set (`read_only_names`: owner, plan, phase, …)
    is refused with "This field cannot be set.", any other unknown name with "Unknown field.". Those
    errors are reported together with every other field error of the request, so a client fixes all
    of them in one go.
    """

    read_only_names: tuple[str, ...] = ()

    def to_internal_value(self, data):
        refused = {}
        if isinstance(data, Mapping):
            writable = {name for name, field in self.fields.items() if not field.read_only}
            refused = {name: [READ_ONLY_FIELD if name in self.read_only_names else UNKNOWN_FIELD]
                       for name in sorted(set(data) - writable)}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as error:
            if refused and isinstance(error.detail, Mapping):
                raise serializers.ValidationError({**error.detail, **refused}) from None
            raise
        if refused:
            raise serializers.ValidationError(refused)
        return value

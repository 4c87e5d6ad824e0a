from rest_framework import serializers

from ..models import Device, Notification


class NotificationSerializer(serializers.ModelSerializer):
    read = serializers.BooleanField(read_only=True)

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read", "read_at"]
        read_only_fields = fields


class DeviceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Device
        fields = ["id", "token", "platform", "active", "created_at"]
        read_only_fields = ["id", "active", "created_at"]
        extra_kwargs = {"token": {"validators": []}}

from django.contrib import admin

from .models import ChannelDelivery, Device, Notification, PushRecord


class ChannelDeliveryInline(admin.TabularInline):
    model = ChannelDelivery
    extra = 0
    readonly_fields = ("channel", "status", "attempts", "next_attempt_at", "last_error", "sent_at")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "title", "created_at", "read_at")
    list_filter = ("kind",)
    search_fields = ("recipient__username", "title")
    inlines = [ChannelDeliveryInline]


@admin.register(ChannelDelivery)
class ChannelDeliveryAdmin(admin.ModelAdmin):
    list_display = ("notification", "channel", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("channel", "status")


@admin.register(Device)
class DeviceAdmin(admin.ModelAdmin):
    list_display = ("user", "platform", "active", "created_at", "last_seen_at")
    list_filter = ("platform", "active")


@admin.register(PushRecord)
class PushRecordAdmin(admin.ModelAdmin):
    list_display = ("device", "notification", "title", "created_at")

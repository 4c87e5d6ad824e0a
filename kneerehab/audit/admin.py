from django.contrib import admin

from .models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail, read-only for staff."""

    list_display = ("at", "username", "action", "resource", "object_id", "subject_patient_id",
                    "status_code", "ip_address")
    list_filter = ("action", "status_code")
    search_fields = ("username", "path", "object_id", "=subject_patient_id")
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

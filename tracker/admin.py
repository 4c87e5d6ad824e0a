"""Check-ins, logs and alerts are health records written by patients and screening: the admin reads them.

Staff may acknowledge alerts (recorded under their name); nothing here edits what a patient reported.
"""
from django.contrib import admin, messages
from simple_history.admin import SimpleHistoryAdmin

from .models import Alert, AlertOutcome, AlertStatus, CheckIn, ExerciseLog
from .services import alert_acknowledge


class ReadOnlyAdmin(SimpleHistoryAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CheckIn)
class CheckInAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient", "recorded_at", "pain_at_rest", "pain_during_activity", "swelling",
                    "prompt_level")
    list_filter = ("prompt_level", "swelling")
    search_fields = ("patient__username",)
    date_hierarchy = "recorded_at"
    list_select_related = ("patient",)


@admin.register(ExerciseLog)
class ExerciseLogAdmin(ReadOnlyAdmin):
    list_display = ("id", "patient", "plan_exercise", "date", "sets_done", "reps_done", "pain_during")
    search_fields = ("patient__username",)
    date_hierarchy = "date"
    list_select_related = ("patient", "plan_exercise__exercise")


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdmin):
    list_display = ("id", "level", "status", "patient", "physiotherapist", "occurrences", "created_at",
                    "acknowledged_by", "acknowledged_at", "outcome", "escalated_at")
    list_filter = ("level", "status")
    search_fields = ("patient__username", "physiotherapist__username")
    list_select_related = ("patient", "physiotherapist", "acknowledged_by")
    actions = ["acknowledge"]

    def has_change_permission(self, request, obj=None):
        # The changelist needs it for the action; every field stays read-only on the form.
        return request.user.has_perm("tracker.change_alert")

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    @admin.action(description="Acknowledge the selected alerts", permissions=["change"])
    def acknowledge(self, request, queryset):
        count = 0
        for alert in queryset.filter(status=AlertStatus.OPEN):
            alert_acknowledge(alert=alert, user=request.user, outcome=AlertOutcome.OTHER,
                              note="Acknowledged in the admin; no outcome recorded there.")
            count += 1
        self.message_user(request, f"Acknowledged {count} alert(s).", messages.SUCCESS)

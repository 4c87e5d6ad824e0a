from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import PhaseChange, Plan, PlanExercise


class PlanExerciseInline(admin.TabularInline):
    model = PlanExercise
    extra = 0
    fields = ("phase", "exercise", "order", "sets", "reps", "hold_seconds", "times_per_day", "days_per_week")
    autocomplete_fields = ["exercise"]


class PhaseChangeInline(admin.TabularInline):
    """The phase history is a record of what happened: it is read here, never edited."""

    model = PhaseChange
    extra = 0
    fields = ("created_at", "kind", "from_phase", "to_phase", "changed_by", "reason")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Plan)
class PlanAdmin(SimpleHistoryAdmin):
    list_display = ("id", "patient", "condition", "status", "current_phase", "progression", "start_date",
                    "physiotherapist", "auto_advance")
    list_filter = ("status", "current_phase", "progression", "condition", "auto_advance")
    search_fields = ("patient__username", "physiotherapist__username", "condition__name", "condition__slug")
    list_select_related = ("patient", "physiotherapist", "condition")
    autocomplete_fields = ["patient", "physiotherapist", "condition"]
    readonly_fields = ("progression", "progression_reasons", "progression_evaluated_at", "created_at", "updated_at")
    date_hierarchy = "start_date"
    inlines = [PlanExerciseInline, PhaseChangeInline]


@admin.register(PhaseChange)
class PhaseChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "plan", "kind", "from_phase", "to_phase", "changed_by")
    list_filter = ("kind", "to_phase")
    search_fields = ("plan__patient__username", "changed_by__username", "reason")
    list_select_related = ("plan__patient", "plan__condition", "changed_by")
    readonly_fields = ("plan", "kind", "from_phase", "to_phase", "changed_by", "reason", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

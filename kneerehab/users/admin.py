from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import CaseloadLink, User


class CaseloadInline(admin.TabularInline):
    model = CaseloadLink
    fk_name = "patient"
    extra = 0
    autocomplete_fields = ["physiotherapist"]
    verbose_name = "physiotherapist"
    verbose_name_plural = "physiotherapists (caseload)"


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "email", "role", "timezone", "is_staff", "is_active")
    list_filter = ("role", "is_staff", "is_active")
    search_fields = ("username", "email", "first_name", "last_name")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Rehabilitation", {"fields": ("role", "timezone", "reminders_enabled",
                                       "quiet_hours_start", "quiet_hours_end")}),
    )
    add_fieldsets = BaseUserAdmin.add_fieldsets + (
        ("Rehabilitation", {"fields": ("role", "timezone", "email")}),
    )
    inlines = [CaseloadInline]


@admin.register(CaseloadLink)
class CaseloadLinkAdmin(admin.ModelAdmin):
    list_display = ("patient", "physiotherapist", "created_at")
    search_fields = ("patient__username", "physiotherapist__username")
    autocomplete_fields = ["patient", "physiotherapist"]

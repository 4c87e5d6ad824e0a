"""Staff edit the catalogue here. The JSON fields are checked with the same rules as the catalogue file,
so the admin cannot store a warning, an exit criterion or a path the rest of the system could not use.

An admin edit stays until the file's entry for that row changes (see conditions/services.py)."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError

from kneerehab.errors import ApplicationError
from kneerehab.media.storing import delete_files, fill_media

from .catalog_validation import (
    check_exit_criteria,
    check_red_flags,
    check_sources,
    check_subtypes,
    check_text_list,
    check_warnings,
    red_flag_questions,
)
from .models import Condition, Exercise, ExerciseMedia, PhaseExercise, PhaseKey, TreatmentPhase


def _raise_if(errors: list[str]) -> None:
    if errors:
        raise ValidationError(errors)


class ConditionAdminForm(forms.ModelForm):
    class Meta:
        model = Condition
        fields = ["name", "slug", "also_known_as", "subtypes", "summary", "causes", "symptoms", "typical_recovery",
                  "recovery_weeks_min", "recovery_weeks_max", "home_care", "urgent_care_note", "surgery_note",
                  "red_flags", "warnings", "sources"]

    def clean_also_known_as(self):
        value = self.cleaned_data["also_known_as"] or []
        _raise_if(check_text_list(value, path="also_known_as", required=False))
        return value

    def clean_subtypes(self):
        value = self.cleaned_data["subtypes"] or []
        _raise_if(check_subtypes(value))
        return value

    def clean_causes(self):
        value = self.cleaned_data["causes"]
        _raise_if(check_text_list(value, path="causes"))
        return value

    def clean_symptoms(self):
        value = self.cleaned_data["symptoms"]
        _raise_if(check_text_list(value, path="symptoms"))
        return value

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Staff edit the JSON by hand: show them the shape and the names they may use.
        self.fields["red_flags"].help_text = (
            'Each red flag: {"text": "What to look out for", "asks": ["question", …]}, naming the check-in '
            f"questions that ask about it: {', '.join(red_flag_questions())}."
        )

    def clean_red_flags(self):
        value = self.cleaned_data["red_flags"]
        _raise_if(check_red_flags(value))
        return value

    def clean_warnings(self):
        value = self.cleaned_data["warnings"] or []
        _raise_if(check_warnings(value))
        return value

    def clean_sources(self):
        value = self.cleaned_data["sources"]
        _raise_if(check_sources(value))
        return value

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("home_care") is False and not (cleaned.get("urgent_care_note") or "").strip():
            self.add_error("urgent_care_note", "Say what care is needed and how urgently when there is no home care.")
        return cleaned


class TreatmentPhaseForm(forms.ModelForm):
    class Meta:
        model = TreatmentPhase
        fields = ["key", "order", "name", "goals", "guidance", "duration_days_min", "duration_days_max",
                  "exit_criteria"]

    def clean_goals(self):
        value = self.cleaned_data["goals"]
        _raise_if(check_text_list(value, path="goals"))
        return value

    def clean(self):
        cleaned = super().clean()
        key = cleaned.get("key") or self.instance.key  # read-only on the phase's own page
        if "exit_criteria" in cleaned and key:
            errors = check_exit_criteria(cleaned["exit_criteria"] or [], phase_key=key)
            for error in errors:
                self.add_error("exit_criteria", error)
        minimum, maximum = cleaned.get("duration_days_min"), cleaned.get("duration_days_max")
        if minimum is not None and maximum is not None and minimum > maximum:
            self.add_error("duration_days_max", "The longest typical duration cannot be shorter than the shortest.")
        return cleaned


class PhasesFormSet(forms.BaseInlineFormSet):
    """A home-care condition keeps exactly its three phases, in order; one without home care has none."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [form.cleaned_data for form in self.forms
                if form.cleaned_data and not form.cleaned_data.get("DELETE")]
        keys = [data["key"] for data in sorted(kept, key=lambda data: data["order"])]
        if self.instance.home_care and keys != PhaseKey.ordered():
            raise ValidationError(
                "A home-care condition needs exactly the phases "
                f"{', '.join(PhaseKey.ordered())}, in that order (found: {', '.join(keys) or 'none'})."
            )
        if not self.instance.home_care and keys:
            raise ValidationError("A condition without home care has no phases: remove them or tick home care.")


class TreatmentPhaseInline(admin.StackedInline):
    model = TreatmentPhase
    form = TreatmentPhaseForm
    formset = PhasesFormSet
    extra = 0
    show_change_link = True
    fields = ["key", "order", "name", "goals", "guidance", ("duration_days_min", "duration_days_max"),
              "exit_criteria"]


@admin.register(Condition)
class ConditionAdmin(admin.ModelAdmin):
    form = ConditionAdminForm
    list_display = ["name", "slug", "home_care", "recovery_weeks_min", "recovery_weeks_max", "catalog_version",
                    "updated_at"]
    list_filter = ["home_care"]
    search_fields = ["name", "slug", "search_text"]
    prepopulated_fields = {"slug": ["name"]}
    readonly_fields = ["catalog_version", "updated_at"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "also_known_as", "subtypes", "summary"]}),
        ("Facts", {"fields": ["causes", "symptoms", "typical_recovery",
                              ("recovery_weeks_min", "recovery_weeks_max")]}),
        ("Care", {"fields": ["home_care", "urgent_care_note", "surgery_note", "red_flags", "warnings"]}),
        ("Provenance", {"fields": ["sources", "catalog_version", "updated_at"]}),
    ]
    inlines = [TreatmentPhaseInline]


class PhaseExerciseInline(admin.TabularInline):
    model = PhaseExercise
    extra = 0
    autocomplete_fields = ["exercise"]
    fields = ["order", "exercise", "sets", "reps", "hold_seconds", "times_per_day", "days_per_week"]


@admin.register(TreatmentPhase)
class TreatmentPhaseAdmin(admin.ModelAdmin):
    form = TreatmentPhaseForm
    list_display = ["condition", "key", "order", "name", "duration_days_min", "duration_days_max"]
    list_filter = ["key"]
    list_select_related = ["condition"]
    search_fields = ["name", "condition__name", "condition__slug"]
    # The key and the order are part of the path's shape: change them from the condition's page.
    readonly_fields = ["condition", "key", "order"]
    fields = ["condition", "key", "order", "name", "goals", "guidance", ("duration_days_min", "duration_days_max"),
              "exit_criteria"]
    inlines = [PhaseExerciseInline]

    def has_add_permission(self, request):
        return False  # phases are added from their condition's page, where the path is checked as a whole


@admin.register(Exercise)
class ExerciseAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "body_area", "sets", "reps", "hold_seconds", "times_per_day", "days_per_week",
                    "updated_at"]
    list_filter = ["body_area"]
    search_fields = ["name", "slug", "instructions"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (None, {"fields": ["name", "slug", "body_area"]}),
        ("How to do it", {"fields": ["instructions", "feel", "stop_if"]}),
        ("Default dose", {"fields": [("sets", "reps", "hold_seconds"), ("times_per_day", "days_per_week")]}),
    ]


class ExerciseMediaAdminForm(forms.ModelForm):
    """Staff add media here; the file goes through the same content checks and cleaning as an API upload."""

    upload = forms.FileField(required=True, help_text="A JPEG, PNG or WebP picture, or an MP4 or WebM video.")

    class Meta:
        model = ExerciseMedia
        fields = ["exercise", "title", "shared"]

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("upload")
        if upload is not None:
            try:
                fill_media(self.instance, upload=upload, title=cleaned.get("title", ""))
            except ApplicationError as error:
                self.add_error("upload", error.message)
        return cleaned


@admin.register(ExerciseMedia)
class ExerciseMediaAdmin(admin.ModelAdmin):
    form = ExerciseMediaAdminForm
    list_display = ["__str__", "exercise", "kind", "shared", "uploaded_by", "created_at"]
    list_filter = ["kind", "shared"]
    search_fields = ["exercise__name", "title"]
    readonly_fields = ["kind", "content_type", "size_bytes", "width", "height", "duration_seconds", "uploaded_by",
                       "created_at"]

    def has_change_permission(self, request, obj=None):
        # A stored file is replaced by deleting the row and adding a new one.
        return False

    def save_model(self, request, obj, form, change):
        obj.uploaded_by = request.user
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        delete_files(obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for media in queryset:
            delete_files(media)
        super().delete_queryset(request, queryset)

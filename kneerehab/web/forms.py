"""HTML forms. They only shape input for the services; every rule lives in the services the API calls too."""
import uuid

from django import forms
from django.contrib.auth.validators import UnicodeUsernameValidator

from conditions.models import Condition, Dose, PhaseKey
from kneerehab.errors import ApplicationError
from kneerehab.timezones import available_timezones
from plans.models import ClotRiskFactor, PlanStatus
from plans.services import ALLOWED_TRANSITIONS
from tracker.models import AlertOutcome, Swelling
from tracker.questions import MORNING_PAIN, QUESTION_GROUPS, QUESTIONS, SURGERY_QUESTIONS

PAIN_CHOICES = [(n, str(n)) for n in range(11)]


def apply_service_errors(form: forms.Form, error: ApplicationError) -> None:
    """Show a service's refusal on the form: on the field it names when the form has it, else above the form."""
    if not error.fields:
        form.add_error(None, error.message)
        return
    for name, messages in error.fields.items():
        form.add_error(name if name in form.fields else None, messages)


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]


class PatientAddForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()],
                               help_text="Letters, digits and @ . + - _ only.")
    email = forms.EmailField(required=False, help_text="Reminders and messages go here (optional).")
    timezone = forms.ChoiceField(choices=timezone_choices, initial="UTC",
                                 help_text="Reminders and the patient's day follow this time zone.")
    password = forms.CharField(required=False, strip=False, widget=forms.PasswordInput(render_value=False),
                               help_text="Optional. Without one the patient cannot sign in until a password is set.")


class ReminderTimesField(forms.CharField):
    """"08:00, 18:30" in the form, ["08:00", "18:30"] for the service (which checks the times)."""

    def to_python(self, value):
        text = super().to_python(value)
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value


class PlanContextForm(forms.Form):
    """The clinical context of a plan; screening may only raise a level because of it."""

    surgery_date = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}), label="Date of knee surgery",
        help_text="Leave empty if the patient had no surgery. When set, the check-in asks about the wound.")
    clot_risk_factors = forms.MultipleChoiceField(
        required=False, choices=ClotRiskFactor.choices, widget=forms.CheckboxSelectMultiple,
        label="Blood clot risk factors", help_text="They make clot signs in a check-in weigh more, never less.")
    immunosuppressed = forms.BooleanField(
        required=False, label="Immunosuppressed",
        help_text="For example steroids, chemotherapy or biologic drugs: a higher risk of infection.")

    CONTEXT_FIELDS = ("surgery_date", "clot_risk_factors", "immunosuppressed")

    def context_data(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.CONTEXT_FIELDS}


class PlanAssignForm(PlanContextForm):
    condition = forms.ModelChoiceField(
        queryset=Condition.objects.filter(home_care=True).order_by("name"), to_field_name="slug",
        empty_label="Choose a condition",
        help_text="Only conditions with a home-care path are listed; a suspected blood clot needs urgent medical "
                  "care instead.",
    )
    start_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}),
                                 help_text="In the patient's time zone.")
    reminder_times = ReminderTimesField(
        required=False, initial="08:00",
        help_text="Local times of day as HH:MM, separated by commas, e.g. 08:00, 18:30.",
    )
    auto_advance = forms.BooleanField(required=False, label="Advance automatically",
                                      help_text="Move to the next phase by itself when the exit criteria are met.")


class PlanEditForm(PlanContextForm):
    status = forms.ChoiceField(choices=PlanStatus.choices)
    reminder_times = ReminderTimesField(required=False,
                                        help_text="Local times of day as HH:MM, separated by commas.")
    auto_advance = forms.BooleanField(required=False, label="Advance automatically",
                                      help_text="Move to the next phase by itself when the exit criteria are met.")

    def __init__(self, *args, plan, **kwargs):
        super().__init__(*args, **kwargs)
        # Offer only the moves the service allows from here; it checks them again anyway.
        allowed = {plan.status, *ALLOWED_TRANSITIONS[PlanStatus(plan.status)]}
        self.fields["status"].choices = [(value, label) for value, label in PlanStatus.choices if value in allowed]


class DoseForm(forms.Form):
    """The dose of one plan exercise; its prefix ties it to the exercise."""

    LABELS = {"sets": "Sets", "reps": "Reps", "hold_seconds": "Hold (seconds)", "times_per_day": "Times a day",
              "days_per_week": "Days a week"}

    def __init__(self, *args, plan_exercise, **kwargs):
        super().__init__(*args, prefix=f"dose-{plan_exercise.pk}", initial=plan_exercise.dose(), **kwargs)
        self.plan_exercise = plan_exercise
        for name in Dose.DOSE_FIELDS:
            low, high = Dose.DOSE_RANGES[name]
            self.fields[name] = forms.IntegerField(label=self.LABELS[name], min_value=low, max_value=high)

    def override(self) -> dict | None:
        """The service's override item for this exercise when its dose was changed, else None."""
        changed = {name: self.cleaned_data[name] for name in Dose.DOSE_FIELDS
                   if self.cleaned_data[name] != getattr(self.plan_exercise, name)}
        if not changed:
            return None
        return {"phase": self.plan_exercise.phase, "exercise": self.plan_exercise.exercise.slug, **changed}


class CheckInForm(forms.Form):
    """The daily check-in. Input names are the API's field names, so the two stay one vocabulary."""

    pain_at_rest = forms.TypedChoiceField(choices=PAIN_CHOICES, coerce=int, widget=forms.RadioSelect,
                                          label="Pain at rest (0 = none, 10 = worst imaginable)")
    pain_during_activity = forms.TypedChoiceField(choices=PAIN_CHOICES, coerce=int, widget=forms.RadioSelect,
                                                  label="Pain during activity (0 = none, 10 = worst imaginable)")
    swelling = forms.ChoiceField(choices=Swelling.choices, initial=Swelling.NONE, widget=forms.RadioSelect,
                                 label="Swelling around the knee")
    morning_pain = forms.TypedChoiceField(
        choices=[("", "Skip"), *PAIN_CHOICES], coerce=int, empty_value=None, required=False,
        widget=forms.RadioSelect, label=MORNING_PAIN)
    notes = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                            label="Anything else (optional)")
    # Generated when the form is shown: sending the same form twice stores one check-in, as in the API.
    client_id = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def __init__(self, *args, had_surgery: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        # The yes/no questions in the order the form groups them, worded as in the API schema.
        for _, names in QUESTION_GROUPS:
            for name in names:
                if name in SURGERY_QUESTIONS and not had_surgery:
                    continue
                self.fields[name] = forms.BooleanField(required=False, label=QUESTIONS[name])

    def question_groups(self):
        return [(legend, [self[name] for name in names if name in self.fields]) for legend, names in QUESTION_GROUPS]


class ClearHoldForm(forms.Form):
    note = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           label="Why the plan may go on",
                           help_text="For example what the patient was advised or the outcome of the visit.")


class AlertAcknowledgeForm(forms.Form):
    outcome = forms.ChoiceField(choices=[("", "Choose what you did"), *AlertOutcome.choices], label="What you did")
    note = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2}),
                           label="Note", help_text="Required when you choose Other.")


class ExerciseDoneForm(forms.Form):
    """One session of a plan exercise, as the exercise-log API takes it."""

    sets_done = forms.IntegerField(min_value=0, max_value=50, label="Sets done")
    reps_done = forms.IntegerField(min_value=0, max_value=500, label="Reps done")
    pain_during = forms.TypedChoiceField(choices=PAIN_CHOICES, coerce=int, initial=0,
                                         label="Pain during the exercise (0–10)")


class MediaUploadForm(forms.Form):
    PLAN, LIBRARY = "plan", "library"

    plan_exercise = forms.TypedChoiceField(coerce=int, label="Exercise")
    audience = forms.ChoiceField(
        label="Show it to", initial=PLAN, widget=forms.RadioSelect,
        choices=[(PLAN, "This patient only (with this plan's exercise)"),
                 (LIBRARY, "All my patients whose plan has this exercise")],
    )
    file = forms.FileField(label="Picture or video",
                           help_text="JPEG, PNG or WebP pictures; MP4 or WebM videos up to the length limit. "
                                     "Location and camera details are removed from pictures.",
                           widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,"
                                                                            "video/mp4,video/webm"}))
    title = forms.CharField(max_length=120, required=False, help_text="Optional, e.g. \"side view\".")

    def __init__(self, *args, plan_exercises, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["plan_exercise"].choices = [
            (pe.pk, f"{pe.exercise.name} ({PhaseKey(pe.phase).label})") for pe in plan_exercises]

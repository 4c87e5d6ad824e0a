"""The physiotherapist's pages: triaged caseload, a patient's page, adding patients, assigning and editing plans."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from conditions.models import PhaseKey
from kneerehab.errors import ApplicationError
from kneerehab.users.services import user_create
from plans.models import ClotRiskFactor, PlanStatus
from plans.selectors import plan_list, plans_visible_to
from plans.services import local_today, plan_advance, plan_create, plan_update, safety_hold_clear
from tracker.models import AlertStatus
from tracker.selectors import alerts_for, checkins_visible_to
from tracker.services import alert_acknowledge

from ..access import physiotherapist_required, visible_patient_or_404
from ..charts import progress_context
from ..forms import (
    AlertAcknowledgeForm,
    ClearHoldForm,
    DoseForm,
    PatientAddForm,
    PlanAssignForm,
    PlanEditForm,
    apply_service_errors,
)
from ..htmx import is_htmx
from ..triage import triaged_caseload


@physiotherapist_required
def caseload(request):
    query = request.GET.get("q", "").replace("\x00", "").strip()
    try:
        entries = triaged_caseload(physiotherapist=request.user, query=query)
    except ApplicationError as error:  # too long a search
        context = {"entries": [], "query": query[:200], "search_error": error.message}
        return render(request, "web/caseload.html", context, status=400)
    return render(request, "web/caseload.html", {"entries": entries, "query": query})


@physiotherapist_required
def patient_add(request):
    form = PatientAddForm(request.POST or None, initial={"timezone": request.user.timezone})
    if request.method == "POST" and form.is_valid():
        try:
            patient = user_create(role="patient", physiotherapist=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{patient.username} is on your caseload. Now assign a plan.")
            return redirect("web:plan-assign", patient_id=patient.pk)
    return render(request, "web/patient_add.html", {"form": form})


@physiotherapist_required
def plan_assign(request, patient_id: int):
    patient = visible_patient_or_404(user=request.user, patient_id=patient_id)
    form = PlanAssignForm(request.POST or None, initial={"start_date": local_today(patient=patient)})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            plan = plan_create(
                physiotherapist=request.user, patient_id=patient.pk, condition_slug=data["condition"].slug,
                start_date=data["start_date"], reminder_times=data["reminder_times"],
                auto_advance=data["auto_advance"], **form.context_data(),
            )
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{plan.condition.name} plan assigned. Adjust the doses below if needed.")
            return redirect("web:plan-edit", plan_id=plan.pk)
    return render(request, "web/plan_assign.html", {"form": form, "patient": patient})


@physiotherapist_required
def plan_edit(request, plan_id: int):
    plan = get_object_or_404(plan_list(user=request.user), pk=plan_id)
    if plan.status not in (PlanStatus.ACTIVE, PlanStatus.PAUSED):
        messages.error(request, f"This plan is {plan.get_status_display().lower()}; it can no longer be changed.")
        return redirect("web:patient", patient_id=plan.patient_id)
    exercises = list(plan.exercises.all())
    data = request.POST or None
    form = PlanEditForm(data, plan=plan, initial={"status": plan.status, "reminder_times": plan.reminder_times,
                                                  "auto_advance": plan.auto_advance,
                                                  "surgery_date": plan.surgery_date,
                                                  "clot_risk_factors": plan.clot_risk_factors,
                                                  "immunosuppressed": plan.immunosuppressed})
    doses = [DoseForm(data, plan_exercise=pe) for pe in exercises]
    if request.method == "POST" and form.is_valid() and all(d.is_valid() for d in doses):
        changes = {
            "status": form.cleaned_data["status"],
            "reminder_times": form.cleaned_data["reminder_times"],
            "auto_advance": form.cleaned_data["auto_advance"],
            **form.context_data(),
        }
        overrides = [o for o in (d.override() for d in doses) if o]
        if overrides:
            changes["overrides"] = overrides
        try:
            plan_update(plan=plan, changed_by=request.user, data=changes)
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Plan saved.")
            return redirect("web:patient", patient_id=plan.patient_id)
    phases = [
        {"key": key, "label": PhaseKey(key).label, "doses": [d for d in doses if d.plan_exercise.phase == key]}
        for key in PhaseKey.ordered()
    ]
    return render(request, "web/plan_edit.html", {"plan": plan, "form": form, "phases": phases})


@physiotherapist_required
@require_POST
def plan_advance_view(request, plan_id: int):
    plan = get_object_or_404(plans_visible_to(user=request.user).select_related("condition"), pk=plan_id)
    try:
        # The phase the page showed: a second click (or a stale page) cannot advance twice.
        plan = plan_advance(plan=plan, changed_by=request.user,
                            expected_phase=request.POST.get("from_phase") or None)
    except ApplicationError as error:
        messages.error(request, error.message)
    else:
        if plan.status == PlanStatus.COMPLETED:
            messages.success(request, f"The {plan.condition.name} plan is complete.")
        else:
            messages.success(request, f"Moved to {PhaseKey(plan.current_phase).label}.")
    return redirect(reverse("web:patient", kwargs={"patient_id": plan.patient_id}) + "#plans")


PATIENT_PAGE_CHECKINS = 20


@physiotherapist_required
def patient_detail(request, patient_id: int):
    patient = visible_patient_or_404(user=request.user, patient_id=patient_id)
    progress = progress_context(request, patient=patient)
    plans = list(plan_list(user=request.user).filter(patient=patient))
    for plan in plans:
        plan.phase_log = [c for c in progress["progress"]["phase_history"] if c["plan"] == plan.pk]
        plan.hold = plan.open_holds[0] if plan.open_holds else None
        plan.can_advance = plan.status == PlanStatus.ACTIVE and plan.hold is None
        plan.next_phase = PhaseKey.next_after(plan.current_phase)
        plan.clot_risk_labels = [ClotRiskFactor(f).label for f in plan.clot_risk_factors
                                 if f in ClotRiskFactor.values]
    alerts = alerts_for(physiotherapist=request.user).filter(patient=patient)
    context = {
        "patient": patient,
        **progress,
        "plans": plans,
        "open_alerts": list(alerts.filter(status=AlertStatus.OPEN)),
        "recent_acknowledged": list(alerts.filter(status=AlertStatus.ACKNOWLEDGED)[:5]),
        "checkins": list(checkins_visible_to(user=request.user).filter(patient=patient)[:PATIENT_PAGE_CHECKINS]),
        "clear_hold_form": ClearHoldForm(),
        "acknowledge_form": AlertAcknowledgeForm(),
    }
    return render(request, "web/patient_detail.html", context)


@physiotherapist_required
@require_POST
def plan_clear_hold_view(request, plan_id: int):
    plan = get_object_or_404(plans_visible_to(user=request.user), pk=plan_id)
    form = ClearHoldForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write a note saying why the plan may go on; the hold was not cleared.")
    else:
        try:
            safety_hold_clear(plan=plan, cleared_by=request.user, note=form.cleaned_data["note"])
        except ApplicationError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Safety hold cleared. Reminders and exercises start again.")
    return redirect(reverse("web:patient", kwargs={"patient_id": plan.patient_id}) + f"#plan-{plan.pk}")


@physiotherapist_required
@require_POST
def alert_acknowledge_view(request, alert_id: int):
    alert = get_object_or_404(alerts_for(physiotherapist=request.user), pk=alert_id)
    form = AlertAcknowledgeForm(request.POST)
    if form.is_valid():
        try:
            alert = alert_acknowledge(alert=alert, user=request.user, **form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error)
    if form.errors:
        if is_htmx(request):  # the card again, with the form's errors
            return render(request, "web/partials/alert_card.html", {"alert": alert, "acknowledge_form": form})
        messages.error(request, "Choose what you did (and add a note for Other); the alert is still open.")
        return redirect(reverse("web:patient", kwargs={"patient_id": alert.patient_id}) + f"#alert-{alert.pk}")
    if is_htmx(request):
        alert = alerts_for(physiotherapist=request.user).get(pk=alert.pk)
        return render(request, "web/partials/alert_card.html", {"alert": alert, "just_acknowledged": True})
    messages.success(request, "Alert acknowledged.")
    return redirect(reverse("web:patient", kwargs={"patient_id": alert.patient_id}) + "#alerts")

"""The patient's pages: today's exercises, the daily check-in and its prompt, progress."""
import uuid

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from kneerehab.errors import ApplicationError
from kneerehab.users.emergency import emergency_number_for
from plans.models import PlanStatus
from plans.selectors import media_for_plan_exercise, today_for_patient
from tracker.exercise_pain import exercise_advice
from tracker.selectors import checkins_visible_to
from tracker.services import checkin_create, exercise_log_create

from ..access import patient_required
from ..charts import progress_context
from ..forms import CheckInForm, ExerciseDoneForm, apply_service_errors
from ..htmx import is_htmx

RECENT_CHECKINS = 14


def _exercise_card(plan_exercise, form=None, just_logged=False, advice=""):
    return {
        "advice": advice,
        "item": plan_exercise,
        "done": plan_exercise.logged_sessions >= plan_exercise.times_per_day,
        "form": form or ExerciseDoneForm(
            initial={"sets_done": plan_exercise.sets, "reps_done": plan_exercise.reps, "pain_during": 0},
            prefix=f"log-{plan_exercise.pk}",
        ),
        "client_id": uuid.uuid4(),
        "just_logged": just_logged,
        "media": media_for_plan_exercise(plan_exercise, physiotherapist_id=plan_exercise.plan_physiotherapist_id),
    }


def _today_page(request, day, cards):
    return render(request, "web/today.html", {"day": day, "cards": cards,
                                              "emergency_number": emergency_number_for(request.user).as_dict()})


@patient_required
def today(request):
    day = today_for_patient(patient=request.user)
    cards = [_exercise_card(pe) for pe in day["exercises"]]
    return _today_page(request, day, cards)


@patient_required
@require_POST
def exercise_done(request, plan_exercise_id: int):
    """Log one session of a plan exercise through the tracker service, as POST /api/v1/exercise-logs/ does."""
    form = ExerciseDoneForm(request.POST, prefix=f"log-{plan_exercise_id}")
    log = None
    if form.is_valid():
        try:
            client_id = uuid.UUID(request.POST.get("client_id", ""))
        except ValueError:
            client_id = None
        try:
            log, _ = exercise_log_create(patient=request.user, plan_exercise_id=plan_exercise_id,
                                         client_id=client_id, **form.cleaned_data)
        except ApplicationError as error:
            if error.fields and "plan_exercise" in error.fields:
                # Not one of this patient's active exercises: the same answer as an id that does not exist.
                raise Http404 from error
            apply_service_errors(form, error)
    advice = exercise_advice(log.pain_during) if log is not None else ""
    day = today_for_patient(patient=request.user)
    plan_exercise = next((pe for pe in day["exercises"] if pe.pk == plan_exercise_id), None)
    if plan_exercise is None or (log is not None and log.prompt):
        # Severe pain put the plan on hold (or the exercise is gone): the whole page says what to do now.
        if log is not None:
            (messages.warning if log.prompt else messages.success)(request, f"Logged. {advice}".strip())
        if is_htmx(request):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = reverse("web:today")
            return response
        return redirect("web:today")
    if not is_htmx(request):
        if log is not None:
            if advice:
                messages.warning(request, f"Logged: {plan_exercise.exercise.name}. {advice}")
            else:
                messages.success(request, f"Logged: {plan_exercise.exercise.name}.")
            return redirect("web:today")
        cards = [_exercise_card(pe, form=form if pe.pk == plan_exercise_id else None) for pe in day["exercises"]]
        return _today_page(request, day, cards)
    card = _exercise_card(plan_exercise, form=None if log else form, just_logged=log is not None, advice=advice)
    # 200 either way: htmx swaps in the card, with its form errors when there are some.
    return render(request, "web/partials/exercise_card.html", {"card": card})


@patient_required
def checkin(request):
    # The wound question is for patients whose running plan records a surgery.
    had_surgery = request.user.plans.filter(status=PlanStatus.ACTIVE, surgery_date__isnull=False).exists()
    form = CheckInForm(request.POST or None, had_surgery=had_surgery)
    if request.method == "POST" and form.is_valid():
        try:
            stored, _ = checkin_create(patient=request.user, data=form.cleaned_data)
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            # The prompt is on the next page at once; reloading it does not post the check-in again.
            return redirect("web:checkin-result", checkin_id=stored.pk)
    return render(request, "web/checkin.html", {"form": form})


@patient_required
def checkin_result(request, checkin_id: int):
    stored = get_object_or_404(checkins_visible_to(user=request.user), pk=checkin_id)
    return render(request, "web/checkin_result.html", {"checkin": stored, "prompt": stored.prompt})


@patient_required
def progress(request):
    return render(request, "web/progress.html", {
        **progress_context(request, patient=request.user),
        "checkins": list(checkins_visible_to(user=request.user)[:RECENT_CHECKINS]),
    })

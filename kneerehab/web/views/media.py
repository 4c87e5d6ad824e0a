"""The physiotherapist's page for a plan's pictures and videos: what each exercise shows, and adding more."""
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render

from conditions.services import exercise_media_add
from kneerehab.errors import ApplicationError
from plans.selectors import media_for_plan_exercise, plan_list
from plans.services import plan_exercise_media_add

from ..access import physiotherapist_required
from ..forms import MediaUploadForm, apply_service_errors


@physiotherapist_required
def plan_media(request, plan_id: int):
    plan = get_object_or_404(plan_list(user=request.user), pk=plan_id)
    exercises = list(plan.exercises.all())
    form = MediaUploadForm(request.POST or None, request.FILES or None, plan_exercises=exercises)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["audience"] == MediaUploadForm.LIBRARY:
                exercise = next(pe.exercise for pe in exercises if pe.pk == data["plan_exercise"])
                exercise_media_add(exercise=exercise, uploaded_by=request.user, upload=data["file"],
                                   title=data["title"])
            else:
                plan_exercise_media_add(plan=plan, plan_exercise_id=data["plan_exercise"], uploaded_by=request.user,
                                        upload=data["file"], title=data["title"])
        except ApplicationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Added. The patient sees it with the exercise on their Today page.")
            return redirect("web:plan-media", plan_id=plan.pk)
    rows = [{"item": pe, "media": media_for_plan_exercise(pe, physiotherapist_id=plan.physiotherapist_id)}
            for pe in exercises]
    return render(request, "web/plan_media.html", {"plan": plan, "form": form, "rows": rows})

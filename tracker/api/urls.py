from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("checkins", views.CheckInViewSet, basename="checkin")
router.register("exercise-logs", views.ExerciseLogViewSet, basename="exercise-log")
router.register("alerts", views.AlertViewSet, basename="alert")

urlpatterns = [
    path("progress/", views.ProgressView.as_view(), name="progress"),
    # /patients/ and /patients/{id}/ belong to plans; this path only adds the progress below them.
    path("patients/<int:patient_id>/progress/", views.PatientProgressView.as_view(), name="patient-progress"),
    *router.urls,
]

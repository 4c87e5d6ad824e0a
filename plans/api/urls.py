from django.urls import path
from rest_framework.routers import SimpleRouter

from . import calendar, media, views

router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("plans", views.PlanViewSet, basename="plan")

urlpatterns = [
    path("today/", views.TodayView.as_view(), name="today"),
    path("calendar-feed/", calendar.CalendarFeedView.as_view(), name="calendar-feed"),
    path("calendar/<slug:token>.ics", calendar.CalendarFeedIcsView.as_view(), name="calendar-feed-ics"),
    path("plans/<int:pk>/media/", media.PlanMediaUploadView.as_view(), name="plan-media"),
    path("exercise-media/<int:pk>/file/", media.ExerciseMediaFileView.as_view(), name="exercise-media-file"),
    path("plan-exercise-media/<int:pk>/file/", media.PlanExerciseMediaFileView.as_view(),
         name="plan-exercise-media-file"),
    *router.urls,
]

from django.urls import path
from rest_framework.routers import SimpleRouter

from . import views

router = SimpleRouter()
router.register("patients", views.PatientViewSet, basename="patient")
router.register("plans", views.PlanViewSet, basename="plan")

urlpatterns = [
    path("today/", views.TodayView.as_view(), name="today"),
    *router.urls,
]

from django.contrib.auth import views as auth_views
from django.urls import path

from .views import calendar, common, media, patient, physio

app_name = "web"

urlpatterns = [
    path("", common.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("inbox/", common.inbox, name="inbox"),
    path("inbox/<int:notification_id>/read/", common.notification_read, name="notification-read"),
    path("inbox/<int:notification_id>/open/", common.notification_open, name="notification-open"),
    path("inbox/read-all/", common.notifications_read_all, name="notifications-read-all"),
    # physiotherapists
    path("caseload/", physio.caseload, name="caseload"),
    path("patients/new/", physio.patient_add, name="patient-add"),
    path("patients/<int:patient_id>/", physio.patient_detail, name="patient"),
    path("patients/<int:patient_id>/plans/new/", physio.plan_assign, name="plan-assign"),
    path("plans/<int:plan_id>/edit/", physio.plan_edit, name="plan-edit"),
    path("plans/<int:plan_id>/media/", media.plan_media, name="plan-media"),
    path("plans/<int:plan_id>/advance/", physio.plan_advance_view, name="plan-advance"),
    path("plans/<int:plan_id>/clear-hold/", physio.plan_clear_hold_view, name="plan-clear-hold"),
    path("alerts/<int:alert_id>/acknowledge/", physio.alert_acknowledge_view, name="alert-acknowledge"),
    # patients
    path("today/", patient.today, name="today"),
    path("today/exercises/<int:plan_exercise_id>/done/", patient.exercise_done, name="exercise-done"),
    path("checkin/", patient.checkin, name="checkin"),
    path("checkins/<int:checkin_id>/", patient.checkin_result, name="checkin-result"),
    path("progress/", patient.progress, name="progress"),
    path("calendar/", calendar.calendar_page, name="calendar"),
    path("calendar/new/", calendar.calendar_create, name="calendar-create"),
    path("calendar/off/", calendar.calendar_revoke, name="calendar-revoke"),
]

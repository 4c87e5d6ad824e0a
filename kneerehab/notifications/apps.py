from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kneerehab.notifications"
    label = "notifications"
    verbose_name = "Notifications"

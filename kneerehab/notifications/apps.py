from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "kneerehab.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # The services announce stored deliveries; this receiver queues them for the workers.
        from . import receivers  # noqa: F401

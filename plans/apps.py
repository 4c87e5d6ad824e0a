from django.apps import AppConfig


class PlansConfig(AppConfig):
    name = "plans"
    verbose_name = "Rehabilitation plans"

    def ready(self):
        # Listen to the tracker: check-ins and exercise logs re-evaluate phase progression.
        from . import receivers  # noqa: F401

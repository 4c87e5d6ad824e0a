from django.apps import AppConfig


class PlansConfig(AppConfig):
    """Plans know nothing of check-ins and logs: the tracker asks them to re-evaluate progression."""

    name = "plans"
    verbose_name = "Rehabilitation plans"

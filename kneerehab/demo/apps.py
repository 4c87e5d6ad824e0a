from django.apps import AppConfig


class DemoConfig(AppConfig):
    """`manage.py setup_demo`: demo accounts and history for local use."""

    name = "kneerehab.demo"
    label = "demo"
    verbose_name = "Demo data"

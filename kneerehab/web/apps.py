from django.apps import AppConfig


class WebConfig(AppConfig):
    """Server-rendered pages for physiotherapists and patients (the mobile app uses the API)."""

    name = "kneerehab.web"
    label = "web"
    verbose_name = "Web pages"

from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "kneerehab.ops"
    label = "ops"
    verbose_name = "Operations"

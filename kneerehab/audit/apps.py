from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "kneerehab.audit"
    label = "audit"
    verbose_name = "Audit trail"

"""The one Celery application of the project; configuration comes from Django settings."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kneerehab.settings")

app = Celery("kneerehab")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

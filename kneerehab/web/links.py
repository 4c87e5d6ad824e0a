"""Where a notification leads in the browser.

Notifications carry the API path of what they are about (the mobile app opens
those); the web inbox translates them into the matching page, checking that
the reader may see it.
"""
import re

from django.urls import reverse

from tracker.models import Alert, CheckIn

CHECKIN = re.compile(r"^/api/v1/checkins/(\d+)/$")
ALERT = re.compile(r"^/api/v1/alerts/(\d+)/$")
TODAY = "/api/v1/today/"


def web_destination(*, link: str, user) -> str:
    if link == TODAY and user.is_patient:
        return reverse("web:today")
    if match := CHECKIN.match(link):
        checkin_id = int(match.group(1))
        if user.is_patient and CheckIn.objects.filter(pk=checkin_id, patient=user).exists():
            return reverse("web:checkin-result", args=[checkin_id])
        if user.is_physiotherapist:
            patient_id = (CheckIn.objects.filter(pk=checkin_id, patient__physiotherapists=user)
                          .values_list("patient_id", flat=True).first())
            if patient_id:
                return reverse("web:patient", args=[patient_id])
    if (match := ALERT.match(link)) and user.is_physiotherapist:
        patient_id = (Alert.objects.filter(pk=int(match.group(1)), physiotherapist=user)
                      .values_list("patient_id", flat=True).first())
        if patient_id:
            return reverse("web:patient", args=[patient_id]) + "#alerts"
    return reverse("web:inbox")

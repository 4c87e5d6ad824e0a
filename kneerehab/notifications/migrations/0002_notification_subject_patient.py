import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def name_the_patients_of_alerts(apps, schema_editor):
    """Alerts and escalations already sent say whose check-in they are about in their dedupe key."""
    Notification = apps.get_model("notifications", "Notification")
    Alert = apps.get_model("tracker", "Alert")
    for prefix in ("alert:", "escalation:"):
        rows = Notification.objects.filter(dedupe_key__startswith=prefix, subject_patient__isnull=True)
        for notification in rows.only("id", "dedupe_key").iterator():
            alert_id = notification.dedupe_key.removeprefix(prefix)
            if not alert_id.isdigit():
                continue
            patient_id = Alert.objects.filter(pk=int(alert_id)).values_list("patient_id", flat=True).first()
            if patient_id is not None:
                Notification.objects.filter(pk=notification.pk).update(subject_patient_id=patient_id)


class Migration(migrations.Migration):

    dependencies = [
        ("notifications", "0001_initial"),
        ("tracker", "0002_drop_redundant_key_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="notification",
            name="subject_patient",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE,
                                    related_name="+", to=settings.AUTH_USER_MODEL),
        ),
        migrations.RunPython(name_the_patients_of_alerts, migrations.RunPython.noop),
    ]

"""Drop single-column key indexes that composite indexes cover: ExerciseLog's patient and plan_exercise
((patient, date) and (plan_exercise, date)) and CheckIn's patient ((patient, recorded_at)).

With both present, PostgreSQL chose the single-column index for "these plan exercises
(or this patient) between two dates" and filtered every row ever logged (bench/:
caseload page, progress, progression). Only the indexes go; the foreign-key constraints stay as they
are, so nothing is re-validated.
"""
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "tracker_exerciselog_patient_id_7bbf042c": ("tracker_exerciselog", "patient_id"),
    "tracker_exerciselog_plan_exercise_id_2d93d6a9": ("tracker_exerciselog", "plan_exercise_id"),
    "tracker_checkin_patient_id_7a7159d4": ("tracker_checkin", "patient_id"),
}


class Migration(migrations.Migration):

    dependencies = [
        ("plans", "0002_reminder_dispatch_state"),
        ("tracker", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" ("{column}")',
                )
                for name, (table, column) in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="checkin",
                    name="patient",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="checkins", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="exerciselog",
                    name="patient",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="exercise_logs", to=settings.AUTH_USER_MODEL),
                ),
                migrations.AlterField(
                    model_name="exerciselog",
                    name="plan_exercise",
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                            related_name="logs", to="plans.planexercise"),
                ),
            ],
        ),
    ]

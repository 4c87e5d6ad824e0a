"""A picture of every stored row a client could change, to show that a refused request changed nothing."""
from django.apps import apps

# What a client request may write, directly or through services. Audit events are left out on purpose:
# a refused request is recorded there, and that is the one change it should make.
WRITABLE_MODELS = (
    "users.User",
    "users.CaseloadLink",
    "plans.Plan",
    "plans.PlanExercise",
    "plans.PhaseChange",
    "plans.ReminderDelivery",
    "plans.PlanExerciseMedia",
    "plans.CalendarFeed",
    "conditions.ExerciseMedia",
    "tracker.CheckIn",
    "tracker.ExerciseLog",
    "tracker.Alert",
    "notifications.Notification",
    "notifications.ChannelDelivery",
    "notifications.Device",
)
# Touched by reads too (signing in stamps last_login) and carrying no health data.
VOLATILE_FIELDS = {"last_login", "last_seen_at"}


def db_snapshot() -> dict[str, list[tuple]]:
    picture = {}
    for label in WRITABLE_MODELS:
        model = apps.get_model(label)
        names = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE_FIELDS]
        picture[label] = list(model.objects.order_by("pk").values_list(*names))
    return picture


def row_counts() -> dict[str, int]:
    return {label: apps.get_model(label).objects.count() for label in WRITABLE_MODELS}


def snapshot_diff(before: dict, after: dict) -> dict[str, dict]:
    """Per model, the rows that appeared or disappeared (changed rows show as both)."""
    diff = {}
    for label in before:
        gone = [row for row in before[label] if row not in after[label]]
        new = [row for row in after[label] if row not in before[label]]
        if gone or new:
            diff[label] = {"gone": gone, "new": new}
    return diff

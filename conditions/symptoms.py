"""The symptom vocabulary: what a daily check-in asks and measures.

It belongs to the clinical knowledge: the catalogue's red flags and warnings name these questions, the
tracker stores and screens the answers, and the pages and the API ask them. One definition each.
"""
from django.db import models


class Swelling(models.TextChoices):
    NONE = "none", "None"
    MILD = "mild", "Mild"
    MODERATE = "moderate", "Moderate"
    SEVERE = "severe", "Severe"

    @classmethod
    def rank(cls, value: str) -> int:
        """none=0 < mild=1 < moderate=2 < severe=3, for comparisons and trends."""
        return [cls.NONE, cls.MILD, cls.MODERATE, cls.SEVERE].index(value)


# The scores of a daily check-in that trends and exit criteria read.
CHECKIN_METRICS = ("pain_at_rest", "pain_during_activity", "swelling")

# The yes/no questions of a daily check-in (the check-in's boolean fields).
SYMPTOM_FLAGS = (
    "fever",
    "trouble_breathing",
    "chest_pain",
    "coughing_blood",
    "fainted_or_racing_heart",
    "foot_cold_pale_or_numb",
    "confused_or_shaking_chills",
    "calf_tight_and_hard",
    "cannot_bear_weight",
    "sudden_swelling_or_warmth",
    "joint_shape_changed",
    "calf_pain",
    "leg_swelling",
    "red_skin",
    "swollen_veins",
    "history_of_clots",
    "knee_locked",
    "cannot_lift_straight_leg",
    "calf_snap_or_cannot_tiptoe",
    "wound_problem",
    "limits_daily_activities",
    "knee_giving_way",
    "new_fall_or_injury",
    "knee_locking_or_giving_way",
)
# Still accepted from older clients, no longer asked by the web form (knee_locked and knee_giving_way replace it).
DEPRECATED_FLAGS = ("knee_locking_or_giving_way",)

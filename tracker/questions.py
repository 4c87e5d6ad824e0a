"""The yes/no questions of the daily check-in, in the patient's words.

One wording per question, shared by the web form (its labels) and the API schema (field
descriptions), so the app and the browser ask the same thing. The order and grouping is the
one the form shows: the most urgent first, so a patient in a hurry still reads the red flags.
"""
QUESTIONS = {
    # Call emergency services now.
    "trouble_breathing": "I am short of breath or struggling to breathe",
    "chest_pain": "I have chest pain, worse when I breathe in",
    "coughing_blood": "I have coughed up blood",
    "fainted_or_racing_heart": "I fainted, or my heart is racing or pounding",
    "foot_cold_pale_or_numb": "The foot on my injured side is cold, pale, numb or weak",
    "confused_or_shaking_chills": "I feel confused, have shaking chills, or feel very unwell",
    # Get medical help today.
    "fever": "I have a fever or feel hot and shivery",
    "calf_tight_and_hard": "My calf feels hard and tight",
    "calf_pain": "Pain in my calf or thigh is new, or worse than at my last check-in",
    "leg_swelling": "Swelling of my lower leg or ankle is new, or worse than at my last check-in",
    "red_skin": "The skin of my leg is red or darker than usual",
    "swollen_veins": "The veins in my leg look swollen or hard",
    "sudden_swelling_or_warmth": "My leg suddenly swelled up or feels warm",
    "cannot_bear_weight": "My leg cannot hold my weight",
    "joint_shape_changed": "My knee looks a different shape than before",
    "knee_locked": "My knee is stuck and I cannot straighten it",
    "cannot_lift_straight_leg": "Lying down, I cannot lift my leg with the knee straight",
    "calf_snap_or_cannot_tiptoe": "I felt a snap at the back of my calf, or I cannot stand on tiptoe on that leg",
    "wound_problem": "My surgical wound is red, hot, leaking or opening",
    "history_of_clots": "I have had a blood clot before",
    # Book a visit.
    "limits_daily_activities": "The pain stops me doing everyday things",
    "knee_giving_way": "My knee gave way",
    "new_fall_or_injury": "I fell or hurt my knee again",
    # Asked by older app versions only.
    "knee_locking_or_giving_way": "My knee locks, catches or gives way (asked by older app versions; the "
                                  "locked and giving-way questions replace it)",
}

QUESTION_GROUPS = (
    ("Call emergency services now if any of these is true",
     ("trouble_breathing", "chest_pain", "coughing_blood", "fainted_or_racing_heart",
      "foot_cold_pale_or_numb", "confused_or_shaking_chills")),
    ("Get medical help today if any of these is true",
     ("fever", "calf_tight_and_hard", "calf_pain", "leg_swelling", "red_skin", "swollen_veins",
      "sudden_swelling_or_warmth", "cannot_bear_weight", "joint_shape_changed", "knee_locked",
      "cannot_lift_straight_leg", "calf_snap_or_cannot_tiptoe", "wound_problem", "history_of_clots")),
    ("Since your last check-in", ("limits_daily_activities", "knee_giving_way", "new_fall_or_injury")),
)

# Asked only when the patient's running plan records a surgery.
SURGERY_QUESTIONS = ("wound_problem",)

MORNING_PAIN = "Pain or stiffness this morning (optional)"

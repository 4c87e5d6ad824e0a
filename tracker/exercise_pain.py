"""What a patient is told about the pain they felt during an exercise session.

Thresholds and sources:
- Pain during exercise up to 5/10 is acceptable; above it, hold or reduce the load (the pain-monitoring
  model, Silbernagel et al. 2007, Am J Sports Med 35:897; also used for patellar tendinopathy).
- SEVERE_PAIN (8/10) or more is screened like severe pain in a check-in (`tracker.rules.SEVERE_PAIN`):
  an urgent prompt, an alert for the physiotherapist and a safety hold on the plan.
"""
from .models import PromptLevel
from .rules import SEVERE_PAIN
from .screening import prompt_message

# Silbernagel et al. 2007: pain during exercise up to this score (out of 10) is acceptable.
ACCEPTABLE_EXERCISE_PAIN = 5
SEVERE_EXERCISE_PAIN_CODE = "severe_exercise_pain"


def exercise_advice(pain_during: int) -> str:
    """Advice for a logged session, or "" when the pain was acceptable (the app says well done)."""
    if pain_during >= SEVERE_PAIN:
        return (f"Pain of {pain_during}/10 during an exercise is severe. Stop your exercises and get medical "
                "attention today; do not start them again until you have been checked.")
    if pain_during > ACCEPTABLE_EXERCISE_PAIN:
        return (f"Pain of {pain_during}/10 is more than an exercise should cause (up to "
                f"{ACCEPTABLE_EXERCISE_PAIN}/10 is fine). Next time do fewer repetitions or sets, or move less "
                "far, and tell your physiotherapist if it keeps happening. Pain should settle by the next "
                "morning.")
    return ""


def exercise_pain_prompt(*, pain_during: int, exercise_name: str, has_physiotherapist: bool,
                         staff_told: bool = False) -> dict:
    """The prompt a very painful session gets ({} below SEVERE_PAIN): {level, message, reasons}."""
    if pain_during < SEVERE_PAIN:
        return {}
    reason = (f"Your pain during {exercise_name} was {pain_during}/10; {SEVERE_PAIN} or more counts as severe "
              "pain. Stop your exercises and get medical attention today.")
    return {
        "level": PromptLevel.URGENT.value,
        "message": prompt_message(PromptLevel.URGENT, has_physiotherapist=has_physiotherapist,
                                  staff_told=staff_told),
        "reasons": [{"code": SEVERE_EXERCISE_PAIN_CODE, "message": reason}],
    }

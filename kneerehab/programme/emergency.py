"""The emergency number printed on the patient's help card."""
from kneerehab.users.models import User

# 112 reaches emergency services from any mobile phone in the EU and in many other countries (EU Directive
# 2018/1972, art. 109), and is routed to 999/911 in the UK and North America.
FALLBACK_EMERGENCY_NUMBER = "112"


def emergency_number_for_patient(patient: User) -> str:
    """The number to call in the patient's country. For now always 112: the per-country lookup from the
    patient's profile (country) is not in the code base yet; switch this one function to it when it is."""
    return FALLBACK_EMERGENCY_NUMBER

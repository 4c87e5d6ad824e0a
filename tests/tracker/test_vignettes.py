"""Clinical vignettes, posted through the API as a patient would, with back-dated history.

Each vignette is a short clinical story with the level a clinician expects, a one-line justification and
its source. The table is the screening's acceptance test: every emergency and urgent case must reach its
level exactly, see-a-clinician cases at least their level, and no benign case may raise an alarm. The
figures are printed (run with `-s` or see test-artifacts/screening-vignettes.txt) and quoted in the README.
"""
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from kneerehab.users.models import User
from kneerehab.users.services import user_create
from kneerehab.users.tokens import refresh_token_for
from plans.models import Plan
from tests.factories import PASSWORD
from tracker.models import PromptLevel


def signed_in(username: str) -> APIClient:
    """A client with the user's own JWT bearer token (minted directly: the login throttle is not under test)."""
    client = APIClient()
    token = refresh_token_for(User.objects.get(username=username)).access_token
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client

pytestmark = pytest.mark.django_db

E, U, S, N = "emergency", "urgent", "see_clinician", "none"


@dataclass(frozen=True)
class Vignette:
    name: str
    condition: str
    expected: str
    checkin: dict
    why: str
    # Earlier check-ins: (days ago, answers); pain defaults below.
    history: tuple = ()
    plan_days: int = 10  # days since the plan started
    plan: dict = field(default_factory=dict)  # clinical context the physiotherapist recorded


def day(days_ago: float, rest: int = 2, activity: int = 3, **answers) -> tuple:
    return days_ago, {"pain_at_rest": rest, "pain_during_activity": activity, **answers}


def week(rest_values, activity_values=None, **answers) -> tuple:
    """One check-in a day for len(values) days, ending yesterday."""
    activity_values = activity_values or [3] * len(rest_values)
    n = len(rest_values)
    return tuple(day(n - i, r, a, **answers) for i, (r, a) in enumerate(zip(rest_values, activity_values,
                                                                             strict=True)))


VIGNETTES = (
    # --- emergency --------------------------------------------------------------------------------------
    Vignette("PE after a calf strain: breathless with a newly swollen calf", "calf-strain", E,
             {"pain_at_rest": 4, "pain_during_activity": 5, "calf_pain": True, "leg_swelling": True,
              "trouble_breathing": True},
             "DVT signs with breathlessness point to a pulmonary embolism (NICE NG158; NHS DVT)."),
    Vignette("Pleuritic chest pain six days after ACL reconstruction", "acl-injury", E,
             {"pain_at_rest": 3, "pain_during_activity": 4, "chest_pain": True},
             "Chest pain worse on breathing in after surgery: suspected PE (NICE NG158).",
             plan={"surgery_days_ago": 6, "clot_risk_factors": ["recent_surgery"]}),
    Vignette("Coughing blood with a history of clots", "bakers-cyst", E,
             {"pain_at_rest": 2, "pain_during_activity": 3, "coughing_blood": True, "history_of_clots": True},
             "Haemoptysis is a PE symptom; NHS advises calling 999 (NICE NG158)."),
    Vignette("Cold, pale, numb foot after a knee injury", "pcl-injury", E,
             {"pain_at_rest": 6, "pain_during_activity": 7, "foot_cold_pale_or_numb": True},
             "A pulseless, cold foot after knee trauma may be a popliteal artery injury (BOAST; ATLS)."),
    Vignette("Fainted with a racing heart and a new painful calf", "calf-strain", E,
             {"pain_at_rest": 3, "pain_during_activity": 4, "fainted_or_racing_heart": True, "calf_pain": True},
             "Syncope or tachycardia with DVT signs: suspected PE (NICE NG158)."),
    Vignette("Hot swollen knee with fever in rheumatoid arthritis", "arthritis", E,
             {"pain_at_rest": 6, "pain_during_activity": 7, "fever": True, "sudden_swelling_or_warmth": True},
             "Hot swollen joint with fever: septic arthritis until proven otherwise (BSR/BOA, Coakley 2006)."),
    Vignette("Rock-hard calf with pain out of proportion", "calf-strain", E,
             {"pain_at_rest": 9, "pain_during_activity": 10, "calf_tight_and_hard": True},
             "Tense compartment with severe pain: acute compartment syndrome (BOAST 10)."),
    Vignette("Shaking chills and confusion after meniscus surgery", "meniscus-tear", E,
             {"pain_at_rest": 5, "pain_during_activity": 6, "fever": True, "wound_problem": True,
              "confused_or_shaking_chills": True},
             "Rigors and new confusion with a wound infection: sepsis high-risk criteria (NICE NG51).",
             plan={"surgery_days_ago": 7}),
    Vignette("Fever, racing heart and a weeping wound after ACL reconstruction", "acl-injury", E,
             {"pain_at_rest": 4, "pain_during_activity": 5, "fever": True, "fainted_or_racing_heart": True,
              "wound_problem": True},
             "Fever and tachycardia with a surgical source meet sepsis criteria (NICE NG51; NG125).",
             plan={"surgery_days_ago": 9}),
    Vignette("Fever in a patient on immunosuppressive treatment", "arthritis", E,
             {"pain_at_rest": 3, "pain_during_activity": 4, "fever": True},
             "Impaired immunity makes sepsis and joint infection likelier (NICE NG51; BSR/BOA).",
             plan={"immunosuppressed": True}),
    Vignette("Chest pain and a red, warm leg during an improving calf strain", "calf-strain", E,
             {"pain_at_rest": 2, "pain_during_activity": 3, "chest_pain": True, "red_skin": True},
             "Any clot sign with chest pain: suspected PE (NICE NG158).",
             history=week([3, 3, 2, 2])),
    # --- urgent -------------------------------------------------------------------------------------------
    Vignette("Locked knee after twisting: cannot straighten", "meniscus-tear", U,
             {"pain_at_rest": 5, "pain_during_activity": 6, "knee_locked": True},
             "A locked knee suggests a displaced bucket-handle tear: urgent orthopaedics (NICE CKS)."),
    Vignette("Patellar tendon rupture during jumper's-knee rehab", "jumpers-knee", U,
             {"pain_at_rest": 6, "pain_during_activity": 7, "cannot_lift_straight_leg": True},
             "No straight-leg raise: extensor mechanism rupture, best repaired early."),
    Vignette("Snap at the back of the calf, cannot stand on tiptoe", "calf-strain", U,
             {"pain_at_rest": 5, "pain_during_activity": 7, "calf_snap_or_cannot_tiptoe": True},
             "Achilles or calf rupture needs same-day assessment (BOAST Achilles)."),
    Vignette("Red, leaking wound ten days after ACL reconstruction", "acl-injury", U,
             {"pain_at_rest": 3, "pain_during_activity": 4, "wound_problem": True},
             "Signs of a surgical site infection (NICE NG125).",
             plan={"surgery_days_ago": 10}),
    Vignette("New calf pain and swollen veins with a Baker's cyst", "bakers-cyst", U,
             {"pain_at_rest": 3, "pain_during_activity": 4, "calf_pain": True, "swollen_veins": True},
             "DVT and ruptured cyst look alike; both need same-day assessment and imaging (NICE NG158)."),
    Vignette("New leg swelling while immobilised and on the pill", "pcl-injury", U,
             {"pain_at_rest": 2, "pain_during_activity": 3, "leg_swelling": True},
             "DVT signs with Wells risk factors: assess within hours (Wells; NICE NG158).",
             plan={"clot_risk_factors": ["immobilised", "oestrogen_therapy"]}),
    Vignette("Cannot bear weight after a fall", "acl-injury", U,
             {"pain_at_rest": 6, "pain_during_activity": 7, "cannot_bear_weight": True, "new_fall_or_injury": True},
             "Unable to take four steps after injury: X-ray (Ottawa knee rules)."),
    Vignette("Fever without a hot knee", "hamstring-strain", U,
             {"pain_at_rest": 2, "pain_during_activity": 3, "fever": True},
             "Fever with knee pain needs prompt medical attention (seed text)."),
    Vignette("Severe pain at rest, 8/10", "chondromalacia-patellae", U,
             {"pain_at_rest": 8, "pain_during_activity": 8},
             "Severe pain needs prompt attention (seed text; 8/10 threshold)."),
    Vignette("Knee swelled up within hours of a twist", "acl-injury", U,
             {"pain_at_rest": 5, "pain_during_activity": 6, "sudden_swelling_or_warmth": True},
             "Rapid swelling after a twist suggests bleeding into the joint (seed text)."),
    Vignette("Kneecap looks out of place", "chondromalacia-patellae", U,
             {"pain_at_rest": 6, "pain_during_activity": 7, "joint_shape_changed": True},
             "A deformed knee may be a dislocation or fracture (seed text)."),
    Vignette("Fainted once, no other signs", "hamstring-strain", U,
             {"pain_at_rest": 2, "pain_during_activity": 2, "fainted_or_racing_heart": True},
             "Collapse needs a same-day medical assessment (NICE NG158; NG51)."),
    # --- see a clinician ---------------------------------------------------------------------------------------
    Vignette("Zig-zag rise of pain during activity over a week", "jumpers-knee", S,
             {"pain_at_rest": 2, "pain_during_activity": 6},
             "Mean of the last 3 days above the 3 before by more than 2 points (Farrar 2001).",
             history=week([2, 2, 2, 2, 2], [3, 2, 4, 5, 4])),
    Vignette("Swelling a step worse for three days", "arthritis", S,
             {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "moderate"},
             "Swelling growing instead of settling (seed text).",
             history=week([2, 2, 2, 2, 2], swelling="mild")[:3]
             + tuple(day(d, swelling="moderate") for d in (2, 1))),
    Vignette("No better after three weeks of a hamstring programme", "hamstring-strain", S,
             {"pain_at_rest": 2, "pain_during_activity": 5},
             "Not improved after 2-3 weeks of home care and still limiting (NHS knee pain).",
             plan_days=24,
             history=(day(23, 2, 5), day(22, 2, 5), day(21, 2, 5), day(2, 2, 5), day(1, 2, 6))),
    Vignette("Knee gave way on the stairs", "acl-injury", S,
             {"pain_at_rest": 2, "pain_during_activity": 3, "knee_giving_way": True},
             "Instability after a ligament injury needs review."),
    Vignette("Tripped and fell, no other signs", "meniscus-tear", S,
             {"pain_at_rest": 2, "pain_during_activity": 3, "new_fall_or_injury": True},
             "A new injury on a healing knee needs a look."),
    Vignette("Pain stops daily activities", "chondromalacia-patellae", S,
             {"pain_at_rest": 3, "pain_during_activity": 5, "limits_daily_activities": True},
             "Pain that stops daily activities (NHS knee pain)."),
    Vignette("Note mentions chest pain but the box is not ticked", "calf-strain", S,
             {"pain_at_rest": 2, "pain_during_activity": 3, "notes": "Bit of chest pain when I breathe deeply"},
             "A red flag in free text must be asked about, never lost."),
    Vignette("Severe swelling that came on slowly", "arthritis", S,
             {"pain_at_rest": 3, "pain_during_activity": 4, "swelling": "severe"},
             "Marked swelling deserves a clinician's look (seed text)."),
    Vignette("Note: fainted yesterday", "leg-cramp", S,
             {"pain_at_rest": 1, "pain_during_activity": 2, "notes": "I fainted yesterday evening"},
             "Collapse mentioned in a note must be asked about."),
    Vignette("Pain at rest creeping up over six days", "chondromalacia-patellae", S,
             {"pain_at_rest": 4, "pain_during_activity": 4},
             "Rest pain rising by 2 points between 3-day means (Farrar 2001).",
             history=week([1, 2, 1, 3, 4], [4, 4, 4, 4, 4])),
    Vignette("Older app: knee locks or gives way", "meniscus-tear", S,
             {"pain_at_rest": 2, "pain_during_activity": 3, "knee_locking_or_giving_way": True},
             "The deprecated question keeps its level for older clients."),
    # --- benign -----------------------------------------------------------------------------------------------
    Vignette("Flat run of moderate pain for a week", "jumpers-knee", N,
             {"pain_at_rest": 3, "pain_during_activity": 4},
             "Steady is not rising.", history=week([3] * 7, [4] * 7)),
    Vignette("One-day jump after a new exercise", "jumpers-knee", N,
             {"pain_at_rest": 2, "pain_during_activity": 6},
             "One day's jump after a plateau is not a trend (pain-monitoring model, Silbernagel 2007).",
             history=week([2] * 6, [3] * 6)),
    Vignette("Improving calf strain: sore calf but not new or worse", "calf-strain", N,
             {"pain_at_rest": 2, "pain_during_activity": 3},
             "An explained, improving calf pain is not a new clot sign (Wells: alternative diagnosis).",
             history=week([4, 4, 3, 3, 3, 2], [5, 5, 4, 4, 3, 3])),
    Vignette("Mild stable pain four weeks into a long recovery", "acl-injury", N,
             {"pain_at_rest": 1, "pain_during_activity": 2},
             "Stable mild pain within the typical course is no reason to alarm.",
             plan_days=28, history=(day(27, 1, 2), day(26, 1, 2), day(25, 1, 2), day(2, 1, 2), day(1, 1, 2))),
    Vignette("Reassuring note with negations", "meniscus-tear", N,
             {"pain_at_rest": 2, "pain_during_activity": 3,
              "notes": "No chest pain, no fever, not short of breath. Just stiff."},
             "Negated mentions are not red flags."),
    Vignette("Morning stiffness in osteoarthritis", "arthritis", N,
             {"pain_at_rest": 2, "pain_during_activity": 3, "morning_pain": 4},
             "Morning stiffness that eases is typical of osteoarthritis."),
    Vignette("Previous clot ticked, no signs today", "calf-strain", N,
             {"pain_at_rest": 1, "pain_during_activity": 2, "history_of_clots": True},
             "A risk factor alone is not a symptom."),
    Vignette("Moderate swelling, unchanged", "meniscus-tear", N,
             {"pain_at_rest": 2, "pain_during_activity": 3, "swelling": "moderate"},
             "Steady swelling is not worsening.",
             history=week([2] * 5, swelling="moderate")),
    Vignette("A bad day at 7/10 after a plateau", "chondromalacia-patellae", N,
             {"pain_at_rest": 3, "pain_during_activity": 7},
             "Below severe and a single day.", history=week([3] * 5, [3] * 5)),
    Vignette("Steadily improving over two weeks", "hamstring-strain", N,
             {"pain_at_rest": 1, "pain_during_activity": 2},
             "Getting better.", plan_days=15,
             history=week([6, 6, 5, 5, 4, 4, 3, 3, 2, 2], [7, 7, 6, 6, 5, 5, 4, 4, 3, 3])),
    Vignette("Note: fell asleep with the ice pack on", "leg-cramp", N,
             {"pain_at_rest": 1, "pain_during_activity": 1, "notes": "Fell asleep with the ice pack on, all fine"},
             "Not a fall."),
    Vignette("Clot risk factors recorded, no signs", "pcl-injury", N,
             {"pain_at_rest": 2, "pain_during_activity": 2},
             "Risk factors raise levels of signs, they are not signs.",
             plan={"clot_risk_factors": ["immobilised", "cancer"], "surgery_days_ago": 20}),
)


def post_vignette(vignette: Vignette, index: int) -> dict:
    physio_name, patient_name = f"vphysio{index}", f"vpatient{index}"
    user_create(username=physio_name, role="physiotherapist", password=PASSWORD)
    physio = signed_in(physio_name)
    patient = physio.post("/api/v1/patients/", {"username": patient_name, "password": PASSWORD,
                                                "timezone": "Europe/London"}, format="json")
    assert patient.status_code == 201, patient.json()
    start = timezone.localdate() - timedelta(days=vignette.plan_days)
    plan = physio.post("/api/v1/plans/", {"patient": patient.json()["id"], "condition": vignette.condition,
                                          "start_date": start.isoformat()}, format="json")
    assert plan.status_code == 201, plan.json()
    context = dict(vignette.plan)
    surgery_days_ago = context.pop("surgery_days_ago", None)
    if surgery_days_ago is not None:
        context["surgery_date"] = timezone.localdate() - timedelta(days=surgery_days_ago)
    Plan.objects.filter(pk=plan.json()["id"]).update(**context)

    client = signed_in(patient_name)
    now = timezone.now()
    for days_ago, answers in vignette.history:
        earlier = client.post("/api/v1/checkins/", {**answers, "recorded_at": (now - timedelta(days=days_ago))
                                                   .isoformat()}, format="json")
        assert earlier.status_code == 201, earlier.json()
    response = client.post("/api/v1/checkins/", vignette.checkin, format="json")
    assert response.status_code == 201, response.json()
    return response.json()["prompt"]


def test_the_vignette_table_has_enough_cases_of_each_level():
    counts = {level: sum(v.expected == level for v in VIGNETTES) for level in (E, U, S, N)}
    assert all(count >= 10 for count in counts.values()), counts
    assert len({v.name for v in VIGNETTES}) == len(VIGNETTES)


def test_clinical_vignettes_through_the_api(catalog, capsys):
    results = [(v, post_vignette(v, i)) for i, v in enumerate(VIGNETTES)]
    lines, misses = [], []
    for level in (E, U, S):
        cases = [(v, p) for v, p in results if v.expected == level]
        at_or_above = sum(PromptLevel.rank(p["level"]) >= PromptLevel.rank(level) for _, p in cases)
        exact = sum(p["level"] == level for _, p in cases)
        lines.append(f"{level}: {at_or_above}/{len(cases)} at or above, {exact}/{len(cases)} exact")
    benign = [(v, p) for v, p in results if v.expected == N]
    alarms = sum(p["level"] != N for _, p in benign)
    lines.append(f"benign: {alarms}/{len(benign)} false alarms")
    for vignette, prompt in results:
        if prompt["level"] != vignette.expected:
            misses.append(f"  {vignette.name}: expected {vignette.expected}, got {prompt['level']} "
                          f"({', '.join(r['code'] for r in prompt['reasons'])})")
    report = "\n".join(["Screening vignettes", *lines, *(["Misses:", *misses] if misses else [])])
    artifacts = Path("test-artifacts")
    artifacts.mkdir(exist_ok=True)
    (artifacts / "screening-vignettes.txt").write_text(report + "\n")
    with capsys.disabled():
        print("\n" + report)
    assert not misses, report

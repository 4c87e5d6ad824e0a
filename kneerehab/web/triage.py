"""The physiotherapist's caseload in the order to look at it: the riskiest patient first.

It reads what the API's caseload reads (plans.selectors.caseload_list and caseload_adherence) and adds, for
the same page of patients, the levels of their open alerts and their plans' latest progression evaluation:

1. an open emergency alert, then an open urgent one;
2. getting worse: the plan suggests stepping back, its evaluation saw a worsening trend, or a
   "see a clinician" alert is open;
3. low adherence over the last 7 days;
4. everyone else;

and within each group, the longest without a check-in first (never checked in counts as longest).
"""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from kneerehab.filters import split_search_terms
from kneerehab.users.models import User
from plans.models import Plan, Progression
from plans.selectors import caseload_adherence, caseload_list
from tracker.models import AlertStatus, PromptLevel
from tracker.selectors import alerts_for

LOW_ADHERENCE_PERCENT = 50.0

EMERGENCY, URGENT, WORSENING, LOW_ADHERENCE, ROUTINE = range(5)
TIER_LABELS = {
    EMERGENCY: "Emergency alert",
    URGENT: "Urgent alert",
    WORSENING: "Getting worse",
    LOW_ADHERENCE: "Low adherence",
    ROUTINE: "No flags",
}
ALERT_NAMES = {PromptLevel.EMERGENCY: "emergency", PromptLevel.URGENT: "urgent",
               PromptLevel.SEE_CLINICIAN: "see-a-clinician"}
TIER_TAGS = {EMERGENCY: "emergency", URGENT: "urgent", WORSENING: "see_clinician", LOW_ADHERENCE: "see_clinician",
             ROUTINE: "neutral"}


@dataclass
class CaseloadEntry:
    patient: User
    tier: int
    adherence: float | None
    days_since_checkin: int | None
    reasons: list[str] = field(default_factory=list)

    @property
    def tier_label(self) -> str:
        return TIER_LABELS[self.tier]

    @property
    def tier_tag(self) -> str:
        return TIER_TAGS[self.tier]

    def sort_key(self):
        never = self.days_since_checkin is None
        return (self.tier, not never, -(self.days_since_checkin or 0), self.patient.username.lower())


def search_caseload(*, physiotherapist: User, query: str = ""):
    """The caseload, narrowed like the API's `?search=` (username and names); too long a search is refused."""
    patients = caseload_list(physiotherapist=physiotherapist)
    for term in split_search_terms(query, field="q"):
        patients = patients.filter(
            Q(username__icontains=term) | Q(first_name__icontains=term) | Q(last_name__icontains=term)
        )
    return patients


def triaged_caseload(*, physiotherapist: User, query: str = "", now: datetime | None = None) -> list[CaseloadEntry]:
    """Every matching patient of the caseload, riskiest first, in a fixed number of queries."""
    now = now or timezone.now()
    patients = list(search_caseload(physiotherapist=physiotherapist, query=query))
    if not patients:
        return []
    ids = [p.pk for p in patients]
    adherence = caseload_adherence(patients=patients, now=now)

    alert_levels: dict[int, Counter] = defaultdict(Counter)
    for patient_id, level in (
        alerts_for(physiotherapist=physiotherapist).filter(patient_id__in=ids, status=AlertStatus.OPEN)
        .values_list("patient_id", "level")
    ):
        alert_levels[patient_id][level] += 1

    evaluations = {
        row["id"]: row
        for row in Plan.objects.filter(pk__in=[p.active_plan_id for p in patients if p.active_plan_id])
        .values("id", "progression", "progression_reasons")
    }

    entries = []
    for patient in patients:
        levels = alert_levels.get(patient.pk, Counter())
        evaluation = evaluations.get(patient.active_plan_id) or {}
        worsening = [
            reason["message"] for reason in evaluation.get("progression_reasons") or []
            if str(reason.get("code", "")).startswith("worsening_") and reason.get("met")
        ]
        days = None if patient.last_checkin_at is None else max(0, (now - patient.last_checkin_at).days)
        percent = adherence.get(patient.pk)

        reasons = []
        for level, name in ALERT_NAMES.items():
            if levels.get(level):
                reasons.append(f"{levels[level]} open {name} alert{'s' if levels[level] > 1 else ''}")
        step_back = evaluation.get("progression") == Progression.STEP_BACK
        if step_back:
            reasons.append("The plan suggests stepping back a phase")
        reasons.extend(worsening)
        low = percent is not None and percent < LOW_ADHERENCE_PERCENT
        if low:
            reasons.append(f"Adherence {percent:g}% over 7 days")

        if levels.get(PromptLevel.EMERGENCY):
            tier = EMERGENCY
        elif levels.get(PromptLevel.URGENT):
            tier = URGENT
        elif levels.get(PromptLevel.SEE_CLINICIAN) or worsening or step_back:
            tier = WORSENING
        elif low:
            tier = LOW_ADHERENCE
        else:
            tier = ROUTINE
        entries.append(CaseloadEntry(patient=patient, tier=tier, adherence=percent, days_since_checkin=days,
                                     reasons=reasons))
    entries.sort(key=CaseloadEntry.sort_key)
    return entries

"""The red-flag questions, combined rules, the plan's clinical context and the note's keyword net (pure)."""
from datetime import timedelta

import pytest

from tracker.models import PromptLevel
from tracker.screening import note_red_flags, screen

from .test_screening import NOW, checkin, codes, context, plan_facts

E, U, S, N = PromptLevel.EMERGENCY, PromptLevel.URGENT, PromptLevel.SEE_CLINICIAN, PromptLevel.NONE


@pytest.mark.parametrize(("flag", "level"), [
    ("chest_pain", E), ("coughing_blood", E), ("foot_cold_pale_or_numb", E), ("confused_or_shaking_chills", E),
    ("fainted_or_racing_heart", U), ("calf_tight_and_hard", U), ("knee_locked", U),
    ("cannot_lift_straight_leg", U), ("calf_snap_or_cannot_tiptoe", U), ("wound_problem", U),
    ("knee_giving_way", S), ("new_fall_or_injury", S), ("knee_locking_or_giving_way", S),
])
def test_each_new_question_alone_reaches_its_level_with_its_own_reason(flag, level):
    prompt = screen(checkin(**{flag: True}), context())
    assert prompt.level == level
    assert codes(prompt)[0] == flag


@pytest.mark.parametrize(("answers", "code"), [
    ({"fainted_or_racing_heart": True, "calf_pain": True}, "clot_signs_with_chest_symptoms"),
    ({"fainted_or_racing_heart": True, "leg_swelling": True}, "clot_signs_with_chest_symptoms"),
    ({"chest_pain": True, "swollen_veins": True}, "clot_signs_with_chest_symptoms"),
    ({"coughing_blood": True, "red_skin": True}, "clot_signs_with_chest_symptoms"),
    ({"trouble_breathing": True, "sudden_swelling_or_warmth": True}, "clot_signs_with_chest_symptoms"),
    ({"fever": True, "sudden_swelling_or_warmth": True}, "hot_swollen_knee_with_fever"),
    ({"fever": True, "red_skin": True}, "hot_swollen_knee_with_fever"),
    ({"calf_tight_and_hard": True, "pain_at_rest": 8}, "calf_hard_with_severe_pain"),
    ({"calf_tight_and_hard": True, "pain_during_activity": 10}, "calf_hard_with_severe_pain"),
])
def test_combined_rules_reach_emergency(answers, code):
    prompt = screen(checkin(**answers), context())
    assert prompt.level == E
    assert code in codes(prompt)


def test_a_hard_calf_below_severe_pain_is_urgent_not_an_emergency():
    prompt = screen(checkin(calf_tight_and_hard=True, pain_at_rest=7, pain_during_activity=7), context())
    assert prompt.level == U
    assert "calf_hard_with_severe_pain" not in codes(prompt)


def test_fainting_alone_is_urgent_and_says_when_to_call():
    prompt = screen(checkin(fainted_or_racing_heart=True), context())
    assert prompt.level == U
    assert "call emergency services" in prompt.reasons[0].message


@pytest.mark.parametrize("factor", ["recent_surgery", "immobilised", "cancer", "pregnancy_or_postpartum",
                                    "oestrogen_therapy", "previous_clot"])
def test_a_recorded_clot_risk_factor_adds_weight_to_clot_signs(factor):
    plans = [plan_facts(clot_risk_factors=(factor,))]
    prompt = screen(checkin(calf_pain=True), context(plans=plans))
    assert prompt.level == U
    assert "clot_history_with_signs" in codes(prompt)
    assert "within hours" in next(r.message for r in prompt.reasons if r.code == "clot_history_with_signs")
    # a risk factor alone is no symptom
    assert screen(checkin(), context(plans=plans)).level == N


def test_surgery_in_the_last_twelve_weeks_counts_as_a_clot_risk_and_older_surgery_does_not():
    recent = [plan_facts(surgery_date=NOW.date() - timedelta(days=84))]
    old = [plan_facts(surgery_date=NOW.date() - timedelta(days=85))]
    assert "clot_history_with_signs" in codes(screen(checkin(leg_swelling=True), context(plans=recent)))
    assert "clot_history_with_signs" not in codes(screen(checkin(leg_swelling=True), context(plans=old)))


def test_fever_after_recent_surgery_names_the_surgery():
    plans = [plan_facts(surgery_date=NOW.date() - timedelta(days=10))]
    prompt = screen(checkin(fever=True), context(plans=plans))
    assert prompt.level == U
    assert "fever_after_surgery" in codes(prompt)


def test_post_operative_sepsis_signs_are_an_emergency():
    plans = [plan_facts(surgery_date=NOW.date() - timedelta(days=6))]
    prompt = screen(checkin(fever=True, fainted_or_racing_heart=True), context(plans=plans))
    assert prompt.level == E
    assert "possible_sepsis" in codes(prompt)
    # the same answers with no operation and no wound trouble stay urgent
    assert screen(checkin(fever=True, fainted_or_racing_heart=True), context()).level == U


def test_fever_while_immunosuppressed_is_an_emergency():
    prompt = screen(checkin(fever=True), context(plans=[plan_facts(immunosuppressed=True)]))
    assert prompt.level == E
    assert "fever_while_immunosuppressed" in codes(prompt)
    assert screen(checkin(), context(plans=[plan_facts(immunosuppressed=True)])).level == N


# --- the note ------------------------------------------------------------------------------

@pytest.mark.parametrize(("note", "flags"), [
    ("My chest hurts when I breathe in", ["chest_pain"]),
    ("coughed up some blood this morning", ["coughing_blood"]),
    ("I can't breathe properly on the stairs", ["trouble_breathing"]),
    ("foot went numb and cold", ["foot_cold_pale_or_numb"]),
    ("I fainted in the kitchen", ["fainted_or_racing_heart"]),
    ("feeling confused and shaking chills", ["confused_or_shaking_chills"]),
    ("No chest pain, no fever", []),
    ("I haven't had any chest pain", []),
    ("Not short of breath at all", []),
    ("never fainted", []),
    ("no idea why my chest hurts", ["chest_pain"]),
    ("no, my chest hurts", ["chest_pain"]),
    ("chest pain, but no fever", ["chest_pain"]),
    ("Fell asleep on the sofa with ice on", []),
    ("I fell on the stairs", ["new_fall_or_injury"]),
    ("Did the new exercise, it was hard", []),
    ("", []),
])
def test_the_note_net_finds_red_flags_and_respects_negation(note, flags):
    assert [flag for _, flag in note_red_flags(note)] == flags


def test_a_note_mentioning_a_red_flag_asks_to_answer_its_question_and_never_lowers():
    prompt = screen(checkin(notes="my chest hurts a bit when I breathe"), context())
    assert prompt.level == S
    assert codes(prompt) == ["note_mentions_red_flag"]
    message = prompt.reasons[0].message
    assert "chest pain, worse when I breathe in" in message and "call emergency services" in message
    # answered: the question's own rule speaks, and the note adds nothing
    answered = screen(checkin(chest_pain=True, notes="my chest hurts"), context())
    assert answered.level == E and "note_mentions_red_flag" not in codes(answered)
    # a reassuring note does not lower a ticked red flag
    calm = screen(checkin(trouble_breathing=True, notes="feeling fine, nothing to worry about"), context())
    assert calm.level == E

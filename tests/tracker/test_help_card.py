"""The printed help card follows the screening rules: every answer that alone calls for an emergency or for
help today is on it, under its level, and nothing that waits for a visit is."""
from tracker.help_card import help_card
from tracker.models import PromptLevel
from tracker.questions import QUESTIONS
from tracker.rules import RULES, AllOf, Flag, PlanContext


def single_answer_rules(level):
    return [rule.when.name for rule in RULES if rule.level == level and isinstance(rule.when, Flag)]


def test_every_single_answer_emergency_and_urgent_rule_is_on_the_card_under_its_level():
    card = help_card()
    for name in single_answer_rules(PromptLevel.EMERGENCY):
        assert QUESTIONS[name] in card.emergency
    for name in single_answer_rules(PromptLevel.URGENT):
        assert QUESTIONS[name] in card.urgent
    assert not set(card.emergency) & set(card.urgent)


def test_book_a_visit_answers_are_not_on_the_card():
    card = help_card()
    for name in single_answer_rules(PromptLevel.SEE_CLINICIAN):
        assert QUESTIONS[name] not in card.emergency + card.urgent


def test_rules_about_a_plan_fact_appear_only_when_the_plan_has_it():
    about_immunity = next(rule for rule in RULES if isinstance(rule.when, AllOf)
                          and PlanContext("immunosuppressed") in rule.when.parts)
    line = about_immunity.message.split(". ", 1)[1]
    assert line not in help_card().emergency
    assert line in help_card(immunosuppressed=True).emergency


def test_no_line_keeps_a_placeholder():
    card = help_card(immunosuppressed=True, recent_surgery=True, clot_risk=True)
    assert not [line for line in card.emergency + card.urgent if "{" in line or "}" in line]

"""Every yes/no answer of a check-in is asked in the patient's words, once, in the web form and the schema."""
from tracker.models import DEPRECATED_FLAGS, SYMPTOM_FLAGS
from tracker.questions import QUESTION_GROUPS, QUESTIONS


def test_every_flag_has_a_question_in_plain_words():
    assert set(QUESTIONS) == set(SYMPTOM_FLAGS)
    for flag, text in QUESTIONS.items():
        assert text and "_" not in text, flag


def test_the_form_groups_ask_every_current_question_once():
    grouped = [name for _, names in QUESTION_GROUPS for name in names]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == set(SYMPTOM_FLAGS) - set(DEPRECATED_FLAGS)


def test_the_emergency_questions_come_first():
    legend, first = QUESTION_GROUPS[0]
    assert "emergency" in legend.lower()
    assert {"trouble_breathing", "chest_pain", "coughing_blood", "foot_cold_pale_or_numb"} <= set(first)


def test_the_readme_lists_every_question_and_rule_as_the_code_has_them():
    from pathlib import Path

    from tracker.screening_table import questions_table, rules_table

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for line in [*questions_table().splitlines(), *rules_table().splitlines()]:
        assert line in readme, f"README is out of date (manage.py screening_rules): {line}"

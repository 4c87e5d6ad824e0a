"""The catalogue checker: every problem is reported, each naming the entry it is in."""
import pytest

from conditions.catalog_validation import (
    CatalogError,
    catalog_check,
    catalog_read,
    check_exit_criteria,
    check_red_flags,
    red_flag_questions,
)
from tests.conditions.conftest import SMALL_CATALOG, write_yaml
from tracker.models import DEPRECATED_FLAGS, SYMPTOM_FLAGS


def errors_of(data) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        catalog_check(data)
    return caught.value.errors


def condition_index(data, slug):
    return next(i for i, c in enumerate(data["conditions"]) if c["slug"] == slug)


def test_the_small_catalogue_is_valid_and_comes_back_model_ready():
    catalog = catalog_read(path=SMALL_CATALOG)
    assert catalog.version == 3
    assert [e.slug for e in catalog.exercises] == ["quad-sets", "heel-slides", "calf-raises", "mini-squats"]
    meniscus, dvt = catalog.conditions
    assert meniscus.fields["recovery_weeks_min"] == 6
    assert meniscus.fields["urgent_care_note"] == ""  # null in the file
    assert [p.key for p in meniscus.phases] == ["rice", "physiotherapy", "return_to_activity"]
    assert [p.order for p in meniscus.phases] == [1, 2, 3]
    rice = meniscus.phases[0]
    # The phase's dose is the exercise's default with the phase's overrides.
    assert rice.exercises[0].dose == {"sets": 3, "reps": 8, "hold_seconds": 5, "times_per_day": 2, "days_per_week": 7}
    assert rice.exercises[1].dose == {"sets": 2, "reps": 10, "hold_seconds": 0, "times_per_day": 2, "days_per_week": 7}
    assert dvt.phases == ()
    assert dvt.fields["home_care"] is False


def test_an_unknown_exercise_is_named_with_its_condition_phase_and_position(small_data):
    small_data["conditions"][0]["phases"][1]["exercises"].append({"exercise": "foo"})
    assert errors_of(small_data) == [
        "conditions[0] (meniscus-tear).phases[1] (physiotherapy).exercises[2]: unknown exercise 'foo'"
    ]


def test_phases_out_of_order(small_data):
    phases = small_data["conditions"][0]["phases"]
    phases[0], phases[1] = phases[1], phases[0]
    errors = errors_of(small_data)
    assert ("conditions[0] (meniscus-tear).phases: expected exactly the phases rice, physiotherapy, "
            "return_to_activity in that order, found physiotherapy, rice, return_to_activity") in errors


def test_a_missing_phase(small_data):
    del small_data["conditions"][0]["phases"][2]
    assert errors_of(small_data) == [
        "conditions[0] (meniscus-tear).phases: expected exactly the phases rice, physiotherapy, "
        "return_to_activity in that order, found rice, physiotherapy"
    ]


def test_exit_criteria_are_required_on_the_first_two_phases_and_absent_on_the_last(small_data):
    phases = small_data["conditions"][0]["phases"]
    del phases[0]["exit_criteria"]
    phases[2]["exit_criteria"] = [{"metric": "pain_at_rest", "op": "lte", "value": 1, "consecutive_checkins": 2}]
    assert errors_of(small_data) == [
        "conditions[0] (meniscus-tear).phases[0] (rice).exit_criteria: "
        "the rice phase needs at least one exit criterion",
        "conditions[0] (meniscus-tear).phases[2] (return_to_activity).exit_criteria: "
        "the return_to_activity phase has no exit criteria (it is the last phase)",
    ]


@pytest.mark.parametrize(
    ("criterion", "message"),
    [
        ({"metric": "mood", "op": "lte", "value": 2, "consecutive_checkins": 3},
         "[0].metric: 'mood' is not one of pain_at_rest, pain_during_activity, swelling, adherence_percent, "
         "days_in_phase"),
        ({"metric": "swelling", "op": "lte", "value": "huge", "consecutive_checkins": 3},
         "[0].value: 'huge' is not a swelling level (none, mild, moderate, severe)"),
        ({"metric": "pain_at_rest", "op": "lte", "value": 11, "consecutive_checkins": 3},
         "[0].value: 11 is out of range (0–10)"),
        ({"metric": "pain_at_rest", "op": "<=", "value": 2, "consecutive_checkins": 3},
         "[0].op: '<=' is not one of lt, lte, eq, gte, gt"),
        ({"metric": "pain_at_rest", "op": "lte", "value": 2},
         "[0]: pain_at_rest needs 'consecutive_checkins' (over how many consecutive checkins)"),
        ({"metric": "adherence_percent", "op": "gte", "value": 70, "consecutive_checkins": 3},
         "[0]: adherence_percent needs 'days' (over how many days)"),
        ({"metric": "adherence_percent", "op": "gte", "value": 170, "days": 7},
         "[0].value: expected a percentage 0–100, found 170"),
        ({"metric": "days_in_phase", "op": "gte", "value": 5, "days": 7},
         "[0].days: does not apply to days_in_phase"),
        ({"metric": "pain_at_rest", "op": "lte", "value": 2, "consecutive_checkins": 0},
         "[0].consecutive_checkins: 0 is out of range (1–365)"),
        ({"metric": "pain_at_rest", "op": "lte", "value": 2, "over": 3},
         "[0]: unknown key 'over' (allowed: consecutive_checkins, days, metric, op, value)"),
    ],
)
def test_bad_exit_criteria(small_data, criterion, message):
    small_data["conditions"][0]["phases"][0]["exit_criteria"] = [criterion]
    prefix = "conditions[0] (meniscus-tear).phases[0] (rice).exit_criteria"
    assert f"{prefix}{message}" in errors_of(small_data)


def test_a_dose_out_of_range_names_the_exercise_and_the_field(small_data):
    small_data["exercises"][2]["default_dose"]["sets"] = 50
    small_data["conditions"][0]["phases"][0]["exercises"][0]["dose"] = {"times_per_day": 9, "reps": "ten"}
    assert errors_of(small_data) == [
        "exercises[2] (calf-raises).default_dose.sets: 50 is out of range (1–20)",
        "conditions[0] (meniscus-tear).phases[0] (rice).exercises[0].dose.reps: expected a whole number, "
        "found text 'ten'",
        "conditions[0] (meniscus-tear).phases[0] (rice).exercises[0].dose.times_per_day: 9 is out of range (1–6)",
    ]


def test_an_incomplete_default_dose(small_data):
    del small_data["exercises"][0]["default_dose"]["days_per_week"]
    assert errors_of(small_data) == ["exercises[0] (quad-sets).default_dose: missing 'days_per_week'"]


def test_duplicate_slugs(small_data):
    small_data["exercises"].append(dict(small_data["exercises"][1]))
    small_data["conditions"].append(dict(small_data["conditions"][1]))
    assert errors_of(small_data) == [
        "exercises[4] (heel-slides).slug: slug 'heel-slides' is already used by exercises[1] (heel-slides).slug",
        "conditions[2] (deep-vein-thrombosis).slug: slug 'deep-vein-thrombosis' is already used by "
        "conditions[1] (deep-vein-thrombosis).slug",
    ]


def test_the_same_exercise_twice_in_a_phase(small_data):
    small_data["conditions"][0]["phases"][0]["exercises"].append({"exercise": "quad-sets"})
    assert errors_of(small_data) == [
        "conditions[0] (meniscus-tear).phases[0] (rice).exercises[2]: exercise 'quad-sets' is already listed at "
        "conditions[0] (meniscus-tear).phases[0] (rice).exercises[0]"
    ]


def test_no_home_care_needs_an_urgent_care_note_and_no_phases(small_data):
    dvt = small_data["conditions"][1]
    dvt["urgent_care_note"] = None
    dvt["phases"] = small_data["conditions"][0]["phases"]
    assert errors_of(small_data) == [
        "conditions[1] (deep-vein-thrombosis).urgent_care_note: is required when home_care is false: "
        "say plainly what care is needed and how urgently",
        "conditions[1] (deep-vein-thrombosis).phases: must be empty when home_care is false (no home plan)",
    ]


def test_home_care_must_be_a_boolean_and_a_home_care_condition_needs_phases(small_data):
    small_data["conditions"][1]["home_care"] = "no"
    del small_data["conditions"][0]["phases"]
    assert errors_of(small_data) == [
        "conditions[0] (meniscus-tear).phases: a home-care condition needs the phases rice, physiotherapy, "
        "return_to_activity, found nothing",
        "conditions[1] (deep-vein-thrombosis).home_care: expected true or false, found text",
    ]


@pytest.mark.parametrize(
    ("trigger", "message"),
    [
        ({"flag": "knee_wobbly"}, ".trigger.flag: 'knee_wobbly' is not a check-in question"),
        ({"rise": {"metric": "mood", "by": 1}},
         ".trigger.rise.metric: 'mood' is not one of pain_at_rest, pain_during_activity, swelling"),
        ({"rise": {"metric": "swelling", "by": 4}}, ".trigger.rise.by: 4 is out of range (1–3)"),
        ({"flag": "fever", "rise": {"metric": "swelling", "by": 1}},
         ".trigger: expected exactly one of 'flag' or 'rise'"),
    ],
)
def test_bad_warning_triggers(small_data, trigger, message):
    small_data["conditions"][0]["warnings"][0]["trigger"] = trigger
    errors = errors_of(small_data)
    assert len(errors) == 1
    assert errors[0].startswith(
        f"conditions[0] (meniscus-tear).warnings[0] (meniscus_locking_or_giving_way){message}"
    )


def test_red_flags_come_back_with_the_questions_that_ask_about_them(small_data):
    small_data["conditions"][0]["red_flags"][0]["text"] = "  The knee cannot take your weight \n"
    meniscus, dvt = catalog_check(small_data).conditions
    assert meniscus.fields["red_flags"] == [
        {"text": "The knee cannot take your weight", "asks": ["cannot_bear_weight"]},
        {"text": "The knee is stuck and will not straighten", "asks": ["knee_locked"]},
    ]
    assert dvt.fields["red_flags"] == [{"text": "Trouble breathing or chest pain",
                                        "asks": ["trouble_breathing", "chest_pain"]}]


def test_the_questions_a_red_flag_may_name_are_those_the_check_in_asks_today():
    questions = red_flag_questions()
    assert set(questions) == (set(SYMPTOM_FLAGS) - set(DEPRECATED_FLAGS)) | {"pain_at_rest", "pain_during_activity"}
    assert {"chest_pain", "coughing_blood", "fainted_or_racing_heart", "foot_cold_pale_or_numb", "knee_locked",
            "wound_problem"} <= set(questions)
    assert "knee_locking_or_giving_way" not in questions


RED_FLAG = "conditions[0] (meniscus-tear).red_flags[0]"
WEIGHT = f'{RED_FLAG} ("The knee cannot take your weight")'


@pytest.mark.parametrize(
    ("red_flag", "expected"),
    [
        ("The knee cannot take your weight",
         [f"{WEIGHT}: expected {{text, asks}}, found a text alone: name the check-in question(s) that ask about it "
          "under 'asks'"]),
        ({"text": "The knee cannot take your weight"},
         [f"{WEIGHT}.asks: names no check-in question: list the question(s) that ask about this red flag "
          "(one or more of fever, "]),
        ({"text": "The knee cannot take your weight", "asks": []},
         [f"{WEIGHT}.asks: names no check-in question"]),
        ({"text": "The knee cannot take your weight", "asks": None},
         [f"{WEIGHT}.asks: names no check-in question"]),
        ({"text": "The knee cannot take your weight", "asks": ["cannot_bear_weight", "knee_feels_odd"]},
         [f"{WEIGHT}.asks[1]: 'knee_feels_odd' is not a check-in question (one of fever, trouble_breathing, "]),
        ({"text": "The knee cannot take your weight", "asks": ["knee_locking_or_giving_way"]},
         [f"{WEIGHT}.asks[0]: 'knee_locking_or_giving_way' is no longer asked by the check-in (it is kept for "
          "older app versions only): name the questions that replaced it"]),
        ({"text": "The knee cannot take your weight", "asks": "cannot_bear_weight"},
         [f"{WEIGHT}.asks: expected a list of check-in questions, e.g. [fever], found text 'cannot_bear_weight'"]),
        ({"text": "The knee cannot take your weight", "asks": ["cannot_bear_weight", "cannot_bear_weight"]},
         [f"{WEIGHT}.asks[1]: 'cannot_bear_weight' is already named"]),
        ({"text": " ", "asks": ["cannot_bear_weight"]}, [f"{RED_FLAG}.text: must not be empty"]),
        ({"text": "The knee cannot take your weight", "ask": ["cannot_bear_weight"]},
         [f"{WEIGHT}: unknown key 'ask' (allowed: asks, text)", f"{WEIGHT}.asks: names no check-in question"]),
        ({"text": "Possible blood clot signs, such as calf or thigh pain that is new", "asks": ["clot"]},
         [f'{RED_FLAG} ("Possible blood clot signs, such as calf…").asks[0]: \'clot\' is not a check-in '
          "question"]),
    ],
)
def test_a_red_flag_that_names_no_question_or_an_unknown_one_is_refused(small_data, red_flag, expected):
    small_data["conditions"][0]["red_flags"][0] = red_flag
    errors = errors_of(small_data)
    assert len(errors) == len(expected), errors
    for error, start in zip(errors, expected, strict=True):
        assert error.startswith(start), error


def test_every_unasked_red_flag_is_reported_at_once_with_its_condition(small_data):
    small_data["conditions"][0]["red_flags"].append({"text": "Pain at night", "asks": []})
    small_data["conditions"][1]["red_flags"][0]["asks"] = ["short_of_breath"]
    errors = errors_of(small_data)
    assert [error.split(": ", 1)[0] for error in errors] == [
        'conditions[0] (meniscus-tear).red_flags[2] ("Pain at night").asks',
        'conditions[1] (deep-vein-thrombosis).red_flags[0] ("Trouble breathing or chest pain").asks[0]',
    ]


def test_the_same_red_flag_twice_and_red_flags_that_are_not_a_list(small_data):
    flags = small_data["conditions"][0]["red_flags"]
    flags.append(dict(flags[0]))
    small_data["conditions"][1]["red_flags"] = {"text": "Trouble breathing", "asks": ["trouble_breathing"]}
    assert errors_of(small_data) == [
        'conditions[0] (meniscus-tear).red_flags[2] ("The knee cannot take your weight"): the same red flag is '
        "already listed at conditions[0] (meniscus-tear).red_flags[0]",
        "conditions[1] (deep-vein-thrombosis).red_flags: expected a list of red flags ({text, asks}), "
        "found a mapping",
    ]


def test_a_red_flag_about_how_bad_the_pain_is_names_the_pain_scores(small_data):
    small_data["conditions"][0]["red_flags"].append(
        {"text": "Severe pain that rest does not ease", "asks": ["pain_at_rest", "pain_during_activity"]})
    assert catalog_check(small_data).conditions[0].fields["red_flags"][-1]["asks"] == ["pain_at_rest",
                                                                                        "pain_during_activity"]


def test_a_misspelt_key_is_reported_with_what_is_missing(small_data):
    condition = small_data["conditions"][0]
    condition["symptom"] = condition.pop("symptoms")
    errors = errors_of(small_data)
    assert errors[:2] == [
        "conditions[0] (meniscus-tear): unknown key 'symptom' (allowed: also_known_as, causes, home_care, name, "
        "phases, red_flags, slug, sources, subtypes, summary, surgery_note, symptoms, typical_recovery, "
        "typical_recovery_weeks, urgent_care_note, warnings)",
        "conditions[0] (meniscus-tear): missing 'symptoms'",
    ]


def test_ranges_and_texts(small_data):
    condition = small_data["conditions"][0]
    condition["typical_recovery_weeks"] = {"min": 12, "max": 6}
    condition["name"] = "x" * 121
    condition["red_flags"] = []
    condition["symptoms"] = ["Swelling", ""]
    condition["slug"] = "Meniscus_Tear"
    errors = errors_of(small_data)
    assert errors == [
        "conditions[0] (Meniscus_Tear).slug: 'Meniscus_Tear' is not lower-case-hyphenated (e.g. 'meniscus-tear')",
        "conditions[0] (Meniscus_Tear).name: is 121 characters long, at most 120 allowed",
        "conditions[0] (Meniscus_Tear).symptoms[1]: expected non-empty text, found text ''",
        "conditions[0] (Meniscus_Tear).red_flags: must list at least one item",
        "conditions[0] (Meniscus_Tear).typical_recovery_weeks: min (12) is greater than max (6)",
    ]


def test_every_problem_is_reported_at_once(small_data):
    small_data["exercises"][0]["body_area"] = "elbow"
    small_data["conditions"][0]["phases"][2]["exercises"][1]["exercise"] = "bar"
    small_data["conditions"][1]["sources"] = []
    errors = errors_of(small_data)
    assert errors == [
        "exercises[0] (quad-sets).body_area: 'elbow' is not one of knee, thigh, hamstring, calf, ankle, hip, "
        "whole_leg",
        "conditions[0] (meniscus-tear).phases[2] (return_to_activity).exercises[1]: unknown exercise 'bar'",
        "conditions[1] (deep-vein-thrombosis).sources: expected a non-empty list of sources ({title, note})",
    ]


def test_an_exercise_that_is_itself_invalid_is_not_also_reported_as_unknown(small_data):
    del small_data["exercises"][0]["stop_if"]
    assert errors_of(small_data) == ["exercises[0] (quad-sets): missing 'stop_if'"]


def test_the_top_level(small_data):
    assert errors_of([]) == ["catalog: expected a mapping, found a list"]
    small_data["version"] = 0
    small_data["exercises"] = []
    small_data["extra"] = 1
    errors = errors_of(small_data)
    assert "catalog: unknown key 'extra' (allowed: conditions, exercises, version)" in errors
    assert "version: 0 is out of range (1–2147483647)" in errors
    assert "exercises: expected a non-empty list of exercises" in errors


def test_a_key_given_twice_is_an_error_with_its_line(tmp_path):
    text = SMALL_CATALOG.read_text().replace("version: 3\n", "version: 3\nversion: 4\n", 1)
    path = tmp_path / "catalog.yaml"
    path.write_text(text)
    with pytest.raises(CatalogError) as caught:
        catalog_read(path=path)
    [error] = caught.value.errors
    assert "found the key 'version' twice" in error
    assert "line 3" in error
    assert str(path) in caught.value.message


def test_broken_yaml_and_a_missing_file(tmp_path):
    path = tmp_path / "catalog.yaml"
    path.write_text("version: 1\nexercises: [unclosed\n")
    with pytest.raises(CatalogError, match="not valid YAML"):
        catalog_read(path=path)
    with pytest.raises(CatalogError, match="cannot read the file"):
        catalog_read(path=tmp_path / "absent.yaml")


def test_a_bad_file_built_from_the_small_one_fails_as_a_whole(tmp_path, small_data):
    small_data["conditions"][0]["phases"][0]["exercises"][0]["exercise"] = "quad-set"
    path = write_yaml(tmp_path / "catalog.yaml", small_data)
    with pytest.raises(CatalogError) as caught:
        catalog_read(path=path)
    assert caught.value.message.startswith(f"{path}: 1 problem in the catalogue:\n")
    assert "conditions[0] (meniscus-tear).phases[0] (rice).exercises[0]: unknown exercise 'quad-set'" in (
        caught.value.message
    )


def test_the_checks_used_by_the_admin_stand_alone():
    assert check_exit_criteria([], phase_key="rice") == ["exit_criteria: the rice phase needs at least one exit "
                                                         "criterion"]
    assert check_exit_criteria([], phase_key="return_to_activity") == []
    assert check_exit_criteria([{"metric": "days_in_phase", "op": "gte", "value": 3}], phase_key="physiotherapy") == []
    assert check_red_flags([{"text": "Fever", "asks": ["fever"]}]) == []
    assert check_red_flags([{"text": "Fever", "asks": []}])[0].startswith(
        'red_flags[0] ("Fever").asks: names no check-in question')
    assert check_red_flags([]) == ["red_flags: must list at least one item"]

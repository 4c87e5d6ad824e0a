"""The real catalogue (conditions/catalog/catalog.yaml): valid, complete against the seed text, loadable twice."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conditions.catalog_validation import CATALOG_PATH, CatalogError, catalog_read
from conditions.models import Condition, Exercise, PhaseExercise, PhaseKey
from conditions.services import catalog_load
from tests.conditions.conftest import write_yaml
from tracker.questions import QUESTION_GROUPS

CONDITIONS = "/api/v1/conditions/"

# Every condition of shared/seed/back-of-knee-pain.txt, by the words that name it; each group of words
# must all appear among one condition's names (name, other names and subtype names).
SEED_CONDITIONS = {
    "leg cramp": ["cramp"],
    "jumper's knee": ["jumper's knee", "patellar tendinopathy"],
    "hamstring strain": ["hamstring", "biceps femoris tendinopathy"],
    "baker's cyst": ["baker's cyst", "popliteal cyst"],
    "calf strain": ["calf", "gastrocnemius"],
    "meniscus tear": ["menisc"],
    "acl injury": ["anterior cruciate"],
    "pcl injury": ["posterior cruciate"],
    "chondromalacia patellae": ["chondromalacia patella"],
    "osteoarthritis": ["osteoarthritis"],
    "rheumatoid arthritis": ["rheumatoid"],
    "lupus": ["lupus"],
    "psoriatic arthritis": ["psoriatic"],
    "deep vein thrombosis": ["deep vein thrombosis"],
}
ARTHRITIS_TYPES = ("osteoarthritis", "rheumatoid arthritis", "lupus", "psoriatic arthritis")
# The seed text says the worst forms of these may need an operation (complete tears, ruptures, damaged cartilage).
NEEDS_SURGERY_AT_WORST = ("hamstring strain", "calf strain", "meniscus tear", "acl injury", "pcl injury",
                          "chondromalacia patellae")
LOCKING_OR_GIVING_WAY = ("meniscus tear", "acl injury", "pcl injury")
# The seed text's "get immediate medical attention" list (fever, severe pain, sudden swelling or warmth, trouble
# breathing, a leg that can't hold your weight, a changed knee, more so with a history of clots), its DVT signs,
# and the signs of a clot in the lungs (CLINICAL-SOURCES: NICE NG158): every condition asks about all of them.
ASKED_FOR_EVERY_CONDITION = {
    "fever", "pain_at_rest", "pain_during_activity", "sudden_swelling_or_warmth", "trouble_breathing",
    "cannot_bear_weight", "joint_shape_changed", "history_of_clots",
    "calf_pain", "leg_swelling", "swollen_veins", "red_skin",
    "chest_pain", "coughing_blood", "fainted_or_racing_heart",
}
WRITE_SQL = re.compile(r"^\s*(INSERT|UPDATE|DELETE)\b", re.IGNORECASE)


def names_of(condition: dict) -> str:
    names = [condition["name"], *condition.get("also_known_as", []),
             *(s["name"] for s in condition.get("subtypes") or [])]
    return " | ".join(names).lower().replace("’", "'")


def find(conditions: list[dict], seed_name: str) -> dict:
    matches = [c for c in conditions if all(word in names_of(c) for word in SEED_CONDITIONS[seed_name])]
    assert len(matches) == 1, f"{seed_name}: {[c['slug'] for c in matches]}"
    return matches[0]


@pytest.fixture(scope="module")
def checked():
    return catalog_read()


def test_the_real_catalogue_is_valid(checked, real_catalog_data):
    assert checked.version >= 1
    assert len(checked.conditions) == len(real_catalog_data["conditions"])
    assert len(checked.exercises) == len(real_catalog_data["exercises"])


def test_every_condition_of_the_seed_text_is_present(real_catalog_data):
    conditions = real_catalog_data["conditions"]
    found = {seed_name: find(conditions, seed_name)["slug"] for seed_name in SEED_CONDITIONS}
    # Arthritis may be one condition with subtypes or one per type; everything else is a condition of its own.
    others = [slug for name, slug in found.items() if name not in ARTHRITIS_TYPES]
    assert len(set(others)) == len(others)
    assert not set(others) & {found[name] for name in ARTHRITIS_TYPES}


def test_every_home_care_path_has_the_three_phases_in_order(checked):
    home_care = [c for c in checked.conditions if c.fields["home_care"]]
    assert len(home_care) == len(checked.conditions) - 1
    for condition in home_care:
        assert [p.key for p in condition.phases] == PhaseKey.ordered(), condition.slug
        for phase in condition.phases:
            assert phase.exercises, (condition.slug, phase.key)
            assert phase.fields["goals"], (condition.slug, phase.key)
            assert 1 <= phase.fields["duration_days_min"] <= phase.fields["duration_days_max"]
            assert bool(phase.fields["exit_criteria"]) == (phase.key != PhaseKey.RETURN_TO_ACTIVITY), (
                condition.slug, phase.key)


def test_deep_vein_thrombosis_has_no_home_plan_and_says_to_get_care(real_catalog_data, checked):
    slug = find(real_catalog_data["conditions"], "deep vein thrombosis")["slug"]
    dvt = next(c for c in checked.conditions if c.slug == slug)
    assert dvt.fields["home_care"] is False
    assert dvt.phases == ()
    assert "urgent" in dvt.fields["urgent_care_note"].lower() or "emergency" in dvt.fields["urgent_care_note"].lower()


def test_conditions_whose_worst_forms_need_surgery_say_so(real_catalog_data):
    for seed_name in NEEDS_SURGERY_AT_WORST:
        condition = find(real_catalog_data["conditions"], seed_name)
        assert "surg" in (condition.get("surgery_note") or "").lower(), seed_name


def test_condition_specific_warnings_from_the_seed_text(real_catalog_data):
    conditions = real_catalog_data["conditions"]
    for seed_name in LOCKING_OR_GIVING_WAY:
        triggers = [w["trigger"] for w in find(conditions, seed_name)["warnings"]]
        # the current question, and the deprecated one that older app versions still send
        assert {"flag": ["knee_giving_way", "knee_locking_or_giving_way"]} in triggers, seed_name
    # A Baker's cyst that gets bigger or suddenly starts to hurt needs a clinician.
    bakers = [w["trigger"] for w in find(conditions, "baker's cyst")["warnings"]]
    assert any(t.get("rise", {}).get("metric") == "swelling" for t in bakers)
    assert any(t.get("rise", {}).get("metric") in ("pain_at_rest", "pain_during_activity") for t in bakers)


def asked_by(condition: dict) -> set[str]:
    return {question for red_flag in condition["red_flags"] for question in red_flag["asks"]}


def test_every_condition_asks_about_the_red_flags_of_the_seed_text(real_catalog_data):
    for condition in real_catalog_data["conditions"]:
        assert all(red_flag["asks"] for red_flag in condition["red_flags"]), condition["slug"]
        missing = ASKED_FOR_EVERY_CONDITION - asked_by(condition)
        assert not missing, (condition["slug"], missing)


@pytest.mark.parametrize(
    ("seed_names", "questions"),
    [
        # A knee injury can hurt the artery or nerves behind the knee (CLINICAL-SOURCES: knee dislocation).
        (("acl injury", "pcl injury"), {"foot_cold_pale_or_numb"}),
        # A displaced meniscus tear locks the knee (NICE CKS "meniscal tear").
        (("meniscus tear", "acl injury"), {"knee_locked"}),
        # A torn patellar tendon: no straight-leg raise.
        (("jumper's knee",), {"cannot_lift_straight_leg"}),
        # Achilles rupture; compartment syndrome (BOAST 10).
        (("calf strain",), {"calf_snap_or_cannot_tiptoe", "calf_tight_and_hard"}),
        # Where the worst forms need an operation: an infected wound, and sepsis (NICE NG125, NG51).
        ((*NEEDS_SURGERY_AT_WORST, "osteoarthritis"), {"wound_problem", "confused_or_shaking_chills"}),
    ],
)
def test_condition_specific_red_flags_name_their_questions(real_catalog_data, seed_names, questions):
    for seed_name in seed_names:
        condition = find(real_catalog_data["conditions"], seed_name)
        assert questions <= asked_by(condition), (seed_name, questions - asked_by(condition))


def test_red_flags_that_need_two_signs_together_name_both(real_catalog_data):
    conditions = real_catalog_data["conditions"]
    # A hot, swollen knee with fever: possible septic arthritis (Coakley 2006).
    assert any({"fever", "sudden_swelling_or_warmth"} <= set(flag["asks"])
               for flag in find(conditions, "osteoarthritis")["red_flags"])
    # A burst Baker's cyst looks like a clot: new calf pain with swelling.
    assert any({"calf_pain", "leg_swelling"} <= set(flag["asks"])
               for flag in find(conditions, "baker's cyst")["red_flags"])


def test_every_urgent_or_emergency_question_of_the_check_in_is_some_condition_s_red_flag(real_catalog_data):
    asked = set().union(*(asked_by(condition) for condition in real_catalog_data["conditions"]))
    same_day = {question for _, questions in QUESTION_GROUPS[:2] for question in questions}
    assert same_day - asked == set()


def test_every_condition_lists_its_facts_and_sources(checked):
    for condition in checked.conditions:
        for field in ("summary", "causes", "symptoms", "typical_recovery", "red_flags", "sources"):
            assert condition.fields[field], (condition.slug, field)


def test_the_exercise_library(checked):
    assert len(checked.exercises) >= 25
    assert len({e.fields["name"] for e in checked.exercises}) == len(checked.exercises)
    used = {x.exercise for c in checked.conditions for p in c.phases for x in p.exercises}
    # Every exercise a path prescribes is in the library (the checker guarantees it), and the library
    # holds nothing no path uses.
    assert used == {e.slug for e in checked.exercises}


@pytest.mark.django_db
def test_every_referenced_exercise_exists_once_loaded(catalog, checked):
    assert Exercise.objects.count() == len(checked.exercises)
    assert Condition.objects.count() == len(checked.conditions)
    referenced = set(PhaseExercise.objects.values_list("exercise__slug", flat=True))
    assert referenced <= set(Exercise.objects.values_list("slug", flat=True))
    assert PhaseExercise.objects.count() == sum(len(p.exercises) for c in checked.conditions for p in c.phases)


@pytest.mark.django_db
def test_loading_the_real_catalogue_twice_writes_nothing_the_second_time(catalog):
    assert catalog.changed
    with CaptureQueriesContext(connection) as queries:
        again = catalog_load(path=CATALOG_PATH)
    assert [q["sql"] for q in queries if WRITE_SQL.match(q["sql"])] == []
    assert not again.changed
    assert again.conditions.unchanged == catalog.conditions.created


@pytest.mark.django_db
def test_an_edited_copy_of_the_real_catalogue_updates_in_place(catalog, real_data, tmp_path):
    condition = real_data["conditions"][0]
    phase = condition["phases"][1]
    phase["exercises"][0]["dose"] = {"reps": 7}
    real_data["exercises"][0]["name"] += " (edited)"
    before = Condition.objects.get(slug=condition["slug"]).pk
    report = catalog_load(path=write_yaml(tmp_path / "catalog.yaml", real_data))
    assert (report.conditions.updated, report.exercises.updated, report.phase_exercises.updated) == (1, 1, 1)
    assert report.conditions.created == report.exercises.created == 0
    stored = PhaseExercise.objects.get(phase__condition__slug=condition["slug"], phase__key=phase["key"],
                                       exercise__slug=phase["exercises"][0]["exercise"])
    assert stored.reps == 7
    assert stored.phase.condition.pk == before


def _home_care_index(data):
    return next(i for i, c in enumerate(data["conditions"]) if c["home_care"])


def _dvt_index(data):
    return next(i for i, c in enumerate(data["conditions"]) if not c["home_care"])


def break_unknown_exercise(data):
    i = _home_care_index(data)
    data["conditions"][i]["phases"][1]["exercises"][1]["exercise"] = "foo"
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).phases[1] (physiotherapy).exercises[1]: " \
           "unknown exercise 'foo'"


def break_phase_order(data):
    i = len(data["conditions"]) - 1 if data["conditions"][-1]["home_care"] else _home_care_index(data)
    phases = data["conditions"][i]["phases"]
    phases[1], phases[2] = phases[2], phases[1]
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).phases: expected exactly the phases rice, " \
           "physiotherapy, return_to_activity in that order, found rice, return_to_activity, physiotherapy"


def break_dvt_note(data):
    i = _dvt_index(data)
    data["conditions"][i]["urgent_care_note"] = None
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).urgent_care_note: is required when home_care is false"


def break_exercise_dose(data):
    data["exercises"][-1]["default_dose"]["times_per_day"] = 12
    j = len(data["exercises"]) - 1
    return f"exercises[{j}] ({data['exercises'][j]['slug']}).default_dose.times_per_day: 12 is out of range (1–6)"


def break_exit_criterion(data):
    i = _home_care_index(data)
    data["conditions"][i]["phases"][0]["exit_criteria"][0]["metric"] = "happiness"
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).phases[0] (rice).exit_criteria[0].metric: " \
           "'happiness' is not one of"


def break_warning_flag(data):
    i, w = next((i, w) for i, c in enumerate(data["conditions"]) for w, warning in enumerate(c.get("warnings") or [])
                if "flag" in warning["trigger"])
    warning = data["conditions"][i]["warnings"][w]
    warning["trigger"]["flag"] = "knee_feels_odd"
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).warnings[{w}] ({warning['code']}).trigger.flag: " \
           "'knee_feels_odd' is not a check-in question"


def break_red_flag_question(data):
    i = _home_care_index(data)
    red_flag = data["conditions"][i]["red_flags"][0]
    red_flag["asks"] = [*red_flag["asks"], "feels_feverish"]
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).red_flags[0] (\"A fever, or feeling hot and " \
           f"shivery…\").asks[{len(red_flag['asks']) - 1}]: 'feels_feverish' is not a check-in question"


def break_unasked_red_flag(data):
    i = _dvt_index(data)
    j = len(data["conditions"][i]["red_flags"]) - 1
    del data["conditions"][i]["red_flags"][j]["asks"]
    return f"conditions[{i}] ({data['conditions'][i]['slug']}).red_flags[{j}] (\"Leg pain or swelling that keeps " \
           "getting…\").asks: names no check-in question"


@pytest.mark.parametrize("breakage", [break_unknown_exercise, break_phase_order, break_dvt_note,
                                      break_exercise_dose, break_exit_criterion, break_warning_flag,
                                      break_red_flag_question, break_unasked_red_flag])
def test_a_broken_copy_of_the_real_catalogue_names_the_bad_entry(real_data, tmp_path, breakage):
    expected = breakage(real_data)
    path = write_yaml(tmp_path / "catalog.yaml", real_data)
    with pytest.raises(CatalogError) as caught:
        catalog_read(path=path)
    assert len(caught.value.errors) == 1, caught.value.errors
    assert caught.value.errors[0].startswith(expected)


# Through HTTP, as the mobile app sees it.

@pytest.mark.django_db
def test_every_condition_is_listed_with_its_full_path(patient_client, catalog, real_catalog_data,
                                                      django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        listed = patient_client.get(CONDITIONS, {"page_size": 100}).json()
    assert listed["count"] == len(real_catalog_data["conditions"])
    assert {c["slug"] for c in listed["results"]} == {c["slug"] for c in real_catalog_data["conditions"]}
    for item in listed["results"]:
        with django_assert_max_num_queries(3):
            detail = patient_client.get(f"{CONDITIONS}{item['slug']}/").json()
        assert detail["red_flags"] and detail["symptoms"]
        for red_flag in detail["red_flags"]:
            assert set(red_flag) == {"text", "asks"} and red_flag["text"] and red_flag["asks"]
        if not detail["home_care"]:
            assert detail["phases"] == [] and detail["urgent_care_note"]
            continue
        assert [p["key"] for p in detail["phases"]] == PhaseKey.ordered()
        for phase in detail["phases"]:
            assert phase["exercises"]
            for exercise in phase["exercises"]:
                assert set(exercise["dose"]) == {"sets", "reps", "hold_seconds", "times_per_day", "days_per_week"}
                assert exercise["instructions"] and exercise["stop_if"]
        assert all(p["exit_criteria"] for p in detail["phases"][:2])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "seed_name", "only"),
    [
        ("locking", "meniscus tear", False),
        ("cyst", "baker's cyst", True),
        ("Baker’s", "baker's cyst", True),
        ("popliteal", "baker's cyst", True),
        ("lupus", "lupus", True),
        ("clot", "deep vein thrombosis", True),
        ("patellar tendinopathy", "jumper's knee", True),
    ],
)
def test_search_the_real_catalogue(patient_client, catalog, real_catalog_data, query, seed_name, only):
    slug = find(real_catalog_data["conditions"], seed_name)["slug"]
    found = [c["slug"] for c in patient_client.get(CONDITIONS, {"search": query}).json()["results"]]
    assert slug in found
    if only:
        assert found == [slug]

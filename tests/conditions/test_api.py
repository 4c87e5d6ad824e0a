"""The catalogue through HTTP: read-only for anyone signed in, searchable, in a constant number of queries."""
import pytest

from tests.factories import ConditionFactory, ExerciseFactory, condition_with_path

pytestmark = pytest.mark.django_db

CONDITIONS = "/api/v1/conditions/"
EXERCISES = "/api/v1/exercises/"


def slugs(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["slug"] for item in response.json()["results"]]


@pytest.mark.parametrize("url", [CONDITIONS, f"{CONDITIONS}meniscus-tear/", EXERCISES, f"{EXERCISES}quad-sets/"])
def test_anonymous_callers_get_401(api_client, small_catalog, url):
    response = api_client.get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


@pytest.mark.parametrize("url", [CONDITIONS, f"{CONDITIONS}meniscus-tear/", EXERCISES, f"{EXERCISES}quad-sets/"])
def test_the_catalogue_is_read_only_even_for_physiotherapists(physio_client, small_catalog, url):
    assert physio_client.post(url, {"slug": "x", "name": "X"}).status_code == 405
    assert physio_client.patch(url, {"name": "X"}).status_code == 405
    assert physio_client.delete(url).status_code == 405


def test_condition_list_shape(patient_client, small_catalog, small_catalog_data):
    response = patient_client.get(CONDITIONS)
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2
    by_slug = {item["slug"]: item for item in body["results"]}
    raw = small_catalog_data["conditions"][0]
    assert by_slug["meniscus-tear"] == {
        "slug": "meniscus-tear",
        "name": raw["name"],
        "also_known_as": raw["also_known_as"],
        "summary": raw["summary"],
        "symptoms": raw["symptoms"],
        "typical_recovery": raw["typical_recovery"],
        "typical_recovery_weeks": raw["typical_recovery_weeks"],
        "home_care": True,
    }
    assert by_slug["deep-vein-thrombosis"]["home_care"] is False
    # Alphabetical, so the app's list is stable.
    assert [item["name"] for item in body["results"]] == sorted(item["name"] for item in body["results"])


def test_condition_detail_has_the_whole_path_with_doses(patient_client, small_catalog, small_catalog_data):
    response = patient_client.get(f"{CONDITIONS}meniscus-tear/")
    assert response.status_code == 200
    body = response.json()
    raw = small_catalog_data["conditions"][0]
    for field in ("name", "also_known_as", "subtypes", "summary", "causes", "symptoms", "typical_recovery",
                  "typical_recovery_weeks", "home_care", "surgery_note", "red_flags", "warnings", "sources"):
        assert body[field] == raw[field], field
    assert body["urgent_care_note"] is None
    assert body["catalog_version"] == small_catalog_data["version"]
    assert [phase["key"] for phase in body["phases"]] == ["rice", "physiotherapy", "return_to_activity"]
    assert [phase["order"] for phase in body["phases"]] == [1, 2, 3]

    rice = body["phases"][0]
    raw_rice = raw["phases"][0]
    assert set(rice) == {"key", "name", "order", "goals", "guidance", "typical_duration_days", "exercises",
                         "exit_criteria"}
    assert rice["goals"] == raw_rice["goals"]
    assert rice["guidance"] == raw_rice["guidance"]
    assert rice["typical_duration_days"] == raw_rice["typical_duration_days"]
    assert rice["exit_criteria"] == raw_rice["exit_criteria"]
    quad_sets = next(e for e in small_catalog_data["exercises"] if e["slug"] == "quad-sets")
    assert rice["exercises"][0] == {
        "slug": "quad-sets",
        "name": quad_sets["name"],
        "body_area": quad_sets["body_area"],
        "instructions": quad_sets["instructions"],
        "feel": quad_sets["feel"],
        "stop_if": quad_sets["stop_if"],
        "order": 1,
        "dose": quad_sets["default_dose"] | raw_rice["exercises"][0]["dose"],
    }
    assert [e["slug"] for e in rice["exercises"]] == [x["exercise"] for x in raw_rice["exercises"]]
    physio = body["phases"][1]
    assert physio["guidance"] is None  # none in the file
    assert body["phases"][2]["exit_criteria"] == []


def test_a_condition_without_home_care_has_no_phases_and_says_where_to_go(patient_client, small_catalog):
    body = patient_client.get(f"{CONDITIONS}deep-vein-thrombosis/").json()
    assert body["home_care"] is False
    assert body["phases"] == []
    assert body["urgent_care_note"]
    assert body["surgery_note"] is None


def test_an_unknown_condition_is_404(patient_client, small_catalog):
    response = patient_client.get(f"{CONDITIONS}broken-heart/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("locking", ["meniscus-tear"]),  # a symptom
        ("LOCKING", ["meniscus-tear"]),
        ("torn", ["meniscus-tear"]),  # another name
        ("dvt", ["deep-vein-thrombosis"]),
        ("blood clot", ["deep-vein-thrombosis"]),  # every word must match
        ("swollen leg", ["deep-vein-thrombosis"]),
        ("swelling", ["meniscus-tear"]),
        ("knee", ["meniscus-tear"]),
        ("clot locking", []),
        ("elbow", []),
    ],
)
def test_condition_search_by_name_other_names_and_symptoms(patient_client, small_catalog, query, found):
    assert slugs(patient_client.get(CONDITIONS, {"search": query})) == found


def test_search_matches_subtypes_and_folds_curly_apostrophes(patient_client):
    ConditionFactory(slug="bakers-cyst", name="Baker's cyst", symptoms=["A lump behind the knee"])
    ConditionFactory(slug="arthritis", name="Arthritis",
                     subtypes=[{"slug": "lupus", "name": "Lupus", "summary": "An autoimmune disease."}])
    assert slugs(patient_client.get(CONDITIONS, {"search": "Baker’s"})) == ["bakers-cyst"]
    assert slugs(patient_client.get(CONDITIONS, {"search": "bakers"})) == ["bakers-cyst"]
    assert slugs(patient_client.get(CONDITIONS, {"search": "cyst"})) == ["bakers-cyst"]
    assert slugs(patient_client.get(CONDITIONS, {"search": "lupus"})) == ["arthritis"]


def test_the_home_care_filter(patient_client, small_catalog):
    assert slugs(patient_client.get(CONDITIONS, {"home_care": "false"})) == ["deep-vein-thrombosis"]
    assert slugs(patient_client.get(CONDITIONS, {"home_care": "true"})) == ["meniscus-tear"]


def test_exercise_list_and_detail(patient_client, small_catalog, small_catalog_data):
    body = patient_client.get(EXERCISES).json()
    assert body["count"] == len(small_catalog_data["exercises"])
    by_slug = {item["slug"]: item for item in body["results"]}
    raw = small_catalog_data["exercises"][0]
    assert by_slug["quad-sets"] == {
        "slug": "quad-sets", "name": raw["name"], "body_area": raw["body_area"], "instructions": raw["instructions"],
        "feel": raw["feel"], "stop_if": raw["stop_if"], "default_dose": raw["default_dose"],
    }
    assert by_slug["heel-slides"]["feel"] == ""

    detail = patient_client.get(f"{EXERCISES}mini-squats/").json()
    assert detail["default_dose"] == small_catalog_data["exercises"][3]["default_dose"]
    assert [(use["condition"], use["phase"]) for use in detail["used_in"]] == [
        ("meniscus-tear", "physiotherapy"), ("meniscus-tear", "return_to_activity")]
    assert detail["used_in"][1]["dose"]["sets"] == 4  # the phase's override
    assert detail["used_in"][1]["condition_name"] == "Meniscus tear"
    assert patient_client.get(f"{EXERCISES}no-such-thing/").status_code == 404


def test_exercise_search_and_body_area_filter(patient_client, small_catalog):
    assert slugs(patient_client.get(EXERCISES, {"search": "squat"})) == ["mini-squats"]
    # Names and instructions: mini squats keep "the heels down".
    assert slugs(patient_client.get(EXERCISES, {"search": "heel"})) == ["heel-slides", "mini-squats"]
    assert slugs(patient_client.get(EXERCISES, {"body_area": "calf"})) == ["calf-raises"]
    assert slugs(patient_client.get(EXERCISES, {"body_area": ["calf", "thigh"]})) == ["calf-raises", "quad-sets"]
    response = patient_client.get(EXERCISES, {"body_area": "elbow"})
    assert response.status_code == 400
    assert "body_area" in response.json()["fields"]


def test_pagination(patient_client):
    ExerciseFactory.create_batch(25)
    first = patient_client.get(EXERCISES).json()
    assert (first["count"], len(first["results"])) == (25, 20)
    second = patient_client.get(first["next"]).json()
    assert len(second["results"]) == 5 and second["next"] is None
    assert len(patient_client.get(EXERCISES, {"page_size": 100}).json()["results"]) == 25


@pytest.mark.parametrize("rows", [1, 30])
def test_condition_list_queries_do_not_grow_with_rows(patient_client, django_assert_max_num_queries, rows):
    for _ in range(rows):
        condition_with_path(exercises_per_phase=2)
    with django_assert_max_num_queries(2):  # count and page
        response = patient_client.get(CONDITIONS, {"page_size": 100})
    assert response.json()["count"] == rows


@pytest.mark.parametrize("exercises_per_phase", [1, 12])
def test_condition_detail_queries_do_not_grow_with_the_path(patient_client, django_assert_max_num_queries,
                                                            exercises_per_phase):
    condition = condition_with_path(exercises_per_phase=exercises_per_phase)
    with django_assert_max_num_queries(3):  # condition, phases, dosed exercises
        body = patient_client.get(f"{CONDITIONS}{condition.slug}/").json()
    assert [len(phase["exercises"]) for phase in body["phases"]] == [exercises_per_phase] * 3


@pytest.mark.parametrize("rows", [1, 40])
def test_exercise_list_queries_do_not_grow_with_rows(patient_client, django_assert_max_num_queries, rows):
    ExerciseFactory.create_batch(rows)
    with django_assert_max_num_queries(2):
        response = patient_client.get(EXERCISES, {"page_size": 100})
    assert response.json()["count"] == rows


@pytest.mark.parametrize("uses", [1, 15])
def test_exercise_detail_queries_do_not_grow_with_its_uses(patient_client, django_assert_max_num_queries, uses):
    from tests.factories import PhaseExerciseFactory

    exercise = ExerciseFactory()
    PhaseExerciseFactory.create_batch(uses, exercise=exercise)
    with django_assert_max_num_queries(2):  # exercise, its uses with their phases and conditions
        body = patient_client.get(f"{EXERCISES}{exercise.slug}/").json()
    assert len(body["used_in"]) == uses


def test_the_schema_documents_the_catalogue(patient_client):
    schema = patient_client.get("/api/v1/schema/", {"format": "json"}).json()
    assert {"/api/v1/conditions/", "/api/v1/conditions/{slug}/", "/api/v1/exercises/",
            "/api/v1/exercises/{slug}/"} <= set(schema["paths"])
    components = schema["components"]["schemas"]
    detail = components["ConditionDetail"]["properties"]
    assert detail["phases"]["items"]["$ref"].endswith("/TreatmentPhase")
    # Each red flag with the check-in questions that ask about it, by their check-in field names.
    assert detail["red_flags"]["items"]["$ref"].endswith("/RedFlag")
    assert "check-in questions" in detail["red_flags"]["description"]
    red_flag = components["RedFlag"]
    assert set(red_flag["required"]) == {"text", "asks"}
    assert "POST /api/v1/checkins/" in red_flag["properties"]["asks"]["description"]
    questions = components[red_flag["properties"]["asks"]["items"]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert {"chest_pain", "foot_cold_pale_or_numb", "knee_locked", "pain_at_rest"} <= set(questions)
    assert "knee_locking_or_giving_way" not in questions
    list_params = {p["name"] for p in schema["paths"]["/api/v1/conditions/"]["get"]["parameters"]}
    assert {"search", "home_care", "page", "page_size"} <= list_params
    exercise_params = {p["name"] for p in schema["paths"]["/api/v1/exercises/"]["get"]["parameters"]}
    assert {"search", "body_area"} <= exercise_params

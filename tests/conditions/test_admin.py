"""Staff edit the catalogue in the admin; what the file's rules forbid, the admin refuses too."""
import json

import pytest
from django.contrib.auth.models import Permission

from conditions.models import Condition, Exercise, TreatmentPhase
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def form_data(response) -> dict:
    """What the browser would post back for the change page as shown (main form and inlines)."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            key = form.add_prefix(name)
            if isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif value is not None:
                data[key] = value

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for name in formset.management_form.fields:
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value()
        for form in formset.forms:
            add(form)
    return data


def change_url(model, pk) -> str:
    return f"/admin/conditions/{model}/{pk}/change/"


@pytest.fixture
def meniscus(small_catalog):
    return Condition.objects.get(slug="meniscus-tear")


@pytest.mark.parametrize("model", ["condition", "treatmentphase", "exercise"])
def test_the_changelists_open_and_search(admin_client, small_catalog, model):
    assert admin_client.get(f"/admin/conditions/{model}/").status_code == 200
    assert admin_client.get(f"/admin/conditions/{model}/", {"q": "knee"}).status_code == 200


def test_condition_search_looks_through_symptoms(admin_client, small_catalog):
    response = admin_client.get("/admin/conditions/condition/", {"q": "locking"})
    assert [c.slug for c in response.context["cl"].result_list] == ["meniscus-tear"]


def test_a_condition_page_shows_its_phases_and_a_phase_page_its_exercises(admin_client, meniscus):
    response = admin_client.get(change_url("condition", meniscus.pk))
    assert response.status_code == 200
    [phases] = response.context["inline_admin_formsets"]
    assert [form.instance.key for form in phases.formset.forms] == ["rice", "physiotherapy", "return_to_activity"]
    rice = meniscus.phases.get(key="rice")
    response = admin_client.get(change_url("treatmentphase", rice.pk))
    assert response.status_code == 200
    [exercises] = response.context["inline_admin_formsets"]
    assert [form.instance.exercise.slug for form in exercises.formset.forms] == ["quad-sets", "heel-slides"]


def test_staff_edit_a_condition_and_search_follows(admin_client, meniscus):
    url = change_url("condition", meniscus.pk)
    data = form_data(admin_client.get(url))
    data["symptoms"] = json.dumps(["Swelling", "A catching feeling"])
    data["phases-1-goals"] = json.dumps(["Bend the knee fully"])
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    meniscus.refresh_from_db()
    assert meniscus.symptoms == ["Swelling", "A catching feeling"]
    assert "a catching feeling" in meniscus.search_text
    assert "locking" not in meniscus.search_text
    assert meniscus.phases.get(key="physiotherapy").goals == ["Bend the knee fully"]


def test_staff_edit_red_flags_naming_the_questions_that_ask_about_them(admin_client, meniscus):
    url = change_url("condition", meniscus.pk)
    page = admin_client.get(url)
    assert "foot_cold_pale_or_numb" in page.context["adminform"].form.fields["red_flags"].help_text
    data = form_data(page)
    red_flags = [{"text": "The foot goes cold or numb after a twist", "asks": ["foot_cold_pale_or_numb"]},
                 *meniscus.red_flags]
    data["red_flags"] = json.dumps(red_flags)
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    meniscus.refresh_from_db()
    assert meniscus.red_flags == red_flags


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("warnings", [{"code": "x", "message": "m", "trigger": {"flag": "knee_wobbly"}}],
         "warnings[0] (x).trigger.flag: 'knee_wobbly' is not a check-in question"),
        ("symptoms", ["Swelling", " "], "symptoms[1]: expected non-empty text"),
        ("subtypes", [{"slug": "OA", "name": "Osteoarthritis", "summary": "Wear."}],
         "subtypes[0] (OA).slug: 'OA' is not lower-case-hyphenated"),
        ("sources", [{"url": "https://example.org"}], "sources[0]: unknown key 'url'"),
        ("red_flags", [{"text": "Pain at night", "asks": []}],
         'red_flags[0] ("Pain at night").asks: names no check-in question'),
        ("red_flags", [{"text": "Pain at night", "asks": ["night_pain"]}],
         'red_flags[0] ("Pain at night").asks[0]: \'night_pain\' is not a check-in question'),
        ("red_flags", ["Pain at night"], 'red_flags[0] ("Pain at night"): expected {text, asks}, found a text alone'),
    ],
)
def test_the_admin_refuses_what_the_file_would(admin_client, meniscus, field, value, message):
    url = change_url("condition", meniscus.pk)
    data = form_data(admin_client.get(url)) | {field: json.dumps(value)}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert any(message in error for error in response.context["adminform"].form.errors[field])


def test_bad_exit_criteria_are_refused_on_the_phase(admin_client, meniscus):
    url = change_url("condition", meniscus.pk)
    data = form_data(admin_client.get(url))
    data["phases-0-exit_criteria"] = json.dumps([{"metric": "swelling", "op": "lte", "value": "huge",
                                                  "consecutive_checkins": 3}])
    response = admin_client.post(url, data)
    assert response.status_code == 200
    [phases] = response.context["inline_admin_formsets"]
    assert phases.formset.forms[0].errors["exit_criteria"] == [
        "exit_criteria[0].value: 'huge' is not a swelling level (none, mild, moderate, severe)"]


def test_a_home_care_path_keeps_its_three_phases(admin_client, meniscus):
    url = change_url("condition", meniscus.pk)
    data = form_data(admin_client.get(url)) | {"phases-2-DELETE": "on"}
    response = admin_client.post(url, data)
    assert response.status_code == 200
    [phases] = response.context["inline_admin_formsets"]
    assert phases.formset.non_form_errors() == [
        "A home-care condition needs exactly the phases rice, physiotherapy, return_to_activity, in that order "
        "(found: rice, physiotherapy)."]
    assert meniscus.phases.count() == 3


def test_no_home_care_needs_an_urgent_note_and_no_phases(admin_client, meniscus):
    url = change_url("condition", meniscus.pk)
    data = form_data(admin_client.get(url))
    del data["home_care"]
    response = admin_client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["urgent_care_note"]
    data["urgent_care_note"] = "See a doctor today."
    response = admin_client.post(url, data)
    [phases] = response.context["inline_admin_formsets"]
    assert phases.formset.non_form_errors() == [
        "A condition without home care has no phases: remove them or tick home care."]
    assert Condition.objects.get(pk=meniscus.pk).home_care is True


def test_a_staff_member_with_permission_edits_an_exercise(client, small_catalog):
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__in=["view_exercise", "change_exercise"]))
    client.force_login(staff)
    exercise = Exercise.objects.get(slug="quad-sets")
    url = change_url("exercise", exercise.pk)
    data = form_data(client.get(url)) | {"sets": "50"}
    response = client.post(url, data)
    assert response.status_code == 200  # out of range: refused with the form shown again
    assert response.context["adminform"].form.errors
    data["sets"] = "4"
    data["stop_if"] = "Pain above 4 out of 10."
    assert client.post(url, data).status_code == 302
    exercise.refresh_from_db()
    assert (exercise.sets, exercise.stop_if) == (4, "Pain above 4 out of 10.")
    # Without the permission: no editing.
    assert client.get(change_url("condition", Condition.objects.first().pk)).status_code == 403


def test_phases_are_added_from_their_condition_only(admin_client, small_catalog):
    assert admin_client.get("/admin/conditions/treatmentphase/add/").status_code == 403
    assert TreatmentPhase.objects.count() == 3

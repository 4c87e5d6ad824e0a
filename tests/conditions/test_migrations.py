"""Red flags were bare texts; the migration to {text, asks} keeps every stored one, and guesses no question."""
import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = ("conditions", "0002_catalog_fingerprints_and_search_text")
AFTER = ("conditions", "0003_red_flags_name_their_questions")


def migrate_to(target):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


def test_bare_red_flag_texts_become_entries_that_name_no_question_yet_and_back():
    old_apps = migrate_to(BEFORE)
    try:
        Condition = old_apps.get_model("conditions", "Condition")
        made_in_admin = Condition.objects.create(
            slug="knee-ache", name="Knee ache", summary="An ache.", causes=["Overuse"], symptoms=["Ache"],
            typical_recovery="Weeks.", recovery_weeks_min=1, recovery_weeks_max=4,
            red_flags=["Fever", "The knee locks"],
        )
        new_apps = migrate_to(AFTER)
        stored = new_apps.get_model("conditions", "Condition").objects.get(pk=made_in_admin.pk)
        # No question is guessed: the admin refuses this row until staff name the questions (see test_admin).
        assert stored.red_flags == [{"text": "Fever", "asks": []}, {"text": "The knee locks", "asks": []}]

        old_apps = migrate_to(BEFORE)
        assert old_apps.get_model("conditions", "Condition").objects.get(pk=made_in_admin.pk).red_flags == [
            "Fever", "The knee locks"]
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())

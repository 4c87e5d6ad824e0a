import pytest

from conditions import selectors
from tests.factories import PhaseExerciseFactory, condition_with_path

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("conditions", [1, 8])
def test_conditions_with_their_paths_in_three_queries(django_assert_num_queries, conditions):
    for _ in range(conditions):
        condition_with_path(exercises_per_phase=3)
    with django_assert_num_queries(3):
        loaded = list(selectors.condition_with_path_list())
        doses = [(pe.exercise.name, pe.dose())
                 for c in loaded for p in c.phases.all() for pe in p.phase_exercises.all()]
    assert len(doses) == conditions * 3 * 3
    assert [[p.key for p in c.phases.all()] for c in loaded] == [["rice", "physiotherapy", "return_to_activity"]] * (
        conditions)


def test_phase_exercises_come_in_their_order():
    condition = condition_with_path(exercises_per_phase=0)
    rice = condition.phases.get(key="rice")
    late, early = PhaseExerciseFactory(phase=rice, order=2), PhaseExerciseFactory(phase=rice, order=1)
    found = selectors.condition_get(slug=condition.slug)
    assert list(found.phases.all()[0].phase_exercises.all()) == [early, late]
    assert selectors.condition_get(slug="nothing-here") is None


@pytest.mark.parametrize("uses", [1, 10])
def test_exercises_with_their_uses_in_two_queries(django_assert_num_queries, uses):
    exercise = PhaseExerciseFactory().exercise
    PhaseExerciseFactory.create_batch(uses - 1, exercise=exercise)
    with django_assert_num_queries(2):
        [loaded] = list(selectors.exercise_with_uses_list())
        conditions = [use.phase.condition.slug for use in loaded.phase_uses.all()]
    assert len(conditions) == uses

"""Staff pages for plans and their phase history."""
import pytest
from django.test import Client

from plans.models import PhaseChange
from tests.factories import PhysiotherapistFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(PhysiotherapistFactory(is_staff=True, is_superuser=True))
    return client


def test_plan_pages(staff_client, make_plan):
    plan = make_plan()
    listing = staff_client.get("/admin/plans/plan/")
    assert listing.status_code == 200
    assert "Meniscus tear" in listing.content.decode()
    page = staff_client.get(f"/admin/plans/plan/{plan.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "quad-sets" in html or "Quadriceps setting" in html  # the exercise inline
    assert "Meniscus tear plan assigned." in html  # the read-only phase history inline
    assert staff_client.get(f"/admin/plans/plan/{plan.pk}/history/").status_code == 200


def test_phase_changes_are_read_only(staff_client, make_plan):
    plan = make_plan()
    change = PhaseChange.objects.get(plan=plan)
    assert staff_client.get("/admin/plans/phasechange/").status_code == 200
    assert staff_client.get(f"/admin/plans/phasechange/{change.pk}/change/").status_code == 200
    assert staff_client.get("/admin/plans/phasechange/add/").status_code == 403
    staff_client.post(f"/admin/plans/phasechange/{change.pk}/change/", {"reason": "rewritten"})
    change.refresh_from_db()
    assert change.reason == "Meniscus tear plan assigned."

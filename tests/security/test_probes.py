"""Probes with NUL bytes, which PostgreSQL refuses in text: a clean JSON answer, and still audited."""
import pytest

from kneerehab.audit.models import AuditEvent

from .conftest import client_for


@pytest.mark.parametrize("path", [
    "/api/v1/conditions/a%00b/",
    "/api/v1/exercises/%00/",
    "/api/v1/conditions/?search=a%00",
    "/api/v1/plans/?condition=%00",
    "/api/v1/plans/%00/",
    "/api/v1/checkins/?level=%00",
])
def test_a_nul_byte_in_the_path_or_query_is_a_json_4xx(path, world):
    response = client_for(world.physio_a).get(path)
    assert response.status_code in (400, 404), response.content
    assert response["Content-Type"].startswith("application/json")


def test_a_probe_with_nul_bytes_is_still_on_the_audit_trail(world):
    """The path, query and user agent are the client's; none of them may stop the event from being stored."""
    client = client_for(world.physio_a)
    response = client.get(f"/api/v1/plans/{world.alice.plan.pk}%00/", {"x": "\x00"}, HTTP_USER_AGENT="probe\x00")
    assert response.status_code == 404
    event = AuditEvent.objects.get(path__startswith="/api/v1/plans/")
    assert (event.username, event.status_code) == (world.physio_a.username, 404)
    assert "\x00" not in event.path + event.query + event.user_agent
    assert event.user_agent.startswith("probe")

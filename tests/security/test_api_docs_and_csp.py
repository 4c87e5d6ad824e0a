"""The API docs come from the app's own static files, for signed-in users (unless API_DOCS_PUBLIC); every
response carries a Content-Security-Policy that allows our own origin only and no inline script.
"""
import re

import pytest
from django.test import Client

from tests.factories import PatientFactory, PhysiotherapistFactory

pytestmark = pytest.mark.django_db

POLICY = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self' data:",
    "object-src": "'none'", "base-uri": "'none'", "frame-ancestors": "'none'", "form-action": "'self'",
}


def directives(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {name: value.strip() for name, _, value in
            (part.strip().partition(" ") for part in header.split(";") if part.strip())}


def test_the_docs_and_schema_need_a_signed_in_user(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/api/v1/docs/"
    schema = client.get("/api/v1/schema/", {"format": "json"})
    assert schema.status_code == 401 and schema.json()["code"] == "not_authenticated"
    for response in (client.get("/api/v1/schema/"), client.get("/api/v1/docs/", {"script": ""})):
        assert response.status_code == 401 and response["Content-Type"].startswith("application/json")
        assert response.json()["code"] == "not_authenticated"


def test_a_setting_makes_them_public(client, settings):
    settings.API_DOCS_PUBLIC = True
    assert client.get("/api/v1/docs/").status_code == 200
    assert client.get("/api/v1/schema/", {"format": "json"}).json()["openapi"].startswith("3.")


def test_swagger_ui_is_served_from_our_static_files_with_no_inline_script(client):
    client.force_login(PhysiotherapistFactory())
    html = client.get("/api/v1/docs/").content.decode()
    sources = re.findall(r'<script[^>]*src="([^"]+)"', html)
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert sources and stylesheets
    for url in sources + stylesheets:
        assert url.startswith("/"), url  # our origin: no CDN
    assert any(url.startswith("/static/drf_spectacular_sidecar/swagger-ui-dist/") for url in sources)
    assert "<script>" not in html and "<style" not in html  # inline code would be refused by the policy
    script = client.get("/api/v1/docs/", {"script": ""})
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in script.content.decode()


@pytest.mark.parametrize("path", ["/accounts/login/", "/api/v1/", "/healthz", "/api/v1/me/", "/no-such-page/"])
def test_every_response_carries_the_policy(client, path):
    assert {name: value for name, value in directives(client.get(path)).items() if name in POLICY} == POLICY


def test_signed_in_pages_carry_it_too():
    client = Client()
    client.force_login(PatientFactory())
    for path in ("/today/", "/progress/", "/inbox/", "/api/v1/docs/"):
        assert directives(client.get(path))["script-src"] == "'self'", path

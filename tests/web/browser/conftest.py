"""Headless Chromium (Debian's, never a downloaded one) driven by Playwright against pytest-django's live server."""
import http.client
import os
import re
from pathlib import Path

import pytest
from django.conf import settings as django_settings

# Playwright's sync API runs an event loop in the test thread; the test's own ORM calls are still synchronous.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "screenshots"


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail(
            f"The browser tests drive Debian's Chromium at {CHROMIUM}, which is missing: "
            "apt-get install chromium chromium-driver (.ci/run does this).",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def plain_http_live_server(request):
    """pytest-django's live server, serving plain HTTP.

    The server is session-wide and SecurityMiddleware reads SECURE_SSL_REDIRECT once, when the server starts
    (before any function-scoped settings fixture runs), so it is switched off here, first.
    """
    django_settings.SECURE_SSL_REDIRECT = False
    server = request.getfixturevalue("live_server")
    connection = http.client.HTTPConnection(server.thread.host, server.thread.port, timeout=30)
    connection.request("GET", "/accounts/login/")
    status = connection.getresponse().status
    connection.close()
    if status != 200:
        pytest.fail(f"The live server answered {status} to /accounts/login/ over HTTP; it was started with "
                    "SECURE_SSL_REDIRECT on before the browser tests could turn it off.", pytrace=False)
    return server


@pytest.fixture
def web_live_server(plain_http_live_server, settings):
    # The live server speaks plain HTTP: secure-only cookies would never come back and nobody could sign in.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return plain_http_live_server


class Browser:
    """One signed-out browser window on the live server, failing the test on any script error."""

    def __init__(self, context, base_url: str):
        self.context = context
        self.base_url = base_url
        self.page = context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on(
            "console", lambda msg: self.errors.append(f"console: {msg.text}") if msg.type == "error" else None
        )
        self.page.on(
            "response",
            lambda response: self.errors.append(f"HTTP {response.status} for {response.url}")
            if "/static/" in response.url and response.status >= 400 else None,
        )

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        return response

    def login(self, username: str, password: str):
        self.goto("/accounts/login/")
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_load_state()

    def logout(self):
        self.page.get_by_role("button", name="Sign out").click()
        self.page.wait_for_load_state()

    def screenshot(self, name: str):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{re.sub(r'[^a-z0-9-]+', '-', name.lower())}.png"),
                             full_page=True)


@pytest.fixture
def browser(chromium, web_live_server):
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-GB")
    window = Browser(context, web_live_server.url)
    yield window
    context.close()
    assert not window.errors, "the browser reported errors:\n" + "\n".join(window.errors)


@pytest.fixture
def phone(chromium, web_live_server):
    """A small touch screen, to show the pages work on a phone."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                                   device_scale_factor=2, locale="en-GB")
    window = Browser(context, web_live_server.url)
    yield window
    context.close()
    assert not window.errors, "the browser reported errors:\n" + "\n".join(window.errors)

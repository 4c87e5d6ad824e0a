"""A browser session ends after 30 minutes without a request and 12 hours after sign-in, whatever the activity."""
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from tests.factories import PASSWORD, PatientFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)


def sign_in(client, user):
    client.get("/accounts/login/")
    response = client.post("/accounts/login/", {
        "username": user.username, "password": PASSWORD,
        "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
    })
    assert response.status_code == 302


def still_signed_in(client) -> bool:
    response = client.get("/inbox/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_session_left_idle_ends(web_client):
    user = PatientFactory()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(web_client, user)
        clock.shift(timedelta(minutes=29))
        assert still_signed_in(web_client)
        clock.shift(timedelta(minutes=29))  # 29 minutes since the last page: the clock was moved by it
        assert still_signed_in(web_client)
        clock.shift(timedelta(minutes=30))
        assert not still_signed_in(web_client)
        assert "_auth_user_id" not in web_client.session


def test_a_busy_session_still_ends_at_its_maximum_age(web_client):
    user = PatientFactory()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(web_client, user)
        for _ in range(35):  # a page every 20 minutes for 11 h 40 min
            clock.shift(timedelta(minutes=20))
            assert still_signed_in(web_client)
        clock.shift(timedelta(minutes=20))  # 12 hours after sign-in
        assert not still_signed_in(web_client)


def test_signing_in_again_starts_a_new_session(web_client):
    user = PatientFactory()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(web_client, user)
        clock.shift(timedelta(hours=13))
        assert not still_signed_in(web_client)
        sign_in(web_client, user)
        assert still_signed_in(web_client)


def test_both_limits_follow_the_settings(web_client, settings):
    settings.SESSION_IDLE_TIMEOUT_SECONDS = 5 * 60
    settings.SESSION_MAX_AGE_SECONDS = 60 * 60
    user = PatientFactory()
    with time_machine.travel(T0, tick=False) as clock:
        sign_in(web_client, user)
        clock.shift(timedelta(minutes=6))
        assert not still_signed_in(web_client)
        sign_in(web_client, user)
        for _ in range(14):
            clock.shift(timedelta(minutes=4))
            assert still_signed_in(web_client)
        clock.shift(timedelta(minutes=4))  # 60 minutes after the second sign-in
        assert not still_signed_in(web_client)


def test_a_session_cookie_no_server_could_make_is_no_session(client):
    from kneerehab.users.session_store import SessionStore

    assert SessionStore("abcdefgh\x00ijklmnop").session_key is None
    assert SessionStore("abc-defg;ijklmnop").session_key is None
    assert SessionStore("abcdefgh1234567890").session_key == "abcdefgh1234567890"
    # Through HTTP: a probe's cookie reaches the pages as an anonymous visitor, never as a 500.
    client.cookies["sessionid"] = "abcdefgh\x00ijklmnop"
    response = client.get("/api/v1/me/")
    assert response.status_code == 401

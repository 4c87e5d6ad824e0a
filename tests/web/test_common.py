"""Sign-in, sign-out, the home redirect and the inbox, through Django's test client."""
import pytest
from django.test import Client

from kneerehab.notifications.models import Notification
from kneerehab.notifications.services import notify
from tests.factories import PASSWORD, PatientFactory, PhysiotherapistFactory
from tests.web.conftest import csrf_post

pytestmark = pytest.mark.django_db


def test_pages_need_a_signed_in_user():
    response = Client().get("/inbox/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/inbox/"


def test_login_page_is_accessible_html():
    response = Client().get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="en">' in html
    assert 'class="skip-link" href="#main"' in html
    assert '<label for="id_username">Username</label>' in html
    assert '<label for="id_password">Password</label>' in html


def test_wrong_password_shows_an_error_and_does_not_sign_in(web_client):
    user = PatientFactory()
    web_client.get("/accounts/login/")
    response = web_client.post("/accounts/login/", {
        "username": user.username, "password": "not-it",
        "csrfmiddlewaretoken": web_client.cookies["csrftoken"].value,
    })
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()
    assert "_auth_user_id" not in web_client.session


def test_sign_in_then_sign_out(web_client):
    user = PatientFactory()
    web_client.get("/accounts/login/")
    response = web_client.post("/accounts/login/", {
        "username": user.username, "password": PASSWORD,
        "csrfmiddlewaretoken": web_client.cookies["csrftoken"].value,
    })
    assert response.status_code == 302 and response["Location"] == "/"
    assert int(web_client.session["_auth_user_id"]) == user.pk

    response = csrf_post(web_client, "/accounts/logout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    assert "_auth_user_id" not in web_client.session


def test_a_post_without_the_csrf_token_is_refused(web_client):
    user = PatientFactory()
    web_client.force_login(user)
    notification = notify(recipient=user, kind="reminder", title="Exercises", body="Time for them.")
    response = web_client.post(f"/inbox/{notification.pk}/read/")
    assert response.status_code == 403
    notification.refresh_from_db()
    assert not notification.read


@pytest.mark.parametrize("factory", [PatientFactory, PhysiotherapistFactory])
def test_inbox_lists_only_the_users_own_notifications(client, factory):
    user, other = factory(), factory()
    notify(recipient=user, kind="reminder", title="Your morning exercises", body="Three of them today.")
    notify(recipient=other, kind="alert", title="Somebody else's alert", body="Not for you.")
    client.force_login(user)
    html = client.get("/inbox/").content.decode()
    assert "Your morning exercises" in html
    assert "Somebody else" not in html
    assert "1 unread message." in html


def test_marking_a_notification_read(web_client):
    user = PatientFactory()
    notification = notify(recipient=user, kind="prompt", title="Book a visit", body="Pain has been rising.")
    web_client.force_login(user)
    response = csrf_post(web_client, f"/inbox/{notification.pk}/read/")
    assert response.status_code == 302
    notification.refresh_from_db()
    assert notification.read


def test_marking_read_with_htmx_returns_the_item_alone(web_client):
    user = PatientFactory()
    notification = notify(recipient=user, kind="prompt", title="Book a visit", body="Pain has been rising.")
    web_client.force_login(user)
    response = csrf_post(web_client, f"/inbox/{notification.pk}/read/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith(f'<li class="inbox-item" id="notification-{notification.pk}">')
    assert "<html" not in html


def test_another_users_notification_is_not_found(web_client):
    user, other = PatientFactory(), PatientFactory()
    notification = notify(recipient=other, kind="reminder", title="Exercises", body="Time for them.")
    web_client.force_login(user)
    response = csrf_post(web_client, f"/inbox/{notification.pk}/read/")
    assert response.status_code == 404
    notification.refresh_from_db()
    assert not notification.read


def test_mark_all_read_touches_only_the_users_inbox(web_client):
    user, other = PatientFactory(), PatientFactory()
    for n in range(3):
        notify(recipient=user, kind="reminder", title=f"Reminder {n}", body="…")
    notify(recipient=other, kind="reminder", title="Theirs", body="…")
    web_client.force_login(user)
    csrf_post(web_client, "/inbox/read-all/")
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1


def test_inbox_query_count_does_not_grow_with_the_number_of_items(client, django_assert_max_num_queries):
    user = PatientFactory()
    client.force_login(user)
    counts = []
    for total in (1, 30):
        while Notification.objects.filter(recipient=user).count() < total:
            notify(recipient=user, kind="reminder", title="Reminder", body="…")
        with django_assert_max_num_queries(7) as captured:  # with the audit row
            assert client.get("/inbox/").status_code == 200
        counts.append(len(captured))
    assert counts[0] == counts[1], counts

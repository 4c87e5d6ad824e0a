"""The calendar feed as a phone's calendar reads it: a secret URL, no sign-in, sessions at local times."""
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from icalendar import Calendar
from rest_framework.test import APIClient

from plans.models import CalendarFeed, PlanStatus
from plans.services import plan_create
from tests.factories import PatientFactory, make_path

pytestmark = pytest.mark.django_db

NEW_YORK = ZoneInfo("America/New_York")


@pytest.fixture
def travel():
    with time_machine.travel(datetime(2026, 3, 5, 15, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


@pytest.fixture
def new_yorker(physio):
    return PatientFactory(physiotherapists=[physio], timezone="America/New_York")


@pytest.fixture
def plan(travel, physio, new_yorker):
    make_path()
    return plan_create(physiotherapist=physio, patient_id=new_yorker.pk, condition_slug="meniscus-tear",
                       start_date=date(2026, 3, 1), reminder_times=["08:00", "18:30"])


def signed_in(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def subscribe(patient) -> str:
    response = signed_in(patient).post("/api/v1/calendar-feed/")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["webcal_url"] == "webcal://" + body["url"].removeprefix("http://")
    return body["url"].removeprefix("http://testserver")


def read_feed(url: str) -> Calendar:
    response = APIClient().get(url)  # a calendar app: no credentials
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def sessions(calendar: Calendar) -> list:
    return sorted(calendar.walk("VEVENT"), key=lambda e: e.decoded("dtstart"))


def test_the_feed_lists_tomorrows_sessions_at_local_time(plan, new_yorker):
    calendar = read_feed(subscribe(new_yorker))

    tomorrow = [e for e in sessions(calendar) if e.decoded("dtstart").date() == date(2026, 3, 6)]
    starts = [e.decoded("dtstart") for e in tomorrow]
    assert [s.time() for s in starts] == [time(8, 0), time(18, 30)]
    assert {str(s.tzinfo) for s in starts} == {"America/New_York"}
    assert [e["dtstart"].params["TZID"] for e in tomorrow] == ["America/New_York"] * 2
    assert [tz["tzid"] for tz in calendar.walk("VTIMEZONE")] == ["America/New_York"]
    event = tomorrow[0]
    assert str(event["summary"]) == "Knee exercises (Meniscus tear)"
    assert "Quadriceps setting: 3 x 10, hold 5 s" in str(event["description"])
    assert "Daily check-in: http://testserver/checkin/" in str(event["description"])
    assert event.decoded("duration") == timedelta(minutes=20)
    assert len({str(e["uid"]) for e in calendar.walk("VEVENT")}) == len(calendar.walk("VEVENT"))


def test_across_the_spring_change_the_local_time_stays_and_the_instant_moves(plan, new_yorker):
    # Clocks in New York go forward on Sunday 8 March 2026.
    calendar = read_feed(subscribe(new_yorker))
    mornings = {e.decoded("dtstart").date(): e.decoded("dtstart") for e in sessions(calendar)
                if e.decoded("dtstart").time() == time(8, 0)}
    before, after = mornings[date(2026, 3, 7)], mornings[date(2026, 3, 9)]
    assert before.astimezone(UTC).time() == time(13, 0)  # EST, UTC-5
    assert after.astimezone(UTC).time() == time(12, 0)   # EDT, UTC-4
    # The VTIMEZONE carries the change, so a phone in any zone computes the same instants.
    daylight = calendar.walk("DAYLIGHT")
    assert daylight and all(c.decoded("tzoffsetto") == timedelta(hours=-4) for c in daylight)


def test_a_time_in_the_skipped_hour_is_where_the_reminder_comes(travel, physio):
    make_path()
    londoner = PatientFactory(physiotherapists=[physio], timezone="Europe/London")
    plan_create(physiotherapist=physio, patient_id=londoner.pk, condition_slug="meniscus-tear",
                start_date=date(2026, 3, 1), reminder_times=["01:30"])
    calendar = read_feed(subscribe(londoner))
    by_day = {e.decoded("dtstart").date(): e.decoded("dtstart") for e in sessions(calendar)}
    # 29 March 2026: 01:00 GMT becomes 02:00 BST; 01:30 does not exist and the reminder comes at 02:30 BST.
    assert by_day[date(2026, 3, 28)].time() == time(1, 30)
    assert by_day[date(2026, 3, 29)].time() == time(2, 30)
    assert by_day[date(2026, 3, 29)].astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert by_day[date(2026, 3, 30)].time() == time(1, 30)


def test_a_revoked_feed_url_answers_404(plan, new_yorker):
    url = subscribe(new_yorker)
    assert signed_in(new_yorker).delete("/api/v1/calendar-feed/").status_code == 204
    response = APIClient().get(url)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert signed_in(new_yorker).get("/api/v1/calendar-feed/").json() == {"active": False, "created_at": None}


def test_a_new_url_replaces_the_old_one(plan, new_yorker):
    old = subscribe(new_yorker)
    new = subscribe(new_yorker)
    assert APIClient().get(old).status_code == 404
    assert APIClient().get(new).status_code == 200
    assert CalendarFeed.objects.filter(patient=new_yorker, revoked_at__isnull=True).count() == 1
    # Only a hash of the secret is stored.
    token = new.rsplit("/", 1)[1].removesuffix(".ics")
    assert not CalendarFeed.objects.filter(token_hash__contains=token).exists()


def test_an_unknown_token_is_404_even_for_a_calendar_app_asking_for_text_calendar(plan):
    response = APIClient().get("/api/v1/calendar/not-a-real-token.ics", HTTP_ACCEPT="text/calendar")
    assert response.status_code == 404


def test_a_calendar_app_asking_for_text_calendar_gets_the_feed(plan, new_yorker):
    response = APIClient().get(subscribe(new_yorker), HTTP_ACCEPT="text/calendar")
    assert response.status_code == 200
    assert response.content.startswith(b"BEGIN:VCALENDAR")


def test_a_paused_plan_has_no_sessions(plan, new_yorker):
    plan.status = PlanStatus.PAUSED
    plan.save(update_fields=["status"])
    assert sessions(read_feed(subscribe(new_yorker))) == []


def test_the_feed_spans_a_week_back_and_four_weeks_ahead(plan, new_yorker):
    days = {e.decoded("dtstart").date() for e in sessions(read_feed(subscribe(new_yorker)))}
    assert min(days) == date(2026, 3, 1)  # the plan's start, less than a week ago
    assert max(days) == date(2026, 4, 2)


@pytest.mark.parametrize("query", ["", "?format=ics"])
def test_an_unknown_feed_is_a_json_404_whatever_format_is_asked(client, query):
    response = client.get(f"/api/v1/calendar/no-such-feed.ics{query}", HTTP_ACCEPT="text/calendar")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == "not_found"

"""The local-time arithmetic behind reminders: properties that must hold in every time zone, on every day."""
import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans.reminders import (
    candidate_slots,
    in_quiet_hours,
    normalise_slot,
    occurrences_between,
    reminder_instant,
)

UTC = dt.UTC
# Zones with unusual rules: 30-minute DST (Lord Howe), southern-hemisphere DST, a :45 offset, no DST at all,
# DST at midnight (Santiago), and a skipped day (Apia skipped 2011-12-30).
ZONES = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Australia/Sydney", "Asia/Kathmandu",
         "Asia/Tokyo", "America/Santiago", "Pacific/Apia", "UTC"]

slots = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 1, 15, 29, 30, 45, 59]))
days = st.dates(min_value=dt.date(2010, 1, 1), max_value=dt.date(2035, 12, 31))


def test_new_york_transitions():
    ny = ZoneInfo("America/New_York")
    # Spring: 02:30 does not exist on 2026-03-08; the reminder comes at 03:30 EDT.
    assert reminder_instant(local_date=dt.date(2026, 3, 8), slot="02:30", tz=ny) == dt.datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC)
    # Autumn: 01:30 happens twice on 2026-11-01; the reminder comes at the first, 01:30 EDT.
    assert reminder_instant(local_date=dt.date(2026, 11, 1), slot="01:30", tz=ny) == dt.datetime(
        2026, 11, 1, 5, 30, tzinfo=UTC)
    # Ordinary days either side keep the wall-clock time.
    assert reminder_instant(local_date=dt.date(2026, 3, 7), slot="02:30", tz=ny) == dt.datetime(
        2026, 3, 7, 7, 30, tzinfo=UTC)
    assert reminder_instant(local_date=dt.date(2026, 11, 2), slot="01:30", tz=ny) == dt.datetime(
        2026, 11, 2, 6, 30, tzinfo=UTC)


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), day=days, slot=slots)
def test_an_instant_reads_back_as_the_slot_or_just_after_a_gap(zone, day, slot):
    tz = ZoneInfo(zone)
    instant = reminder_instant(local_date=day, slot=slot, tz=tz)
    wall = dt.datetime.combine(day, dt.time(*map(int, slot.split(":"))))
    back = instant.astimezone(tz).replace(tzinfo=None)
    if back != wall:
        # The wall time does not exist (a forward jump): the reminder comes later by the length of the gap, at most
        # a day (Apia's skipped day), never earlier.
        assert dt.timedelta(0) < back - wall <= dt.timedelta(days=1)
    # Of the readings of a repeated wall time (a backward jump of 30 minutes to 2 hours), it is the first.
    for back_jump in (30, 60, 120):
        earlier = instant - dt.timedelta(minutes=back_jump)
        assert earlier.astimezone(tz).replace(tzinfo=None) != wall


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=dt.datetime(2011, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    cuts=st.lists(st.integers(min_value=1, max_value=600), min_size=1, max_size=40),
    slot=slots,
)
def test_however_the_runs_are_spaced_each_local_date_fires_exactly_once(zone, start, cuts, slot):
    """Dispatcher runs at arbitrary intervals (a minute, ten hours) cover every instant once and no instant twice."""
    tz = ZoneInfo(zone)
    moments = [start.replace(tzinfo=UTC)]
    for minutes in cuts:
        moments.append(moments[-1] + dt.timedelta(minutes=minutes))
    fired = []
    for begin, end in itertools.pairwise(moments):
        fired += occurrences_between(tz=tz, slot=slot, start=begin, end=end)
    local_dates = [d for d, _ in fired]
    assert len(local_dates) == len(set(local_dates))
    whole = occurrences_between(tz=tz, slot=slot, start=moments[0], end=moments[-1])
    assert fired == whole
    for local_date, instant in fired:
        assert instant == reminder_instant(local_date=local_date, slot=slot, tz=tz)


def test_slots_are_normalised_and_nonsense_refused():
    assert normalise_slot("8:00") == "08:00"
    assert normalise_slot("08:05:00") == "08:05"
    assert normalise_slot(" 23:59 ") == "23:59"
    for bad in ("24:00", "12:60", "noon", "", "8", "08-00"):
        assert normalise_slot(bad) is None


def test_quiet_hours_boundaries():
    night = (dt.time(22, 0), dt.time(7, 0))
    assert in_quiet_hours(start=night[0], end=night[1], at=dt.time(23, 30))
    assert in_quiet_hours(start=night[0], end=night[1], at=dt.time(0, 0))
    assert in_quiet_hours(start=night[0], end=night[1], at=dt.time(6, 59))
    assert not in_quiet_hours(start=night[0], end=night[1], at=dt.time(7, 0))
    assert not in_quiet_hours(start=night[0], end=night[1], at=dt.time(21, 59))
    assert not in_quiet_hours(start=None, end=dt.time(7, 0), at=dt.time(3, 0))
    assert not in_quiet_hours(start=dt.time(9, 0), end=dt.time(9, 0), at=dt.time(9, 0))


@settings(max_examples=300, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    start=st.datetimes(min_value=dt.datetime(2011, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    minutes=st.integers(min_value=0, max_value=180),
    slot=slots,
)
def test_the_database_prefilter_never_drops_a_slot_that_is_due(zone, start, minutes, slot):
    """candidate_slots narrows the plans the database returns; a slot that occurs in the window must be in it."""
    tz = ZoneInfo(zone)
    begin = start.replace(tzinfo=UTC)
    end = begin + dt.timedelta(minutes=minutes)
    if occurrences_between(tz=tz, slot=slot, start=begin, end=end):
        assert slot in candidate_slots(tz=tz, start=begin, end=end)


@pytest.mark.parametrize(("day", "slot", "at_utc"), [
    (dt.date(2026, 3, 8), "02:30", dt.datetime(2026, 3, 8, 7, 30, tzinfo=UTC)),  # inside New York's skipped hour
    (dt.date(2026, 11, 1), "01:30", dt.datetime(2026, 11, 1, 5, 30, tzinfo=UTC)),  # first of the repeated hour
    (dt.date(2026, 6, 15), "08:00", dt.datetime(2026, 6, 15, 12, 0, tzinfo=UTC)),
])
def test_the_prefilter_catches_the_transition_slots_in_a_one_minute_window(day, slot, at_utc):
    ny = ZoneInfo("America/New_York")
    assert slot in candidate_slots(tz=ny, start=at_utc - dt.timedelta(minutes=1), end=at_utc)
    assert slot not in candidate_slots(tz=ny, start=at_utc, end=at_utc + dt.timedelta(minutes=1))

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import timezone

from plans.reminders import dispatch_due_reminders
from plans.tasks import send_reminder_batch

NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.fixture
def dispatch(django_capture_on_commit_callbacks):
    """Run the dispatcher as beat does (hand-off to the send task, eager in tests) and run what it queued."""

    def run(now: dt.datetime | None = None):
        with django_capture_on_commit_callbacks(execute=True):
            return dispatch_due_reminders(now=now or timezone.now(), publish=send_reminder_batch.delay)

    return run


@pytest.fixture
def clock():
    """Stand still at a chosen instant; `clock.at(...)` moves there (no ticking, so counts are exact)."""

    class Clock:
        traveller = None
        coordinates = None

        def at(self, moment: dt.datetime) -> dt.datetime:
            if self.traveller is None:
                self.traveller = time_machine.travel(moment, tick=False)
                self.coordinates = self.traveller.start()
            else:
                self.coordinates.move_to(moment)
            return moment

    clock = Clock()
    yield clock
    if clock.traveller is not None:
        clock.traveller.stop()

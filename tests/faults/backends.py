"""Channel backends for fault tests, loaded by real worker processes through settings (PUSH_BACKEND)."""
import os
import time
from pathlib import Path

from kneerehab.notifications.channels import RecordingPushBackend


class StallingPushBackend(RecordingPushBackend):
    """Pushes like the default backend, and keeps a log of every push it completed.

    With FAULT_PUSH_STALL_SECONDS set it first leaves a marker file and waits, so
    that a test can kill the worker in the middle of the send. FAULT_DIR names
    the folder shared with the test.
    """

    def send(self, *, device, notification):
        folder = Path(os.environ["FAULT_DIR"])
        stall = float(os.environ.get("FAULT_PUSH_STALL_SECONDS") or 0)
        if stall:
            (folder / f"push-started-{notification.pk}").touch()
            time.sleep(stall)
        super().send(device=device, notification=notification)
        with open(folder / "pushes-sent.log", "a") as log:
            log.write(f"{notification.pk} {device.pk}\n")


def pushes_sent(folder: Path) -> list[tuple[int, int]]:
    """(notification id, device id) of every push completed, in order."""
    path = folder / "pushes-sent.log"
    if not path.exists():
        return []
    return [tuple(int(part) for part in line.split()) for line in path.read_text().splitlines()]


def emails_sent(folder: Path) -> list[str]:
    """The messages Django's file email backend wrote to `folder` (one file per connection, one message each)."""
    return sorted(path.read_text() for path in folder.glob("*.log")) if folder.exists() else []

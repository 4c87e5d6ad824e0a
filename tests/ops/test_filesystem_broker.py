"""The filesystem broker never hands a worker a message that is still being written."""
from queue import Empty

import pytest
from kombu import Connection

from kneerehab import filesystem_broker


@pytest.fixture
def channel(tmp_path):
    folder = str(tmp_path)
    with Connection("filesystem://", transport="kneerehab.filesystem_broker:Transport", transport_options={
            "data_folder_in": folder, "data_folder_out": folder, "control_folder": str(tmp_path / "control")}) as conn:
        yield conn.default_channel


def test_a_message_is_invisible_until_it_is_whole(channel, monkeypatch):
    seen_while_writing = []
    real_replace = filesystem_broker.os.replace

    def replace_after_a_look(src, dst):
        # The file is written but not yet in place: a worker listing the folder now must find nothing.
        try:
            seen_while_writing.append(channel._get("kneerehab.urgent"))
        except Empty:
            seen_while_writing.append(None)
        real_replace(src, dst)

    monkeypatch.setattr(filesystem_broker.os, "replace", replace_after_a_look)
    channel._put("kneerehab.urgent", {"body": "alert 42"})
    assert seen_while_writing == [None]
    assert channel._get("kneerehab.urgent") == {"body": "alert 42"}
    with pytest.raises(Empty):
        channel._get("kneerehab.urgent")


def test_messages_keep_their_queue(channel):
    for n in range(3):
        channel._put("kneerehab.bulk", {"n": n})
    channel._put("kneerehab.urgent", {"n": "first"})
    assert channel._get("kneerehab.urgent") == {"n": "first"}
    with pytest.raises(Empty):
        channel._get("kneerehab.urgent")
    # Ordered by the millisecond they were written in, as kombu's own transport orders them.
    assert sorted(channel._get("kneerehab.bulk")["n"] for _ in range(3)) == [0, 1, 2]

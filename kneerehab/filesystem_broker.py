"""kombu's filesystem transport, with messages that appear in the queue folder only once written.

The stock transport creates the message file and then writes it; a worker listing the folder
in between takes an empty file, fails to decode it and stops ("Unrecoverable error:
JSONDecodeError"), and `make run` stops with it. The faster a worker polls, the likelier that
is. Here a message is written under a temporary name that no queue matches and renamed into
place, which is atomic on one filesystem, so a worker sees either nothing or the whole message.
"""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        """Put a message onto `queue`: the stock file name, reached by a rename."""
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Ends in ".partial", so no queue's ".<queue>.msg" pattern matches it while it is written.
        partial = os.path.join(self.data_folder_out, f".{uuid.uuid4()}.partial")
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
    # One state for every connection of the process, as the stock transport keeps it.
    global_state = filesystem.Transport.global_state

    @property
    def default_connection_params(self):
        # A folder has no host: without this, kombu logs "No hostname was supplied" on every connection.
        return {"port": self.default_port}

"""A Server-Sent Events parser, fed bytes in whatever chunks the network delivers.

It follows the WHATWG HTML "event stream interpretation": lines end with CRLF, LF or CR (a CR at the end of one chunk
and an LF at the start of the next are one line ending); a leading byte order mark is dropped; ``:`` starts a
comment; ``field: value`` loses one space after the colon; several ``data`` lines join with newlines; a blank line
dispatches the event (none when no data came); ``id`` persists until changed (one holding NUL is ignored); ``retry``
of ASCII digits sets the reconnection delay; unknown fields are ignored; an event cut off by the end of the stream is
dropped. Text is UTF-8, with undecodable bytes replaced.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["SSEParser", "ServerSentEvent", "parse_events"]

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class ServerSentEvent:
    event: str  # "message" when the event named none
    data: str
    id: str | None  # the last event ID as of this event (None: no id seen yet on this stream)


class SSEParser:
    """Feed bytes with :meth:`feed`, get the completed events back; ``retry_ms`` and ``last_event_id`` are kept."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._buffer = ""
        self._started = False  # past the (optional) byte order mark
        self._after_cr = False  # the last line ended with CR: an LF starting the next chunk belongs to it
        self._event = ""
        self._data: list[str] = []
        self.last_event_id: str | None = None
        self.retry_ms: int | None = None

    def feed(self, chunk: bytes) -> list[ServerSentEvent]:
        """The events ``chunk`` completes, in order."""
        text = self._decoder.decode(chunk)
        if not text:
            return []
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._after_cr and text.startswith("\n"):
            text = text[1:]
        self._after_cr = False
        buffer = self._buffer + text
        events: list[ServerSentEvent] = []
        start = 0
        for match in _LINE_END.finditer(buffer):
            end = match.start()
            if match.group() == "\r" and match.end() == len(buffer):
                self._after_cr = True
            event = self._line(buffer[start:end])
            if event is not None:
                events.append(event)
            start = match.end()
        self._buffer = buffer[start:]
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id":
            if "\0" not in value:
                self.last_event_id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self.retry_ms = int(value)
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event = self._data, self._event
        self._data, self._event = [], ""
        if not data:
            return None
        return ServerSentEvent(event or "message", "\n".join(data), self.last_event_id)


def parse_events(chunks: Iterable[bytes]) -> list[ServerSentEvent]:
    """Every complete event of a whole stream."""
    parser = SSEParser()
    events: list[ServerSentEvent] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    return events

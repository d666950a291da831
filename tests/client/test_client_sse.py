"""The SSE parser: whatever the line endings, comments and chunk boundaries, the events come back as sent."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from ringfence.client.sse import ServerSentEvent, SSEParser, parse_events

# Text without line breaks (CR, LF) -- what one SSE line can carry; any other character, non-ASCII included.
_LINE_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20)
_ID_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\0"), max_size=12)
_ENDINGS = st.sampled_from(["\n", "\r\n", "\r"])


@dataclass(frozen=True)
class Sent:
    event: str | None
    data: str  # may hold newlines: sent as several data lines
    id: str | None
    retry: int | None


_SENT = st.builds(
    Sent,
    event=st.none() | _LINE_TEXT,
    data=st.lists(_LINE_TEXT, min_size=1, max_size=4).map("\n".join),
    id=st.none() | _ID_TEXT,
    retry=st.none() | st.integers(0, 10**6),
)


@st.composite
def streams(draw: st.DrawFn) -> tuple[list[Sent], bytes]:
    """Events, and a byte stream that carries them with mixed line endings, comments and spacing variants."""
    events = draw(st.lists(_SENT, max_size=8))
    parts: list[str] = ["\ufeff"] if draw(st.booleans()) else []

    def end(text: str) -> None:
        ending = draw(_ENDINGS)
        if not text and parts and parts[-1].endswith("\r") and ending.startswith("\n"):
            ending = "\r"  # CR then an empty line's LF would be one CRLF: a writer cannot send that either
        parts.append(text + ending)

    def line(text: str) -> None:
        end(text)
        if draw(st.integers(0, 5)) == 0:
            end(":" + draw(_LINE_TEXT))  # a comment between any two lines

    def field(name: str, value: str) -> None:
        # "name: value" loses the one space after the colon; "name:value" is the same unless value starts with one
        spaced = value.startswith(" ") or draw(st.booleans())
        line(f"{name}: {value}" if spaced else f"{name}:{value}")

    for sent in events:
        fields: list[tuple[str, str]] = []
        if sent.event is not None:
            fields.append(("event", sent.event))
        if sent.id is not None:
            fields.append(("id", sent.id))
        if sent.retry is not None:
            fields.append(("retry", str(sent.retry)))
        fields.append(("unknown", "ignored"))
        order = draw(st.permutations(fields))
        for name, value in order:
            field(name, value)
        for data_line in sent.data.split("\n"):
            if data_line == "" and draw(st.booleans()):
                line("data")  # a field name alone: an empty value
            else:
                field("data", data_line)
        line("")
    return events, "".join(parts).encode()


def _chunks(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(raw)) for c in cuts})
    out, start = [], 0
    for point in [*points, len(raw)]:
        out.append(raw[start:point])
        start = point
    return out


def _expected(events: list[Sent]) -> tuple[list[ServerSentEvent], int | None]:
    out: list[ServerSentEvent] = []
    last_id: str | None = None
    retry: int | None = None
    for sent in events:
        if sent.id is not None:
            last_id = sent.id
        if sent.retry is not None:
            retry = sent.retry
        out.append(ServerSentEvent(sent.event or "message", sent.data, last_id))
    return out, retry


@settings(max_examples=300)
@given(streams(), st.lists(st.integers(0, 2000), max_size=30))
def test_events_survive_any_line_endings_comments_and_chunking(
    stream: tuple[list[Sent], bytes], cuts: list[int]
) -> None:
    events, raw = stream
    parser = SSEParser()
    got: list[ServerSentEvent] = []
    for chunk in _chunks(raw, cuts):
        got.extend(parser.feed(chunk))
    expected, retry = _expected(events)
    assert got == expected
    assert parser.retry_ms == retry


@given(streams())
def test_byte_at_a_time_is_the_same_as_all_at_once(stream: tuple[list[Sent], bytes]) -> None:
    _, raw = stream
    assert parse_events(raw[i : i + 1] for i in range(len(raw))) == parse_events([raw])


def test_crlf_split_across_chunks_is_one_line_ending() -> None:
    # "data: a\r" + "\n\r\n": had the LF counted as a line of its own, the event would end early and still match;
    # so check that a blank line is needed: "\r" | "\n" is one ending, then "data: b" continues the same event.
    parser = SSEParser()
    assert parser.feed(b"data: a\r") == []
    assert parser.feed(b"\ndata: b\r") == []
    assert parser.feed(b"\n\r\n") == [ServerSentEvent("message", "a\nb", None)]


def test_the_servers_change_stream_reads_as_events() -> None:
    raw = (
        b"retry: 2000\n: ringfence change stream after seq 7\n\n"
        b'id: 8\nevent: change\ndata: {"seq":8}\n\n'
        b": keepalive\n\n"
        b'event: error\ndata: {"code":"slow_consumer","resume_after":8}\n\n'
    )
    parser = SSEParser()
    events = parser.feed(raw)
    assert events == [
        ServerSentEvent("change", '{"seq":8}', "8"),
        ServerSentEvent("error", '{"code":"slow_consumer","resume_after":8}', "8"),
    ]
    assert parser.retry_ms == 2000


def test_spec_corner_cases() -> None:
    # no data: no event (but the id sticks); an id with NUL is ignored; a bad retry is ignored; an unfinished event
    # at the end is dropped; a BOM only counts at the very start
    raw = b"id: 1\n\nid: 2\0x\nretry: 12a\ndata:x\n\ndata: tail"
    parser = SSEParser()
    assert parser.feed(raw) == [ServerSentEvent("message", "x", "1")]
    assert parser.retry_ms is None
    assert parse_events([b"\xef\xbb\xbfdata: a\n\n\xef\xbb\xbfdata: b\n\n"]) == [ServerSentEvent("message", "a", None)]


def test_utf8_split_inside_a_character_and_bad_bytes() -> None:
    raw = "data: café ☎\n\n".encode()
    cut = raw.index("☎".encode()) + 1
    assert parse_events([raw[:cut], raw[cut:]]) == [ServerSentEvent("message", "café ☎", None)]
    assert parse_events([b"data: \xff\n\n"]) == [ServerSentEvent("message", "\ufffd", None)]

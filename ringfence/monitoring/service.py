"""The monitoring service: call records of a member in, the rules over them, alerts recorded as its incidents.

What the HTTP door (``POST /v1/cdrs``), the CLI (``ringfence cdrs scan``) and the NATS daemon call; it knows nothing
of HTTP. Every input is read by a :class:`~ringfence.cdrs.reader.CdrReader` (bad rows go to the quarantine, the rest
on), evaluated against the hotlists in force (a :class:`~ringfence.hotlists.snapshot.HotlistSnapshot` taken per
input) and the alerts recorded through :class:`~ringfence.alerts.service.AlertService`, which groups them into the
member's incidents and records nothing twice.

In stream mode each member has one :class:`~ringfence.rules.stream.StreamEngine` in this process, holding the
window state of that member's records between inputs; its inputs are evaluated one at a time, in arrival order (a
lock per member), and their records numbered on from the last (``seq``, the stream position evidence refers to).
The state lives in memory: after a restart windows start empty (alerts already recorded are not raised again, and
a pattern that was half seen before the restart is seen from its second half).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import polars as pl
from sqlalchemy import Engine

from ringfence.alerts.service import AlertService
from ringfence.cdrs.mapping import CdrMapping
from ringfence.cdrs.reader import CdrRead, CdrReader
from ringfence.clock import Clock
from ringfence.config import Settings
from ringfence.hotlists.service import HotlistService
from ringfence.monitoring.models import Mode, ScanOutcome
from ringfence.monitoring.quarantine import QuarantineStore
from ringfence.registry.models import Member
from ringfence.rules.batch import evaluate, late_count
from ringfence.rules.config import RuleSet
from ringfence.rules.models import Alert
from ringfence.rules.stream import StreamEngine

__all__ = ["MonitorService"]


@dataclass
class _Stream:
    """One member's streaming engine and the next stream position its records take."""

    engine: StreamEngine
    next_seq: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class MonitorService:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        settings: Settings,
        hotlists: HotlistService,
        alerts: AlertService,
        rules: RuleSet | None = None,
    ) -> None:
        self.clock = clock
        self.settings = settings
        self.hotlists = hotlists
        self.alerts = alerts
        self.rules = rules if rules is not None else RuleSet.load(settings)
        self.quarantine = QuarantineStore(engine)
        self._streams: dict[int, _Stream] = {}
        self._streams_lock = threading.Lock()

    # --- one input ----------------------------------------------------------------------------------------------
    def scan(
        self,
        member: Member,
        read: Callable[[CdrReader], CdrRead],
        *,
        source: str,
        mode: Mode = Mode.STREAM,
        mapping: CdrMapping | None = None,
        region: str | None = None,
    ) -> ScanOutcome:
        """Read one input with ``read(reader)`` (e.g. ``lambda r: r.read_bytes(data)``) and evaluate it."""
        got = read(self.reader(mapping, region))
        if mode is Mode.BATCH:
            return self._evaluate(member, got, source, Mode.BATCH, None)
        return self.feed(member, got, source=source)

    def scan_chunks(
        self,
        member: Member,
        chunks: Iterable[CdrRead],
        *,
        source: str,
    ) -> ScanOutcome:
        """Stream mode over chunks of one input (stdin, a big file): each chunk is evaluated and recorded as it
        comes, so alerts are raised while the input is still being read."""
        total = ScanOutcome(source, Mode.STREAM)
        for chunk in chunks:
            total.add(self.feed(member, chunk, source=source))
        return total

    def feed(self, member: Member, chunk: CdrRead, *, source: str) -> ScanOutcome:
        """Stream mode for records already read (a chunk of a followed file, a NATS message): they take the next
        positions of the member's stream, after everything fed before, and go through its streaming engine."""
        stream = self._stream(member.id)
        with stream.lock:
            frame = chunk.frame
            if frame.height:
                frame = frame.with_columns(pl.int_range(frame.height, dtype=pl.Int64).add(stream.next_seq).alias("seq"))
                stream.next_seq += frame.height
            return self._evaluate(member, replace(chunk, frame=frame), source, Mode.STREAM, stream.engine)

    def reader(self, mapping: CdrMapping | None = None, region: str | None = None) -> CdrReader:
        """A reader for one input (the server's default region for national numbers unless told)."""
        return CdrReader(mapping, region=region or self.settings.default_region)

    # --- internals ----------------------------------------------------------------------------------------------
    def _stream(self, member_id: int) -> _Stream:
        with self._streams_lock:
            stream = self._streams.get(member_id)
            if stream is None:
                stream = self._streams[member_id] = _Stream(StreamEngine(self.rules, self.hotlists.snapshot))
            return stream

    def _evaluate(
        self, member: Member, got: CdrRead, source: str, mode: Mode, engine: StreamEngine | None
    ) -> ScanOutcome:
        outcome = ScanOutcome(source, mode, rows=got.rows, quarantined=list(got.quarantined))
        outcome.notes.extend(got.notes)
        frame = got.frame
        alerts: list[Alert]
        if engine is None:
            alerts = evaluate(frame, self.rules, self.hotlists.snapshot())
            late = late_count(frame, self.rules)
        else:
            before = engine.late
            alerts = engine.feed(frame)
            late = engine.late - before
        outcome.late = late
        outcome.processed = frame.height - late
        outcome.alerts = alerts
        if got.quarantined:
            self.quarantine.record(member.id, source, got.quarantined, self.clock.now_ms())
        if alerts:
            recorded = self.alerts.record(member.id, alerts, source=source)
            outcome.new_alerts = recorded.new
            outcome.duplicates = recorded.duplicates
            outcome.incidents = list(recorded.incidents)
        return outcome

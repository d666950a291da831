"""The alert service: what happens to the rules engine's alerts. It knows nothing of HTTP.

:meth:`AlertService.record` stores a member's alerts in one transaction and groups them into that member's incidents
(:mod:`ringfence.alerts.grouping`); an alert already stored (same member, rule, subject and window start) is counted
as a duplicate and nothing else, so re-scanning a file or replaying a stream records nothing twice. Incidents move
open → acknowledged → closed with a verdict; closing one as fraud can report its numbers to the registry in the same
step (:mod:`ringfence.alerts.reporting`).

Who may do what (HTTP and CLI alike): a member sees and acts on its own incidents only (another's is "not found");
admins see and act on all. Any role may view and acknowledge; closing, with either verdict, needs the reporter role,
since a verdict of fraud may report numbers and a verdict is a judgement made for the member. ``viewer`` None is the
operator on the local store, who sees everything.

Every new incident, alert, acknowledgement and closure is an event (table ``alert_events``) numbered in commit order,
which ``GET /v1/alerts/events`` pages through; :meth:`subscribe` is the in-process notification.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final

from sqlalchemy import Connection, Engine

from ringfence.alerts import store
from ringfence.alerts.grouping import plan
from ringfence.alerts.models import (
    DEFAULT_INCIDENT_GAP_MS,
    MAX_RULE,
    MAX_SUBJECT,
    AlertEvent,
    CloseOutcome,
    EventKind,
    Incident,
    IncidentFilter,
    IncidentStatus,
    NumberReport,
    Recorded,
    StoredAlert,
    Summary,
    Verdict,
    parse_incident_id,
    parse_note,
    parse_verdict,
)
from ringfence.alerts.reporting import report_numbers
from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound
from ringfence.registry.models import Member, Role
from ringfence.registry.service import RegistryService
from ringfence.rules.models import Alert, Severity

__all__ = ["MAX_ALERTS_PAGE", "MAX_EVENTS", "MAX_PAGE", "AlertService", "Listener"]

log = logging.getLogger("ringfence.alerts")

#: Called with every new event, once, in id order (from whichever thread noticed it).
Listener = Callable[[AlertEvent], None]
#: The most incidents, events and alerts one page holds.
MAX_PAGE: Final = 1000
MAX_EVENTS: Final = 1000
MAX_ALERTS_PAGE: Final = 1000
_ACTIVE: Final = (IncidentStatus.OPEN.value, IncidentStatus.ACKNOWLEDGED.value)


def _not_found(incident_id: int) -> NotFound:
    return NotFound(f"no incident {incident_id}", code="incident_not_found", details={"id": incident_id})


def _closed(incident: Incident) -> Conflict:
    verdict = incident.verdict.value if incident.verdict is not None else "no verdict"
    return Conflict(
        f"incident {incident.id} is closed already ({verdict})",
        code="incident_closed",
        details={"id": incident.id, "status": incident.status.value, "verdict": verdict},
    )


def _is_admin(member: Member | None) -> bool:
    return member is not None and member.role is Role.ADMIN


def _check_alert(alert: Alert) -> None:
    """Refuse what the store cannot keep, naming the alert (the rules engine should never make such a one)."""
    problem = None
    if not alert.rule or len(alert.rule) > MAX_RULE:
        problem = f"its rule name must be 1 to {MAX_RULE} characters"
    elif not alert.subject or len(alert.subject) > MAX_SUBJECT:
        problem = f"its subject must be 1 to {MAX_SUBJECT} characters"
    elif alert.window_end_ms < alert.window_start_ms:
        problem = "its window ends before it starts"
    elif not alert.category or len(alert.category) > 32:
        problem = "its category must be 1 to 32 characters"
    if problem is not None:
        raise InvalidInput(
            f"alert {alert.rule!r} about {alert.subject!r} cannot be recorded: {problem}",
            code="invalid_alert",
            details={"rule": alert.rule, "subject": alert.subject},
        )


class AlertService:
    def __init__(
        self,
        engine: Engine,
        clock: Clock,
        registry: RegistryService,
        *,
        incident_gap_ms: int = DEFAULT_INCIDENT_GAP_MS,
    ) -> None:
        if incident_gap_ms < 0:
            raise InvalidInput("the incident gap must be 0 or more", code="invalid_setting")
        self.engine = engine
        self.clock = clock
        self.registry = registry
        self.incident_gap_ms = incident_gap_ms
        self._write_lock = threading.Lock()  # this process's writes, one at a time
        self._lock = threading.Lock()  # listeners and the notification cursor
        self._listeners: list[Listener] = []
        self._notified: int | None = None  # the newest event id handed to the listeners

    # --- recording -----------------------------------------------------------------------------------------------
    def record(self, member_id: int, alerts: Sequence[Alert], *, source: str) -> Recorded:
        """Store the alerts fired by ``member_id``'s call records, grouped into its incidents, in one transaction.

        ``source`` says where the records came from (a file name, ``stream``, ``http``). Alerts already stored are
        counted as duplicates; the answer names the incident of every alert, in the order given.
        """
        if not alerts:
            return Recorded(0, 0, (), ())
        for alert in alerts:
            _check_alert(alert)
        source = (source or "").strip()[:1000] or "unknown"
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                store.bump_version(conn)
                if not store.member_exists(conn, member_id):
                    raise NotFound(f"no member with id {member_id}", code="member_not_found", details={"id": member_id})
                stored = store.existing_alerts(conn, member_id, (a.key for a in alerts))
                active = store.active_groups(conn, member_id, ((a.rule, a.subject) for a in alerts))
                # decide first, then write in bulk: new incidents get their ids from one insert
                decided = plan(alerts, stored, active, self.incident_gap_ms)
                made, added = decided.made, decided.added
                for group, new_id in zip(made, store.insert_incidents(conn, member_id, made, now), strict=True):
                    group.id = new_id
                    group.changed = False  # stored as it stands now
                store.update_incidents(conn, [g for gs in active.values() for g in gs if g.changed], now)
                ids = store.insert_alerts(
                    conn, [store.alert_row(member_id, a.group.id or 0, a.alert, source, now) for a in added]
                )
                store.insert_events(
                    conn,
                    [
                        store.event_row(
                            EventKind.OPENED if a.opened else EventKind.ALERT,
                            a.group.id or 0,
                            member_id,
                            now,
                            severity=a.severity,
                            status=a.group.status,
                            alert_count=a.alert_count,
                            alert_id=alert_id,
                        )
                        for a, alert_id in zip(added, ids, strict=True)
                    ],
                )
        joined = tuple(t if isinstance(t, int) else t.id or 0 for t in decided.taken)
        opened = [g.id or 0 for g in made]
        recorded = Recorded(len(added), len(alerts) - len(added), joined, tuple(opened))
        if added:
            log.info(
                "alerts of member %d from %s: %d new (%d incidents opened), %d duplicates",
                member_id,
                source,
                recorded.new,
                len(opened),
                recorded.duplicates,
            )
            self._notify()
        return recorded

    # --- reads -----------------------------------------------------------------------------------------------------
    def get(self, incident_id: int | str, *, viewer: Member | None = None) -> Incident:
        """One incident as ``viewer`` may see it (another member's is as missing as an unknown id)."""
        key = parse_incident_id(incident_id)
        with self.engine.connect() as conn:
            return self._visible(conn, viewer, key)

    def alerts(
        self,
        incident_id: int | str,
        *,
        viewer: Member | None = None,
        after: int | None = None,
        limit: int = 100,
    ) -> builtins.list[StoredAlert]:
        """The alerts of an incident with their evidence, in the order recorded, after alert id ``after``."""
        key = parse_incident_id(incident_id)
        with self.engine.connect() as conn:
            self._visible(conn, viewer, key)
            return store.alerts_of(conn, key, after, max(1, min(limit, MAX_ALERTS_PAGE)))

    def list(
        self,
        wanted: IncidentFilter | None = None,
        *,
        viewer: Member | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> builtins.list[Incident]:
        """Incidents newest first (by id: the order they were opened), below id ``before`` (the previous page's
        last). A member that is not an admin gets only its own, whatever ``wanted.member_id`` says."""
        chosen = self._narrowed(wanted or IncidentFilter(), viewer)
        with self.engine.connect() as conn:
            return store.list_incidents(conn, chosen, max(1, min(limit, MAX_PAGE)), before)

    def summary(self, wanted: IncidentFilter | None = None, *, viewer: Member | None = None) -> Summary:
        """Counts of the incidents ``wanted`` selects (the viewer's own unless an admin): in all, per status, per
        rule and per severity (each split by status), and per verdict."""
        chosen = self._narrowed(wanted or IncidentFilter(), viewer)
        with self.engine.connect() as conn:
            rows = store.count_incidents(conn, chosen)
        statuses = {s.value: 0 for s in IncidentStatus}
        by_status = dict(statuses)
        by_rule: dict[str, dict[str, int]] = {}
        by_severity: dict[str, dict[str, int]] = {s.label: dict(statuses) for s in Severity}
        by_verdict = {v.value: 0 for v in Verdict}
        total = 0
        for status, rule, severity, verdict, count in rows:
            total += count
            by_status[status] = by_status.get(status, 0) + count
            per_rule = by_rule.setdefault(rule, dict(statuses))
            per_rule[status] = per_rule.get(status, 0) + count
            per_severity = by_severity[Severity(severity).label]
            per_severity[status] = per_severity.get(status, 0) + count
            if verdict is not None:
                by_verdict[verdict] = by_verdict.get(verdict, 0) + count
        return Summary(total, by_status, dict(sorted(by_rule.items())), by_severity, by_verdict)

    def events(
        self, since: int = 0, limit: int = MAX_EVENTS, *, viewer: Member | None = None
    ) -> builtins.list[AlertEvent]:
        """Events after id ``since``, oldest first (at most ``limit``): of the viewer's incidents unless an admin."""
        if limit < 1 or since < 0:
            raise InvalidInput("since must be 0 or more, and limit 1 or more", code="invalid_page")
        member_id = None if viewer is None or _is_admin(viewer) else viewer.id
        with self.engine.connect() as conn:
            return store.events_after(conn, since, min(limit, MAX_EVENTS), member_id)

    @staticmethod
    def _narrowed(wanted: IncidentFilter, viewer: Member | None) -> IncidentFilter:
        if viewer is None or _is_admin(viewer):
            return wanted
        return IncidentFilter(
            status=wanted.status,
            rule=wanted.rule,
            min_severity=wanted.min_severity,
            subject=wanted.subject,
            member_id=viewer.id,
            since_ms=wanted.since_ms,
            until_ms=wanted.until_ms,
        )

    @staticmethod
    def _visible(conn: Connection, viewer: Member | None, key: int) -> Incident:
        incident = store.get_incident(conn, key)
        if incident is None or not (viewer is None or _is_admin(viewer) or incident.member_id == viewer.id):
            raise _not_found(key)
        return incident

    # --- life cycle ------------------------------------------------------------------------------------------------
    def acknowledge(self, actor: Member, incident_id: int | str, note: str | None = None) -> Incident:
        """Someone is on it: open → acknowledged. Any role may acknowledge its own incidents (admins any).

        Acknowledging an acknowledged incident changes nothing (a retry); a closed one is a Conflict
        ``incident_closed``.
        """
        key = parse_incident_id(incident_id)
        text = parse_note(note)
        with self._write_lock:
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                store.bump_version(conn)
                incident = self._visible(conn, actor, key)
                if incident.status is IncidentStatus.CLOSED:
                    raise _closed(incident)
                if incident.status is IncidentStatus.ACKNOWLEDGED:
                    return incident
                values = {
                    "status": IncidentStatus.ACKNOWLEDGED.value,
                    "acknowledged_ms": now,
                    "acknowledged_by": actor.id,
                    "ack_note": text,
                    "updated_ms": now,
                }
                store.update_status(conn, key, values, was=[IncidentStatus.OPEN.value])
                self._event(conn, EventKind.ACKNOWLEDGED, incident, now, IncidentStatus.ACKNOWLEDGED, actor)
                done = self._visible(conn, actor, key)
        log.info("incident %d acknowledged by %s", key, actor.name)
        self._notify()
        return done

    def close(
        self,
        actor: Member,
        incident_id: int | str,
        verdict: Verdict | str,
        note: str | None = None,
        *,
        report: bool = False,
    ) -> CloseOutcome:
        """Close an open or acknowledged incident with a verdict; needs the reporter role (admins any incident).

        With ``report`` (verdict fraud only), each number the incident implicates is first reported to the registry
        as ``actor`` under the incident's category (:func:`~ringfence.alerts.reporting.report_numbers`: one report
        id per incident and number, so a retry after a failure reports nothing twice); numbers the registry refuses
        are answered as such, and the incident closes all the same. A closed incident is a Conflict
        ``incident_closed``.
        """
        key = parse_incident_id(incident_id)
        decided = parse_verdict(verdict)
        text = parse_note(note)
        if not actor.role.allows(Role.REPORTER):
            raise Forbidden(
                f"member {actor.name!r} has role {actor.role.value}; closing an incident needs reporter",
                code="forbidden_role",
                details={"role": actor.role.value, "needed": Role.REPORTER.value},
            )
        if report and decided is not Verdict.FRAUD:
            raise InvalidInput("only an incident closed as fraud can report its numbers", code="report_needs_fraud")
        with self._write_lock:  # no alert joins this incident between its report and its closure here
            incident = self.get(key, viewer=actor)
            if incident.status is IncidentStatus.CLOSED:
                raise _closed(incident)
            reports: tuple[NumberReport, ...] = ()
            if report:  # before the closure, outside its transaction: the registry writes in its own
                reports = report_numbers(self.registry, actor, incident)
            now = self.clock.now_ms()
            with self.engine.begin() as conn:
                store.bump_version(conn)
                current = self._visible(conn, actor, key)
                if current.status is IncidentStatus.CLOSED:
                    raise _closed(current)
                values: dict[str, Any] = {
                    "status": IncidentStatus.CLOSED.value,
                    "verdict": decided.value,
                    "closed_ms": now,
                    "closed_by": actor.id,
                    "close_note": text,
                    "updated_ms": now,
                    "reports_json": store.dumps([r.to_dict() for r in reports]) if report else None,
                }
                store.update_status(conn, key, values, was=list(_ACTIVE))
                self._event(conn, EventKind.CLOSED, current, now, IncidentStatus.CLOSED, actor, decided)
                done = self._visible(conn, actor, key)
        log.info(
            "incident %d closed by %s as %s (%d numbers reported)",
            key,
            actor.name,
            decided.value,
            sum(r.outcome == "reported" for r in reports),
        )
        self._notify()
        return CloseOutcome(done, reports)

    @staticmethod
    def _event(
        conn: Connection,
        kind: EventKind,
        incident: Incident,
        now: int,
        status: IncidentStatus,
        actor: Member,
        verdict: Verdict | None = None,
    ) -> None:
        row = store.event_row(
            kind,
            incident.id,
            incident.member_id,
            now,
            severity=incident.severity,
            status=status,
            alert_count=incident.alert_count,
            verdict=verdict,
            actor_id=actor.id,
        )
        store.insert_events(conn, [row])

    # --- events ----------------------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` with every new event from now on (its own process's at once, other processes' when
        :meth:`refresh` notices them); returns the function that stops it."""
        with self._lock:
            if self._notified is None or not self._listeners:  # nobody listened: start from now
                with self.engine.connect() as conn:
                    self._notified = store.newest_event_id(conn)
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def refresh(self) -> None:
        """Hand the listeners the events committed since the last ones they got, whoever made them."""
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            if self._notified is None or not self._listeners:
                return
            with self.engine.connect() as conn:
                fresh = store.events_after(conn, self._notified, MAX_EVENTS)
            if not fresh:
                return
            self._notified = fresh[-1].id
            listeners = list(self._listeners)
        for event in fresh:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("an alert listener failed on event %d", event.id)

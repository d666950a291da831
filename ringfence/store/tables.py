"""The store's tables (SQLAlchemy Core): one schema for SQLite and PostgreSQL.

Times are epoch milliseconds (BIGINT) and phone numbers their E.164 digits as BIGINT: compact, fast to compare and
the same on both engines. The migrations under ``migrations/`` create exactly these tables.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "NUMBER_KEY",
    "ROW_ID",
    "SEQ",
    "alert_events",
    "alerts",
    "api_keys",
    "audit",
    "cdr_quarantine",
    "changes",
    "disputes",
    "feed_state",
    "hotlist_changes",
    "hotlist_entries",
    "hotlist_versions",
    "hotlists",
    "incidents",
    "listings",
    "member_lists",
    "members",
    "metadata",
    "never_list",
    "reports",
    "sftp_credentials",
    "webhook_deliveries",
    "webhooks",
]

metadata = MetaData()

#: A phone number as a primary key: BIGINT, and on SQLite INTEGER (64-bit there too) so it is the rowid.
NUMBER_KEY = BigInteger().with_variant(Integer, "sqlite")
#: A row id the database assigns: BIGINT identity, and on SQLite the rowid (INTEGER PRIMARY KEY).
ROW_ID = BigInteger().with_variant(Integer, "sqlite")
#: A change-feed sequence number: assigned by ringfence (the store's max + 1 under the feed's write lock), never
#: reused, and on SQLite the rowid.
SEQ = BigInteger().with_variant(Integer, "sqlite")

members = Table(
    "members",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("reputation", Integer, nullable=False, server_default="1000"),  # thousandths, see registry.reputation
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(16), primary_key=True),  # the public part of the key, shown in listings
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("secret_hash", String(200), nullable=False),  # scrypt$n$r$p$salt$hash of the secret part
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
)

reports = Table(
    "reports",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),  # assigned by the store, in arrival order
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("category", String(32), nullable=False),
    Column("occurred_ms", BigInteger, nullable=False),
    Column("received_ms", BigInteger, nullable=False),
    Column("note", Text, nullable=True),
    Column("report_id", String(200), nullable=True),  # the member's own reference: retries are idempotent on it
    Column("withdrawn_ms", BigInteger, nullable=True),
    Column("withdrawn_reason", String(32), nullable=True),  # withdrawn (by its member) | removed (by an admin)
    Column("withdrawn_by", Integer, ForeignKey("members.id"), nullable=True),
    UniqueConstraint("member_id", "report_id", name="uq_reports_member_report_id"),
    Index("ix_reports_number_member", "number", "member_id"),
    Index("ix_reports_member_id", "member_id", "id"),  # a member's reports, newest first (ids are time-ordered)
)

listings = Table(
    "listings",
    metadata,
    # on SQLite, INTEGER PRIMARY KEY makes the number the rowid itself: one B-tree, not a table plus an index
    Column("number", NUMBER_KEY, primary_key=True, autoincrement=False),
    Column("first_ms", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("report_count", Integer, nullable=False),
    Column("reporter_count", Integer, nullable=False),
    Column("categories", Integer, nullable=False),  # bit set of Category, see ringfence.registry.models
    Column("updated_ms", BigInteger, nullable=False),
    Column("weight", Integer, nullable=False, server_default="0"),  # reporters' reputations, thousandths
    Column("flags", Integer, nullable=False, server_default="0"),  # FLAG_* of ringfence.registry.models
)

changes = Table(
    "changes",
    metadata,
    Column("seq", SEQ, primary_key=True, autoincrement=False),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", SmallInteger, nullable=False),  # ringfence.feed.models.KIND_CODES
    Column("number", BigInteger, nullable=False),
    Column("listed", SmallInteger, nullable=False),  # 1: the listing columns hold the listing after the change
    Column("first_ms", BigInteger, nullable=False),
    Column("last_ms", BigInteger, nullable=False),
    Column("report_count", Integer, nullable=False),
    Column("reporter_count", Integer, nullable=False),
    Column("categories", Integer, nullable=False),  # after the change, or before it when the number left
    Column("weight", Integer, nullable=False, server_default="0"),  # after the change (0 when not listed)
    Column("flags", Integer, nullable=False, server_default="0"),
)

#: Who changed what and why, for every removal, expiry, pin and dispute outcome (admins query it).
audit = Table(
    "audit",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("actor_id", Integer, ForeignKey("members.id"), nullable=True),  # None: ringfence itself (decay sweep)
    Column("action", String(32), nullable=False),
    Column("number", BigInteger, nullable=True),
    Column("reason", String(64), nullable=True),
    Column("note", Text, nullable=True),
    Column("before_json", Text, nullable=True),  # the listing before, as the API shows it
    Column("after_json", Text, nullable=True),  # and after (null: no longer listed)
    Index("ix_audit_number", "number", "id"),
    Index("ix_audit_action", "action", "id"),
)

#: Small named counters of the feed: ``pruned_through``, the highest seq retention has deleted.
feed_state = Table(
    "feed_state",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: Who may log in to the SFTP server (ringfence.files.sftp): per member, passwords and OpenSSH public keys.
sftp_credentials = Table(
    "sftp_credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # password | publickey
    Column("secret_hash", String(200), nullable=True),  # password: scrypt$n$r$p$salt$hash (registry.keys)
    Column("public_key", Text, nullable=True),  # publickey: the OpenSSH public key line
    Column("fingerprint", String(100), nullable=True),  # publickey: SHA256:... as ssh-keygen -l shows it
    Column("created_ms", BigInteger, nullable=False),
    Column("revoked_ms", BigInteger, nullable=True),
)

#: Members' webhooks (ringfence.webhooks): endpoint, filter, signing secret, state, and the feed position reached.
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(32), primary_key=True),  # wh_...
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("filter_json", Text, nullable=False),  # ChangeFilter.to_dict() as JSON
    Column("description", String(200), nullable=True),
    Column("secret", String(200), nullable=False),  # kept as it is: the server signs with it (not a hash)
    Column("previous_secret", String(200), nullable=True),  # after a rotation, also signed with until:
    Column("previous_until_ms", BigInteger, nullable=True),
    Column("enabled", SmallInteger, nullable=False),
    Column("disabled_reason", Text, nullable=True),
    Column("disabled_ms", BigInteger, nullable=True),
    Column("failures", Integer, nullable=False),  # consecutive failed attempts
    Column("cursor_seq", BigInteger, nullable=False),  # the newest change seq already queued (or skipped)
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

#: The durable delivery queue of the webhooks, and their delivery log (delivered rows are kept for a while).
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),  # queue order
    Column("delivery_id", String(40), nullable=False, unique=True),  # dl_...: the receiver's de-duplication id
    Column("webhook_id", String(32), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # changes | ping
    Column("first_seq", BigInteger, nullable=True),
    Column("last_seq", BigInteger, nullable=True),
    Column("change_count", Integer, nullable=False),
    Column("body", Text, nullable=False),  # the JSON body, exactly as sent on every attempt
    Column("status", String(16), nullable=False),  # pending | delivered | failed
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_ms", BigInteger, nullable=False),
    Column("last_attempt_ms", BigInteger, nullable=True),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),
    Column("delivered_ms", BigInteger, nullable=True),
    Column("lease_until_ms", BigInteger, nullable=True),  # a node is sending it until then
    Column("leased_by", String(100), nullable=True),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "status", "id"),
    Index("ix_webhook_deliveries_due", "status", "next_attempt_ms"),
)

#: Members' disputes of listings (ringfence.disputes): who disputes which number and why, and how it ended.
disputes = Table(
    "disputes",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("number", BigInteger, nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),  # who disputes (shown to admins only)
    Column("reason", String(32), nullable=False),  # legitimate_customer | own_number | reassigned
    Column("note", Text, nullable=True),
    Column("opened_ms", BigInteger, nullable=False),
    Column("status", String(16), nullable=False),  # open | upheld | rejected | withdrawn
    Column("resolved_ms", BigInteger, nullable=True),
    Column("resolved_by", Integer, ForeignKey("members.id"), nullable=True),  # the admin, or the member withdrawing
    Column("resolution_note", Text, nullable=True),
    Index("ix_disputes_number_status", "number", "status"),
    Index("ix_disputes_member_id", "member_id", "id"),  # a member's disputes, newest first
)
#: One open dispute per member and number, held by the store itself (a partial unique index on both engines).
Index(
    "uq_disputes_open",
    disputes.c.member_id,
    disputes.c.number,
    unique=True,
    sqlite_where=disputes.c.status == "open",
    postgresql_where=disputes.c.status == "open",
)

#: The never-list (ringfence.allowlists): numbers and prefixes that must never be listed. ``prefix_len`` is the digit
#: count of ``value``, for a number too, so the unique key never holds a NULL.
never_list = Table(
    "never_list",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pattern", String(8), nullable=False),  # number | prefix
    Column("value", BigInteger, nullable=False),  # E.164 digits of the number, or of the prefix
    Column("prefix_len", SmallInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # emergency | short_code | service | member_own
    Column("note", Text, nullable=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=True),  # member_own: whose number it is
    Column("created_ms", BigInteger, nullable=False),
    Column("created_by", Integer, ForeignKey("members.id"), nullable=True),  # None: the operator (local CLI)
    UniqueConstraint("pattern", "value", "prefix_len", name="uq_never_list_pattern"),
)

#: Members' private allow and deny lists (ringfence.allowlists): they shape only that member's own answers.
member_lists = Table(
    "member_lists",
    metadata,
    Column("member_id", Integer, ForeignKey("members.id"), primary_key=True),
    Column("number", BigInteger, primary_key=True, autoincrement=False),
    Column("list", String(8), nullable=False),  # allow | deny
    Column("note", Text, nullable=True),
    Column("created_ms", BigInteger, nullable=False),  # when the entry was (last) set
)

#: IRSF / Wangiri hotlists (ringfence.hotlists): named lists of test numbers and ranges, with how they are kept.
hotlists = Table(
    "hotlists",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=True),
    Column("retain_missing", Boolean, nullable=False),  # entries a new version no longer publishes stay in force
    Column("wildcard_last", SmallInteger, nullable=False),  # 0: none; N: every number also gives its last-N range
    Column("region", String(2), nullable=True),  # the region for national-format numbers of synced files
    Column("sync_url", Text, nullable=True),  # polled every sync_every_s; a new version when its content changed
    Column("sync_folder", Text, nullable=True),  # watched; every new file is a new version
    Column("sync_every_s", Integer, nullable=False),
    Column("created_ms", BigInteger, nullable=False),
    Column("updated_ms", BigInteger, nullable=False),
)

#: Every import of a hotlist is a version: where it came from, its counts, and the SHA-256 of what was read. The id
#: grows in commit order across lists (imports are serialised), so it is the cursor of the version events.
hotlist_versions = Table(
    "hotlist_versions",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("hotlist_id", Integer, ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
    Column("number", Integer, nullable=False),  # 1, 2, 3, ... per list
    Column("imported_ms", BigInteger, nullable=False),
    Column("imported_by", Integer, ForeignKey("members.id"), nullable=True),  # None: the operator or auto-sync
    Column("source", Text, nullable=False),  # file name, URL, or "upload"
    Column("sha256", String(64), nullable=False),
    Column("added", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("removed", Integer, nullable=False),
    Column("retained", Integer, nullable=False),
    Column("invalid", Integer, nullable=False),
    Column("duplicates", Integer, nullable=False),  # rows merged into an entry another row already gave
    Column("derived", Integer, nullable=False),  # of the entries in force, ranges derived from test numbers
    Column("entries", Integer, nullable=False),  # entries in force after this version
    UniqueConstraint("hotlist_id", "number", name="uq_hotlist_versions_number"),
    Index("ix_hotlist_versions_source", "hotlist_id", "sha256"),
)

#: The entries of the hotlists: an exact number (length = prefix_len), a range of fixed length, or a prefix of any
#: length (length NULL). ``present``: in force now (published by the newest version, or retained).
hotlist_entries = Table(
    "hotlist_entries",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),  # the matcher's id of the entry
    Column("hotlist_id", Integer, ForeignKey("hotlists.id", ondelete="CASCADE"), nullable=False),
    Column("pattern", String(40), nullable=False),  # canonical text: +4420794600??, +88216, +442079460018
    Column("prefix", BigInteger, nullable=False),
    Column("prefix_len", SmallInteger, nullable=False),
    Column("length", SmallInteger, nullable=True),
    Column("source", Text, nullable=True),  # the row's own source column, else the version's source
    Column("first_seen_ms", BigInteger, nullable=False),
    Column("last_seen_ms", BigInteger, nullable=False),  # the newest version that published it
    Column("first_version", Integer, nullable=False),
    Column("last_version", Integer, nullable=False),
    Column("present", Boolean, nullable=False),
    Column("derived", Boolean, nullable=False),  # only derived from a test number (wildcard_last), never published
    UniqueConstraint("hotlist_id", "pattern", name="uq_hotlist_entries_pattern"),
)

#: What each version changed, entry by entry, after the entry's first version (its arrival is ``first_version``):
#: the log diffs between any two versions are computed from. ``kind``: added (back into force), removed (out of
#: force), retained (no longer published, kept in force), republished (published again while retained). An entry's
#: newest change at or before a version says whether it was in force then.
hotlist_changes = Table(
    "hotlist_changes",
    metadata,
    Column("hotlist_id", Integer, ForeignKey("hotlists.id", ondelete="CASCADE"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),  # the list's version number
    Column("entry_id", BigInteger, ForeignKey("hotlist_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("kind", SmallInteger, nullable=False),  # ringfence.hotlists.models.CHANGE_CODES
)

#: Incidents (ringfence.alerts): a member's alerts of one rule about one subject, grouped in time, with their life
#: cycle (open → acknowledged → closed with a verdict). ``numbers_json``: the numbers its alerts implicate.
incidents = Table(
    "incidents",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),  # whose call records fired it
    Column("rule", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("category", String(32), nullable=False),
    Column("severity", SmallInteger, nullable=False),  # the highest of its alerts (ringfence.rules.models.Severity)
    Column("status", String(16), nullable=False),  # open | acknowledged | closed
    Column("verdict", String(16), nullable=True),  # when closed: fraud | false_positive
    Column("first_fired_ms", BigInteger, nullable=False),
    Column("last_fired_ms", BigInteger, nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),  # the span of its alerts' windows
    Column("window_end_ms", BigInteger, nullable=False),
    Column("alert_count", Integer, nullable=False),
    Column("numbers_json", Text, nullable=False),  # sorted E.164 digits, a JSON array
    Column("opened_ms", BigInteger, nullable=False),  # when it was recorded
    Column("updated_ms", BigInteger, nullable=False),
    Column("acknowledged_ms", BigInteger, nullable=True),
    Column("acknowledged_by", Integer, ForeignKey("members.id"), nullable=True),
    Column("ack_note", Text, nullable=True),
    Column("closed_ms", BigInteger, nullable=True),
    Column("closed_by", Integer, ForeignKey("members.id"), nullable=True),
    Column("close_note", Text, nullable=True),
    Column("reports_json", Text, nullable=True),  # what closing it as fraud reported, number by number
    Index("ix_incidents_grouping", "member_id", "rule", "subject", "status"),
    Index("ix_incidents_member_id", "member_id", "id"),
    Index("ix_incidents_status_id", "status", "id"),
)

#: The alerts of the incidents, with their evidence (the call records that fired them, as JSON: records are not kept).
#: One per member, rule, subject and window start: re-scanning a file or replaying a stream records nothing twice.
alerts = Table(
    "alerts",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("window_start_ms", BigInteger, nullable=False),
    Column("window_end_ms", BigInteger, nullable=False),
    Column("fired_ms", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("severity", SmallInteger, nullable=False),
    Column("category", String(32), nullable=False),
    Column("numbers_json", Text, nullable=False),
    Column("summary", Text, nullable=False),
    Column("facts_json", Text, nullable=False),
    Column("evidence_json", Text, nullable=False),  # [Cdr.to_dict(), ...]
    Column("source", Text, nullable=False),
    Column("recorded_ms", BigInteger, nullable=False),
    UniqueConstraint("member_id", "rule", "subject", "window_start_ms", name="uq_alerts_key"),
    Index("ix_alerts_incident_id", "incident_id", "id"),
)

#: What happened to incidents (opened, alert, acknowledged, closed), in commit order: ``id`` is the cursor of
#: ``GET /v1/alerts/events`` (writers are serialised, so ids grow in commit order). The incident's state just after.
alert_events = Table(
    "alert_events",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("at_ms", BigInteger, nullable=False),
    Column("kind", String(16), nullable=False),  # ringfence.alerts.models.EventKind
    Column("incident_id", BigInteger, ForeignKey("incidents.id"), nullable=False),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),  # the incident's member
    Column("alert_id", BigInteger, nullable=True),
    Column("actor_id", Integer, ForeignKey("members.id"), nullable=True),
    Column("severity", SmallInteger, nullable=False),
    Column("status", String(16), nullable=False),
    Column("alert_count", Integer, nullable=False),
    Column("verdict", String(16), nullable=True),
    Index("ix_alert_events_member_id", "member_id", "id"),
)

#: Rows of sent call records that could not be used (ringfence.monitoring.quarantine): the first ones of each input,
#: with the member, where they came from and why. Call records themselves are not kept.
cdr_quarantine = Table(
    "cdr_quarantine",
    metadata,
    Column("id", ROW_ID, primary_key=True, autoincrement=True),
    Column("member_id", Integer, ForeignKey("members.id"), nullable=False),
    Column("source", Text, nullable=False),
    Column("line", BigInteger, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("message", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("at_ms", BigInteger, nullable=False),
    Index("ix_cdr_quarantine_member_id", "member_id", "id"),
)

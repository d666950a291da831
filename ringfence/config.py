"""Settings, declared once as data.

Each :class:`Setting` names its environment variable (``RINGFENCE_<NAME>``), type, default and help text. The same
declarations feed the environment parser, the CLI (``ringfence settings``) and the generated docs/settings.md, so a
setting cannot exist in one place and be missing in another.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from ringfence.errors import InvalidInput

__all__ = ["SETTINGS", "Setting", "Settings", "parse_networks", "settings_markdown"]


def _parse_bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _parse_region(raw: str) -> str | None:
    value = raw.strip().upper()
    if not value:
        return None
    import phonenumbers  # local: keep config import light

    if value not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{raw!r} is not a region phonenumbers knows (ISO 3166 alpha-2, e.g. GB, US)")
    return value


def _parse_int_in(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw.strip())
        if not low <= value <= high:
            raise ValueError(f"expected an integer from {low} to {high}, got {value}")
        return value

    return parse


_DNS_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


def _parse_dns_name(raw: str) -> str:
    """A DNS name of letters, digits, '-' and '_' (case-folded, trailing dot dropped): a zone or a host name."""
    name = raw.strip().lower().removesuffix(".")
    if not name:
        raise ValueError("expected a DNS name such as bl.ringfence.internal")
    if len(name) > 253:
        raise ValueError(f"a DNS name has at most 253 characters, {raw!r} has {len(name)}")
    for label in name.split("."):
        if not _DNS_LABEL.fullmatch(label):
            raise ValueError(
                f"{label!r} is not a DNS label (1 to 63 letters, digits, '-' or '_', not starting or ending with '-')"
            )
    return name


def _parse_optional_dns_name(raw: str) -> str:
    return _parse_dns_name(raw) if raw.strip() else ""


def parse_networks(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """Comma-separated IPv4/IPv6 networks in CIDR notation (a bare address is a /32 or /128)."""
    networks = []
    for part in raw.split(","):
        text = part.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text))
        except ValueError as exc:
            if "host bits set" in str(exc):
                hint = ipaddress.ip_network(text, strict=False)
                raise ValueError(f"{text!r} has host bits set; did you mean {hint}?") from None
            raise ValueError(f"{text!r} is not an IPv4 or IPv6 network in CIDR notation (e.g. 10.0.0.0/8)") from None
    if not networks:
        raise ValueError("expected at least one network, e.g. 127.0.0.0/8,::1/128 (0.0.0.0/0,::/0 allows everyone)")
    return tuple(networks)


def _parse_network_list(raw: str) -> str:
    return ",".join(str(network) for network in parse_networks(raw))


_NATS_SCHEMES = ("nats", "tls", "ws", "wss")
_NATS_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
_NATS_TOKEN = re.compile(r"[^\s.*>]+")


def _parse_nats_url(raw: str) -> str | None:
    """Comma-separated NATS server URLs (nats://host:4222, tls://…, ws://…, wss://…); empty: no NATS."""
    from urllib.parse import urlsplit  # local: keep config import light

    servers = [part.strip() for part in raw.split(",") if part.strip()]
    for server in servers:
        parts = urlsplit(server)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if parts.scheme not in _NATS_SCHEMES or not parts.hostname or port == -1 or parts.path not in ("", "/"):
            shown = server if parts.password is None else server.replace(parts.password, "***")
            raise ValueError(
                f"{shown!r} is not a NATS server URL; expected nats://host:4222 (or tls://, ws://, wss://), "
                "several separated by commas"
            )
    return ",".join(servers) or None


def _parse_nats_name(raw: str) -> str:
    name = raw.strip()
    if not _NATS_NAME.fullmatch(name):
        raise ValueError("a JetStream stream name is 1 to 255 letters, digits, '-' or '_'")
    return name


def _parse_nats_subject(raw: str) -> str:
    subject = raw.strip()
    if not subject or not all(_NATS_TOKEN.fullmatch(token) for token in subject.split(".")):
        raise ValueError("expected a NATS subject such as ringfence.changes (dot-separated tokens, no wildcards)")
    return subject


def _decay_models(raw: str) -> str:
    from ringfence.errors import InvalidInput
    from ringfence.registry.scoring import parse_models

    try:
        parse_models(raw)
    except InvalidInput as exc:
        raise ValueError(exc.message) from None
    return raw


def _setting(default: Any, help: str, parse: Callable[[str], Any] | None = None) -> Any:
    return field(default=default, metadata={"help": help, "parse": parse or type(default)})


@dataclass(frozen=True)
class Settings:
    """Every setting of ringfence: the one declaration (default, parser, help) the env, CLI and docs read."""

    database_url: str = _setting(
        "sqlite:///ringfence.db",
        "SQLAlchemy URL of the store: a SQLite file (default, WAL) or postgresql+psycopg://user@host/db.",
    )
    host: str = _setting("127.0.0.1", "Address `ringfence serve` listens on.")
    port: int = _setting(8000, "Port `ringfence serve` listens on.")
    default_region: str | None = _setting(
        None,
        "Region (ISO 3166 alpha-2) for numbers written in national format, e.g. GB makes 020 7946 0018 mean "
        "+44 20 7946 0018. Unset: national numbers are rejected.",
        _parse_region,
    )
    max_batch: int = _setting(10_000, "Most numbers in one batch lookup request.")
    max_bulk_bytes: int = _setting(64 * 1024 * 1024, "Largest bulk report upload accepted over HTTP, in bytes.")
    max_body_bytes: int = _setting(1024 * 1024, "Largest JSON request body accepted (bulk uploads excepted).")
    future_skew_ms: int = _setting(
        300_000, "How far in the future a report's occurred_at may lie (clock skew between members), in ms."
    )
    key_cache_size: int = _setting(
        10_000, "How many verified API keys are kept in memory, so a request does not pay the key hash each time."
    )
    change_retention: int = _setting(
        7 * 24 * 3600,
        "How long the change feed keeps each change, in seconds. A reader further behind than this takes a snapshot "
        "(/v1/export or a snapshot file) and follows the feed from there.",
    )
    decay_models: str = _setting(
        "",
        "Changes to the per-category decay models, comma-separated category=LIFETIMEd:SPEED:THRESHOLD[:POINTS] "
        "(e.g. vishing=10d:2.3:30,irsf=180d:0.5:20); categories not named keep their defaults (docs/scoring.md).",
        _decay_models,
    )
    decay_sweep_s: int = _setting(
        300,
        "Seconds between expiry sweeps, which retire listings whose score decayed below their threshold (0: never).",
    )
    feed_poll_ms: int = _setting(
        1000,
        "How often a serving node reads the store for changes made elsewhere (other nodes, CLI imports), in ms; "
        "with NATS configured this is the safety net behind the bus.",
    )
    stream_queue: int = _setting(
        10_000,
        "Most changes waiting for one live stream subscriber (SSE, WebSocket); a subscriber further behind is "
        "disconnected with the reason and resumes from the last seq it saw.",
    )
    stream_keepalive_s: int = _setting(
        15, "Seconds between keep-alive comments on an idle SSE stream (and pings on a WebSocket)."
    )
    nats_url: str | None = _setting(
        None,
        "NATS server URL(s), comma-separated (nats://host:4222, tls://…): changes fan out to the other nodes on the "
        "same store through NATS JetStream (see docs/scale-out.md). Unset or empty: one node, changes fan out "
        "in-process only.",
        _parse_nats_url,
    )
    nats_stream: str = _setting(
        "RINGFENCE_CHANGES",
        "JetStream stream of the change fan-out (created or updated at start: file storage, kept as long as "
        "RINGFENCE_CHANGE_RETENTION). Every node of one deployment uses the same.",
        _parse_nats_name,
    )
    nats_subject: str = _setting(
        "ringfence.changes",
        "NATS subject the nodes publish changes on (the stream's only subject).",
        _parse_nats_subject,
    )
    cdr_subject: str = _setting(
        "ringfence.cdrs",
        "With NATS: call records published on <subject>.<member id or name> (a JSON record, a JSON array of them, "
        "or CSV/JSONL text) go through that member's fraud rules (see docs/cdrs.md).",
        _parse_nats_subject,
    )
    cdr_stream: str = _setting(
        "RINGFENCE_CDRS",
        "JetStream stream that holds published call records until a node has evaluated them (work queue, file "
        "storage); every node of one deployment uses the same.",
        _parse_nats_name,
    )
    max_cdr_batch: int = _setting(
        100_000, "Most call records in one JSON batch (POST /v1/cdrs, a NATS message); files may hold more."
    )
    incident_gap_s: int = _setting(
        86_400,
        "An alert joins an open incident of its rule and subject when its window starts within this many seconds "
        "of the incident's last window (see docs/alerts.md).",
        _parse_int_in(1, 365 * 86_400),
    )
    dns_port: int = _setting(
        0,
        "Port of the DNS front door (DNSBL-style lookups over UDP and TCP, see docs/dns.md); 0 turns it off.",
        _parse_int_in(0, 65535),
    )
    dns_host: str = _setting(
        "127.0.0.1",
        "Address or host name the DNS front door listens on; several comma-separated (0.0.0.0,:: is every address).",
    )
    dns_zone: str = _setting(
        "bl.ringfence.internal",
        "DNS zone the DNS front door answers for: <reversed digits>.<zone>, e.g. 8.1.0.0.6.4.9.7.0.2.4.4.<zone>.",
        _parse_dns_name,
    )
    dns_enum_zone: str = _setting(
        "e164.arpa",
        "ENUM-style suffix the DNS front door also answers: <reversed digits>.<this> and "
        "<reversed digits>.<this>.<dns_zone>. Empty: only the plain form.",
        _parse_optional_dns_name,
    )
    dns_allow: str = _setting(
        "127.0.0.0/8,::1/128",
        "Networks (comma-separated CIDRs, IPv4 and IPv6) the DNS front door answers; others get REFUSED (UDP) or a "
        "closed connection (TCP).",
        _parse_network_list,
    )
    dns_ttl: int = _setting(
        300, "TTL of DNS answers for a listed number (A and TXT), in seconds.", _parse_int_in(0, 2**31 - 1)
    )
    dns_negative_ttl: int = _setting(
        60,
        "How long resolvers may cache a DNS 'not listed' (NXDOMAIN or no data), in seconds: the TTL and minimum of "
        "the SOA sent with it.",
        _parse_int_in(0, 2**31 - 1),
    )
    dns_nameserver: str = _setting(
        "localhost",
        "Host name the DNS front door gives as its zones' NS and SOA primary: the name resolvers reach it by.",
        _parse_dns_name,
    )
    drop_dir: str = _setting(
        "ringfence-drop",
        "Folder the snapshot and delta files are written to and served from (GET /v1/files, SFTP); see docs/files.md.",
    )
    snapshot_interval: int = _setting(
        0,
        "Seconds between scheduled full snapshots in the drop folder (e.g. 86400: daily); 0 turns them off.",
        _parse_int_in(0, 2**31 - 1),
    )
    delta_interval: int = _setting(
        0,
        "Seconds between scheduled delta files (the changes since the newest file set, e.g. 900); 0 turns them off.",
        _parse_int_in(0, 2**31 - 1),
    )
    snapshot_keep: int = _setting(
        7,
        "How many full snapshots the drop folder keeps (with the deltas after the oldest of them); 0 keeps all.",
        _parse_int_in(0, 100_000),
    )
    sftp_port: int = _setting(
        0,
        "Port of the built-in SFTP server (members download the drop folder, read-only); 0 turns it off.",
        _parse_int_in(0, 65535),
    )
    sftp_host: str = _setting("127.0.0.1", "Address the SFTP server listens on.")
    sftp_host_key: str = _setting(
        "ringfence-sftp-host-key",
        "The SFTP server's private host key (OpenSSH format); if missing, an Ed25519 key is made there (mode 0600).",
    )
    webhook_concurrency: int = _setting(
        16,
        "Most webhook deliveries this node sends at once (one per webhook at a time); 0: this node sends none.",
        _parse_int_in(0, 1000),
    )
    webhook_batch: int = _setting(100, "Most changes in one webhook delivery (one POST).", _parse_int_in(1, 10_000))
    webhook_timeout_ms: int = _setting(
        10_000,
        "How long one webhook delivery attempt may take in total (connect, send, answer), in ms; longer is a "
        "failed attempt, retried.",
        _parse_int_in(1, 300_000),
    )
    webhook_retry_base_ms: int = _setting(
        5_000,
        "Webhook retry backoff: the delay before retry n of a failure run is random in [0, min(cap, base * 2^(n-1))], "
        "in ms.",
        _parse_int_in(1, 2**31 - 1),
    )
    webhook_retry_cap_ms: int = _setting(
        3_600_000, "Webhook retry backoff: the longest delay window, in ms.", _parse_int_in(1, 2**31 - 1)
    )
    webhook_max_failures: int = _setting(
        15,
        "Consecutive failed attempts after which a webhook is disabled (the reason is shown to its member).",
        _parse_int_in(1, 1_000_000),
    )
    webhook_poll_ms: int = _setting(
        1000,
        "How often the webhook dispatcher looks for work without being woken (changes written by other nodes, "
        "retries falling due), in ms.",
        _parse_int_in(10, 3_600_000),
    )
    webhook_allow_http_localhost: bool = _setting(
        True,
        "Allow webhook URLs with plain http:// to localhost, 127.0.0.1 and [::1] (tests, demos, a local relay); "
        "every other webhook URL must be https://.",
        _parse_bool,
    )
    webhook_secret_grace_s: int = _setting(
        86_400,
        "After a webhook secret is rotated, how long deliveries are also signed with the previous secret, in seconds.",
        _parse_int_in(0, 30 * 86_400),
    )
    webhook_log_retention: int = _setting(
        7 * 24 * 3600,
        "How long delivered webhook deliveries stay in the delivery log, in seconds (pending ones stay until sent).",
        _parse_int_in(0, 2**31 - 1),
    )
    rules_file: str = _setting(
        "",
        "YAML file of fraud rules over call records: changes to the built-in rules' thresholds, rules switched off, "
        "custom rules, the home region and the lateness allowance (see docs/rules.md). Empty: the built-in defaults.",
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then ``RINGFENCE_*`` variables, then explicit overrides (CLI flags; ``None`` is ignored)."""
        source = os.environ if env is None else env
        values: dict[str, Any] = {}
        for setting in SETTINGS:
            raw = source.get(setting.env)
            if raw is None:
                continue
            try:
                values[setting.name] = setting.parse(raw)
            except ValueError as exc:
                raise InvalidInput(
                    f"{setting.env}={raw!r} is not valid: {exc}",
                    code="invalid_setting",
                    details={"setting": setting.env, "value": raw},
                ) from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


@dataclass(frozen=True)
class Setting:
    """One setting as the outside sees it: its variable, parser, default and help."""

    name: str
    parse: Callable[[str], Any]
    default: Any
    help: str

    @property
    def env(self) -> str:
        return f"RINGFENCE_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = tuple(
    Setting(f.name, f.metadata["parse"], f.default, f.metadata["help"]) for f in fields(Settings)
)


def settings_markdown() -> str:
    """The settings reference (docs/settings.md), generated from :data:`SETTINGS`."""
    lines = [
        "# Settings",
        "",
        "Every setting is read from the environment variable shown; CLI flags of the same name override it.",
        "This page is generated by `ringfence settings --markdown`.",
        "",
        "| variable | default | meaning |",
        "|---|---|---|",
    ]
    for setting in SETTINGS:
        default = "(unset)" if setting.default is None else f"`{setting.default}`"
        lines.append(f"| `{setting.env}` | {default} | {setting.help} |")
    return "\n".join(lines) + "\n"

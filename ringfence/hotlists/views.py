"""How hotlists look to the outside (HTTP bodies, CLI --json): one rendering for every front door."""

from __future__ import annotations

from typing import Any

from ringfence.hotlists.models import Diff, Entry, Hotlist, HotlistVersion, ImportOutcome, Match
from ringfence.numbers import format_e164
from ringfence.registry.views import iso

__all__ = [
    "check_view",
    "diff_view",
    "entry_view",
    "hotlist_view",
    "import_view",
    "match_view",
    "version_view",
]


def hotlist_view(hotlist: Hotlist, latest: HotlistVersion | None = None) -> dict[str, Any]:
    return {
        "name": hotlist.name,
        "description": hotlist.description,
        "retain_missing": hotlist.retain_missing,
        "wildcard_last": hotlist.wildcard_last,
        "region": hotlist.region,
        "sync": {"url": hotlist.sync_url, "folder": hotlist.sync_folder, "every_s": hotlist.sync_every_s},
        "created_at": iso(hotlist.created_ms),
        "updated_at": iso(hotlist.updated_ms),
        "latest_version": None if latest is None else version_view(latest),
    }


def version_view(version: HotlistVersion) -> dict[str, Any]:
    return {
        "id": version.id,
        "hotlist": version.hotlist,
        "version": version.number,
        "imported_at": iso(version.imported_ms),
        "source": version.source,
        "sha256": version.sha256,
        "added": version.added,
        "unchanged": version.unchanged,
        "removed": version.removed,
        "retained": version.retained,
        "invalid": version.invalid,
        "duplicates": version.duplicates,
        "derived": version.derived,
        "entries": version.entries,
    }


def import_view(outcome: ImportOutcome) -> dict[str, Any]:
    """The version an import made, its bad rows with their lines, and the file's columns that were not read."""
    return {
        **version_view(outcome.version),
        "errors": [{"line": e.line, **e.error.to_dict()} for e in outcome.errors],
        "ignored_columns": outcome.ignored_columns,
    }


def entry_view(entry: Entry) -> dict[str, Any]:
    return {
        "pattern": entry.pattern,
        "kind": entry.kind,
        "derived": entry.derived,
        "source": entry.source,
        "first_seen_at": iso(entry.first_seen_ms),
        "last_seen_at": iso(entry.last_seen_ms),
        "first_version": entry.first_version,
        "last_version": entry.last_version,
    }


def diff_view(diff: Diff) -> dict[str, Any]:
    return {
        "hotlist": diff.hotlist,
        "version": diff.version,
        "against": diff.against,
        "counts": {"added": len(diff.added), "removed": len(diff.removed), "retained": len(diff.retained)},
        "added": [entry_view(e) for e in diff.added],
        "removed": [entry_view(e) for e in diff.removed],
        "retained": [entry_view(e) for e in diff.retained],
    }


def match_view(match: Match, *, retained: bool) -> dict[str, Any]:
    """An entry covering a checked number; ``retained``: in force only because its list retains it."""
    return {"hotlist": match.hotlist, **entry_view(match.entry), "retained": retained}


def check_view(number: int, matches: list[dict[str, Any]]) -> dict[str, Any]:
    """The answer for one checked number: the most specific match (``match``) and every match, most specific
    first."""
    return {
        "number": format_e164(number),
        "hotlisted": bool(matches),
        "match": matches[0] if matches else None,
        "matches": matches,
    }

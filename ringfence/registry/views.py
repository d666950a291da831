"""How registry answers look to the outside (HTTP bodies, CLI --json, exports): one rendering for every front door.

Answers to members carry counts only, never who reported a number; the reporter of a report is shown to admins alone.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from ringfence.numbers import format_e164
from ringfence.numbers import info as number_info
from ringfence.registry.assess import DEFAULT_OPTIONS, Assessment, LookupOptions
from ringfence.registry.index import Listing
from ringfence.registry.members import ApiKey
from ringfence.registry.models import FLAG_DISPUTED, FLAG_PINNED, FLAG_PORTED, Member, Report, categories_from_mask
from ringfence.registry.service import BulkOutcome

__all__ = [
    "bulk_view",
    "iso",
    "key_view",
    "listing_view",
    "lookup_answer",
    "member_view",
    "report_view",
    "reports_page",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def iso(ms: int | None) -> str | None:
    """Epoch ms as ISO 8601 UTC with millisecond precision and a Z."""
    if ms is None:
        return None
    # integer arithmetic: ms / 1000 as a float loses the last millisecond of far-off dates
    return (_EPOCH + timedelta(milliseconds=ms)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def listing_view(listing: Listing, assessment: Assessment | None = None) -> dict[str, Any]:
    """A listing's aggregates; with its assessment, also its score now and its flags."""
    if assessment is None:
        return {
            "first_reported_at": iso(listing.first_ms),
            "last_reported_at": iso(listing.last_ms),
            "report_count": listing.report_count,
            "reporter_count": listing.reporter_count,
            "categories": categories_from_mask(listing.categories),
        }
    flags = listing.flags
    return {
        "first_reported_at": iso(listing.first_ms),
        "last_reported_at": iso(listing.last_ms),
        "report_count": listing.report_count,
        "reporter_count": listing.reporter_count,
        "categories": categories_from_mask(listing.categories),
        "score": assessment.score,
        "threshold": assessment.threshold,
        "decayed": assessment.decayed,
        "pinned": bool(flags & FLAG_PINNED),
        "disputed": bool(flags & FLAG_DISPUTED),
        "ported": bool(flags & FLAG_PORTED),
    }


def lookup_answer(
    number: int,
    assessment: Assessment | None,
    options: LookupOptions = DEFAULT_OPTIONS,
    *,
    info: dict[str, Any] | None = None,
    never_list: dict[str, Any] | None = None,
    member_list: str | None = None,
) -> dict[str, Any]:
    """The answer to "is this number listed?": the number, its info, and the listing if it counts (or, when asked
    for, a decayed one), with its score; whether the never-list covers it and on which of the asking member's own
    lists it is; ``explain`` when asked for.

    ``listed`` is what the asking member should act on: its own deny list lists a number and its allow list clears
    it, whatever the registry says; a number on the never-list is not listed; otherwise the registry's assessment.
    """
    shown = assessment is not None and (assessment.listed or options.include_decayed)
    if member_list is not None:
        listed = member_list == "deny"
    else:
        listed = never_list is None and assessment is not None and assessment.listed
    answer: dict[str, Any] = {
        "number": format_e164(number),
        "listed": listed,
        "info": info if info is not None else number_info(number).to_dict(),
        "listing": listing_view(assessment.listing, assessment) if shown and assessment is not None else None,
        "never_list": never_list,
        "member_list": member_list,
    }
    if options.explain:
        answer["explain"] = assessment.explain if assessment is not None else None
    return answer


def report_view(report: Report, *, include_member: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": str(report.id),
        "report_id": report.report_id,
        "number": format_e164(report.number),
        "category": report.category.value,
        "occurred_at": iso(report.occurred_ms),
        "received_at": iso(report.received_ms),
        "note": report.note,
        "withdrawn_at": iso(report.withdrawn_ms),
        "withdrawn_reason": report.withdrawn_reason,
    }
    if include_member:
        view["member_id"] = report.member_id
    return view


def reports_page(found: list[Report], limit: int, *, include_member: bool) -> dict[str, Any]:
    """A page of reports, newest first; ``next`` (the ``before`` of the following page) when the page is full."""
    return {
        "reports": [report_view(r, include_member=include_member) for r in found],
        "next": str(found[-1].id) if len(found) == limit else None,
    }


def member_view(member: Member) -> dict[str, Any]:
    return {"id": member.id, "name": member.name, "role": member.role.value, "created_at": iso(member.created_ms)}


def key_view(key: ApiKey) -> dict[str, Any]:
    """A key as listed: its id and dates, never its secret."""
    return {
        "id": key.id,
        "member": key.member_name,
        "created_at": iso(key.created_ms),
        "revoked_at": iso(key.revoked_ms),
    }


def bulk_view(outcome: BulkOutcome) -> dict[str, Any]:
    """The outcome of a bulk submission: counts, and each rejected row with its line and reason."""
    return {
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": len(outcome.errors),
        "errors": [{"line": e.line, **e.error.to_dict()} for e in outcome.errors],
    }

"""Allowlists: the consortium's never-list (numbers that must never be listed) and members' private allow/deny lists.

:class:`AllowlistService` is what the registry, the API and the CLI call; :class:`Protection` is what a lookup
shows and a refused report explains. See docs/architecture.md.
"""

from ringfence.allowlists.models import EntryKind, ListKind, MemberEntry, NeverEntry, PatternType, Protection, Source
from ringfence.allowlists.service import AllowlistService, Placement

__all__ = [
    "AllowlistService",
    "EntryKind",
    "ListKind",
    "MemberEntry",
    "NeverEntry",
    "PatternType",
    "Placement",
    "Protection",
    "Source",
]

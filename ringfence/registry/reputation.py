"""Reporter reputation: how much a member's reports weigh, in thousandths (1000 = a member of standing).

A member's reports that other members later confirm (they report the same number while the first report stands)
raise its reputation by :data:`CONFIRM_BONUS` each; a dispute upheld against a listing it reported lowers it by
:data:`UPHELD_PENALTY`. It stays within [:data:`MINIMUM`, :data:`MAXIMUM`]: a careless member still counts for
something, and no member counts for more than two.

A listing's ``weight`` is the sum of its distinct reporters' reputations as they stood when each first reported it;
it feeds the listing's base score (:mod:`ringfence.registry.scoring`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, case, select, update

from ringfence.store.tables import members

__all__ = ["CONFIRM_BONUS", "MAXIMUM", "MINIMUM", "STANDING", "UPHELD_PENALTY", "adjust", "reputations"]

STANDING = 1000
MINIMUM = 100
MAXIMUM = 2000
CONFIRM_BONUS = 50
UPHELD_PENALTY = 200


def reputations(conn: Connection, member_ids: Iterable[int]) -> dict[int, int]:
    """The reputation of each member (thousandths)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = conn.execute(select(members.c.id, members.c.reputation).where(members.c.id.in_(ids))).all()
    return {int(row.id): int(row.reputation) for row in rows}


def adjust(conn: Connection, member_ids: Iterable[int], delta: int) -> None:
    """Add ``delta`` (thousandths) to each member's reputation, kept within [MINIMUM, MAXIMUM]."""
    ids = sorted(set(member_ids))
    if not ids or not delta:
        return
    raised = members.c.reputation + delta
    conn.execute(
        update(members)
        .where(members.c.id.in_(ids))
        .values(reputation=case((raised > MAXIMUM, MAXIMUM), (raised < MINIMUM, MINIMUM), else_=raised))
    )

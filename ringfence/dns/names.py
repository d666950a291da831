"""Query names of the DNS front door: which zone a name falls in, and which phone number it spells.

A number is asked for with its E.164 digits reversed, one digit per label, under a zone (DNSBL style) or under the
ENUM suffix (RFC 6116 style), e.g. for +44 20 7946 0018 and the default settings::

    8.1.0.0.6.4.9.7.0.2.4.4.bl.ringfence.internal             the zone
    8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa.bl.ringfence.internal   the ENUM form under the zone
    8.1.0.0.6.4.9.7.0.2.4.4.e164.arpa                         the ENUM form on its own

Names compare case-insensitively (dnspython's :class:`dns.name.Name` does). :meth:`Zones.match` sorts a name into
one :class:`Outcome`:

* ``REFUSED``: not under any zone served here;
* ``APEX``: a zone's own name (SOA, NS);
* ``EMPTY``: a name that exists but holds no records (``e164.arpa.<zone>``, ``arpa.<zone>``): NOERROR, no data;
* ``NUMBER``: 1 to 15 single-digit labels whose digits (first digit not 0) are a number exactly as
  :func:`ringfence.numbers.normalise` writes it, i.e. a number that can be listed;
* ``NXDOMAIN``: everything else under a zone: labels that are not single digits, too few or too many digits, a
  leading 0, or digits ringfence's normalisation refuses or writes differently (``+44 0 20…``). Such a number can
  never be listed, so the answer is the same as for an unlisted one.

Names between a zone and a number (``4.4.<zone>``) are NXDOMAIN too, as on other DNSBL servers, although strictly
they are empty non-terminals when a number below them is listed. Knowing that would need a prefix index; resolvers
only infer "nothing below an NXDOMAIN" (RFC 8020) from DNSSEC-validated answers, and these zones are unsigned.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import Enum
from typing import NamedTuple

import dns.name

from ringfence.errors import InvalidNumber
from ringfence.numbers import normalise

__all__ = [
    "MAX_DIGITS",
    "Match",
    "Outcome",
    "Zones",
    "digits_number",
    "is_canonical",
    "name_for_number",
    "parse_name",
]

#: E.164 numbers have at most 15 digits.
MAX_DIGITS = 15
_DIGITS = frozenset(b"0123456789")


class Outcome(Enum):
    """What a query name is, as far as the zones served here are concerned."""

    REFUSED = "refused"
    APEX = "apex"
    EMPTY = "empty"
    NUMBER = "number"
    NXDOMAIN = "nxdomain"


class Match(NamedTuple):
    """The outcome for a name; ``apex`` is the zone it falls in (None when refused); ``number`` is set for NUMBER."""

    outcome: Outcome
    apex: dns.name.Name | None = None
    number: int = 0


def parse_name(text: str) -> dns.name.Name:
    """An absolute name from text, with or without the trailing dot (``dns.name.from_text`` raises on bad text)."""
    return dns.name.from_text(text.strip())


def digits_number(labels: tuple[bytes, ...] | list[bytes]) -> int | None:
    """The number spelt by reversed single-digit labels (DNS order: last digit first), or None.

    Only the syntax is checked here: 1 to :data:`MAX_DIGITS` labels of one ASCII digit each, the number's first digit
    (the last label) not 0, so that digits and number map one to one.
    """
    if not 0 < len(labels) <= MAX_DIGITS:
        return None
    digits = b"".join(reversed(labels))
    if len(digits) != len(labels) or not _DIGITS.issuperset(digits) or digits[0] == 0x30:
        return None
    return int(digits)


@functools.lru_cache(maxsize=1 << 16)
def is_canonical(number: int) -> bool:
    """True when ``+<number>`` is a number ringfence accepts and normalises to exactly these digits (memoised)."""
    try:
        return normalise(f"+{number}", None) == number
    except InvalidNumber:
        return False


def name_for_number(number: int, zone: dns.name.Name | str) -> dns.name.Name:
    """The query name of ``number`` (E.164 digits as an int) under ``zone``: its digits reversed, one per label."""
    origin = parse_name(zone) if isinstance(zone, str) else zone
    if number <= 0:
        raise ValueError(f"{number} is not an E.164 number")
    return dns.name.Name(tuple(digit.encode() for digit in reversed(str(number)))).concatenate(origin)


@dataclass(frozen=True)
class Zones:
    """The zones served here: ``zone`` (DNSBL form) and the optional ENUM suffix ``enum``.

    Names under ``zone`` are numbers, or numbers under the ENUM suffix (``<digits>.e164.arpa.<zone>``); names under
    ``enum`` on its own are numbers. When one zone lies inside the other, a name belongs to the closer (longer) one.
    """

    zone: dns.name.Name
    enum: dns.name.Name | None = None

    @classmethod
    def from_text(cls, zone: str, enum: str = "") -> Zones:
        """From the settings' text (trailing dot optional; an empty ``enum`` serves the plain form only)."""
        main = parse_name(zone)
        if main == dns.name.root:
            raise ValueError("the DNS zone cannot be the root")
        extra = parse_name(enum) if enum.strip() else None
        if extra == dns.name.root:
            raise ValueError("the ENUM suffix cannot be the root")
        return cls(main, None if extra == main else extra)

    @property
    def apexes(self) -> tuple[dns.name.Name, ...]:
        """Every zone apex served here, ``zone`` first."""
        return (self.zone,) if self.enum is None else (self.zone, self.enum)

    @property
    def enum_labels(self) -> tuple[bytes, ...]:
        """The ENUM suffix as lower-case labels without the root label (empty when there is no ENUM suffix)."""
        if self.enum is None:
            return ()
        return tuple(label.lower() for label in self.enum.labels[:-1])

    def match(self, name: dns.name.Name) -> Match:
        """Sort ``name`` into an :class:`Outcome` (see the module docstring)."""
        apex = None
        for candidate in self.apexes:
            if name.is_subdomain(candidate) and (apex is None or len(candidate) > len(apex)):
                apex = candidate
        if apex is None:
            return Match(Outcome.REFUSED)
        relative = name.labels[: len(name) - len(apex)]
        if not relative:
            return Match(Outcome.APEX, apex)
        if apex == self.zone and self.enum is not None:
            suffix = self.enum_labels
            lowered = tuple(label.lower() for label in relative[-len(suffix) :])
            if len(relative) >= len(suffix) and lowered == suffix:
                relative = relative[: len(relative) - len(suffix)]
                if not relative:
                    return Match(Outcome.EMPTY, apex)
            elif len(relative) < len(suffix) and lowered == suffix[len(suffix) - len(relative) :]:
                return Match(Outcome.EMPTY, apex)  # arpa.<zone>: on the way to e164.arpa.<zone>
        number = digits_number(relative)
        if number is None or not is_canonical(number):
            return Match(Outcome.NXDOMAIN, apex)
        return Match(Outcome.NUMBER, apex, number)

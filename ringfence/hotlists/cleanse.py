"""Cleansing hotlist rows: junk stripped, country hints applied, every entry standardised to an E.164 pattern.

Lists are written by hand and by spreadsheets, so an entry arrives with quotes, ``="…"`` from Excel, a trailing
``.0`` from a float column, ``tel:``, non-breaking and zero-width spaces, ``(0)`` trunk prefixes, dashes, dots and
brackets. Those go; what is left is read as one of:

- **a number**: through the one normalisation path (:func:`ringfence.numbers.normalise_many`, a chunk at a time);
- **a range** with trailing wildcards (``x``, ``X``, ``?``, ``#``: one digit each) or **a prefix** (a final ``*``),
  by :func:`ringfence.hotlists.patterns.parse_pattern`;
- **a prefix** too when the entry is in international form and too short to be a number (``+88216``: phonenumbers
  says ``too_short`` or ``local_only``), as IRSF lists write number blocks.

Which country a number belongs to: an entry starting with ``+`` or ``00`` says it itself. Otherwise the row's own
hint (a ``country``/``region`` column: ISO code ``GB`` or calling code ``44``) counts, else the file's (``--region``),
else the list's; with a hint the entry is a national number of that country (phonenumbers also recognises the
country's own code written in front). With no hint at all, bare digits are international (the IRSF feeds'
convention: ``3725521234``), and an entry starting with a trunk ``0`` is refused (``no_region``). A range or prefix
in national form is turned into its E.164 form the same way (a range by reading it with its wildcards as zeros, a
prefix by replacing the country's trunk prefix with its calling code).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, NamedTuple

import phonenumbers

from ringfence.errors import InvalidInput, RingfenceError
from ringfence.hotlists.patterns import Pattern, parse_pattern, pattern_for_number
from ringfence.hotlists.reader import RawRow
from ringfence.numbers import normalise, normalise_many
from ringfence.numbers.normalise import invalid
from ringfence.numbers.regions import check_region
from ringfence.registry.service import RowError

__all__ = ["Cleansed", "Cleanser", "region_hint", "strip_junk"]

_MARKS: Final = frozenset("xX?#*")
_SQUEEZE: Final = re.compile(r"[\s\-\u2010-\u2015\u2212.()/\[\]]")
_INVISIBLE: Final = str.maketrans({c: None for c in "\u200b\u200c\u200d\u2060\ufeff"})
_SPACES: Final = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_TRUNK_ZERO: Final = re.compile(r"^(\+\d{1,3}\s*)\(0\)\s*")
_QUOTES: Final = "\"'`\u2018\u2019\u201c\u201d"
_PREFIX_REASONS: Final = frozenset({"too_short", "local_only"})
_NON_GEOGRAPHIC: Final = "001"


class Cleansed(NamedTuple):
    """A row made into a pattern: the row's line, the pattern (its canonical text and fields), and the row's own
    source (None: the version's). A tuple rather than a :class:`Pattern`: a list of a million numbers makes a million
    of these, and a tuple is made several times faster than a checked dataclass."""

    line: int
    text: str
    prefix: int
    prefix_len: int
    length: int | None
    source: str | None

    @property
    def pattern(self) -> Pattern:
        return Pattern(self.prefix, self.prefix_len, self.length)

    @classmethod
    def of(cls, line: int, pattern: Pattern, source: str | None) -> Cleansed:
        return cls(line, pattern.text, pattern.prefix, pattern.prefix_len, pattern.length, source)


def strip_junk(raw: str) -> str:
    """The entry without what spreadsheets and hand editing wrap around it (see the module docstring)."""
    text = _SPACES.sub(" ", raw.translate(_INVISIBLE)).strip()
    while True:
        before = text
        if text.startswith("=") and len(text) > 1 and text[1] in _QUOTES:  # Excel's ="+44..." to keep a text cell
            text = text[1:]
        if len(text) >= 2 and text[0] in _QUOTES and text[-1] in _QUOTES:
            text = text[1:-1].strip()
        elif text[:1] == "'":  # a spreadsheet's text marker
            text = text[1:].strip()
        text = text.rstrip(",;").strip()
        if text[:4].lower() == "tel:":
            text = text[4:].strip()
        if text == before:
            break
    if text.endswith(".0") and text[:-2].lstrip("+").isdigit():  # a float column: 447700900123.0
        text = text[:-2]
    return _TRUNK_ZERO.sub(r"\1", text)


def region_hint(raw: str | None) -> str | None:
    """A country hint as a region: an ISO 3166 alpha-2 code (``GB``) or a calling code (``44``, ``+44``). None for
    no hint, and for a non-geographic calling code (``882``), whose numbers only exist in international form."""
    if raw is None or not raw.strip():
        return None
    text = raw.strip().removeprefix("+")
    if text.isdigit() and text.isascii():
        region = phonenumbers.region_code_for_country_code(int(text))
        if region == _NON_GEOGRAPHIC:
            return None
        if region == "ZZ":
            raise InvalidInput(
                f"country hint {raw!r} is not a known calling code",
                code="unknown_region",
                details={"input": raw, "field": "region"},
            )
        return str(region)
    return check_region(text)


def _squeeze(text: str) -> str:
    return _SQUEEZE.sub("", text)


def _international(compact: str) -> str | None:
    """The entry as ``+digits…`` when it is written in international form, else None."""
    if compact.startswith("+"):
        return compact
    if compact.startswith("00"):
        return "+" + compact[2:]
    return None


class Cleanser:
    """Makes rows into patterns; ``region`` is the hint of the whole file (the row's own hint wins)."""

    def __init__(self, region: str | None) -> None:
        self.region = region
        self._hints: dict[str, str | InvalidInput | None] = {}

    def _hint(self, raw: str | None) -> str | None:
        if raw is None:
            return self.region
        known = self._hints.get(raw)
        if known is None and raw not in self._hints:
            try:
                known = self._hints[raw] = region_hint(raw)
            except InvalidInput as exc:
                known = self._hints[raw] = exc.with_traceback(None)
        if isinstance(known, InvalidInput):
            raise known
        return known

    def cleanse(self, rows: Sequence[RawRow]) -> list[Cleansed | RowError]:
        """Each row as a :class:`Cleansed` or the :class:`RowError` saying why not, in the order given."""
        out: list[Cleansed | RowError | None] = [None] * len(rows)
        plain: dict[str | None, list[tuple[int, str, str | None]]] = {}  # region -> (position, text, intl form)
        for i, row in enumerate(rows):
            raw = row.text
            if row.region is None and raw[:1] == "+" and raw[1:].isdigit() and raw.isascii():  # already E.164
                plain.setdefault(None, []).append((i, raw, raw))
                continue
            try:
                hint = self._hint(row.region)
                text = strip_junk(raw)
                compact = _squeeze(text)
                intl = _international(compact)
                if not compact:
                    raise invalid(raw, "empty")
                if _MARKS.intersection(compact):
                    out[i] = Cleansed.of(row.line, self._ranged(raw, text, compact, intl, hint), row.source)
                elif intl is not None:
                    plain.setdefault(None, []).append((i, intl, intl))
                elif hint is not None:
                    plain.setdefault(hint, []).append((i, text, None))
                elif compact.startswith("0"):
                    raise invalid(row.text, "no_region")
                else:  # bare digits and no hint: international, as IRSF lists write them
                    plain.setdefault(None, []).append((i, "+" + compact, "+" + compact))
            except RingfenceError as exc:
                out[i] = RowError(row.line, exc.with_traceback(None))
        for region, items in plain.items():
            values, problems = normalise_many([text for _, text, _ in items], region)
            for j, (i, _text, intl) in enumerate(items):
                row = rows[i]
                problem = problems.get(j)
                if problem is None:
                    number = int(values[j])
                    digits = str(number)
                    out[i] = Cleansed(row.line, "+" + digits, number, len(digits), len(digits), row.source)
                elif intl is not None and problem.reason in _PREFIX_REASONS:
                    out[i] = self._prefix_or(row, intl, problem)
                else:
                    out[i] = RowError(row.line, invalid(row.text, problem.reason))
        return [item for item in out if item is not None]

    @staticmethod
    def _prefix_or(row: RawRow, intl: str, problem: RingfenceError) -> Cleansed | RowError:
        """An international entry too short to be a number: a prefix, when it is one."""
        try:
            return Cleansed.of(row.line, parse_pattern(intl + "*"), row.source)
        except InvalidInput:
            return RowError(row.line, problem.with_traceback(None))

    def _ranged(self, raw: str, text: str, compact: str, intl: str | None, hint: str | None) -> Pattern:
        """A range (trailing wildcards) or a prefix (final ``*``) as its E.164 pattern."""
        if intl is not None or hint is None:
            if intl is None and compact.startswith("0"):
                raise invalid(raw, "no_region")
            return parse_pattern(intl if intl is not None else compact)
        digits = compact.rstrip("xX?#*")
        marks = compact[len(digits) :]
        if not digits.isdigit() or not digits.isascii() or ("*" in marks and marks != "*"):
            return parse_pattern(compact)  # refused with parse_pattern's reason
        if marks == "*":
            return parse_pattern(self._national_prefix(digits, hint) + "*")
        first = normalise(digits + "0" * len(marks), hint)  # the range's first number, in E.164
        return pattern_for_number(first, len(marks))

    @staticmethod
    def _national_prefix(digits: str, region: str) -> str:
        """A prefix written nationally (``020794`` in GB) in international form (``+4420794``)."""
        metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
        code = phonenumbers.country_code_for_region(region)
        trunk = metadata.national_prefix if metadata is not None else None
        if trunk and digits.startswith(trunk):
            digits = digits[len(trunk) :]
        return f"+{code}{digits}"

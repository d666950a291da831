"""Hotlist patterns: what one IRSF or Wangiri hotlist entry covers, read from the text feeds write it in.

An entry covers numbers by a digit prefix and, optionally, an exact total length (E.164 digits, country code
included). Every way hotlists write an entry is one of three shapes of that model:

* an exact test number, ``+3725521234``: prefix ``3725521234``, length 10 (only that number);
* a prefix, ``+88216`` written ``+88216*``: prefix ``88216``, any length (a whole range, whatever its numbering);
* trailing wildcards, ``+3725521??`` or ``+88213xxxxxx`` (``x``, ``X``, ``?`` and ``#`` stand for one digit each):
  prefix ``3725521``, length 9. A "last N digits wildcarded" range derived from a test number
  (:func:`pattern_for_number`) is the same shape: fraudsters rent the block around a published test number.

The model is what :class:`~ringfence.hotlists.matcher.RangeMatcher` indexes (``length`` None there is 0), and each
pattern has one canonical text (:attr:`Pattern.text`) that parses back to the same pattern, so a hotlist version
can store and compare entries by their text.

Accepted spellings: a leading ``+`` or ``00``, or bare international digits (as IRSF feeds usually write them);
spaces, dashes and dots anywhere. A pattern must start with a known country calling code, and a fixed-length one
must go beyond it; ``*`` only at the end and never after wildcards (``+88216??*`` would mean "at least two more
digits", which no feed means). Refusals are :class:`~ringfence.errors.InvalidInput` with code
``invalid_pattern``, the input in the message and a stable ``reason`` in ``details``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ringfence.errors import InvalidInput, InvalidNumber
from ringfence.numbers.lookup import country_code_of

__all__ = ["MAX_DIGITS", "WILDCARDS", "Pattern", "parse_pattern", "pattern_for_number"]

#: E.164 numbers have at most 15 digits, country code included.
MAX_DIGITS = 15
#: The characters that stand for exactly one digit at the end of a pattern.
WILDCARDS = frozenset("xX?#")

_MAX_NUMBER = 10**MAX_DIGITS - 1
_DIGITS = frozenset("0123456789")
_SEPARATORS = str.maketrans("", "", " \t-.")


@dataclass(frozen=True, slots=True)
class Pattern:
    """What one hotlist entry covers: numbers starting with ``prefix`` (``prefix_len`` digits) and, unless
    ``length`` is None, of exactly ``length`` digits.

    ``text`` is the canonical form, derived from the other fields: ``+3725521234`` (a number), ``+3725521??``
    (trailing wildcards), ``+88216*`` (a prefix of any length). Build patterns with :func:`parse_pattern` or
    :func:`pattern_for_number`; the constructor checks the fields agree with each other.
    """

    prefix: int
    prefix_len: int
    length: int | None
    text: str = field(init=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("prefix", "prefix_len", "length"):
            value = getattr(self, name)
            if (value is not None or name != "length") and (isinstance(value, bool) or not isinstance(value, int)):
                raise InvalidInput(
                    f"{name} must be an int, not {type(value).__name__}",
                    code="invalid_pattern",
                    details={"input": repr(value), "reason": "not_an_int"},
                )
        if (
            not 1 <= self.prefix_len <= MAX_DIGITS
            or not 10 ** (self.prefix_len - 1) <= self.prefix < 10**self.prefix_len
        ):
            raise InvalidInput(
                f"prefix {self.prefix!r} does not have prefix_len={self.prefix_len!r} digits (1 to {MAX_DIGITS})",
                code="invalid_pattern",
                details={"input": repr(self.prefix), "reason": "prefix_len_mismatch"},
            )
        if self.length is not None and not self.prefix_len <= self.length <= MAX_DIGITS:
            raise InvalidInput(
                f"length {self.length!r} is outside [{self.prefix_len}, {MAX_DIGITS}] for prefix {self.prefix}",
                code="invalid_pattern",
                details={"input": repr(self.length), "reason": "bad_length"},
            )
        wildcards = "*" if self.length is None else "?" * (self.length - self.prefix_len)
        object.__setattr__(self, "text", f"+{self.prefix}{wildcards}")

    @property
    def is_number(self) -> bool:
        """True for an exact number (no wildcard, fixed length)."""
        return self.length == self.prefix_len

    @property
    def wildcards(self) -> int | None:
        """How many trailing digits are wildcarded; None for a prefix of any length."""
        return None if self.length is None else self.length - self.prefix_len

    def covers(self, number: int) -> bool:
        """Whether ``number`` (an int of E.164 digits) is one this pattern covers; the definition the matcher meets."""
        if isinstance(number, bool) or not isinstance(number, int) or not 0 < number <= _MAX_NUMBER:
            return False
        text = str(number)
        return (self.length is None or len(text) == self.length) and text.startswith(str(self.prefix))

    def __str__(self) -> str:
        return self.text


def _invalid(raw: object, reason: str, why: str) -> InvalidInput:
    return InvalidInput(
        f"{raw!r} is not a hotlist pattern: {why}",
        code="invalid_pattern",
        details={"input": raw if isinstance(raw, str) else repr(raw), "reason": reason},
    )


def parse_pattern(raw: object) -> Pattern:
    """The :class:`Pattern` a hotlist entry's text means: ``+3725521234``, ``0088216*``, ``+372 5521 ??``,
    ``88213xxxxxx``; see the module docstring for what is accepted and the ``reason`` codes of refusals:
    ``not_text``, ``empty``, ``bad_character``, ``wildcard_not_trailing``, ``star_after_wildcard``,
    ``no_digits``, ``leading_zero``, ``too_long``, ``unknown_country_code``, ``too_short``.
    """
    if not isinstance(raw, str):
        raise _invalid(raw, "not_text", "expected text such as +3725521234, +88216* or +3725521??")
    body = raw.strip().translate(_SEPARATORS)
    if not body:
        raise _invalid(raw, "empty", "it is empty")
    if body.startswith("+"):
        body = body[1:]
    elif body.startswith("00"):
        body = body[2:]
    any_length = body.endswith("*")
    if any_length:
        body = body[:-1]
    digits = body.rstrip("xX?#")
    wildcards = len(body) - len(digits)
    for char in digits:
        if char not in _DIGITS:
            if char in WILDCARDS:
                raise _invalid(raw, "wildcard_not_trailing", "wildcards (x, ?, #) may only end a pattern")
            raise _invalid(raw, "bad_character", f"{char!r} is neither a digit, a wildcard (x, ?, #) nor a final *")
    if any_length and wildcards:
        raise _invalid(raw, "star_after_wildcard", "end it with wildcards (one per digit) or with *, not both")
    if not digits:
        raise _invalid(raw, "no_digits", "it has no digits before its wildcards")
    if digits[0] == "0":
        raise _invalid(raw, "leading_zero", "write it in international form: +, or 00, then the country code")
    length = len(digits) + wildcards
    if length > MAX_DIGITS:
        raise _invalid(raw, "too_long", f"an E.164 number has at most {MAX_DIGITS} digits, this has {length}")
    cc = country_code_of(digits)
    if cc == 0:
        raise _invalid(raw, "unknown_country_code", "it does not start with a known country calling code")
    if not any_length and length <= len(str(cc)):
        raise _invalid(raw, "too_short", f"it has no digit after the country code +{cc}")
    return Pattern(int(digits), len(digits), None if any_length else length)


def pattern_for_number(number: int, wildcard_last: int) -> Pattern:
    """``number`` with its last ``wildcard_last`` digits wildcarded: the range a test number is published in.

    ``wildcard_last`` 0 is the number itself. At most the national digits may be wildcarded (the country code
    stays), so the result always parses back from its text. Raises :class:`~ringfence.errors.InvalidNumber` for a
    number that is not 1 to 15 digits after a known country code, and :class:`~ringfence.errors.InvalidInput`
    (``invalid_pattern``, reason ``bad_wildcards``) for a count out of range.
    """
    if isinstance(number, bool) or not isinstance(number, int):
        raise InvalidNumber(number, "not_a_number", "expected an int of E.164 digits")
    if not 0 < number <= _MAX_NUMBER:
        raise InvalidNumber(number, "not_a_number", f"an E.164 number has 1 to {MAX_DIGITS} digits")
    digits = str(number)
    cc = country_code_of(digits)
    if cc == 0:
        raise InvalidNumber(number, "invalid_country_code", "no known country calling code starts this number")
    national = len(digits) - len(str(cc))
    if national == 0:
        raise InvalidNumber(number, "too_short", f"it has no digit after the country code +{cc}")
    if isinstance(wildcard_last, bool) or not isinstance(wildcard_last, int) or not 0 <= wildcard_last <= national:
        raise InvalidInput(
            f"cannot wildcard the last {wildcard_last!r} digits of +{number}: 0 to {national} may be",
            code="invalid_pattern",
            details={"input": repr(wildcard_last), "reason": "bad_wildcards"},
        )
    return Pattern(number // 10**wildcard_last, len(digits) - wildcard_last, len(digits))

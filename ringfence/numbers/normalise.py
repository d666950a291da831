"""The single normalisation path: raw text in, E.164 digits (``int``) out, or :class:`InvalidNumber`.

Acceptance is *exactly* ``phonenumbers.parse(raw, region)`` followed by ``phonenumbers.is_possible_number``
(``IS_POSSIBLE`` only: a length that is possible only for local dialling, without the area code, is refused),
and the value is phonenumbers' E.164 number
(country code followed by the national significant number, Italian leading zeros included) — with two
deliberate restrictions, because a fraud registry must never list a number that was guessed:

* **No letters.**  phonenumbers turns vanity numbers such as ``"1-800-FLOWERS"`` into digits; we reject any
  input containing a letter, apart from a leading ``tel:`` URI scheme (case-insensitive).  RFC 3966
  parameters such as ``;phone-context=`` are therefore rejected too.
* **No extensions.**  ``"… ext 12"``, ``"… x12"`` and any other extension phonenumbers recognises (for example
  ``"…#12"``) are rejected: extensions are not numbers we list.

Reason codes (``InvalidNumber.reason``; stable, part of the API):

``not_a_string``          the input is not a ``str``
``empty``                 nothing but whitespace
``not_a_number``          letters, an extension, an all-zero national number, or junk phonenumbers cannot read
``invalid_country_code``  ``+``/IDD followed by an unknown country calling code
``no_region``             national format (no ``+``) and no (valid) default region given
``too_short``             too few digits (after the IDD, in the NSN, or for the country's numbering plan)
``too_long``              too many digits (more than 17 NSN digits, or longer than any length of the country)
``unstable``              leading zeros that the E.164 form would not keep (``000001`` in DE): no stable identity
``local_only``            a length dialled only locally, without the area code (e.g. +44 2079)
``not_possible``          a length between the country's shortest and longest that the country does not use
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

from ringfence.errors import InvalidNumber

__all__ = ["EXPLANATIONS", "format_e164", "invalid", "normalise"]

EXPLANATIONS: dict[str, str] = {
    "not_a_string": "phone numbers must be given as text",
    "empty": "the input is empty",
    "not_a_number": "it contains letters, an extension or other characters that are not part of a phone number",
    "invalid_country_code": "the country calling code is not recognised",
    "no_region": "it is in national format and no default region was given",
    "too_short": "it has too few digits",
    "too_long": "it has too many digits",
    "not_possible": "its length is not used by the numbering plan of its country",
    "local_only": "it is a local number only (the area code is missing)",
    "unstable": "its leading zeros make its E.164 form read back as a different number",
}

_PARSE_REASON = {
    NumberParseException.INVALID_COUNTRY_CODE: "invalid_country_code",
    NumberParseException.NOT_A_NUMBER: "not_a_number",
    NumberParseException.TOO_SHORT_AFTER_IDD: "too_short",
    NumberParseException.TOO_SHORT_NSN: "too_short",
    NumberParseException.TOO_LONG: "too_long",
}
_NO_REGION_MESSAGE = "Missing or invalid default region."

#: ``is_possible_number_with_reason`` result -> reason code (``None`` = possible).
POSSIBLE_REASON: dict[int, str | None] = {
    ValidationResult.IS_POSSIBLE: None,
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "local_only",
    ValidationResult.INVALID_COUNTRY_CODE: "invalid_country_code",
    ValidationResult.TOO_SHORT: "too_short",
    ValidationResult.TOO_LONG: "too_long",
    ValidationResult.INVALID_LENGTH: "not_possible",
}


def invalid(raw: object, reason: str) -> InvalidNumber:
    """The error for ``raw``; the explanation depends only on ``reason`` so every path builds the same error."""
    return InvalidNumber(raw, reason, EXPLANATIONS[reason])


def _has_letters(raw: str) -> bool:
    body = raw.lstrip()
    if body[:4].lower() == "tel:":
        body = body[4:]
    return any(ch.isalpha() for ch in body)


def normalise(raw: str, region: str | None = None) -> int:
    """Parse ``raw`` (optionally national format for ``region``, e.g. ``"GB"``) into E.164 digits as an int.

    ``"+44 20 7946 0018"``, ``"0044 20 7946 0018"``, ``"+44 (0)20 7946-0018"``, ``"tel:+44-20-7946-0018"`` and
    ``normalise("020 7946 0018", "GB")`` all give ``442079460018``.  Raises :class:`InvalidNumber` with one of
    the module's reason codes.
    """
    if not isinstance(raw, str):
        raise invalid(raw, "not_a_string")
    if not raw.strip():
        raise invalid(raw, "empty")
    if _has_letters(raw):
        raise invalid(raw, "not_a_number")
    try:
        parsed = phonenumbers.parse(raw, region)
    except NumberParseException as exc:
        if exc.error_type == NumberParseException.INVALID_COUNTRY_CODE and _NO_REGION_MESSAGE in str(exc):
            raise invalid(raw, "no_region") from None
        raise invalid(raw, _PARSE_REASON.get(exc.error_type, "not_a_number")) from None
    if parsed.extension or parsed.national_number == 0:  # an all-zero national number is no one's number
        raise invalid(raw, "not_a_number")
    reason = POSSIBLE_REASON[phonenumbers.is_possible_number_with_reason(parsed)]
    if reason is not None:
        raise invalid(raw, reason)
    country_code = int(parsed.country_code or 0)
    nsn = phonenumbers.national_significant_number(parsed)
    if nsn.startswith("0") and not _stable(country_code, nsn):
        raise invalid(raw, "unstable")
    return int(f"{country_code}{nsn}")


def _stable(country_code: int, nsn: str) -> bool:
    """Whether the E.164 text of a number reads back as the same number. With leading zeros in the national number,
    phonenumbers may strip some as a national prefix when it reads the E.164 form (``000001`` in DE gives
    ``+4900001``, which reads back as ``+490001``): such a number could not be looked up again as stored."""
    try:
        again = phonenumbers.parse(f"+{country_code}{nsn}")
    except NumberParseException:
        return False
    return bool(again.country_code == country_code and phonenumbers.national_significant_number(again) == nsn)


def format_e164(number: int) -> str:
    """E.164 text of the digits ``number``: ``format_e164(442079460018) == "+442079460018"``."""
    return f"+{int(number)}"

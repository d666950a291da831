"""Value types of the numbers module: the number classification and the per-number info record."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = ["NUMBER_TYPES", "NumberInfo", "NumberType", "from_phonenumbers_type"]


class NumberType(StrEnum):
    """Kind of number, one-to-one with ``phonenumbers.PhoneNumberType``."""

    MOBILE = "mobile"
    FIXED_LINE = "fixed_line"
    FIXED_LINE_OR_MOBILE = "fixed_line_or_mobile"
    TOLL_FREE = "toll_free"
    PREMIUM_RATE = "premium_rate"
    SHARED_COST = "shared_cost"
    VOIP = "voip"
    PERSONAL_NUMBER = "personal_number"
    PAGER = "pager"
    UAN = "uan"
    VOICEMAIL = "voicemail"
    UNKNOWN = "unknown"


#: Order of the type codes returned by ``info_many`` (``NUMBER_TYPES[code]``).
NUMBER_TYPES: tuple[NumberType, ...] = tuple(NumberType)

# phonenumbers.PhoneNumberType integer values (stable public constants of the library).
_PN_TYPE = {
    0: NumberType.FIXED_LINE,
    1: NumberType.MOBILE,
    2: NumberType.FIXED_LINE_OR_MOBILE,
    3: NumberType.TOLL_FREE,
    4: NumberType.PREMIUM_RATE,
    5: NumberType.SHARED_COST,
    6: NumberType.VOIP,
    7: NumberType.PERSONAL_NUMBER,
    8: NumberType.PAGER,
    9: NumberType.UAN,
    10: NumberType.VOICEMAIL,
    99: NumberType.UNKNOWN,
}


def from_phonenumbers_type(value: int) -> NumberType:
    """Map a ``phonenumbers.PhoneNumberType`` value to :class:`NumberType`."""
    return _PN_TYPE[value]


@dataclass(frozen=True, slots=True)
class NumberInfo:
    """What the numbering plan says about one number (same answers as phonenumbers).

    ``country`` is the ISO 3166 region (``"001"`` for non-geographic entities such as +800, ``None`` when no
    region of a shared country code claims the number); ``valid`` is exactly ``phonenumbers.is_valid_number``.
    """

    country: str | None
    country_code: int
    type: NumberType
    valid: bool

    def to_dict(self) -> dict[str, object]:
        return {"country": self.country, "country_code": self.country_code, "type": str(self.type), "valid": self.valid}

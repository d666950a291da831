"""Reading the server's JSON answers into typed values, field by field, with the type of each field checked.

A missing field or one of the wrong type raises :class:`~ringfence.client.errors.UnexpectedAnswer` naming the field
(``results[3].listing.report_count``), so a server that does not keep the API's promises fails clearly, never with a
``KeyError`` from inside the client.
"""

from __future__ import annotations

from datetime import datetime

import orjson

from ringfence.client.errors import UnexpectedAnswer

__all__ = ["Fields", "loads"]


def loads(content: bytes, what: str = "the answer") -> object:
    """Parse JSON bytes, or raise UnexpectedAnswer."""
    try:
        value: object = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        start = content[:120].decode("utf-8", "replace")
        raise UnexpectedAnswer(
            f"{what} is not JSON ({exc}): {start!r}", code="unexpected_answer", details={"body": start}
        ) from None
    return value


def _wrong(where: str, expected: str, value: object) -> UnexpectedAnswer:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return UnexpectedAnswer(
        f"unexpected answer: {where} should be {expected}, got {shown}",
        code="unexpected_answer",
        details={"field": where},
    )


class Fields:
    """A JSON object of an answer; ``where`` names it in error messages (``results[2].info``)."""

    __slots__ = ("_values", "where")

    def __init__(self, value: object, where: str = "the answer") -> None:
        if not isinstance(value, dict):
            raise _wrong(where, "a JSON object", value)
        self._values: dict[str, object] = value
        self.where = where

    def _path(self, name: str) -> str:
        return name if self.where == "the answer" else f"{self.where}.{name}"

    def has(self, name: str) -> bool:
        return name in self._values

    def raw(self, name: str) -> object:
        """The value as it came (``None`` when missing)."""
        return self._values.get(name)

    def _get(self, name: str) -> object:
        if name not in self._values:
            raise UnexpectedAnswer(
                f"unexpected answer: {self._path(name)} is missing",
                code="unexpected_answer",
                details={"field": self._path(name)},
            )
        return self._values[name]

    def text(self, name: str) -> str:
        value = self._get(name)
        if not isinstance(value, str):
            raise _wrong(self._path(name), "a string", value)
        return value

    def maybe_text(self, name: str) -> str | None:
        value = self._values.get(name)
        return None if value is None else self.text(name)

    def integer(self, name: str) -> int:
        value = self._get(name)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _wrong(self._path(name), "an integer", value)
        return value

    def maybe_integer(self, name: str) -> int | None:
        value = self._values.get(name)
        return None if value is None else self.integer(name)

    def flag(self, name: str) -> bool:
        value = self._get(name)
        if not isinstance(value, bool):
            raise _wrong(self._path(name), "true or false", value)
        return value

    def moment(self, name: str) -> datetime:
        """An ISO 8601 time (the server writes UTC with a Z)."""
        text = self.text(name)
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            raise _wrong(self._path(name), "an ISO 8601 time", text) from None

    def maybe_moment(self, name: str) -> datetime | None:
        value = self._values.get(name)
        return None if value is None else self.moment(name)

    def texts(self, name: str) -> tuple[str, ...]:
        values = self.items(name)
        for i, value in enumerate(values):
            if not isinstance(value, str):
                raise _wrong(f"{self._path(name)}[{i}]", "a string", value)
        return tuple(str(v) for v in values)

    def items(self, name: str) -> list[object]:
        value = self._get(name)
        if not isinstance(value, list):
            raise _wrong(self._path(name), "a list", value)
        return value

    def fields(self, name: str) -> Fields:
        return Fields(self._get(name), self._path(name))

    def maybe_fields(self, name: str) -> Fields | None:
        value = self._values.get(name)
        return None if value is None else Fields(value, self._path(name))

    def mapping(self, name: str) -> dict[str, object]:
        """A free-form object (error details); missing or null reads as ``{}``."""
        value = self._values.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise _wrong(self._path(name), "a JSON object", value)
        return value

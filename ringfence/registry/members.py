"""Members (organisations with a role) and their API keys."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlalchemy import Engine, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from ringfence.clock import Clock
from ringfence.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from ringfence.registry.keys import hash_secret, new_key, split_key, verify_secret
from ringfence.registry.models import Member, Role
from ringfence.store.tables import api_keys, members

__all__ = ["ApiKey", "MemberService", "Principal", "parse_role"]


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the member and the key it used."""

    member: Member
    key_id: str

    def require(self, role: Role) -> None:
        if not self.member.role.allows(role):
            raise Forbidden(
                f"member {self.member.name!r} has role {self.member.role.value}; this needs {role.value}",
                code="forbidden_role",
                details={"role": self.member.role.value, "needed": role.value},
            )


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    member_id: int
    member_name: str
    created_ms: int
    revoked_ms: int | None


def parse_role(raw: object) -> Role:
    try:
        return Role(str(raw).strip().lower())
    except ValueError:
        raise InvalidInput(
            f"unknown role {raw!r}; expected one of: {', '.join(r.value for r in Role)}",
            code="unknown_role",
            details={"input": str(raw), "allowed": [r.value for r in Role]},
        ) from None


def _member(row: object) -> Member:
    return Member(id=row.id, name=row.name, role=Role(row.role), created_ms=row.created_ms)  # type: ignore[attr-defined]


class MemberService:
    def __init__(self, engine: Engine, clock: Clock, cache_size: int = 10_000) -> None:
        self._engine = engine
        self._clock = clock
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    # --- members -------------------------------------------------------------------------------------------
    def add(self, name: str, role: Role) -> tuple[Member, str]:
        """A new member and its first key (the key text is returned once and never stored)."""
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidInput(
                "a member's name must be 1 to 200 characters", code="invalid_name", details={"input": name}
            )
        now = self._clock.now_ms()
        try:
            with self._engine.begin() as conn:
                member_id = conn.execute(
                    insert(members).values(name=name, role=role.value, created_ms=now).returning(members.c.id)
                ).scalar_one()
                key = self._insert_key(conn, member_id, now)
        except IntegrityError:
            raise Conflict(
                f"a member named {name!r} exists already", code="member_exists", details={"name": name}
            ) from None
        return Member(member_id, name, role, now), key

    def all(self) -> list[Member]:
        with self._engine.connect() as conn:
            return [_member(row) for row in conn.execute(select(members).order_by(members.c.id))]

    def get(self, name_or_id: str | int) -> Member:
        column = members.c.id if isinstance(name_or_id, int) else members.c.name
        with self._engine.connect() as conn:
            row = conn.execute(select(members).where(column == name_or_id)).first()
        if row is None:
            raise NotFound(f"no member {name_or_id!r}", code="member_not_found", details={"member": name_or_id})
        return _member(row)

    def count(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(members)).scalar_one())

    # --- keys ----------------------------------------------------------------------------------------------
    def create_key(self, member: Member) -> str:
        with self._engine.begin() as conn:
            return self._insert_key(conn, member.id, self._clock.now_ms())

    def _insert_key(self, conn: object, member_id: int, now: int) -> str:
        text, parts = new_key()
        conn.execute(  # type: ignore[attr-defined]
            insert(api_keys).values(
                id=parts.key_id, member_id=member_id, secret_hash=hash_secret(parts.secret), created_ms=now
            )
        )
        return text

    def keys(self, member: Member | None = None) -> list[ApiKey]:
        query = select(api_keys, members.c.name).join(members, members.c.id == api_keys.c.member_id)
        if member is not None:
            query = query.where(api_keys.c.member_id == member.id)
        with self._engine.connect() as conn:
            return [
                ApiKey(r.id, r.member_id, r.name, r.created_ms, r.revoked_ms)
                for r in conn.execute(query.order_by(api_keys.c.created_ms))
            ]

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key (idempotent); it stops working at once in this process."""
        key_id = key_id.strip()
        parts = split_key(key_id)
        if parts is not None:  # a whole key was given: take its id
            key_id = parts.key_id
        with self._engine.begin() as conn:
            conn.execute(
                update(api_keys)
                .where(api_keys.c.id == key_id, api_keys.c.revoked_ms.is_(None))
                .values(revoked_ms=self._clock.now_ms())
            )
        with self._lock:
            for digest in [d for d, p in self._cache.items() if p.key_id == key_id]:
                del self._cache[digest]
        for key in self.keys():
            if key.id == key_id:
                return key
        raise NotFound(f"no API key {key_id!r}", code="key_not_found", details={"key_id": key_id})

    def cached(self, key: str) -> Principal | None:
        """The principal of an already verified key, without paying the key hash (the hot path)."""
        return self._cache.get(hashlib.sha256(key.encode("utf-8", "replace")).digest())

    def authenticate(self, key: str) -> Principal:
        """The member a presented key belongs to; Unauthorized for unknown, malformed or revoked keys."""
        digest = hashlib.sha256(key.encode("utf-8", "replace")).digest()
        principal = self._cache.get(digest)
        if principal is not None:
            return principal
        parts = split_key(key)
        if parts is None:
            raise Unauthorized("the API key is malformed", code="invalid_key")
        with self._engine.connect() as conn:
            row = conn.execute(
                select(api_keys.c.secret_hash, api_keys.c.revoked_ms, members)
                .join(members, members.c.id == api_keys.c.member_id)
                .where(api_keys.c.id == parts.key_id)
            ).first()
        if row is None or not verify_secret(parts.secret, row.secret_hash):
            raise Unauthorized("the API key is not known", code="invalid_key")
        if row.revoked_ms is not None:
            raise Unauthorized("the API key has been revoked", code="revoked_key", details={"key_id": parts.key_id})
        principal = Principal(_member(row), parts.key_id)
        with self._lock:
            self._cache[digest] = principal
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return principal

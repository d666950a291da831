"""SFTP credentials: who may log in to the SFTP server, as which member, with what.

A member may have any number of OpenSSH public keys and at most one password (setting a new one revokes the old).
Passwords are stored only as salted scrypt hashes (as API keys are, see :mod:`ringfence.registry.keys`), public
keys as their OpenSSH line and SHA256 fingerprint. Every login asks the store, so a revoked credential stops
working for the next login at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

from sqlalchemy import Engine, insert, select, update

from ringfence.clock import Clock
from ringfence.errors import Conflict, InvalidInput, NotFound
from ringfence.registry.keys import hash_secret, verify_secret
from ringfence.registry.models import Member, Role
from ringfence.registry.views import iso
from ringfence.store.tables import members, sftp_credentials

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "PublicKey",
    "SftpCredential",
    "SftpCredentials",
    "credential_view",
    "parse_public_key",
]

MIN_PASSWORD: Final = 12
MAX_PASSWORD: Final = 1024
_MAX_KEY_TEXT: Final = 64 * 1024

Kind = Literal["password", "publickey"]


@dataclass(frozen=True, slots=True)
class PublicKey:
    """An OpenSSH public key as ringfence keeps it."""

    line: str  # "<type> <base64> [comment]"
    algorithm: str
    fingerprint: str  # SHA256:<base64>, as ssh-keygen -l prints it
    comment: str | None


@dataclass(frozen=True, slots=True)
class SftpCredential:
    id: int
    member_id: int
    member_name: str
    kind: Kind
    fingerprint: str | None
    public_key: str | None
    created_ms: int
    revoked_ms: int | None


def credential_view(credential: SftpCredential) -> dict[str, Any]:
    """A credential as listed: never a password hash."""
    algorithm = comment = None
    if credential.public_key:
        parts = credential.public_key.split(None, 2)
        algorithm = parts[0]
        comment = parts[2] if len(parts) > 2 else None
    return {
        "id": credential.id,
        "member": credential.member_name,
        "kind": credential.kind,
        "algorithm": algorithm,
        "fingerprint": credential.fingerprint,
        "comment": comment,
        "created_at": iso(credential.created_ms),
        "revoked_at": iso(credential.revoked_ms),
    }


def parse_public_key(text: str) -> PublicKey:
    """One OpenSSH public key (an ``id_ed25519.pub`` line, or an RFC 4716 block); InvalidInput saying what is wrong
    with anything else (a private key, several keys, garbage)."""
    import asyncssh  # local: the CLI should not pay for the SSH stack unless it handles keys

    if len(text) > _MAX_KEY_TEXT:
        raise InvalidInput("the public key file is too large to be one public key", code="invalid_public_key")
    if "PRIVATE KEY" in text:
        raise InvalidInput(
            "this is a private key: give the member's public key (the .pub file), and keep the private key secret",
            code="private_key_given",
        )
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise InvalidInput("no public key found (the file is empty)", code="invalid_public_key")
    single = "\n".join(lines) if lines[0].startswith("---- BEGIN SSH2 PUBLIC KEY") else lines[0]
    if single == lines[0] and len(lines) > 1:
        raise InvalidInput(
            f"the file holds {len(lines)} lines; give one public key at a time", code="invalid_public_key"
        )
    try:
        key = asyncssh.import_public_key(single)
    except (asyncssh.KeyImportError, ValueError, TypeError) as exc:
        raise InvalidInput(
            f"not an OpenSSH public key: {exc}; expected a line such as 'ssh-ed25519 AAAA... name@host'",
            code="invalid_public_key",
        ) from None
    algorithm = key.get_algorithm()
    blob = key.export_public_key("openssh").decode().split()[1]
    comment = key.get_comment()
    line = f"{algorithm} {blob}" + (f" {comment}" if comment else "")
    return PublicKey(line, algorithm, key.get_fingerprint("sha256"), comment)


@cache
def _dummy_hash() -> str:
    """Checked when the user name is unknown, so a refusal takes as long whether or not the member exists."""
    return hash_secret("ringfence-no-such-member")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"an SFTP password must have at least {MIN_PASSWORD} characters", code="weak_password")
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(f"an SFTP password has at most {MAX_PASSWORD} characters", code="invalid_password")
    if "\n" in password or "\r" in password or "\x00" in password:
        raise InvalidInput("an SFTP password cannot contain line breaks or NUL", code="invalid_password")


def _credential(row: Any) -> SftpCredential:
    return SftpCredential(
        id=row.id,
        member_id=row.member_id,
        member_name=row.name,
        kind=row.kind,
        fingerprint=row.fingerprint,
        public_key=row.public_key,
        created_ms=row.created_ms,
        revoked_ms=row.revoked_ms,
    )


def _member(row: Any) -> Member:
    return Member(row.member_id, row.name, Role(row.role), row.member_created_ms)


class SftpCredentials:
    """The ``sftp_credentials`` table: add, list, revoke, and check a login."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self._engine = engine
        self._clock = clock

    def _query(self) -> Any:
        return select(
            sftp_credentials,
            members.c.name,
            members.c.role,
            members.c.created_ms.label("member_created_ms"),
        ).join(members, members.c.id == sftp_credentials.c.member_id)

    # --- management ----------------------------------------------------------------------------------------
    def add_key(self, member: Member, text: str) -> SftpCredential:
        """Let ``member`` log in with the public key in ``text``. A key serves one member only."""
        key = parse_public_key(text)
        with self._engine.begin() as conn:
            holder = conn.execute(
                self._query().where(
                    sftp_credentials.c.fingerprint == key.fingerprint, sftp_credentials.c.revoked_ms.is_(None)
                )
            ).first()
            if holder is not None:
                raise Conflict(
                    f"this key ({key.fingerprint}) is already registered for member {holder.name!r} as credential "
                    f"{holder.id}",
                    code="key_in_use",
                    details={"fingerprint": key.fingerprint, "id": holder.id},
                )
            new_id = conn.execute(
                insert(sftp_credentials)
                .values(
                    member_id=member.id,
                    kind="publickey",
                    public_key=key.line,
                    fingerprint=key.fingerprint,
                    created_ms=self._clock.now_ms(),
                )
                .returning(sftp_credentials.c.id)
            ).scalar_one()
        return self.get(new_id)

    def set_password(self, member: Member, password: str) -> SftpCredential:
        """Let ``member`` log in with ``password``; its previous password, if any, stops working."""
        _check_password(password)
        hashed = hash_secret(password)
        now = self._clock.now_ms()
        with self._engine.begin() as conn:
            conn.execute(
                update(sftp_credentials)
                .where(
                    sftp_credentials.c.member_id == member.id,
                    sftp_credentials.c.kind == "password",
                    sftp_credentials.c.revoked_ms.is_(None),
                )
                .values(revoked_ms=now)
            )
            new_id = conn.execute(
                insert(sftp_credentials)
                .values(member_id=member.id, kind="password", secret_hash=hashed, created_ms=now)
                .returning(sftp_credentials.c.id)
            ).scalar_one()
        return self.get(new_id)

    def get(self, credential_id: int) -> SftpCredential:
        with self._engine.connect() as conn:
            row = conn.execute(self._query().where(sftp_credentials.c.id == credential_id)).first()
        if row is None:
            raise NotFound(
                f"no SFTP credential {credential_id}", code="credential_not_found", details={"id": credential_id}
            )
        return _credential(row)

    def all(self, member: Member | None = None, *, include_revoked: bool = True) -> list[SftpCredential]:
        query = self._query()
        if member is not None:
            query = query.where(sftp_credentials.c.member_id == member.id)
        if not include_revoked:
            query = query.where(sftp_credentials.c.revoked_ms.is_(None))
        with self._engine.connect() as conn:
            return [_credential(r) for r in conn.execute(query.order_by(sftp_credentials.c.id))]

    def revoke(self, credential_id: int | str) -> SftpCredential:
        """Revoke a credential (idempotent): the next login with it is refused."""
        try:
            wanted = int(str(credential_id).strip())
        except ValueError:
            raise InvalidInput(
                f"{credential_id!r} is not a credential id (a number, see 'ringfence sftp list')",
                code="invalid_credential_id",
            ) from None
        found = self.get(wanted)
        if found.revoked_ms is None:
            with self._engine.begin() as conn:
                conn.execute(
                    update(sftp_credentials)
                    .where(sftp_credentials.c.id == wanted, sftp_credentials.c.revoked_ms.is_(None))
                    .values(revoked_ms=self._clock.now_ms())
                )
        return self.get(wanted)

    # --- logins --------------------------------------------------------------------------------------------
    def login_with_key(self, username: str, fingerprint: str) -> Member | None:
        """The member ``username`` if the key with ``fingerprint`` is one of its live credentials, else None."""
        with self._engine.connect() as conn:
            row = conn.execute(
                self._query().where(
                    members.c.name == username,
                    sftp_credentials.c.kind == "publickey",
                    sftp_credentials.c.fingerprint == fingerprint,
                    sftp_credentials.c.revoked_ms.is_(None),
                )
            ).first()
        return None if row is None else _member(row)

    def login_with_password(self, username: str, password: str) -> Member | None:
        """The member ``username`` if ``password`` is its live password, else None (in about the same time)."""
        with self._engine.connect() as conn:
            row = conn.execute(
                self._query().where(
                    members.c.name == username,
                    sftp_credentials.c.kind == "password",
                    sftp_credentials.c.revoked_ms.is_(None),
                )
            ).first()
        if row is None:
            verify_secret(password, _dummy_hash())
            return None
        return _member(row) if verify_secret(password, row.secret_hash) else None

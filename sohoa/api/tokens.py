"""Read-API tokens: created by an operator (``sohoa api token create``), stored as SHA-256 hashes only.

A token is ``sohoa_`` followed by 43 URL-safe characters (256 random bits), shown once. Only its SHA-256
is stored: with that much entropy a fast hash is as safe as a password hash, and it lets the API find a
token with one index lookup. A token may be limited to some agencies (``MaCoQuan``): it then sees only
their dossiers and documents. Tokens can expire and be revoked; the last use is recorded.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sohoa.db.connection import Connection

PREFIX = "sohoa_"


@dataclass(frozen=True)
class Token:
    """An authenticated caller. ``agencies`` None means every agency."""

    id: int
    name: str
    agencies: tuple[str, ...] | None

    def may_read(self, ma_co_quan: str | None) -> bool:
        return self.agencies is None or (ma_co_quan is not None and ma_co_quan in self.agencies)


class TokenError(ValueError):
    """A token cannot be created or changed as asked (the message says why)."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(
    conn: Connection, name: str, *, agencies: list[str] | None = None, expires_at: datetime | None = None
) -> str:
    """Create a token called ``name`` and return it (the only time it is ever shown)."""
    if not name.strip():
        raise TokenError("a token needs a name (who or what uses it)")
    token = PREFIX + secrets.token_urlsafe(32)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM sohoa.api_token WHERE name = %s", (name,))
        if cur.fetchone():
            raise TokenError(f"a token named {name!r} exists already; revoke it or choose another name")
        cur.execute(
            "INSERT INTO sohoa.api_token (name, token_sha256, agencies, expires_at) VALUES (%s, %s, %s, %s)",
            (name, token_hash(token), sorted(set(agencies)) if agencies else None, expires_at),
        )
    return token


def revoke_token(conn: Connection, name: str) -> bool:
    """Revoke the token called ``name``; False if there is no such active token."""
    with conn.cursor() as cur:
        cur.execute("UPDATE sohoa.api_token SET revoked_at = now() WHERE name = %s AND revoked_at IS NULL", (name,))
        return bool(cur.rowcount)


def authenticate(conn: Connection, token: str) -> Token | None:
    """The active token matching ``token`` (and record its use), or None."""
    if not token.startswith(PREFIX):
        return None
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE sohoa.api_token SET last_used_at = now()
                WHERE token_sha256 = %s AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
            RETURNING id, name, agencies""",
            (token_hash(token),),
        )
        row = cur.fetchone()
    if row is None:
        return None
    return Token(row[0], row[1], tuple(row[2]) if row[2] is not None else None)


def list_tokens(
    conn: Connection,
) -> list[tuple[str, list[str] | None, datetime, datetime | None, datetime | None, datetime | None]]:
    """(name, agencies, created, expires, revoked, last used) of every token, newest first."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT name, agencies, created_at, expires_at, revoked_at, last_used_at "
            "FROM sohoa.api_token ORDER BY created_at DESC, id DESC"
        )
        return list(cur.fetchall())

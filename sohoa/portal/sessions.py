"""Server-side sessions: a random cookie token, its SHA-256 in ``portal.session``, and a CSRF token.

The cookie holds the token only; the database holds its hash, the user and the session's CSRF token
(synchroniser-token pattern: every form carries it and every XHR sends it in ``X-CSRF-Token``). A session
ends after ``idle_hours`` without a request or ``max_hours`` in all, at sign-out, and when the user is
disabled or their password is reset.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sohoa.db.connection import Connection
from sohoa.portal.users import User, get_user


@dataclass(frozen=True)
class Session:
    token_sha256: str
    user: User
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def start(conn: Connection, user: User, *, max_hours: float) -> tuple[str, Session]:
    """Create a session; returns (cookie token, session). The caller commits."""
    token = new_token()
    csrf = new_token()
    with conn.cursor() as cur:
        cur.execute(
            """INSERT INTO portal.session (token_sha256, user_id, csrf_token, expires_at)
               VALUES (%s, %s, %s, now() + make_interval(secs => %s))""",
            (_digest(token), user.id, csrf, max_hours * 3600),
        )
    return token, Session(_digest(token), user, csrf)


def lookup(conn: Connection, token: str, *, idle_hours: float) -> Session | None:
    """The live session of a cookie token, or None; touches last_seen_at. The caller commits."""
    if not token or len(token) > 128:
        return None
    digest = _digest(token)
    with conn.cursor() as cur:
        cur.execute(
            """UPDATE portal.session SET last_seen_at = now()
                WHERE token_sha256 = %s AND expires_at > now()
                  AND last_seen_at > now() - make_interval(secs => %s)
            RETURNING user_id, csrf_token""",
            (digest, idle_hours * 3600),
        )
        row = cur.fetchone()
    if row is None:
        return None
    user = get_user(conn, row[0])
    if user is None or not user.active:
        return None
    return Session(digest, user, row[1])


def end(conn: Connection, token_sha256: str) -> None:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM portal.session WHERE token_sha256 = %s", (token_sha256,))


def purge_expired(conn: Connection) -> int:
    with conn.cursor() as cur:
        cur.execute("DELETE FROM portal.session WHERE expires_at < now()")
        return cur.rowcount


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of CSRF tokens."""
    return bool(given) and hmac.compare_digest(expected.encode(), (given or "").encode())

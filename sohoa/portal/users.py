"""Portal users and their roles; sign-in with lockout after repeated failures.

Roles:
- ``can_bo`` (records officer): sees and uploads for the dossiers of their own agency only (``ma_co_quan``,
  exact match: a district officer does not see the communes below it), and the inbox uploads they made;
- ``kiem_tra`` (reviewer): sees every dossier and the quality findings, reads the reports and Data Docs;
- ``quan_tri`` (administrator): everything a reviewer can, plus users and catalogues.

Lockout: ``max_failed_logins`` wrong passwords in a row lock the account for ``lockout_minutes``; a correct
password during the lock is refused too (otherwise the lock would only slow a guesser down). An
administrator can unlock earlier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sohoa.db.connection import Connection
from sohoa.portal import passwords

Role = Literal["can_bo", "kiem_tra", "quan_tri"]
ROLES: tuple[Role, ...] = ("can_bo", "kiem_tra", "quan_tri")
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")
_AGENCY = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}$")


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why (no personal data)."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    role: Role
    ma_co_quan: str | None
    active: bool
    locked_until: datetime | None = None
    failed_logins: int = 0

    @property
    def is_reviewer(self) -> bool:
        """Reviewers and administrators see every agency."""
        return self.role in ("kiem_tra", "quan_tri")

    @property
    def is_admin(self) -> bool:
        return self.role == "quan_tri"


_COLUMNS = "id, username, display_name, role, ma_co_quan, active, locked_until, failed_logins"


def _user(row: tuple[object, ...]) -> User:
    return User(*row)  # type: ignore[arg-type]


def create_user(
    conn: Connection, username: str, password: str, role: str, *, display_name: str = "", ma_co_quan: str | None = None
) -> User:
    """Create a user; the caller commits. Raises UserError or passwords.WeakPassword."""
    if not _USERNAME.match(username):
        raise UserError("tên đăng nhập: 3–64 ký tự chữ, số, '.', '_' hoặc '-' (username: 3-64 of A-Z a-z 0-9 . _ -)")
    if role not in ROLES:
        raise UserError(f"vai trò không hợp lệ: {role} (role must be one of {', '.join(ROLES)})")
    ma_co_quan = (ma_co_quan or "").strip() or None
    if role == "can_bo" and ma_co_quan is None:
        raise UserError("cán bộ phải thuộc một cơ quan (an officer needs an agency code, MaCoQuan)")
    if ma_co_quan is not None and not _AGENCY.match(ma_co_quan):
        raise UserError(f"mã cơ quan không đúng dạng ddd.dd.dd.Ldd: {ma_co_quan}")
    passwords.check_strength(password)
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM portal.user_account WHERE lower(username) = lower(%s)", (username,))
        if cur.fetchone() is not None:
            raise UserError(f"tên đăng nhập đã tồn tại: {username} (username taken)")
        cur.execute(
            f"""INSERT INTO portal.user_account (username, display_name, role, ma_co_quan, password_hash)
                VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}""",
            (username, display_name.strip(), role, ma_co_quan, passwords.hash_password(password)),
        )
        row = cur.fetchone()
    assert row is not None
    return _user(row)


def get_user(conn: Connection, user_id: int) -> User | None:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM portal.user_account WHERE id = %s", (user_id,))
        row = cur.fetchone()
    return _user(row) if row else None


def list_users(conn: Connection) -> list[User]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {_COLUMNS} FROM portal.user_account ORDER BY lower(username)")
        return [_user(r) for r in cur.fetchall()]


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt. ``user`` is set on success; ``user_id`` whenever the name exists."""

    outcome: Literal["ok", "bad_credentials", "locked", "inactive"]
    user: User | None = None
    user_id: int | None = None


def authenticate(conn: Connection, username: str, password: str, *, max_failed: int, lockout_minutes: int) -> SignIn:
    """Check a sign-in and update the failure counter and lock; the caller commits."""
    with conn.cursor() as cur:
        cur.execute(
            f"""SELECT {_COLUMNS}, password_hash, locked_until > now() FROM portal.user_account
                 WHERE lower(username) = lower(%s) FOR UPDATE""",
            (username,),
        )
        row = cur.fetchone()
        if row is None:
            passwords.burn_time(password)
            return SignIn("bad_credentials")
        user = _user(row[:8])
        stored_hash, locked = row[8], bool(row[9])
        if locked:
            return SignIn("locked", user_id=user.id)
        ok, rehash = passwords.verify(stored_hash, password)
        if not ok:
            cur.execute(
                """UPDATE portal.user_account
                      SET failed_logins = failed_logins + 1,
                          locked_until = CASE WHEN failed_logins + 1 >= %s
                                              THEN now() + make_interval(mins => %s) END
                    WHERE id = %s RETURNING locked_until IS NOT NULL""",
                (max_failed, lockout_minutes, user.id),
            )
            now_locked = cur.fetchone()
            return SignIn("locked" if now_locked and now_locked[0] else "bad_credentials", user_id=user.id)
        if not user.active:
            return SignIn("inactive", user_id=user.id)
        cur.execute(
            "UPDATE portal.user_account SET failed_logins = 0, locked_until = NULL, last_login_at = now() "
            "WHERE id = %s",
            (user.id,),
        )
        if rehash:
            cur.execute(
                "UPDATE portal.user_account SET password_hash = %s WHERE id = %s",
                (passwords.hash_password(password), user.id),
            )
    return SignIn("ok", user=user, user_id=user.id)


def set_active(conn: Connection, user_id: int, active: bool) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE portal.user_account SET active = %s WHERE id = %s", (active, user_id))
        if not active:
            cur.execute("DELETE FROM portal.session WHERE user_id = %s", (user_id,))


def unlock(conn: Connection, user_id: int) -> None:
    with conn.cursor() as cur:
        cur.execute("UPDATE portal.user_account SET failed_logins = 0, locked_until = NULL WHERE id = %s", (user_id,))


def set_password(conn: Connection, user_id: int, password: str) -> None:
    """Set a new password and end the user's sessions (a reset means the old one may be known)."""
    passwords.check_strength(password)
    with conn.cursor() as cur:
        cur.execute(
            "UPDATE portal.user_account SET password_hash = %s, password_changed_at = now() WHERE id = %s",
            (passwords.hash_password(password), user_id),
        )
        cur.execute("DELETE FROM portal.session WHERE user_id = %s", (user_id,))

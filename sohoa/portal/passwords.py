"""Password hashing with argon2id (argon2-cffi), the memory-hard KDF OWASP recommends for passwords.

Only hashes are stored. ``verify`` also tells when a stored hash uses outdated parameters, so sign-in can
re-hash it; ``burn_time`` spends the same work on unknown usernames, so response times do not reveal
which usernames exist.

Each argon2id hash takes 64 MiB for its duration, and a hash is CPU work: fifty officers signing in at
opening time used to run fifty at once (the web server's thread pool) and the portal's memory peaked at
over 800 MB (bench/portal_upload_load.py) without any sign-in finishing sooner. ``_SLOTS`` lets as many
hashes run as there are cores; the others wait their turn, which costs them no more time than sharing.
"""

from __future__ import annotations

import os
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
_SLOTS = threading.BoundedSemaphore(max(1, os.cpu_count() or 1))
_DUMMY_HASH = _hasher.hash("sohoa-portal-dummy-password")
MIN_LENGTH = 10


class WeakPassword(ValueError):
    """The password breaks the portal's password rules; the message says which."""


def check_strength(password: str) -> None:
    """At least MIN_LENGTH characters, not all of one kind (a counter PC is shared by many people)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"mật khẩu phải có ít nhất {MIN_LENGTH} ký tự (password needs {MIN_LENGTH}+ characters)")
    if password.isdigit() or password.isalpha():
        raise WeakPassword("mật khẩu phải có cả chữ và số hoặc ký hiệu (mix letters with digits or symbols)")


def hash_password(password: str) -> str:
    with _SLOTS:
        return _hasher.hash(password)


def verify(stored_hash: str, password: str) -> tuple[bool, bool]:
    """(matches, needs_rehash)."""
    try:
        with _SLOTS:
            _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False, False
    return True, _hasher.check_needs_rehash(stored_hash)


def burn_time(password: str) -> None:
    """Verify against a dummy hash: the same cost as a real check, for usernames that do not exist."""
    verify(_DUMMY_HASH, password)

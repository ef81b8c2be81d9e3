"""Personal data handling: keyed pseudonyms of identity numbers (Decree 13/2023).

The published dataset carries ``HMAC-SHA256(key, number)`` instead of a CCCD or tax code; the key comes
from configuration (``SOHOA_PSEUDONYM_KEY``) and is never stored with the data, so the pseudonym links a
person's dossiers without revealing or allowing a dictionary attack on the number.
"""

from __future__ import annotations

import functools
import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _hashlib import HASH

_BLOCK = 64  # SHA-256's block size, in bytes


def pseudonym(key: bytes, identity_number: str | None) -> str | None:
    """Keyed pseudonym (hex) of an identity number, blind to spaces and letter case; None for none."""
    if not identity_number:
        return None
    if identity_number.isdigit() and identity_number.isascii():
        normalised = identity_number  # the usual number: nothing to remove or fold
    else:
        normalised = "".join(identity_number.split()).upper()
        if not normalised:
            return None
    inner, outer = _keyed(key)
    inner = inner.copy()
    inner.update(normalised.encode())
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> tuple[HASH, HASH]:
    """HMAC-SHA256 (RFC 2104) of ``key`` up to its message: the inner and outer hashes after their padded key.

    Copying these two states for each number gives ``hmac.digest(key, number, "sha256")`` at less than half
    its cost (which sets the key up again on every call); a loader computes one pseudonym per line.
    """
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
    return inner, outer

"""Personal data handling: keyed pseudonyms of identity numbers (Decree 13/2023).

The published dataset carries ``HMAC-SHA256(key, number)`` instead of a CCCD or tax code; the key comes
from configuration (``SOHOA_PSEUDONYM_KEY``) and is never stored with the data, so the pseudonym links a
person's dossiers without revealing or allowing a dictionary attack on the number.
"""

from __future__ import annotations

import functools
import hmac


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
    mac = _keyed(key).copy()
    mac.update(normalised.encode())
    return mac.hexdigest()


@functools.lru_cache(maxsize=4)
def _keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 of ``key`` with no message yet: copying it for each number gives ``hmac.digest(key, number,
    "sha256")`` without setting the key up again on every call (a loader computes one pseudonym per line)."""
    return hmac.new(key, digestmod="sha256")

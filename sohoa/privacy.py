"""Personal data handling: keyed pseudonyms of identity numbers (Decree 13/2023).

The published dataset carries ``HMAC-SHA256(key, number)`` instead of a CCCD or tax code; the key comes
from configuration (``SOHOA_PSEUDONYM_KEY``) and is never stored with the data, so the pseudonym links a
person's dossiers without revealing or allowing a dictionary attack on the number.
"""

from __future__ import annotations

import hmac


def pseudonym(key: bytes, identity_number: str | None) -> str | None:
    """Keyed pseudonym (hex) of an identity number, blind to spaces and letter case; None for none."""
    if not identity_number:
        return None
    normalised = "".join(identity_number.split()).upper()
    if not normalised:
        return None
    return hmac.digest(key, normalised.encode(), "sha256").hex()  # one-shot HMAC: same value, faster

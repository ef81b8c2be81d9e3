"""``sohoa db migrate``: apply the SQL migrations of ``schemas/migrations`` with yoyo.

yoyo records what it applied in its own table and takes a lock, so running this from several processes
at once, or again and again, applies each migration exactly once.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parents[2] / "schemas" / "migrations"


def migrate(dsn: str) -> list[str]:
    """Apply the pending migrations; return the ids applied now (empty when up to date)."""
    from yoyo import get_backend, read_migrations

    backend = get_backend(dsn)
    migrations = read_migrations(str(MIGRATIONS))
    with backend.lock():
        pending = backend.to_apply(migrations)
        ids = [m.id for m in pending]
        backend.apply_migrations(pending)
    if ids:
        log.info("applied migrations: %s", ", ".join(ids))
    return ids

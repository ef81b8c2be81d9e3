"""Immutable snapshots of the "1 có" dataset in the ``published`` bucket (contracts/outputs.md).

A snapshot is ``1co/snapshot=<YYYYMMDDTHHMMSSZ>/`` holding ``ho_so.parquet``, ``giay_to.parquet``, the
national-portal projection and ``manifest.json`` (rows, bytes, SHA-256 per file, schema version). The
order of writes is what makes it safe to read at any moment:

1. both views are read in one REPEATABLE READ, READ ONLY transaction (the two files agree with each
   other), streamed to local files in bounded memory;
2. the data files are uploaded, then the manifest, then ``1co/LATEST`` (the snapshot id), last. A
   reader that starts from ``LATEST`` (or requires a manifest) never sees a partial snapshot; a publish
   that fails removes what it uploaded, and retention removes any folder without a manifest that a crash
   left behind once it is older than a grace period.

Decisions where the contract is silent:

- publishing when nothing changed writes nothing: the files are deterministic (a total row order, fixed
  compression, no timestamps inside), so equal hashes with the snapshot in ``LATEST`` mean equal data;
  the summary says ``unchanged`` (``force=True`` publishes anyway). Running twice never duplicates;
- one publish at a time (a PostgreSQL advisory lock); ids only grow, even within one second;
- retention keeps the newest ``SOHOA_PUBLISH_KEEP_SNAPSHOTS`` complete snapshots and never the one in
  ``LATEST``; deleted snapshots stay listed in ``sohoa.publish_snapshot`` with ``deleted_at``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg2
import psycopg2.extensions
from minio import Minio
from minio.error import S3Error

from sohoa.config import Settings
from sohoa.db.connection import connect
from sohoa.publish import contract
from sohoa.publish.options import PublishOptions, api_options, publish_options
from sohoa.publish.parquet_export import export_view
from sohoa.publish.portal import FILE_NAME as PORTAL_FILE
from sohoa.publish.portal import export_portal
from sohoa.storage import s3

log = logging.getLogger(__name__)

ROOT = "1co"
LATEST_KEY = f"{ROOT}/LATEST"
_LOCK_ID = 0x50B4_1C0  # advisory lock: one publisher at a time
_ID_FORMAT = "%Y%m%dT%H%M%SZ"

Report = Callable[[str], None]


@dataclass(frozen=True)
class PublishedFile:
    key: str
    rows: int
    bytes: int
    sha256: str


@dataclass
class PublishSummary:
    """What a publish did. ``status`` is ``published`` or ``unchanged`` (then ``snapshot`` is the one in
    ``LATEST``, which already holds exactly this data)."""

    status: str
    snapshot: str
    schema_version: str
    files: list[PublishedFile] = field(default_factory=list)
    seconds: float = 0.0
    deleted: list[str] = field(default_factory=list)

    def rows(self, name: str) -> int:
        return next((f.rows for f in self.files if f.key.endswith("/" + name)), 0)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class PublishError(RuntimeError):
    """Publishing failed; nothing became visible (``LATEST`` unchanged)."""


def snapshot_prefix(snapshot_id: str) -> str:
    return f"{ROOT}/snapshot={snapshot_id}/"


def latest_snapshot(client: Minio, bucket: str) -> str | None:
    """The id in ``1co/LATEST``, or None before the first publish."""
    if not s3.exists(client, bucket, LATEST_KEY):
        return None
    return s3.get_bytes(client, bucket, LATEST_KEY).decode().strip() or None


def read_manifest(client: Minio, bucket: str, snapshot_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(s3.get_bytes(client, bucket, snapshot_prefix(snapshot_id) + "manifest.json"))
    return data


def publish(
    settings: Settings, *, force: bool = False, options: PublishOptions | None = None, report: Report | None = None
) -> PublishSummary:
    """Publish a new snapshot (or nothing, when the data equals the latest one); apply retention.

    Raises PublishError (after removing what it uploaded) or the PostgreSQL/S3 error that stopped it;
    either way ``LATEST`` still names the previous complete snapshot.
    """
    options = options or publish_options()
    say = report or (lambda _m: None)
    started = time.perf_counter()
    client = s3.make_client(settings)
    bucket = settings.bucket_published
    if not client.bucket_exists(bucket):
        client.make_bucket(bucket)
    lock = psycopg2.connect(settings.dsn(), application_name="sohoa-publish-lock")
    lock.autocommit = True
    try:
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        previous = latest_snapshot(client, bucket)
        snapshot_id = _next_id(lock, previous)
        with tempfile.TemporaryDirectory(prefix="sohoa-publish-") as tmp:
            files = _write_files(settings, Path(tmp), snapshot_id, options, say)
            if previous and not force and _same_data(client, bucket, previous, files):
                summary = PublishSummary("unchanged", previous, contract.schema_version())
            else:
                summary = _upload(client, bucket, lock, snapshot_id, files, say, started)
        summary.deleted = apply_retention(client, bucket, lock, options, say)
        summary.seconds = round(time.perf_counter() - started, 3)
        return summary
    finally:
        lock.close()  # releases the advisory lock


@dataclass(frozen=True)
class _LocalFile:
    name: str
    path: Path
    rows: int
    bytes: int
    sha256: str


def _write_files(
    settings: Settings, folder: Path, snapshot_id: str, options: PublishOptions, say: Report
) -> list[_LocalFile]:
    out = []
    with connect(settings) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ, readonly=True)
        for table in contract.TABLES:
            path = folder / f"{table}.parquet"
            say(f"snapshot {snapshot_id}: exporting publish.{table}")
            rows = export_view(
                conn, table, path, block_bytes=options.batch_bytes, row_group_rows=options.row_group_rows
            )
            out.append(_local(path, rows))
        path = folder / PORTAL_FILE
        say(f"snapshot {snapshot_id}: exporting the national-portal projection")
        rows = export_portal(conn, path, api_options().base_url())
        out.append(_local(path, rows))
    return out


def _local(path: Path, rows: int) -> _LocalFile:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return _LocalFile(path.name, path, rows, path.stat().st_size, digest.hexdigest())


def _next_id(lock: psycopg2.extensions.connection, latest: str | None) -> str:
    """Now in UTC to the second, strictly after every snapshot registered or named by LATEST (so ids
    only grow, even if the register was restored from an older backup)."""
    with lock.cursor() as cur:
        cur.execute("SELECT max(snapshot_id) FROM sohoa.publish_snapshot")
        row = cur.fetchone()
    last = max(filter(None, [row[0] if row else None, latest]), default=None)
    while True:
        now = datetime.now(UTC)
        candidate = now.strftime(_ID_FORMAT)
        if last is None or candidate > last:
            return candidate
        if last > (now + timedelta(minutes=1)).strftime(_ID_FORMAT):
            raise PublishError(f"the latest snapshot {last} is in the future: check this machine's clock")
        time.sleep(0.2)


def _same_data(client: Minio, bucket: str, previous: str, files: list[_LocalFile]) -> bool:
    try:
        manifest = read_manifest(client, bucket, previous)
    except S3Error:
        return False
    if manifest.get("schema_version") != contract.schema_version():
        return False
    old = {f["key"].rsplit("/", 1)[-1]: f["sha256"] for f in manifest.get("files", [])}
    return old == {f.name: f.sha256 for f in files}


def _upload(
    client: Minio,
    bucket: str,
    lock: psycopg2.extensions.connection,
    snapshot_id: str,
    files: list[_LocalFile],
    say: Report,
    started: float,
) -> PublishSummary:
    prefix = snapshot_prefix(snapshot_id)
    published = [PublishedFile(prefix + f.name, f.rows, f.bytes, f.sha256) for f in files]
    manifest = {
        "snapshot": snapshot_id,
        "created_at": datetime.strptime(snapshot_id, _ID_FORMAT).replace(tzinfo=UTC).isoformat(),
        "schema_version": contract.schema_version(),
        "files": [asdict(f) for f in published],
    }
    try:
        for local in files:
            say(f"snapshot {snapshot_id}: uploading {local.name} ({local.bytes} bytes)")
            content_type = "application/vnd.apache.parquet" if local.name.endswith(".parquet") else "application/gzip"
            s3.put_file(client, bucket, prefix + local.name, local.path, content_type)
        s3.put_bytes(
            client, bucket, prefix + "manifest.json", json.dumps(manifest, indent=2).encode(), "application/json"
        )
        with lock.cursor() as cur:
            cur.execute(
                """INSERT INTO sohoa.publish_snapshot
                       (snapshot_id, created_at, schema_version, manifest, total_bytes, seconds)
                   VALUES (%s, %s, %s, %s, %s, %s)""",
                (
                    snapshot_id,
                    manifest["created_at"],
                    manifest["schema_version"],
                    json.dumps(manifest),
                    sum(f.bytes for f in files),
                    round(time.perf_counter() - started, 3),
                ),
            )
        s3.put_bytes(client, bucket, LATEST_KEY, snapshot_id.encode(), "text/plain")  # last: now visible
    except Exception as exc:
        _remove_prefix(client, bucket, prefix)
        with lock.cursor() as cur:
            cur.execute("DELETE FROM sohoa.publish_snapshot WHERE snapshot_id = %s", (snapshot_id,))
        raise PublishError(
            f"snapshot {snapshot_id} not published ({type(exc).__name__}: {exc}); "
            "LATEST still names the previous snapshot"
        ) from exc
    say(f"snapshot {snapshot_id} published")
    log.info("published snapshot %s", snapshot_id)
    return PublishSummary("published", snapshot_id, contract.schema_version(), published)


def list_snapshots(client: Minio, bucket: str) -> dict[str, bool]:
    """Every snapshot folder in the bucket, id -> complete (has a manifest)."""
    found: dict[str, bool] = {}
    for obj in s3.list_objects(client, bucket, f"{ROOT}/snapshot="):
        snapshot_id = obj.key[len(ROOT) + len("/snapshot=") :].split("/", 1)[0]
        found[snapshot_id] = found.get(snapshot_id, False) or obj.key.endswith("/manifest.json")
    return found


def apply_retention(
    client: Minio, bucket: str, lock: psycopg2.extensions.connection, options: PublishOptions, say: Report
) -> list[str]:
    """Delete complete snapshots beyond the newest ``keep_snapshots`` (never the one in LATEST), and
    folders without a manifest older than the grace period. Returns the ids deleted."""
    latest = latest_snapshot(client, bucket)
    snapshots = list_snapshots(client, bucket)
    complete = sorted((s for s, ok in snapshots.items() if ok), reverse=True)
    keep = set(complete[: max(options.keep_snapshots, 1)])
    if latest:
        keep.add(latest)
    now = datetime.now(UTC)
    doomed = []
    for snapshot_id, ok in sorted(snapshots.items()):
        if snapshot_id in keep:
            continue
        if not ok:
            try:
                age = (now - datetime.strptime(snapshot_id, _ID_FORMAT).replace(tzinfo=UTC)).total_seconds()
            except ValueError:
                continue  # not ours: leave it
            if age < options.incomplete_grace_s:
                continue
        doomed.append(snapshot_id)
    for snapshot_id in doomed:
        _remove_prefix(client, bucket, snapshot_prefix(snapshot_id))
        say(f"retention: deleted snapshot {snapshot_id}")
    if doomed:
        with lock.cursor() as cur:
            cur.execute(
                "UPDATE sohoa.publish_snapshot SET deleted_at = now() "
                "WHERE snapshot_id = ANY(%s) AND deleted_at IS NULL",
                (doomed,),
            )
    return doomed


def _remove_prefix(client: Minio, bucket: str, prefix: str) -> None:
    keys = [o.key for o in s3.list_objects(client, bucket, prefix)]
    # The manifest goes first, so a folder being deleted is never mistaken for a complete snapshot.
    keys.sort(key=lambda k: not k.endswith("/manifest.json"))
    for key in keys:
        client.remove_object(bucket, key)

"""S3 object storage through the ``minio`` SDK: buckets, content-addressed originals, derived artefacts.

Keys never carry personal data: originals are keyed by their SHA-256, derived artefacts by the SHA-256
of the original they come from, quarantined files by their own SHA-256.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from minio import Minio
from minio.error import S3Error

from sohoa.config import Settings

log = logging.getLogger(__name__)

CHUNK = 8 * 1024 * 1024
_MISSING = ("NoSuchKey", "NoSuchObject", "NotFound")


@dataclass(frozen=True)
class LandingObject:
    key: str
    etag: str
    size: int
    last_modified: datetime | None


def make_client(settings: Settings) -> Minio:
    return Minio(
        settings.s3_host(),
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=settings.s3_url().startswith("https://"),
        region=settings.s3_region,
    )


def make_presigning_client(settings: Settings, public_endpoint: str | None) -> Minio:
    """A client that signs URLs for ``public_endpoint`` (``https://host[:port]`` or ``host:port``), so a
    presigned link works from where downstream systems are; without one, the ordinary client.

    Presigning is computed locally (the region is given, so the SDK asks the server nothing): the public
    host need not be reachable from sohoa itself.
    """
    if not public_endpoint:
        return make_client(settings)
    parts = urlsplit(public_endpoint if "://" in public_endpoint else f"http://{public_endpoint}")
    return Minio(
        parts.netloc,
        access_key=settings.s3_access_key,
        secret_key=settings.s3_secret_key.get_secret_value(),
        secure=parts.scheme == "https",
        region=settings.s3_region,
    )


def ensure_buckets(client: Minio, settings: Settings) -> None:
    for bucket in (
        settings.bucket_landing,
        settings.bucket_raw,
        settings.bucket_derived,
        settings.bucket_quarantine,
        settings.bucket_published,
    ):
        if not client.bucket_exists(bucket):
            try:
                client.make_bucket(bucket)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise


def list_objects(client: Minio, bucket: str, prefix: str = "") -> Iterator[LandingObject]:
    for obj in client.list_objects(bucket, prefix=prefix or None, recursive=True):
        if obj.is_dir or obj.object_name is None:
            continue
        yield LandingObject(obj.object_name, (obj.etag or "").strip('"'), obj.size or 0, obj.last_modified)


def get_bytes(client: Minio, bucket: str, key: str) -> bytes:
    response = client.get_object(bucket, key)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def _chunks(client: Minio, bucket: str, key: str) -> Iterator[bytes]:
    response = client.get_object(bucket, key)
    try:
        yield from response.stream(CHUNK)
    finally:
        response.close()
        response.release_conn()


def download(client: Minio, bucket: str, key: str, path: Path) -> str:
    """Stream an object to ``path`` and return the SHA-256 of its bytes."""
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for chunk in _chunks(client, bucket, key):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()


def sha256_of(client: Minio, bucket: str, key: str) -> str | None:
    """The SHA-256 of an object's bytes, streamed (fixity checks); ``None`` when there is no such object."""
    digest = hashlib.sha256()
    try:
        for chunk in _chunks(client, bucket, key):
            digest.update(chunk)
    except S3Error as exc:
        if exc.code in _MISSING:
            return None
        raise
    return digest.hexdigest()


def exists(client: Minio, bucket: str, key: str) -> bool:
    try:
        client.stat_object(bucket, key)
        return True
    except S3Error as exc:
        if exc.code in _MISSING:
            return False
        raise


def put_bytes(client: Minio, bucket: str, key: str, data: bytes, content_type: str) -> None:
    client.put_object(bucket, key, io.BytesIO(data), len(data), content_type=content_type)


def put_file(client: Minio, bucket: str, key: str, path: Path, content_type: str) -> None:
    client.fput_object(bucket, key, str(path), content_type=content_type)


def content_key(sha256: str) -> str:
    """The key of an original in the raw bucket: derived from its content only."""
    return f"sha256/{sha256[:2]}/{sha256[2:4]}/{sha256}"


def derived_prefix(sha256: str) -> str:
    return f"ocr/{sha256[:2]}/{sha256}/"


def uri(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def put_immutable(client: Minio, bucket: str, key: str, path: Path, content_type: str) -> bool:
    """Write an original once; a key that exists already holds the same bytes (it is their hash).

    Returns True if this call wrote it.
    """
    if exists(client, bucket, key):
        return False
    put_file(client, bucket, key, path, content_type)
    return True

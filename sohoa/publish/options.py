"""Settings of publishing and of the read API, from ``SOHOA_PUBLISH_*`` and ``SOHOA_API_*`` variables.

Kept apart from :class:`sohoa.config.Settings` so that this area can grow without touching the shared
configuration; both read the same environment.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class PublishOptions(BaseSettings):
    """``keep_snapshots``: complete snapshots kept by the retention rule (the newest ones; the one named by
    ``LATEST`` is never deleted). ``incomplete_grace_s``: how old a snapshot folder without a manifest (a
    publish that crashed) must be before retention removes it."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_PUBLISH_", extra="ignore")

    keep_snapshots: int = 14
    incomplete_grace_s: int = 3600
    batch_bytes: int = 4 * 1024 * 1024
    row_group_rows: int = 128_000


class ApiOptions(BaseSettings):
    """The read API: where it listens, the URL downstream systems reach it by (used in the national-portal
    links), and how long a presigned download link lives."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_API_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 18091  # the portal has 18090
    public_url: str | None = None
    # The S3 endpoint downstream systems reach the object store by (e.g. https://s3.tinh.gov.vn), when it is not
    # the one sohoa uses inside the cluster: presigned links are signed for this host. Unset: sohoa's own.
    s3_public_endpoint: str | None = None
    link_ttl_s: int = 300
    page_size_max: int = 1000

    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")


@lru_cache(maxsize=1)
def publish_options() -> PublishOptions:
    return PublishOptions()


@lru_cache(maxsize=1)
def api_options() -> ApiOptions:
    return ApiOptions()

"""Portal settings, read from ``SOHOA_PORTAL_*`` environment variables (on top of sohoa's own settings).

Kept apart from ``sohoa.config.Settings`` so the portal's knobs travel with the portal.
"""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict


class PortalSettings(BaseSettings):
    """The portal's knobs. Field ``x`` is read from ``SOHOA_PORTAL_X``."""

    model_config = SettingsConfigDict(env_prefix="SOHOA_PORTAL_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = 18090
    # Sessions end after this many hours without activity, and after max_session_hours in any case.
    idle_session_hours: float = 8.0
    max_session_hours: float = 24.0
    # Lockout: this many failed sign-ins in a row lock the account for lockout_minutes.
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    # Upload limits. One file may not exceed max_file_bytes (the pipeline's own limit is 500 MB, see
    # document.too_large); a ZIP may not expand beyond max_zip_members files or max_zip_expanded_bytes.
    max_file_bytes: int = 200 * 1024 * 1024
    max_files_per_upload: int = 500
    max_zip_members: int = 1000
    max_zip_expanded_bytes: int = 2 * 1024 * 1024 * 1024
    # Cookies: Secure when the request came over HTTPS, or always when this is true (behind a TLS proxy).
    secure_cookies: bool = False
    # Where the reports live: the KPI pages of `sohoa kpi build` in the published bucket, the Data Docs of the
    # sohoa_quality DAG in the derived bucket.
    kpi_report_prefix: str = "kpi/bao-cao/"
    data_docs_prefix: str = "quality/gx/"
    # Rows per page of the dossier search.
    page_size: int = 50

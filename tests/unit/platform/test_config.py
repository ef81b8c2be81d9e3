"""Configuration: SOHOA_* variables, safe local defaults, secrets never shown by repr or str."""

from __future__ import annotations

from pathlib import Path

import pytest

from sohoa.config import Settings
from sohoa.privacy import pseudonym


def test_local_defaults_point_at_the_embedded_services(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("SOHOA_DATABASE_URL", "SOHOA_S3_ENDPOINT", "SOHOA_AIRFLOW_URL"):
        monkeypatch.delenv(name, raising=False)
    s = Settings(home=tmp_path)
    assert s.is_database_embedded
    assert s.is_s3_embedded
    assert s.is_airflow_embedded
    assert s.dsn().startswith("postgresql://postgres@127.0.0.1:")
    assert s.s3_url().startswith("http://127.0.0.1:")


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOHOA_DATABASE_URL", "postgresql://u:topsecret@db.example:5432/sohoa")
    monkeypatch.setenv("SOHOA_S3_ENDPOINT", "https://s3.example:9000")
    monkeypatch.setenv("SOHOA_S3_SECRET_KEY", "s3-very-secret")
    s = Settings()
    assert s.dsn("airflow") == "postgresql://u:topsecret@db.example:5432/airflow"
    assert s.s3_host() == "s3.example:9000"
    assert s.s3_url() == "https://s3.example:9000"
    shown = repr(s) + str(s)
    assert "topsecret" not in shown
    assert "s3-very-secret" not in shown


def test_local_pseudonym_key_is_generated_once_and_private(tmp_path: Path) -> None:
    s = Settings(home=tmp_path)
    first = s.secret_pseudonym_key()
    assert first == Settings(home=tmp_path).secret_pseudonym_key()
    assert (tmp_path / "secrets" / "pseudonym.key").stat().st_mode & 0o077 == 0


def test_pseudonym_is_keyed_and_never_the_number() -> None:
    number = "075095012345"
    a = pseudonym(b"key-a", number)
    assert a is not None
    assert number not in a
    assert a == pseudonym(b"key-a", " 0750 95012345 ")
    assert a != pseudonym(b"key-b", number)
    assert pseudonym(b"key-a", None) is None


def test_an_unknown_barcode_format_is_refused_naming_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    monkeypatch.setenv("SOHOA_BARCODE_FORMATS", "QRCode,Bogus")
    with pytest.raises(ValidationError, match="SOHOA_BARCODE_FORMATS.*Bogus"):
        Settings()
    monkeypatch.setenv("SOHOA_BARCODE_FORMATS", "QRCode,DataMatrix")
    assert Settings().barcode_formats == "QRCode,DataMatrix"

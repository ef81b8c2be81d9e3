"""Fixtures of the portal tests (helpers in portal_testkit.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from portal_testkit import Portal, csrf_of, sign_in

from sohoa.config import Settings
from sohoa.portal.settings import PortalSettings


@pytest.fixture
def portal(settings: Settings) -> Portal:
    limits = PortalSettings(
        max_file_bytes=2 * 1024 * 1024,
        max_files_per_upload=6,
        max_zip_members=5,
        max_failed_logins=3,
        lockout_minutes=15,
    )
    return Portal(settings, limits)


@pytest.fixture
def client(portal: Portal) -> Iterator[TestClient]:
    with portal.client() as c:
        yield c


@pytest.fixture
def signed_in(portal: Portal) -> Callable[..., tuple[TestClient, str]]:
    """A new client signed in as a new user of the given role; returns (client, session CSRF token)."""
    clients: list[TestClient] = []

    def make(username: str, role: str, agency: str | None = None) -> tuple[TestClient, str]:
        portal.add_user(username, role, agency)
        c = portal.client()
        clients.append(c)
        response = sign_in(c, username)
        assert response.status_code == 303, response.text
        return c, csrf_of(c.get("/uploads").text)

    yield make  # type: ignore[misc]
    for c in clients:
        c.close()

"""The links of the national-portal projection point at the read API, with the dossier code escaped."""

from __future__ import annotations

from sohoa.publish.portal import document_link

SHA_A = "a" * 64


def test_a_sector_systems_own_dossier_code_is_escaped_in_the_link() -> None:
    link = document_link("http://127.0.0.1:18090", "HS 2026/15#b", SHA_A)
    assert link == f"http://127.0.0.1:18090/v1/ho-so/HS%202026%2F15%23b/giay-to/{SHA_A}/link?redirect=1"

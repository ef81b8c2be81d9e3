"""The read API served by a real uvicorn over HTTP, on the real PostgreSQL and S3 server: what a downstream
system's developer checks (authentication, filters, pagination, download links, the access log, and that
no identity number ever comes back)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg2
import pytest
import uvicorn
from publish_testkit import (
    AGENCY_A,
    AGENCY_B,
    D1,
    D3,
    D4,
    EXPECTED,
    IDENTITY_NUMBERS,
    NAMES,
    NO_PAPER,
    add_document,
    code,
    load_dataset,
    load_records,
    query,
    record,
    records,
)

from sohoa.api.app import create_app
from sohoa.api.tokens import create_token, revoke_token
from sohoa.config import Settings
from sohoa.publish.options import ApiOptions

pytestmark = pytest.mark.integration


@pytest.fixture
def api(settings: Settings, port_factory: Callable[[], int]) -> Iterator[str]:
    """The API on a free port, with a link lifetime of 120 s; yields its base URL."""
    options = ApiOptions(port=port_factory(), link_ttl_s=120, page_size_max=50)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, options), host="127.0.0.1", port=options.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the API did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{options.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _token(settings: Settings, name: str, agencies: list[str] | None = None, expires_at: datetime | None = None) -> str:
    conn = psycopg2.connect(settings.dsn())
    try:
        with conn:
            return create_token(conn, name, agencies=agencies, expires_at=expires_at)
    finally:
        conn.close()


def _get(base: str, path: str, token: str | None = None, **params: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(base + path, headers=headers, params=params, timeout=10)  # type: ignore[arg-type]


def test_authentication_is_required_and_tokens_are_stored_hashed(settings: Settings, api: str) -> None:
    load_dataset(settings)
    token = _token(settings, "warehouse")
    expired = _token(settings, "old", expires_at=datetime.now(UTC) - timedelta(days=1))
    revoked = _token(settings, "leaked")
    conn = psycopg2.connect(settings.dsn())
    with conn:
        assert revoke_token(conn, "leaked")
    conn.close()

    assert _get(api, "/v1/ho-so").status_code == 401
    assert _get(api, "/v1/ho-so").headers["www-authenticate"].startswith("Bearer")
    assert _get(api, "/v1/ho-so", "sohoa_not-a-real-token").status_code == 401
    assert _get(api, "/v1/ho-so", expired).status_code == 401
    assert _get(api, "/v1/ho-so", revoked).status_code == 401
    assert _get(api, f"/v1/ho-so/{D1}", token[:-1]).status_code == 401
    ok = _get(api, "/v1/ho-so", token)
    assert ok.status_code == 200, ok.text

    stored = query(settings, "SELECT token_sha256 FROM sohoa.api_token")
    assert all(token not in r[0] and len(r[0]) == 64 for r in stored)
    assert token not in str(query(settings, "SELECT * FROM sohoa.api_access_log"))
    # The OpenAPI document is there and declares the bearer scheme.
    spec = httpx.get(api + "/openapi.json", timeout=10).json()
    assert "/v1/ho-so/{ma_ho_so}/giay-to/{sha256}/link" in spec["paths"]
    assert any(s.get("scheme") == "bearer" for s in spec["components"]["securitySchemes"].values())


def test_pagination_walks_every_dossier_once_in_order_and_cursors_are_bound_to_filters(
    settings: Settings, api: str
) -> None:
    extra = [record(code(AGENCY_A, 100 + i), i % 6, agency=AGENCY_A, procedure="1.001612", status=2) for i in range(57)]
    load_records(settings, extra)
    token = _token(settings, "warehouse")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, object] = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = _get(api, "/v1/ho-so", token, **params).json()
        seen += [h["ma_ho_so"] for h in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    expected = sorted(r[0] for r in query(settings, "SELECT ma_ho_so FROM publish.ho_so"))
    assert seen == expected
    assert len(seen) == 57
    assert pages == 6

    first = _get(api, "/v1/ho-so", token, limit=10).json()
    other_filters = _get(api, "/v1/ho-so", token, limit=10, cursor=first["next_cursor"], da_so_hoa=True)
    assert other_filters.status_code == 400
    assert _get(api, "/v1/ho-so", token, cursor="garbage!").status_code == 400
    assert _get(api, "/v1/ho-so", token, limit=51).status_code == 422  # above the page-size cap


def test_filters_and_agency_scoped_tokens(settings: Settings, api: str) -> None:
    load_dataset(settings)
    everything = _token(settings, "warehouse")
    only_b = _token(settings, "commune-b", agencies=[AGENCY_B])

    def codes(token: str, **params: object) -> set[str]:
        response = _get(api, "/v1/ho-so", token, **params)
        assert response.status_code == 200, response.text
        return {h["ma_ho_so"] for h in response.json()["items"]}

    assert codes(everything) == set(EXPECTED)
    assert codes(everything, ma_co_quan=AGENCY_A) == {c for c, e in EXPECTED.items() if e.ma_co_quan == AGENCY_A}
    assert codes(everything, da_so_hoa=True) == {c for c, e in EXPECTED.items() if e.da_so_hoa}
    assert codes(everything, da_so_hoa=False) == {c for c, e in EXPECTED.items() if not e.da_so_hoa}
    assert codes(everything, ma_tthc="2.000815.000.00.00.H19") == {
        code(AGENCY_A, 2),
        code(AGENCY_A, 3),
        code(AGENCY_B, 6),
    }
    # Received 2026-01-05 09:00 Vietnam time (02:00 UTC): the local date decides.
    assert codes(everything, tu_ngay="2026-01-05", den_ngay="2026-01-06") == set(EXPECTED)
    assert codes(everything, tu_ngay="2026-01-06") == set()
    assert codes(everything, den_ngay="2026-01-05") == set()

    assert codes(only_b) == {c for c, e in EXPECTED.items() if e.ma_co_quan == AGENCY_B}
    assert codes(only_b, ma_co_quan=AGENCY_A) == set()
    assert _get(api, f"/v1/ho-so/{D1}", only_b).status_code == 404  # another agency's dossier
    assert _get(api, f"/v1/ho-so/{D4}", only_b).status_code == 200


def test_one_dossier_and_a_short_lived_download_link(settings: Settings, api: str) -> None:
    shas = load_dataset(settings)
    token = _token(settings, "warehouse")
    response = _get(api, f"/v1/ho-so/{D3}", token)
    assert response.status_code == 200
    dossier = response.json()
    assert (dossier["da_so_hoa"], dossier["co_ket_qua_dien_tu"], dossier["so_thanh_phan_so_hoa"]) == (True, True, 2)
    assert {d["sha256"] for d in dossier["giay_to"]} == {shas["d3a"], shas["d3b"], shas["d3r"]}
    assert all("object_uri" not in d for d in dossier["giay_to"])

    link = _get(api, f"/v1/ho-so/{D3}/giay-to/{shas['d3r']}/link", token)
    assert link.status_code == 200
    body = link.json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(seconds=120)
    assert parse_qs(urlsplit(body["url"]).query)["X-Amz-Expires"] == ["120"]
    assert httpx.get(body["url"], timeout=10).content == b"%PDF-1.4 d3 result"
    redirected = _get(api, f"/v1/ho-so/{D3}/giay-to/{shas['d3r']}/link", token, redirect=True)
    assert redirected.status_code == 307
    assert httpx.get(redirected.headers["location"], timeout=10).content == b"%PDF-1.4 d3 result"

    # A document of another dossier cannot be fetched through this one; unknown dossiers are 404.
    assert _get(api, f"/v1/ho-so/{D3}/giay-to/{shas['d1']}/link", token).status_code == 404
    assert _get(api, "/v1/ho-so/000.00.00.H00-000000-0000", token).status_code == 404
    assert _get(api, f"/v1/ho-so/{D3}/giay-to/not-a-hash/link", token).status_code == 422

    logged = query(
        settings,
        "SELECT t.name, l.method, l.path, l.status, l.ma_ho_so, l.sha256 "
        "FROM sohoa.api_access_log l LEFT JOIN sohoa.api_token t ON t.id = l.token_id "
        "ORDER BY l.id",
    )
    assert logged[0] == ("warehouse", "GET", f"/v1/ho-so/{D3}", 200, D3, None)
    assert logged[1][3:] == (200, D3, shas["d3r"])
    assert [r[3] for r in logged] == [200, 200, 307, 404, 404, 422]


def test_no_identity_number_or_name_in_any_api_response(settings: Settings, api: str) -> None:
    load_dataset(settings)
    add_document(
        settings,
        D1,
        "ket_qua",
        f"ket_qua_{IDENTITY_NUMBERS[0]}.pdf",
        b"%PDF-1.4 named result",
        {"cccd": IDENTITY_NUMBERS[0], "ghi_chu": f"CCCD {IDENTITY_NUMBERS[3]} cap ngay 01/02/2021"},
    )
    token = _token(settings, "warehouse")
    bodies = [_get(api, "/v1/ho-so", token, limit=50).text]
    bodies += [_get(api, f"/v1/ho-so/{c}", token).text for c in EXPECTED]
    everything = "\n".join(bodies)
    assert "***" in everything  # masked, not missing
    assert "chu_ho_so_ma_hoa" in everything
    for number in IDENTITY_NUMBERS:
        assert number not in everything
    for name in NAMES:
        assert name not in everything


def test_a_sector_system_code_with_slashes_is_reachable(settings: Settings, api: str) -> None:
    """Sector systems number dossiers their own way (codes.md): a code such as ``SXD/2026/000123`` is stored with a
    ``record.bad_dossier_code`` finding, and the API must still serve it and its documents' links."""
    sector = "SXD/2026/000123"
    load_records(settings, [*records(), record(sector, 0, agency=AGENCY_A, procedure=NO_PAPER, status=2)])
    sha = add_document(settings, sector, "thanh_phan", "don.pdf", b"%PDF-1.4 sector component")
    token = _token(settings, "warehouse")

    response = _get(api, f"/v1/ho-so/{sector}", token)
    assert response.status_code == 200, response.text
    dossier = response.json()
    assert dossier["ma_ho_so"] == sector
    [document] = dossier["giay_to"]
    assert document["link"] == f"/v1/ho-so/{sector}/giay-to/{sha}/link"
    link = _get(api, document["link"], token)
    assert link.status_code == 200, link.text
    assert httpx.get(link.json()["url"], timeout=10).content == b"%PDF-1.4 sector component"
    # The same code percent-encoded, as a careful client sends it, reaches the same dossier.
    assert _get(api, "/v1/ho-so/SXD%2F2026%2F000123", token).json()["ma_ho_so"] == sector
    assert _get(api, "/v1/ho-so/SXD/2026", token).status_code == 404


def test_download_links_are_signed_for_the_public_s3_endpoint(
    settings: Settings, port_factory: Callable[[], int]
) -> None:
    """Downstream systems reach the object store as https://s3.tinh.example:9443 (a proxy in front of it): the
    link names that host, and its signature holds there (checked by sending it to the real S3 server with the
    public Host header, as the proxy would)."""
    shas = load_dataset(settings)
    token = _token(settings, "warehouse")
    options = ApiOptions(port=port_factory(), link_ttl_s=120, s3_public_endpoint="https://s3.tinh.example:9443")
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, options), host="127.0.0.1", port=options.port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.05)
        link = _get(f"http://127.0.0.1:{options.port}", f"/v1/ho-so/{D3}/giay-to/{shas['d3r']}/link", token)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert link.status_code == 200
    url = urlsplit(link.json()["url"])
    assert (url.scheme, url.netloc) == ("https", "s3.tinh.example:9443")
    internal = f"{settings.s3_url()}{url.path}?{url.query}"
    through_proxy = httpx.get(internal, headers={"Host": "s3.tinh.example:9443"}, timeout=10)
    assert through_proxy.status_code == 200
    assert through_proxy.content == b"%PDF-1.4 d3 result"
    assert httpx.get(internal, timeout=10).status_code == 403  # signed for the public host, not the internal one

"""The dossier pages, search, HTML escaping, reports, the language toggle, the Airflow mount and the
``sohoa portal create-user`` command."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from portal_testkit import AGENCY_A, AGENCY_B, PASSWORD, Portal, csrf_of, record, sign_in

from sohoa.portal import create_app
from sohoa.portal.i18n import TEXT
from sohoa.portal.uploads import Fate
from sohoa.portal.users import ROLES
from sohoa.storage import s3

pytestmark = pytest.mark.integration

CODE = f"{AGENCY_A}-260105-0001"
HTML = '<script>alert("x")</script><b onclick="steal()">đậm</b>'


def insert_ocr_document(portal: Portal, ma_ho_so: str | None, text: str) -> int:
    """A stored document whose OCR text is ``text`` (as the OCR stage would have written it)."""
    client = s3.make_client(portal.settings)
    sha = "ab" * 32
    text_key = f"{s3.derived_prefix(sha)}text.txt"
    s3.put_bytes(client, portal.settings.bucket_derived, text_key, text.encode(), "text/plain; charset=utf-8")
    rows = portal.query(
        """WITH o AS (INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type, page_count)
                      VALUES (%s, %s, 10, 'image/png', 1) RETURNING sha256),
                r AS (INSERT INTO sohoa.ocr_result (sha256, status, text_uri, searchable_uri, page_count,
                                                    mean_confidence, extracted)
                      SELECT sha256, 'done', %s, %s, 1, 88.5, %s::jsonb FROM o RETURNING sha256)
           INSERT INTO sohoa.document (ma_ho_so, loai, ten_giay_to, landing_key, sha256)
           SELECT %s, 'thanh_phan', %s, %s, sha256 FROM r RETURNING id""",
        sha,
        f"s3://raw/{sha}",
        s3.uri(portal.settings.bucket_derived, text_key),
        s3.uri(portal.settings.bucket_derived, f"{s3.derived_prefix(sha)}searchable.pdf"),
        '{"SoVanBan": "' + HTML.replace('"', '\\"') + '"}',
        ma_ho_so,
        "trang<1>.png",
        f"scans/{ma_ho_so}/x.png",
    )
    portal.query(
        "INSERT INTO sohoa.ocr_page (sha256, page_no, source, dpi, confidence) VALUES (%s, 1, 'ocr', 300, 88.5)", sha
    )
    return int(rows[0][0])


def test_ocr_text_and_findings_with_html_are_shown_escaped(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE, AGENCY_A))
    document_id = insert_ocr_document(portal, CODE, f"Trang một {HTML}\fTrang hai")
    portal.query(
        """INSERT INTO sohoa.issue (source, ma_ho_so, rule, severity, detail, fingerprint)
                    VALUES ('document', %s, 'document.low_dpi', 'warning', %s, 'fp-html')""",
        CODE,
        HTML,
    )
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    page = officer.get(f"/documents/{document_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page.text
    assert "<script>alert" not in page.text
    assert "<b onclick" not in page.text
    assert "Trang một" in page.text
    assert "Trang hai" not in page.text  # page 1 only
    assert "Trang hai" in officer.get(f"/documents/{document_id}", params={"page": 2}).text
    dossier = officer.get(f"/dossiers/{CODE}").text
    assert "<script>alert" not in dossier
    assert "&lt;b onclick=" in dossier  # the finding's detail and the extracted field, escaped
    assert "trang&lt;1&gt;.png" in dossier
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_dossier_page_shows_record_timeline_documents_and_findings(portal: Portal, signed_in) -> None:
    portal.load_records(
        record(CODE, AGENCY_A, status=4, CapNhatLuc="2026-01-06T10:00:00+07:00"),
    )
    portal.load_records(
        record(
            CODE,
            AGENCY_A,
            status=10,
            CapNhatLuc="2026-01-21T10:00:00+07:00",
            NgayKetThucXuLy="2026-01-19T15:00:00+07:00",
            NgayTra="2026-01-21T09:00:00+07:00",
            SoGiayToChuHoSo="075123",
        ),  # a bad CCCD: a finding
    )
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    page = reviewer.get(f"/dossiers/{CODE}").text
    assert "Đã trả kết quả" in page  # status 10
    assert "Nguyễn Văn An" in page  # the applicant, for the authorised user
    assert "075123" not in page  # the ID number is masked
    assert "•••123" in page
    assert "05/01/2026 09:00" in page  # received, in Vietnam time
    timeline = page[page.index("Diễn biến") :]
    assert timeline.index("Tiếp nhận") < timeline.index("Kết thúc xử lý") < timeline.index("Trả kết quả")
    assert "record.bad_cccd" in page
    assert "Chưa có giấy tờ nào" in page


def test_a_sector_systems_dossier_code_with_slash_and_hash_opens_from_the_search(portal: Portal, signed_in) -> None:
    odd = "SXD/2026/15#A"  # stored with record.bad_dossier_code, and a person must still be able to open it
    portal.load_records(record(odd, AGENCY_A, status=4))
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    [href] = re.findall(r'href="(/dossiers/[^"]+)"', reviewer.get("/dossiers").text)
    assert href == "/dossiers/SXD/2026/15%23A"
    page = reviewer.get(href)
    assert page.status_code == 200
    assert odd in page.text
    assert "record.bad_dossier_code" in page.text


def test_search_filters(portal: Portal, signed_in) -> None:
    portal.load_records(
        record(f"{AGENCY_A}-260105-0001", AGENCY_A, status=4),
        record(
            f"{AGENCY_A}-260210-0002", AGENCY_A, status=10, MaTTHC="1.001612", NgayTiepNhan="2026-02-10T08:00:00+07:00"
        ),
        record(f"{AGENCY_B}-260105-0003", AGENCY_B, status=4),
    )
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")

    def codes(**params: str) -> list[str]:
        html = reviewer.get("/dossiers", params=params).text
        return re.findall(r'href="/dossiers/([^"]+)"', html)

    assert codes() == [f"{AGENCY_A}-260210-0002", f"{AGENCY_A}-260105-0001", f"{AGENCY_B}-260105-0003"]
    assert codes(code="0002") == [f"{AGENCY_A}-260210-0002"]  # the end of a code
    assert codes(code="260210-0002") == [f"{AGENCY_A}-260210-0002"]
    assert codes(code=AGENCY_B.lower()) == [f"{AGENCY_B}-260105-0003"]  # the beginning, any case
    assert codes(code=f"{AGENCY_B}-260105-0003") == [f"{AGENCY_B}-260105-0003"]
    assert codes(status="10") == [f"{AGENCY_A}-260210-0002"]
    assert codes(procedure="1.001612") == [f"{AGENCY_A}-260210-0002"]
    assert codes(received_from="2026-02-01") == [f"{AGENCY_A}-260210-0002"]
    assert codes(received_to="2026-01-05") == [f"{AGENCY_A}-260105-0001", f"{AGENCY_B}-260105-0003"]
    assert codes(agency=AGENCY_B) == [f"{AGENCY_B}-260105-0003"]
    assert codes(code="%") == []  # LIKE wildcards are taken literally
    assert codes(code="_") == []
    assert codes(received_from="not-a-date") == codes()


def test_search_pages(portal: Portal, signed_in) -> None:
    portal.portal_settings.page_size = 2
    portal.load_records(*(record(f"{AGENCY_A}-260105-{i:04d}", AGENCY_A) for i in range(1, 6)))
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    first = reviewer.get("/dossiers").text
    assert "Trang sau" in first
    third = reviewer.get("/dossiers", params={"page": 3}).text
    assert len(re.findall(r'href="/dossiers/[^"]+"', third)) == 1
    assert "Trang sau" not in third


def test_reports_show_a_placeholder_until_built_then_serve_the_files(portal: Portal, signed_in) -> None:
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    page = reviewer.get("/reports").text
    assert "sohoa kpi build" in page  # how the missing report gets built
    assert reviewer.get("/reports/kpi/").status_code == 404
    client = s3.make_client(portal.settings)
    prefix = portal.portal_settings.kpi_report_prefix
    s3.put_bytes(
        client,
        portal.settings.bucket_published,
        prefix + "index.html",
        "<html><body>Chỉ số 766 <a href='thang/2026-01.html'>tháng 1</a></body></html>".encode(),
        "text/html",
    )
    s3.put_bytes(client, portal.settings.bucket_published, prefix + "thang/2026-01.html", b"<p>jan</p>", "text/html")
    index = reviewer.get("/reports/kpi/")
    assert index.status_code == 200
    assert "Chỉ số 766" in index.text
    assert index.headers["content-type"].startswith("text/html")
    assert index.headers["content-security-policy"].startswith("sandbox")
    assert reviewer.get("/reports/kpi/thang/2026-01.html").text == "<p>jan</p>"
    assert reviewer.get("/reports/kpi").status_code == 307
    assert reviewer.get("/reports/kpi/thang/../../../raw/x").status_code == 404
    assert reviewer.get("/reports/other/index.html").status_code == 404
    s3.put_bytes(
        client,
        portal.settings.bucket_derived,
        portal.portal_settings.data_docs_prefix + "index.html",
        b"<p>gx</p>",
        "text/html",
    )
    assert reviewer.get("/reports/data-docs/index.html").text == "<p>gx</p>"
    views = portal.query("SELECT target FROM portal.audit_log WHERE action = 'report.view'")
    assert ("kpi",) in views


def test_reports_index_lists_kpi_months_per_agency_and_serves_stored_and_older_months(
    portal: Portal, signed_in
) -> None:
    """A real KPI build over real records: the build stores the latest two months' pages; the index lists every
    month with figures (from kpi.indicator) and an older month is rendered from the tables when opened."""
    import datetime as dt

    from sohoa.kpi.build import build

    portal.load_records(
        record(
            CODE,
            AGENCY_A,
            status=10,
            NgayKetThucXuLy="2026-01-15T10:00:00+07:00",
            NgayTra="2026-01-16T10:00:00+07:00",
            CapNhatLuc="2026-01-16T10:00:00+07:00",
        ),
        record(
            f"{AGENCY_B}-260203-0002",
            AGENCY_B,
            NgayTiepNhan="2026-02-03T09:00:00+07:00",
            NgayHenTra="2026-02-20T17:00:00+07:00",
        ),
    )
    summary = build(portal.settings, build_date=dt.date(2026, 4, 1), full=True)
    assert "kpi/bao-cao/2026-03/tat-ca.html" in summary.reports
    assert "kpi/bao-cao/2026-01/tat-ca.html" not in summary.reports  # older: rendered on demand
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    page = officer.get("/reports").text
    assert f"Báo cáo tháng của: {AGENCY_A}" in page  # an officer starts with their agency
    own = re.findall(r'href="/reports/kpi/([^"]+)"', page)
    assert own == [f"2026-01/{AGENCY_A}.html"]  # the months with figures for that agency
    assert "Tháng 1/2026" in page
    assert 'id="report-data-docs"' not in page  # Data Docs can hold sample values: reviewers only
    everyone = re.findall(r'href="/reports/kpi/([^"]+)"', officer.get("/reports", params={"agency": "*"}).text)
    assert everyone[0] == "2026-03/tat-ca.html"
    assert everyone[-1] == "2026-01/tat-ca.html"
    assert everyone == sorted(everyone, reverse=True)
    stored = officer.get("/reports/kpi/2026-03/tat-ca.html")
    assert stored.status_code == 200
    assert stored.headers["content-security-policy"].startswith("sandbox")
    older = officer.get(f"/reports/kpi/2026-01/{AGENCY_A}.html")
    assert older.status_code == 200
    assert older.headers["content-security-policy"].startswith("sandbox")
    assert "2026" in older.text
    assert officer.get("/reports/kpi/2025-01/tat-ca.html").status_code == 404  # no figures that month
    assert officer.get("/reports/kpi/2026-13/tat-ca.html").status_code == 404
    none = officer.get("/reports", params={"agency": "000.00.99.H19"}).text
    assert "sohoa kpi build" in none
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    assert "Tất cả cơ quan" in reviewer.get("/reports").text  # no agency of their own: all agencies
    assert 'id="report-data-docs"' in reviewer.get("/reports").text


def test_every_interface_text_exists_in_both_languages_and_english_toggle_works(portal: Portal, signed_in) -> None:
    templates = Path(__file__).parents[2] / "sohoa" / "portal" / "templates"
    used = set()
    for template in templates.glob("*.html"):
        used |= set(re.findall(r't\("([a-z_]+)"[,)]', template.read_text()))
    assert used
    assert not sorted(used - TEXT.keys())
    # Keys built from a prefix and a value.
    dynamic = (
        {f"fate_{f}" for f in typing.get_args(Fate)}
        | {f"role_{r}" for r in ROLES}
        | {f"trigger_{s}" for s in ("queued", "triggered", "deferred")}
        | {
            f"ev_{e}"
            for e in (
                "ngay_nop",
                "ngay_tiep_nhan",
                "ngay_hen_tra",
                "ngay_ket_thuc_xu_ly",
                "ngay_tra",
                "bo_sung",
                "nhan_bo_sung",
                "version",
                "version_unusable",
                "document",
            )
        }
    )
    assert not sorted(dynamic - TEXT.keys())
    assert all(vi and en for vi, en in TEXT.values())
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    assert "Tải lên bản quét" in officer.get("/upload").text
    toggle = officer.get("/lang/en", params={"next": "/upload"})
    assert toggle.status_code == 303
    assert toggle.headers["location"] == "/upload"
    assert "Upload scans" in officer.get("/upload").text


def test_portal_mounts_in_airflow_api_server_under_its_prefix(portal: Portal, monkeypatch) -> None:
    """Airflow's own mounting code (init_plugins) with the plugin's declaration, then a sign-in through it.

    The plugin is imported by every task process (the Task SDK integrates the plugins' macros), so its app
    must cost nothing until the API server serves a request: it is built on the first one, once."""
    monkeypatch.syspath_prepend(str(Path(__file__).parents[2] / "plugins"))
    monkeypatch.setenv("SOHOA_DATABASE_URL", portal.settings.dsn())
    import sohoa_portal_plugin
    from airflow.api_fastapi import app as airflow_app
    from airflow.plugins_manager import AirflowPlugin

    assert issubclass(sohoa_portal_plugin.SohoaPortalPlugin, AirflowPlugin)
    declared = sohoa_portal_plugin.SohoaPortalPlugin.fastapi_apps[0]
    assert declared["url_prefix"] == "/sohoa"
    assert sohoa_portal_plugin.SohoaPortalPlugin.external_views[0]["href"] == "sohoa/"
    assert isinstance(declared["app"], sohoa_portal_plugin.LazyApp)
    assert declared["app"]._app is None, "importing the plugin built the portal"
    builds = []

    def build() -> FastAPI:
        builds.append(1)
        return create_app(portal.settings, portal.portal_settings, trigger=portal.trigger)

    mounted = dict(declared, app=sohoa_portal_plugin.LazyApp(build))
    monkeypatch.setattr("airflow.plugins_manager.get_fastapi_plugins", lambda: ([mounted], []))
    host = FastAPI()
    airflow_app.init_plugins(host)
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    assert not builds
    with TestClient(host, follow_redirects=False) as client:
        assert not builds
        redirect = client.get("/sohoa/dossiers")
        assert len(builds) == 1
        assert redirect.status_code == 303
        assert redirect.headers["location"].startswith("/sohoa/login?next=")
        login = client.get("/sohoa/login")
        assert 'action="/sohoa/login"' in login.text
        signed = client.post(
            "/sohoa/login",
            data={"username": "can.bo", "password": PASSWORD, "csrf_token": csrf_of(login.text), "next": "/upload"},
        )
        assert signed.status_code == 303
        assert signed.headers["location"] == "/sohoa/upload"
        assert "Path=/sohoa" in signed.headers["set-cookie"]
        page = client.get("/sohoa/upload")
        assert page.status_code == 200
        assert 'href="/sohoa/dossiers"' in page.text
        assert 'src="/sohoa/static/upload.js"' in page.text
        assert client.get("/sohoa/static/portal.css").status_code == 200
    assert len(builds) == 1


def test_create_user_command_makes_the_first_administrator(portal: Portal, monkeypatch) -> None:
    from typer.testing import CliRunner

    from sohoa.cli.main import app
    from sohoa.config import get_settings

    monkeypatch.setenv("SOHOA_DATABASE_URL", portal.settings.dsn())
    monkeypatch.setenv("SOHOA_PORTAL_NEW_PASSWORD", PASSWORD)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["portal", "create-user", "quan.tri", "--role", "quan_tri"])
        assert result.exit_code == 0, result.output
        assert "created user quan.tri" in result.output
        again = CliRunner().invoke(app, ["portal", "create-user", "quan.tri"])
        assert again.exit_code == 1
        assert "đã tồn tại" in again.output
        monkeypatch.setenv("SOHOA_PORTAL_NEW_PASSWORD", "short")
        weak = CliRunner().invoke(app, ["portal", "create-user", "second.admin"])
        assert weak.exit_code == 1
    finally:
        get_settings.cache_clear()
    assert PASSWORD not in result.output
    hashes = portal.query("SELECT password_hash FROM portal.user_account WHERE username = 'quan.tri'")
    assert hashes[0][0].startswith("$argon2id$")
    with portal.client() as client:
        assert sign_in(client, "quan.tri").status_code == 303
        assert client.get("/admin").status_code == 200


def test_services_start_and_stop_the_portal_and_status_prints_its_url(
    portal: Portal, monkeypatch, port_factory
) -> None:
    """`sohoa portal` in a child process, as `sohoa services up` runs it, then `down`'s stop."""
    import httpx

    from sohoa.services import manager, processes
    from sohoa.services import portal as portal_service

    port = port_factory()
    monkeypatch.setenv("SOHOA_PORTAL_PORT", str(port))
    monkeypatch.setenv("SOHOA_DATABASE_URL", portal.settings.dsn())
    monkeypatch.setenv("SOHOA_S3_ENDPOINT", portal.settings.s3_url())
    assert manager.status_json(portal.settings)["portal_url"] == f"http://127.0.0.1:{port}"
    portal.settings.home.mkdir(parents=True, exist_ok=True)
    portal_service.start(portal.settings)
    try:
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok"}
        assert "Đăng nhập" in httpx.get(f"http://127.0.0.1:{port}/login").text
        assert {"name": "portal", "embedded": True, "running": True, "endpoint": f"http://127.0.0.1:{port}"} in [
            vars(s) for s in manager.states(portal.settings)
        ]
    finally:
        assert portal_service.stop(portal.settings)
    assert not processes.port_open("127.0.0.1", port)

"""The review queue over HTTP: who sees which waiting document, CSRF on every decision, escaping, the decisions
themselves (correct a field, resolve a finding, file an inbox scan, run OCR again, mark reviewed) and what the
audit log keeps of them (codes and ids, never a value, a note or a name)."""

from __future__ import annotations

import re
import time

import pytest
from portal_testkit import AGENCY_A, AGENCY_B, Portal, flagged_document, record, scan_png

from sohoa.portal.i18n import TEXT
from sohoa.review.actions import CORRECTABLE_FIELDS
from sohoa.review.state import REVIEW_RULES

pytestmark = pytest.mark.integration

CODE_A = f"{AGENCY_A}-260105-0001"
CODE_A2 = f"{AGENCY_A}-260105-0002"
CODE_B = f"{AGENCY_B}-260105-0003"
HTML = '<script>alert("x")</script><b onclick="steal()">đậm</b>'


def queue_ids(client, **params: str) -> list[int]:  # type: ignore[no-untyped-def]
    page = client.get("/review", params=params)
    assert page.status_code == 200, page.text
    return [int(i) for i in re.findall(r'<tr id="item-(\d+)"', page.text)]


def test_no_review_page_or_decision_without_sign_in(portal: Portal, client) -> None:
    for path in ("/review", "/review/1", "/review/1?page=2"):
        response = client.get(path)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")
    for action in ("reviewed", "ocr", "assign", "fields", "issues/1/resolve"):
        assert client.post(f"/review/1/{action}", data={"csrf_token": "x"}).status_code == 401


def test_officers_see_their_agency_reviewers_see_all_with_filters(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A), record(CODE_B, AGENCY_B))
    a = flagged_document(portal, CODE_A, seed=1)
    b = flagged_document(portal, CODE_B, seed=2, rule="document.low_dpi")
    no_record_a = flagged_document(portal, f"{AGENCY_A}-260105-0099", seed=3)  # no record yet: by code prefix
    # Signed in after the documents were flagged: the header's count is cached for a few seconds.
    officer, _ = signed_in("can.bo", "can_bo", AGENCY_A)
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    assert queue_ids(officer) == [a, no_record_a]
    assert queue_ids(reviewer) == [a, b, no_record_a]
    assert queue_ids(reviewer, agency=AGENCY_B) == [b]
    assert queue_ids(reviewer, reason="document.low_dpi") == [b]
    assert queue_ids(officer, agency=AGENCY_B) == [a, no_record_a]  # an officer cannot widen the scope
    assert queue_ids(reviewer, reason="not-a-rule") == [a, b, no_record_a]
    # The header link carries the count of what waits for this user.
    assert re.search(r'id="badge-nav_review">2<', officer.get("/dossiers").text)
    assert re.search(r'id="badge-nav_review">3<', reviewer.get("/dossiers").text)


def test_a_late_record_moving_a_dossier_to_another_agency_never_shows_it_to_the_old_one(
    portal: Portal, signed_in
) -> None:
    """The queue walks the agency kept on the review row; the live rule decides what is shown."""
    from sohoa.db.connection import connect
    from sohoa.review.actions import sync_review_states

    code = f"{AGENCY_A}-260105-0042"  # no record yet: the code's agency, A
    doc = flagged_document(portal, code, seed=1)
    officer_a, _ = signed_in("can.bo.a", "can_bo", AGENCY_A)
    officer_b, _ = signed_in("can.bo.b", "can_bo", AGENCY_B)
    assert queue_ids(officer_a) == [doc]
    portal.load_records(record(code, AGENCY_B))  # the record names agency B
    assert queue_ids(officer_a) == []  # at once, before any refresh
    with connect(portal.settings) as conn:
        sync_review_states(conn)  # what the quality DAG runs
    assert queue_ids(officer_b) == [doc]
    assert portal.query("SELECT ma_co_quan FROM sohoa.document_review") == [(AGENCY_B,)]


def test_officer_cannot_open_or_decide_on_another_agencys_document(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A), record(CODE_B, AGENCY_B))
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    b = flagged_document(portal, CODE_B, seed=2, fields={"so_ky_hieu": "12/QĐ-UBND"})
    assert officer.get(f"/review/{b}").status_code == 403
    issue = portal.query("SELECT id FROM sohoa.issue")[0][0]
    for action, data in (
        ("fields", {"name": "so_ky_hieu", "value": "99/QĐ"}),
        ("reviewed", {}),
        ("ocr", {}),
        ("assign", {"ma_ho_so": CODE_A}),
        (f"issues/{issue}/resolve", {"note": "ok"}),
    ):
        assert officer.post(f"/review/{b}/{action}", data={**data, "csrf_token": token}).status_code == 403
    assert portal.query("SELECT count(*) FROM sohoa.field_correction") == [(0,)]
    assert portal.query("SELECT count(*) FROM sohoa.review_action") == [(0,)]
    assert portal.query("SELECT state FROM sohoa.document_review") == [("needs_review",)]
    assert portal.query("SELECT count(*) FROM sohoa.ocr_result") == [(1,)]
    refusals = portal.query("SELECT action, target FROM portal.audit_log WHERE outcome = 'forbidden'")
    assert ("review.view", f"document:{b}") in refusals
    assert ("review.mark_reviewed", f"document:{b}") in refusals
    assert officer.get("/review/999999").status_code == 404


def test_inbox_scans_belong_to_the_uploading_agency_or_to_reviewers_only(portal: Portal, signed_in) -> None:
    officer_a, _ = signed_in("can.bo.a", "can_bo", AGENCY_A)
    officer_b, _ = signed_in("can.bo.b", "can_bo", AGENCY_B)
    reviewer, _ = signed_in("kiem.tra", "kiem_tra")
    uploaded = flagged_document(portal, None, seed=1, uploaded_by_agency=AGENCY_A)
    dropped = flagged_document(portal, None, seed=2)  # a scanner drop: no agency
    assert queue_ids(officer_a) == [uploaded]
    assert queue_ids(officer_b) == []
    assert "Không có giấy tờ nào cần xem lại" in officer_b.get("/review").text
    assert queue_ids(reviewer) == [uploaded, dropped]
    assert queue_ids(reviewer, reason="document.unassigned") == [uploaded, dropped]
    assert officer_a.get(f"/review/{uploaded}").status_code == 200
    assert officer_b.get(f"/review/{uploaded}").status_code == 403
    assert officer_a.get(f"/review/{dropped}").status_code == 403
    assert "phieu-1.png" in officer_a.get("/review").text  # the uploaded file's name
    officer_a.get("/lang/en", params={"next": "/review"})
    english = officer_a.get("/review").text
    assert "Documents that need a person" in english
    assert "Not filed under a dossier" in english


def test_every_decision_needs_the_csrf_token(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A))
    reviewer, token = signed_in("kiem.tra", "kiem_tra")
    doc = flagged_document(portal, CODE_A, seed=1)
    issue = portal.query("SELECT id FROM sohoa.issue")[0][0]
    for action, data in (
        ("fields", {"name": "so_ky_hieu", "value": "99/QĐ"}),
        ("reviewed", {}),
        ("ocr", {}),
        ("assign", {"ma_ho_so": CODE_A}),
        (f"issues/{issue}/resolve", {"note": "ok"}),
    ):
        for bad in ({}, {"csrf_token": "not-the-token"}):
            response = reviewer.post(f"/review/{doc}/{action}", data={**data, **bad})
            assert response.status_code == 403, (action, bad)
            assert "Phiên làm việc đã hết hạn" in response.text
    assert portal.query("SELECT count(*) FROM sohoa.review_action") == [(0,)]
    assert portal.query("SELECT count(*) FROM sohoa.ocr_result") == [(1,)]
    assert reviewer.post(f"/review/{doc}/reviewed", data={"csrf_token": token}).status_code == 303


def test_html_in_ocr_text_field_values_and_corrections_is_shown_escaped(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A))
    reviewer, token = signed_in("kiem.tra", "kiem_tra")
    doc = flagged_document(portal, CODE_A, seed=1, text=f"Dòng một {HTML}", fields={"so_ky_hieu": HTML})
    page = reviewer.get(f"/review/{doc}").text
    assert "<script>alert" not in page
    assert "<b onclick" not in page
    assert page.count("&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") >= 2  # the text and the field
    response = reviewer.post(
        f"/review/{doc}/fields",
        data={"name": "so_ky_hieu", "value": "<img src=x onerror=y>", "note": HTML, "csrf_token": token},
    )
    assert response.status_code == 303
    page = reviewer.get(f"/review/{doc}").text
    assert "<img src=x" not in page
    assert "&lt;img src=x onerror=y&gt;" in page
    assert "<b onclick" not in page
    assert "<img src=x" not in reviewer.get(f"/dossiers/{CODE_A}").text


def test_a_correction_wins_is_kept_with_who_and_when_and_the_audit_has_no_value(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A))
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    doc = flagged_document(portal, CODE_A, seed=1, fields={"so_ky_hieu": "12/QĐ-UBND", "ngay_van_ban": "2026-01-02"})
    bad = officer.post(f"/review/{doc}/fields", data={"name": "ngay_van_ban", "value": "ngày mai", "csrf_token": token})
    assert bad.status_code == 400
    assert "Giá trị của trường Ngày văn bản không hợp lệ" in bad.text
    assert "08/07/2021" in bad.text  # how to type a date
    assert f'href="/review/{doc}?page=1"' in bad.text  # the pages lead back to the review page, not the form
    empty = officer.post(f"/review/{doc}/fields", data={"name": "so_ky_hieu", "value": " ", "csrf_token": token})
    assert empty.status_code == 400
    assert "Chưa nhập giá trị" in empty.text
    unknown = officer.post(f"/review/{doc}/fields", data={"name": "password", "value": "x", "csrf_token": token})
    assert unknown.status_code == 400
    assert portal.query("SELECT count(*) FROM sohoa.field_correction") == [(0,)]

    done = officer.post(
        f"/review/{doc}/fields",
        data={"name": "so_ky_hieu", "value": "45/QĐ-UBND", "note": "đọc sai số", "csrf_token": token},
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/review/{doc}?ok=corrected"
    page = officer.get(done.headers["location"]).text
    assert "Đã lưu giá trị sửa" in page
    row = re.search(r'<tr data-field="so_ky_hieu">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "45/QĐ-UBND" in row.group(1)
    assert "Người sửa" in row.group(1)
    assert (
        officer.post(
            f"/review/{doc}/fields", data={"name": "ngay_van_ban", "value": "08/07/2021", "csrf_token": token}
        ).status_code
        == 303
    )
    assert portal.query(
        "SELECT name, value, corrected_by, corrected_at IS NOT NULL FROM sohoa.field_correction ORDER BY id"
    ) == [("so_ky_hieu", "45/QĐ-UBND", "can.bo", True), ("ngay_van_ban", "2021-07-08", "can.bo", True)]
    dossier = officer.get(f"/dossiers/{CODE_A}").text
    shown = re.search(r'<dd data-field="so_ky_hieu">(.*?)</dd>', dossier, re.S)
    assert shown is not None
    assert "45/QĐ-UBND" in shown.group(1)
    assert "12/QĐ-UBND" not in shown.group(1)
    assert "Người sửa" in shown.group(1)
    audit = " ".join(f"{a} {t}" for a, t in portal.query("SELECT action, target FROM portal.audit_log"))
    assert f"document:{doc} field:so_ky_hieu" in audit
    for secret in ("45/QĐ", "2021-07-08", "ngày mai", "đọc sai", "password"):
        assert secret not in audit


def test_resolve_a_finding_with_a_note_then_mark_reviewed(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A))
    reviewer, token = signed_in("kiem.tra", "kiem_tra")
    doc = flagged_document(portal, CODE_A, seed=1)
    other = flagged_document(portal, CODE_A, seed=2)
    issue = portal.query("SELECT id FROM sohoa.issue WHERE fingerprint = 'fp-1'")[0][0]
    other_issue = portal.query("SELECT id FROM sohoa.issue WHERE fingerprint = 'fp-2'")[0][0]
    assert (
        reviewer.post(
            f"/review/{doc}/issues/{other_issue}/resolve", data={"note": "x", "csrf_token": token}
        ).status_code
        == 404
    )
    response = reviewer.post(
        f"/review/{doc}/issues/{issue}/resolve", data={"note": "trang mờ nhưng đọc được", "csrf_token": token}
    )
    assert response.status_code == 303
    assert portal.query("SELECT resolved_at IS NOT NULL FROM sohoa.issue WHERE id = %s", issue) == [(True,)]
    assert portal.query("SELECT actor, detail FROM sohoa.review_action WHERE action = 'resolve_issue'") == [
        ("kiem.tra", "trang mờ nhưng đọc được")
    ]
    assert queue_ids(reviewer) == [other]  # its only reason closed: it left the queue
    assert (
        reviewer.post(f"/review/{other}/reviewed", data={"csrf_token": token}).headers["location"]
        == "/review?ok=reviewed"
    )
    assert queue_ids(reviewer) == []
    assert portal.query("SELECT state, reviewed_by FROM sohoa.document_review WHERE document_id = %s", other) == [
        ("reviewed", "kiem.tra")
    ]
    assert "Đã xem (kiem.tra" in reviewer.get(f"/review/{other}").text
    assert 'id="badge-nav_review"' not in reviewer.get("/review").text
    audit = " ".join(t or "" for (t,) in portal.query("SELECT target FROM portal.audit_log"))
    assert "mờ" not in audit


def test_assign_an_inbox_scan_checks_the_dossier_and_says_why_in_vietnamese(portal: Portal, signed_in) -> None:
    portal.load_records(record(CODE_A, AGENCY_A), record(CODE_B, AGENCY_B))
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    doc = flagged_document(portal, None, seed=1, uploaded_by_agency=AGENCY_A, fields={"ma_ho_so": CODE_A2})
    page = officer.get(f"/review/{doc}").text
    assert f'value="{CODE_A2}"' in page  # the code read on the scan, suggested

    def assign(code: str):  # type: ignore[no-untyped-def]
        return officer.post(f"/review/{doc}/assign", data={"ma_ho_so": code, "csrf_token": token})

    cases = {"12345": "không đúng định dạng", CODE_A2: "Không có hồ sơ", CODE_B: "thuộc cơ quan khác"}
    for code, message in cases.items():
        response = assign(code)
        assert response.status_code == 400, code
        assert message in response.text
    assert portal.query("SELECT ma_ho_so FROM sohoa.document WHERE id = %s", doc) == [(None,)]
    response = assign(f"  {CODE_A} ")
    assert response.status_code == 303
    assert portal.query("SELECT ma_ho_so, linked_by FROM sohoa.document WHERE id = %s", doc) == [(CODE_A, "person")]
    assert portal.query("SELECT resolved_at IS NOT NULL FROM sohoa.issue WHERE rule = 'document.unassigned'") == [
        (True,)
    ]
    assert portal.query("SELECT action, actor FROM sohoa.review_action") == [("assign_dossier", "can.bo")]
    assert f"/review/{doc}" in officer.get(f"/dossiers/{CODE_A}").text.replace("/documents/", "/review/")
    outcomes = portal.query("SELECT target, outcome FROM portal.audit_log WHERE action = 'review.assign' ORDER BY id")
    assert outcomes == [
        (f"document:{doc} dossier:?", "rejected"),
        (f"document:{doc} dossier:{CODE_A2}", "rejected"),
        (f"document:{doc} dossier:{CODE_B}", "rejected"),
        (f"document:{doc} dossier:{CODE_A}", "ok"),
    ]
    assert assign(CODE_A).status_code == 400  # already filed there


def test_rerun_ocr_puts_the_original_back_in_the_ocr_queue_and_keeps_corrections(portal: Portal, signed_in) -> None:
    """With the real pipeline: a 150 dpi scan is flagged low_dpi, a person corrects a field and asks for OCR
    again; the original waits for OCR, the ingest trigger fires, the next run reads it again and the
    correction still wins."""
    from sohoa.intake.pipeline import run_all

    portal.load_records(record(CODE_A, AGENCY_A))
    reviewer, token = signed_in("kiem.tra", "kiem_tra")
    portal.put_landing(f"scans/{CODE_A}/don.png", _scan_at(150))
    run_all(portal.settings)
    (doc,) = queue_ids(reviewer, reason="document.low_dpi")
    png = reviewer.get(f"/documents/{doc}/pages/1.png")
    assert png.status_code == 200
    cached = portal.query("SELECT sha256 FROM sohoa.document WHERE id = %s", doc)[0][0]
    assert (
        reviewer.post(
            f"/review/{doc}/fields", data={"name": "so_ky_hieu", "value": "7/GP", "csrf_token": token}
        ).status_code
        == 303
    )
    response = reviewer.post(f"/review/{doc}/ocr", data={"csrf_token": token})
    assert response.headers["location"] == f"/review/{doc}?ok=ocr_requested"
    assert portal.query("SELECT count(*) FROM sohoa.ocr_result") == [(0,)]
    deadline = time.monotonic() + 30
    while not portal.triggered and time.monotonic() < deadline:
        time.sleep(0.1)
    assert portal.triggered == ["ingest"]
    assert "Chờ OCR" in reviewer.get(f"/review/{doc}").text
    again = reviewer.post(f"/review/{doc}/ocr", data={"csrf_token": token})
    assert again.headers["location"] == f"/review/{doc}?ok=ocr_already_pending"
    assert portal.query("SELECT action FROM sohoa.review_action ORDER BY id") == [("correct_field",), ("request_ocr",)]
    run_all(portal.settings)
    assert portal.query("SELECT status FROM sohoa.ocr_result WHERE sha256 = %s", cached) == [("done",)]
    fields = portal.query("SELECT extracted->'fields'->'so_ky_hieu'->>'value' FROM sohoa.ocr_result")
    assert fields == [("7/GP",)]
    assert queue_ids(reviewer) == [doc]  # still low dpi: still waiting for a person
    assert portal.query("SELECT count(*) FROM sohoa.issue WHERE rule = 'document.low_dpi' AND resolved_at IS NULL") == [
        (1,)
    ]


def _scan_at(dpi: int) -> bytes:
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(scan_png(("GIẤY PHÉP XÂY DỰNG", "Số: 12/GP-UBND"), seed=dpi)))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def test_review_texts_exist_in_both_languages() -> None:
    dynamic = (
        {f"why_{r.replace('.', '_')}" for r in REVIEW_RULES}
        | {f"fld_{f}" for f in CORRECTABLE_FIELDS}
        | {f"state_{s}" for s in ("needs_review", "reviewed", "cleared", "none")}
        | {f"act_{a}" for a in ("correct_field", "resolve_issue", "assign_dossier", "mark_reviewed", "request_ocr")}
        | {f"ok_{n}" for n in ("corrected", "resolved", "assigned", "ocr_requested", "ocr_already_pending", "reviewed")}
        | {f"hint_{h}" for h in ("date", "code", "cccd", "value")}
    )
    assert not sorted(dynamic - TEXT.keys())

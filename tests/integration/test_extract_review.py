"""From scan to checked fields and the review queue, through the real ingestion (PostgreSQL, the S3 server,
Tesseract): what a records officer and a data engineer would check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from db_rows import rows as _rows

from sohoa.config import Settings
from sohoa.db.connection import connect
from sohoa.intake import pipeline
from sohoa.review import actions
from sohoa.review.actions import ReviewError
from sohoa.sample.documents import DocFields, render_document, write_scan
from sohoa.storage import s3

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _record(code: str, cccd: str) -> str:
    agency = code.split("-")[0]
    day = code.split("-")[1]
    received = f"20{day[:2]}-{day[2:4]}-{day[4:]}T09:00:00+07:00"
    return json.dumps(
        {
            "MaHoSo": code,
            "MaTTHC": "2.000815",
            "MaCoQuan": agency,
            "TrangThaiHoSo": 4,
            "LoaiDoiTuong": 1,
            "SoGiayToChuHoSo": cccd,
            "NgayTiepNhan": received,
            "CapNhatLuc": received,
        }
    )


def _scan(tmp: Path, kind: str, fields: DocFields, seed: int) -> bytes:
    pages, _ = render_document(kind, fields, dpi=300, seed=seed)
    return write_scan(pages, tmp / f"{kind}-{seed}.png", "png", dpi=300).read_bytes()


def _doc_id(settings: Settings, key: str) -> int:
    return int(_rows(settings, "SELECT id FROM sohoa.document WHERE landing_key = %s", key)[0][0])


def _open_rules(settings: Settings, key: str) -> list[str]:
    return [
        r[0]
        for r in _rows(
            settings, "SELECT rule FROM quality.issues WHERE object_key = %s AND resolved_at IS NULL ORDER BY rule", key
        )
    ]


def test_fields_cross_checks_and_review(settings: Settings, tmp_path: Path) -> None:
    a, b, c = DocFields.fake(101), DocFields.fake(202), DocFields.fake(303)
    client = s3.make_client(settings)

    def put(key: str, data: bytes) -> None:
        s3.put_bytes(client, settings.bucket_landing, key, data, "application/octet-stream")

    put("records/r.jsonl", (_record(a.ma_ho_so, a.cccd) + "\n" + _record(b.ma_ho_so, b.cccd)).encode())
    good, misfiled, inbox = (f"scans/{a.ma_ho_so}/giay_phep.png", f"scans/{b.ma_ho_so}/don.png", "inbox/bn.png")
    put(good, _scan(tmp_path, "giay_phep", a, 1))
    put(misfiled, _scan(tmp_path, "don_de_nghi", a, 2))  # A's application filed under dossier B
    put(inbox, _scan(tmp_path, "bien_nhan", c, 3))  # C's receipt; C has no record yet
    put("inbox/bn-a.png", _scan(tmp_path, "bien_nhan", a, 4))  # A's receipt: A is on record
    pipeline.run_all(settings)

    # The receipt naming a dossier on record is filed under it by intake; the other waits for a person.
    assert _rows(settings, "SELECT ma_ho_so, linked_by FROM sohoa.document WHERE landing_key = 'inbox/bn-a.png'") == [
        (a.ma_ho_so, "ocr_text")
    ]

    # The well-filed document: fields in truong_trich_xuat, no personal value, the CCCD as the record's pseudonym.
    (extracted,) = _rows(
        settings,
        "SELECT truong_trich_xuat FROM publish.giay_to WHERE ma_ho_so = %s AND ten_giay_to = 'giay_phep.png'",
        a.ma_ho_so,
    )[0]
    fields = extracted["fields"]
    assert fields["ma_ho_so"]["value"] == a.ma_ho_so
    assert fields["ma_ho_so"]["page"] == 1
    assert fields["ma_ho_so"]["confidence"] > 0.5
    assert fields["so_ky_hieu"]["value"] == f"{a.doc_number.split('/')[0]}/{a.result_short}"
    assert fields["ngay_van_ban"]["value"] == a.issued.isoformat()
    pseudonym = _rows(settings, "SELECT chu_ho_so_ma_hoa FROM publish.ho_so WHERE ma_ho_so = %s", a.ma_ho_so)[0][0]
    assert fields["so_cccd"]["pseudonym"] == pseudonym
    assert fields["chu_ho_so"] == {**fields["chu_ho_so"], "present": True}
    published = json.dumps(extracted, ensure_ascii=False)
    assert a.cccd not in published
    assert a.applicant not in published
    assert _open_rules(settings, good) == []

    # The misfiled one: both cross-checks flag it, and it is in the review queue with its reasons.
    assert _open_rules(settings, misfiled) == ["document.dossier_code_mismatch", "document.identity_mismatch"]
    details = " ".join(
        r[0] for r in _rows(settings, "SELECT detail FROM quality.issues WHERE object_key = %s", misfiled)
    )
    assert a.cccd not in details
    assert b.cccd not in details
    misfiled_id, inbox_id = _doc_id(settings, misfiled), _doc_id(settings, inbox)
    with connect(settings) as conn:
        queue = {item.document_id: item for item in actions.review_queue(conn)}
    assert set(queue) == {misfiled_id, inbox_id}
    assert queue[misfiled_id].reasons == ("document.dossier_code_mismatch", "document.identity_mismatch")
    assert queue[inbox_id].reasons == ("document.unassigned",)
    assert queue[inbox_id].suggested_ma_ho_so == c.ma_ho_so

    # A person corrects the dossier code and accepts the identity finding: both close, who and when are kept,
    # and the person's value wins in truong_trich_xuat.
    with connect(settings) as conn:
        with pytest.raises(ReviewError, match="name of the person"):
            actions.correct_field(conn, settings, misfiled_id, "ma_ho_so", b.ma_ho_so, "  ")
        with pytest.raises(ReviewError, match="must be a date"):
            actions.correct_field(conn, settings, misfiled_id, "ngay_van_ban", "31/02/2021", "lan.nguyen")
        actions.correct_field(conn, settings, misfiled_id, "ma_ho_so", b.ma_ho_so, "lan.nguyen")
    assert _open_rules(settings, misfiled) == ["document.identity_mismatch"]
    identity_issue = _rows(
        settings,
        "SELECT id FROM sohoa.issue WHERE object_key = %s AND rule = %s",
        misfiled,
        "document.identity_mismatch",
    )[0][0]
    with connect(settings) as conn:
        actions.resolve_issue(conn, identity_issue, "lan.nguyen", "the applicant's proxy")
        shown = actions.document_fields(conn, misfiled_id)
    assert _open_rules(settings, misfiled) == []
    assert shown["ma_ho_so"]["value"] == b.ma_ho_so
    assert shown["ma_ho_so"]["source"] == "person"
    fields = _rows(settings, "SELECT truong_trich_xuat FROM publish.giay_to WHERE ma_ho_so = %s", b.ma_ho_so)[0][0][
        "fields"
    ]
    assert fields["ma_ho_so"]["value"] == b.ma_ho_so
    assert fields["ma_ho_so"]["source"] == "person"
    audit = _rows(settings, "SELECT action, actor, acted_at IS NOT NULL FROM sohoa.review_action ORDER BY id")
    assert audit == [("correct_field", "lan.nguyen", True), ("resolve_issue", "lan.nguyen", True)]

    # C's record arrives; a person files the inbox scan under the dossier its printed code names.
    put("records/r2.jsonl", _record(c.ma_ho_so, c.cccd).encode())
    pipeline.run_all(settings)
    with connect(settings) as conn:
        with pytest.raises(ReviewError, match="no dossier"):
            actions.assign_document(conn, settings, inbox_id, "000.00.01.H19-260101-0001", "lan.nguyen")
        actions.assign_document(conn, settings, inbox_id, c.ma_ho_so, "lan.nguyen")
        remaining = actions.review_queue(conn)
    assert _open_rules(settings, inbox) == []
    assert _rows(settings, "SELECT ma_ho_so FROM sohoa.document WHERE id = %s", inbox_id) == [(c.ma_ho_so,)]
    assert [item.document_id for item in remaining] == []  # every reason of both documents is gone

    # Running the ingestion again changes nothing.
    before = _rows(settings, "SELECT count(*) FROM sohoa.issue")
    pipeline.run_all(settings)
    assert _rows(settings, "SELECT count(*) FROM sohoa.issue") == before


def test_a_failing_extraction_keeps_the_ocr(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error in extraction is rolled back to its savepoint: the OCR result of the same
    transaction stays, and the log says what to run, without document text."""
    from sohoa.extract import stage

    sha = "c" * 64
    with connect(settings) as conn, conn.cursor() as cur:
        cur.execute(
            "INSERT INTO sohoa.original (sha256, raw_uri, size_bytes, mime_type) VALUES (%s, %s, 1, %s)",
            (sha, f"s3://raw/{sha}", "image/png"),
        )
        cur.execute("INSERT INTO sohoa.ocr_result (sha256, status) VALUES (%s, 'done')", (sha,))

        def broken(*_args: object, **_kwargs: object) -> None:
            raise ValueError("bug")

        monkeypatch.setattr(stage, "extract_fields", broken)
        assert stage.extract_after_ocr(conn, settings, sha, "Mã hồ sơ: secret text", [90.0]) is None
    assert _rows(settings, "SELECT status, extracted FROM sohoa.ocr_result WHERE sha256 = %s", sha) == [("done", {})]
    assert "sohoa quality reextract" in caplog.text
    assert "secret text" not in caplog.text

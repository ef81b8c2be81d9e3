"""Uploads over HTTP: streamed to the landing bucket under contract keys without personal data, limits with
clear errors naming the file, ZIPs, the pipeline trigger (and what happens when Airflow cannot be reached),
and each file's fate as the officer follows it."""

from __future__ import annotations

import logging
import time

import pytest
from portal_testkit import AGENCY_A, Portal, put_file, record, scan_png, start_upload, zip_of

from sohoa.portal.app import airflow_trigger
from sohoa.storage import s3

pytestmark = pytest.mark.integration

CODE = f"{AGENCY_A}-260105-0001"
PERSONAL_NAME = "Nguyễn Văn An 075090001234 CCCD.png"


def wait_for(condition, timeout_s: float = 20):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_files_stream_to_contract_keys_and_reach_ocr_done(portal: Portal, signed_in, caplog) -> None:
    from sohoa.intake.pipeline import run_all

    caplog.set_level(logging.DEBUG)
    portal.load_records(record(CODE, AGENCY_A))
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    first = put_file(officer, token, upload_id, PERSONAL_NAME, scan_png(seed=1))
    assert first.status_code == 201, first.text
    second = put_file(officer, token, upload_id, "trang-2.png", scan_png(seed=2))
    assert second.status_code == 201
    keys = portal.landing_keys()
    assert len(keys) == 3  # the records batch and two scans
    scans = [k for k in keys if k.startswith(f"scans/{CODE}/")]
    assert len(scans) == 2
    assert all(k.startswith(f"scans/{CODE}/portal-{upload_id}-") and k.endswith(".png") for k in scans)
    # No personal data in keys: the original name stays in the portal's table.
    assert not any("Nguy" in k or "075090001234" in k for k in keys)

    status = officer.get(f"/uploads/{upload_id}/status").json()
    assert [f["fate"] for f in status["files"]] == ["waiting", "waiting"]
    assert status["files"][0]["name"] == PERSONAL_NAME

    assert officer.post(f"/uploads/{upload_id}/finish", data={"csrf_token": token}).status_code == 200
    wait_for(lambda: portal.triggered)
    wait_for(lambda: officer.get(f"/uploads/{upload_id}/status").json()["trigger_status"] == "triggered")

    run_all(portal.settings)  # what the triggered DAG runs
    files = officer.get(f"/uploads/{upload_id}/status").json()["files"]
    assert [f["fate"] for f in files] == ["ocr_done", "ocr_done"]
    assert all(f["confidence"] > 60 for f in files)
    assert [f["fate_text"] for f in files] == ["Đã OCR xong"] * 2

    page = officer.get(f"/uploads/{upload_id}")
    assert "Đã OCR xong" in page.text
    dossier = officer.get(f"/dossiers/{CODE}").text
    assert PERSONAL_NAME in dossier  # shown to the authorised officer
    document_id = files[0]["document_id"]
    thumbnail = officer.get(f"/documents/{document_id}/pages/1.png")
    assert thumbnail.status_code == 200
    assert thumbnail.content.startswith(b"\x89PNG")
    text = officer.get(f"/documents/{document_id}").text
    assert "XÂY DỰNG" in text
    # Neither the logs nor the audit log carry the name or the ID number.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "Nguy" not in logged
    assert "075090001234" not in logged
    targets = " ".join(t or "" for (t,) in portal.query("SELECT target FROM portal.audit_log"))
    assert "Nguy" not in targets
    assert "075090001234" not in targets


def test_an_inbox_upload_lands_under_inbox(portal: Portal, signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "inbox")
    assert put_file(officer, token, upload_id, "phieu.png", scan_png()).status_code == 201
    assert portal.landing_keys() == [k for k in portal.landing_keys() if k.startswith("inbox/portal-")]
    assert len(portal.landing_keys()) == 1


def test_a_file_over_the_limit_is_refused_with_its_name_and_nothing_lands(portal: Portal, signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    big = b"%PDF-1.4\n" + b"0" * (portal.portal_settings.max_file_bytes + 1)
    response = put_file(officer, token, upload_id, "ho-so-lon.pdf", big)
    assert response.status_code == 413
    assert "ho-so-lon.pdf" in response.json()["error"]
    assert "2 MB" in response.json()["error"]
    assert portal.landing_keys() == []

    # Without a Content-Length the limit holds all the same, while streaming (the multipart upload is aborted).
    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(5):
            yield b"1" * (1024 * 1024)

    streamed = officer.put(
        f"/uploads/{upload_id}/files", content=chunks(), headers={"X-CSRF-Token": token, "X-File-Name": "luong.pdf"}
    )
    assert streamed.status_code == 413
    assert "luong.pdf" in streamed.json()["files"][0]["error"]
    assert portal.landing_keys() == []
    fates = officer.get(f"/uploads/{upload_id}/status").json()["files"]
    assert [f["fate"] for f in fates] == ["rejected", "rejected"]
    assert all(f["reason"] for f in fates)


def test_too_many_files_in_one_upload_are_refused(portal: Portal, signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "inbox")
    limit = portal.portal_settings.max_files_per_upload
    for i in range(limit):
        assert put_file(officer, token, upload_id, f"p{i}.png", scan_png(seed=i)).status_code == 201
    refused = put_file(officer, token, upload_id, "one-too-many.png", scan_png(seed=99))
    assert refused.status_code == 413
    assert "one-too-many.png" in refused.json()["error"]
    assert len(portal.landing_keys()) == limit


def test_a_zip_is_expanded_member_by_member(portal: Portal, signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    archive = zip_of(
        {
            "ho-so/trang1.png": scan_png(seed=1),
            "ho-so/trang2.png": scan_png(seed=2),
            "__MACOSX/._trang1.png": b"junk",
            "ho-so/.DS_Store": b"junk",
        }
    )
    response = put_file(officer, token, upload_id, "ho-so.zip", archive)
    assert response.status_code == 201, response.text
    names = [f["name"] for f in response.json()["files"]]
    assert names == ["ho-so.zip/ho-so/trang1.png", "ho-so.zip/ho-so/trang2.png"]
    keys = portal.landing_keys()
    assert len(keys) == 2
    assert all(k.startswith(f"scans/{CODE}/portal-") and k.endswith(".png") for k in keys)


def test_a_bad_zip_is_refused_naming_it(portal: Portal, signed_in) -> None:
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    corrupt = put_file(officer, token, upload_id, "hong.zip", b"PK\x03\x04" + b"garbage" * 50)
    assert corrupt.status_code == 400
    assert "hong.zip" in corrupt.json()["error"]
    crowded = zip_of({f"p{i}.png": b"x" for i in range(portal.portal_settings.max_zip_members + 1)})
    too_many = put_file(officer, token, upload_id, "nhieu.zip", crowded)
    assert too_many.status_code == 400
    assert "nhieu.zip" in too_many.json()["error"]
    assert portal.landing_keys() == []


def test_a_file_named_zip_that_is_not_one_is_stored_as_it_is(portal: Portal, signed_in) -> None:
    """The bytes decide: the pipeline will type (and here quarantine) it, the officer sees why."""
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    assert put_file(officer, token, upload_id, "not-a.zip", b"plain text, not a zip").status_code == 201
    from sohoa.intake.pipeline import run_all

    run_all(portal.settings)
    fate = officer.get(f"/uploads/{upload_id}/status").json()["files"][0]
    assert fate["fate"] == "quarantined"
    assert "document.unsupported_type" in fate["reason"]


def test_airflow_unreachable_loses_no_upload(portal: Portal, signed_in, port_factory) -> None:
    """The real trigger against a port where nothing listens: the files stay, the next scheduled run takes them."""
    unreachable = portal.settings.model_copy(
        update={"airflow_url": f"http://127.0.0.1:{port_factory()}", "airflow_password": None}
    )
    real_trigger = airflow_trigger(unreachable)
    portal.trigger_error = None
    portal.trigger = real_trigger  # type: ignore[method-assign]
    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    assert put_file(officer, token, upload_id, "a.png", scan_png()).status_code == 201
    assert officer.post(f"/uploads/{upload_id}/finish", data={"csrf_token": token}).status_code == 200
    status = wait_for(
        lambda: (s := officer.get(f"/uploads/{upload_id}/status").json())["trigger_status"] == "deferred" and s
    )
    assert "lượt chạy định kỳ" in status["trigger_text"]
    assert len(portal.landing_keys()) == 1
    assert status["files"][0]["fate"] == "waiting"


def test_a_large_upload_streams_without_holding_the_file_in_memory(portal: Portal, port_factory) -> None:
    """Through a real HTTP server, the process's peak Python allocation does not grow with the file's size
    (a whole-file buffer would add the 36 MB difference between the two uploads)."""
    import re
    import tracemalloc

    import httpx
    from portal_testkit import served

    from sohoa.portal import create_app

    limits = portal.portal_settings.model_copy(update={"max_file_bytes": 64 * 1024 * 1024})
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    app = create_app(portal.settings, limits, trigger=portal.trigger)

    def body(megabytes: int):  # type: ignore[no-untyped-def]
        block = b"%PDF-1.4\n" + b"0" * (1024 * 1024 - 9)
        for _ in range(megabytes):
            yield block

    peaks = {}
    with served(app, port_factory()) as url, httpx.Client(base_url=url, timeout=120) as http:
        page = http.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        http.post("/login", data={"username": "can.bo", "password": "mat-khau-2026", "csrf_token": token})
        csrf = re.search(
            r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
            http.get("/upload").text,
        ).group(1)
        upload_id = http.post("/uploads", data={"target": "dossier", "ma_ho_so": CODE, "csrf_token": csrf}).json()["id"]
        for megabytes in (12, 48):
            tracemalloc.start()
            try:
                response = http.put(
                    f"/uploads/{upload_id}/files",
                    content=body(megabytes),
                    headers={"X-CSRF-Token": csrf, "X-File-Name": f"{megabytes}.pdf"},
                )
                peaks[megabytes] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            assert response.status_code == 201, response.text
            assert response.json()["files"][0]["size"] == megabytes * 1024 * 1024
    client = s3.make_client(portal.settings)
    sizes = sorted(client.stat_object(portal.settings.bucket_landing, k).size for k in portal.landing_keys())
    assert sizes == [12 * 1024 * 1024, 48 * 1024 * 1024]
    print(f"peak Python allocation: {peaks}")
    growth = peaks[48] - peaks[12]
    assert growth < 8 * 1024 * 1024, f"peak grew by {growth / 1e6:.0f} MB for 36 MB more: {peaks}"


def test_the_same_scan_twice_is_one_document_and_the_officer_sees_the_duplicate(portal: Portal, signed_in) -> None:
    from sohoa.intake.pipeline import run_all

    officer, token = signed_in("can.bo", "can_bo", AGENCY_A)
    upload_id = start_upload(officer, token, "dossier", CODE)
    scan = scan_png(seed=5)
    assert put_file(officer, token, upload_id, "lan-1.png", scan).status_code == 201
    assert put_file(officer, token, upload_id, "lan-2.png", scan).status_code == 201
    run_all(portal.settings)
    run_all(portal.settings)  # running twice changes nothing
    fates = officer.get(f"/uploads/{upload_id}/status").json()["files"]
    assert [f["fate"] for f in fates] == ["ocr_done", "duplicate"]
    assert "duplicate of document" in fates[1]["reason"]
    assert portal.query("SELECT count(*) FROM sohoa.document WHERE ma_ho_so = %s", CODE) == [(1,)]


def test_many_officers_uploading_at_once_all_land(portal: Portal, port_factory) -> None:
    """More concurrent uploads than the server has threads (the writers once shared asyncio's small default
    executor with the code that feeds them, and the seventh concurrent upload hung them all): every file lands
    whole. bench/portal_upload_load.py measures the same with fifty officers."""
    import re
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from portal_testkit import served

    from sohoa.portal import create_app
    from sohoa.portal.streaming import PART_SIZE

    officers = 16
    for i in range(officers):
        portal.add_user(f"can.bo.{i}", "can_bo", AGENCY_A)
    limits = portal.portal_settings.model_copy(update={"max_file_bytes": 64 * 1024 * 1024})
    app = create_app(portal.settings, limits, trigger=portal.trigger)
    body = b"%PDF-1.4\n" + bytes(range(256)) * ((PART_SIZE + 300_000) // 256)  # more than one multipart part

    def officer(i: int, url: str) -> int:
        with httpx.Client(base_url=url, timeout=60) as http:
            page = http.get("/login")
            token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
            http.post("/login", data={"username": f"can.bo.{i}", "password": "mat-khau-2026", "csrf_token": token})
            csrf = re.search(
                r'name="csrf_token" value="([^"]+)"',  # type: ignore[union-attr]
                http.get("/upload").text,
            ).group(1)
            upload_id = http.post("/uploads", data={"target": "dossier", "ma_ho_so": CODE, "csrf_token": csrf}).json()[
                "id"
            ]
            response = http.put(
                f"/uploads/{upload_id}/files",
                content=body + str(i).encode(),
                headers={"X-CSRF-Token": csrf, "X-File-Name": f"scan-{i}.pdf"},
            )
            return response.status_code

    with served(app, port_factory()) as url, ThreadPoolExecutor(officers) as pool:
        statuses = list(pool.map(lambda i: officer(i, url), range(officers)))
    assert statuses == [201] * officers
    client = s3.make_client(portal.settings)
    contents = sorted(s3.get_bytes(client, portal.settings.bucket_landing, k) for k in portal.landing_keys())
    assert contents == sorted(body + str(i).encode() for i in range(officers))

"""Browser tests: Debian's Chromium, headless, driven by Playwright against the real portal served by uvicorn
over HTTP (real PostgreSQL, real S3 server, real Tesseract; the ingest DAG's code runs in-process when the
portal triggers it). Screenshots go to ``test-artifacts/portal/``.

Covered: sign in; upload a multi-file dossier (file chooser) and an inbox file (drag and drop), and watch
each file reach "OCR done"; the dossier page with thumbnails; a page image beside its OCR text; the layout
on a 1366x768 counter screen; the review queue: fix a field and see the correction win on the dossier page,
file an inbox scan under a dossier (a wrong code first, refused in Vietnamese).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from portal_testkit import AGENCY_A, PASSWORD, Portal, record, scan_png
from portal_testkit import served as serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).parents[2] / "test-artifacts" / "portal"
CODE = f"{AGENCY_A}-260105-0001"

if not CHROMIUM.exists():
    pytest.skip("Debian's Chromium is missing: apt-get install chromium chromium-driver", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")


@pytest.fixture
def served(portal: Portal, port_factory) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The portal on a real port, with the in-process pipeline as its trigger."""
    from sohoa.intake.pipeline import run_all
    from sohoa.portal import create_app

    app = create_app(portal.settings, portal.portal_settings, trigger=lambda: run_all(portal.settings) and None)
    with serve(app, port_factory()) as url:
        yield url


@pytest.fixture
def page(served: str):  # type: ignore[no-untyped-def]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="vi-VN", base_url=served)
        context.set_default_timeout(20_000)
        try:
            yield context.new_page()
        finally:
            context.close()
            browser.close()


def shot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/dossiers")
    assert "/login" in page.url  # no page without sign-in
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    shot(page, "01-sign-in")
    page.click('button[type="submit"]')
    page.wait_for_url("**/dossiers")


def fits_the_screen(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_officer_uploads_a_dossier_and_follows_it_to_ocr_done(portal: Portal, page, tmp_path: Path) -> None:
    portal.load_records(record(CODE, AGENCY_A))
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    sign_in(page, "can.bo")
    assert page.locator(f'a[href="/dossiers/{CODE}"]').is_visible()
    assert fits_the_screen(page)
    shot(page, "02-dossiers")

    files = []
    for i, name in enumerate(("don-de-nghi.png", "ban-ve.png")):
        path = tmp_path / name
        path.write_bytes(scan_png(seed=i))
        files.append(str(path))
    page.goto(f"/upload?ma_ho_so={CODE}")
    assert page.input_value("#ma_ho_so") == CODE
    page.set_input_files("#files", files)
    rows = page.locator("#queue tbody tr")
    rows.nth(1).wait_for()
    assert rows.count() == 2
    page.wait_for_function(
        "() => [...document.querySelectorAll('#queue tbody tr')].every(r => r.className === 'fate-ocr_done')",
        timeout=120_000,
    )
    assert "Đã OCR xong" in rows.nth(0).inner_text()
    assert "don-de-nghi.png" in rows.nth(0).inner_text()
    assert fits_the_screen(page)
    shot(page, "03-upload-ocr-done")

    page.goto(f"/dossiers/{CODE}")
    thumbnails = page.locator(".thumbs img")
    assert thumbnails.count() == 2
    page.wait_for_function("() => [...document.querySelectorAll('.thumbs img')].every(i => i.naturalWidth > 0)")
    assert fits_the_screen(page)
    shot(page, "04-dossier")

    page.click('article.document h3 a:has-text("don-de-nghi.png")')
    page.wait_for_url("**/documents/*")
    page.wait_for_function(
        "() => { const i = document.querySelector('.page-image img'); return i && i.naturalWidth > 0; }"
    )
    assert "XÂY DỰNG" in page.inner_text("#ocr-text")
    assert fits_the_screen(page)
    shot(page, "05-page-beside-text")


def test_officer_drops_a_file_for_the_inbox(portal: Portal, page) -> None:
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    sign_in(page, "can.bo")
    page.goto("/upload")
    page.check('input[name="target"][value="inbox"]')
    assert page.locator("#code-field").is_hidden()
    data = list(scan_png(seed=7))
    transfer = page.evaluate_handle(
        """(bytes) => { const dt = new DataTransfer();
                       dt.items.add(new File([new Uint8Array(bytes)], 'phieu-tiep-nhan.png', {type: 'image/png'}));
                       return dt; }""",
        data,
    )
    page.dispatch_event("#drop", "drop", {"dataTransfer": transfer})
    row = page.locator("#queue tbody tr").first
    row.wait_for()
    page.wait_for_function(
        "() => document.querySelector('#queue tbody tr').className === 'fate-ocr_done'", timeout=120_000
    )
    assert "phieu-tiep-nhan.png" in row.inner_text()
    shot(page, "06-inbox-drop")
    assert portal.landing_keys()[0].startswith("inbox/portal-")


def scan_at(dpi: int, lines: tuple[str, ...], seed: int) -> bytes:
    """A scan whose file says it was made at ``dpi`` (150: under the 200 dpi rule, so it waits for review)."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(scan_png(lines, seed=seed)))
    out = io.BytesIO()
    image.save(out, format="PNG", dpi=(dpi, dpi))
    return out.getvalue()


def test_officer_fixes_a_field_in_the_review_queue_and_the_correction_wins_on_the_dossier_page(
    portal: Portal, page
) -> None:
    from sohoa.intake.pipeline import run_all

    portal.load_records(record(CODE, AGENCY_A))
    portal.put_landing(f"scans/{CODE}/giay-phep.png", scan_at(150, ("GIẤY PHÉP XÂY DỰNG", "Số: 12/GP-UBND"), seed=21))
    run_all(portal.settings)
    portal.add_user("can.bo", "can_bo", AGENCY_A)
    sign_in(page, "can.bo")
    badge = page.locator("#badge-nav_review")
    assert badge.inner_text() == "1"
    page.click('header nav a[href="/review"]')
    page.wait_for_url("**/review")
    rows = page.locator("#review-queue tbody tr")
    assert rows.count() == 1
    assert "DPI thấp" in rows.first.inner_text()
    assert fits_the_screen(page)
    shot(page, "07-review-queue")

    rows.first.locator("a").click()
    page.wait_for_url("**/review/*")
    page.wait_for_function(
        "() => { const i = document.querySelector('.page-image img'); return i && i.naturalWidth > 0; }"
    )
    assert "GIẤY PHÉP" in page.inner_text("#ocr-text")
    page.select_option("#correct-name", "so_ky_hieu")
    page.fill("#correct-value", "45/GP-UBND")
    shot(page, "08-review-correct-field")
    page.click('#correct-form button[type="submit"]')
    page.wait_for_selector("#notice")
    assert "Đã lưu giá trị sửa" in page.inner_text("#notice")
    fixed = page.locator('#fields tr[data-field="so_ky_hieu"]')
    assert "45/GP-UBND" in fixed.inner_text()
    assert "Người sửa" in fixed.inner_text()
    assert fits_the_screen(page)
    shot(page, "09-review-corrected")

    page.goto(f"/dossiers/{CODE}")
    page.click("article.document details summary")
    shown = page.locator('article.document dd[data-field="so_ky_hieu"]')
    assert "45/GP-UBND" in shown.inner_text()
    assert "12/GP-UBND" not in shown.inner_text()
    assert "Người sửa" in shown.inner_text()
    shot(page, "10-dossier-correction-wins")


def test_reviewer_files_an_inbox_scan_under_a_dossier(portal: Portal, page) -> None:
    from sohoa.intake.pipeline import run_all

    portal.load_records(record(CODE, AGENCY_A))
    portal.put_landing("inbox/phieu-nhan.png", scan_png(("PHIẾU TIẾP NHẬN HỒ SƠ", "Người nộp: đã ký"), seed=22))
    run_all(portal.settings)
    portal.add_user("kiem.tra", "kiem_tra")
    sign_in(page, "kiem.tra")
    page.goto("/review?reason=document.unassigned")
    rows = page.locator("#review-queue tbody tr")
    assert rows.count() == 1
    assert "Chưa gán hồ sơ" in rows.first.inner_text()
    shot(page, "11-review-inbox")
    rows.first.locator("a").click()
    page.wait_for_url("**/review/*")

    page.fill("#assign-code", f"{AGENCY_A}-260105-9999")
    page.click('#assign-form button[type="submit"]')
    page.wait_for_selector("#error")
    assert "Không có hồ sơ" in page.inner_text("#error")
    shot(page, "12-review-assign-refused")

    page.fill("#assign-code", CODE)
    page.click('#assign-form button[type="submit"]')
    page.wait_for_selector("#notice")
    assert "Đã gán giấy tờ vào hồ sơ" in page.inner_text("#notice")
    assert page.locator(f'a[href="/dossiers/{CODE}"]').count() >= 1
    shot(page, "13-review-assigned")
    page.goto(f"/dossiers/{CODE}")
    assert page.locator("article.document").count() == 1
    shot(page, "14-dossier-with-filed-scan")

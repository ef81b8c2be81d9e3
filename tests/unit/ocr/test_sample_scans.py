"""The generator of realistic scanned pages used by the OCR tests, the benchmarks and the demo."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sohoa.sample.documents import KINDS, DocFields, render_blank_page, render_document, write_scan

DOSSIER_CODE = re.compile(r"^[0-9]{3}\.[0-9]{2}\.[0-9]{2}\.[A-Z][0-9]{2}-[0-9]{6}-[0-9]{4}$")


def test_fake_fields_follow_the_national_codes() -> None:
    for seed in range(30):
        f = DocFields.fake(seed)
        assert DOSSIER_CODE.match(f.ma_ho_so), f.ma_ho_so
        assert f.ma_ho_so.split("-")[1] == f.received.strftime("%y%m%d")
        assert len(f.cccd) == 12
        assert f.cccd.isdigit()
        assert f.cccd[4:6] == f"{f.birth_date.year % 100:02d}"
        assert f.issued >= f.received
    assert DocFields.fake(3) == DocFields.fake(3)


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_renders_an_a4_page_with_its_truth(kind: str) -> None:
    fields = DocFields.fake(7)
    pages, truth = render_document(kind, fields, dpi=200, seed=7)
    assert len(pages) == 1
    assert pages[0].size == (1654, 2339)
    assert pages[0].info["dpi"] == (200, 200)
    assert unicodedata.is_normalized("NFC", truth)
    assert fields.ma_ho_so in truth
    assert "\n\n" not in truth


def test_truth_follows_the_contract_reading_order() -> None:
    fields = DocFields.fake(2)
    _, truth = render_document("quyet_dinh", fields, seed=2)
    lines = truth.splitlines()
    # left header block, then right block, then the title
    assert lines.index(fields.parent_agency) < lines.index(f"Số: {fields.doc_number}")
    assert lines.index(f"Số: {fields.doc_number}") < lines.index("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    assert lines.index("Độc lập - Tự do - Hạnh phúc") < lines.index("QUYẾT ĐỊNH")
    # closing: "Nơi nhận" block before the signer's block, the signer's name last
    assert lines.index("Nơi nhận:") < lines.index("KT. GIÁM ĐỐC")
    assert lines[-1] == fields.signer


def test_seal_is_red_and_not_in_the_truth() -> None:
    fields = DocFields.fake(4)
    pages, truth = render_document("giay_phep", fields, seed=4)
    rgb = np.asarray(pages[0].convert("RGB").resize((400, 566)), dtype=np.int16)
    reds = np.count_nonzero((rgb[..., 0] > 150) & (rgb[..., 1] < 110) & (rgb[..., 2] < 110))
    assert reds > 100
    assert "*" not in truth  # the seal's ring text ("SỞ ... * TỈNH ... *") is not text of the document


def test_same_seed_same_scan() -> None:
    fields = DocFields.fake(5)
    a, _ = render_document("bien_nhan", fields, seed=5)
    b, _ = render_document("bien_nhan", fields, seed=5)
    assert a[0].tobytes() == b[0].tobytes()


@pytest.mark.parametrize("fmt", ["pdf", "tiff", "jpeg", "png"])
def test_scans_are_written_with_their_resolution(tmp_path: Path, fmt: str) -> None:
    pages = [render_blank_page(dpi=150, seed=1)]
    if fmt in ("pdf", "tiff"):
        pages.append(render_blank_page(dpi=150, seed=2))
    path = write_scan(pages, tmp_path / f"scan.{fmt}", fmt)
    if fmt == "pdf":
        import pypdfium2 as pdfium

        doc = pdfium.PdfDocument(path)
        assert len(doc) == 2
        width, _ = doc[0].get_size()
        assert width == pytest.approx(1240 / 150 * 72, abs=1)
        doc.close()
        return
    with Image.open(path) as image:
        assert getattr(image, "n_frames", 1) == len(pages)
        assert round(image.info["dpi"][0]) == 150


def test_jpeg_holds_one_page(tmp_path: Path) -> None:
    pages = [render_blank_page(seed=1), render_blank_page(seed=2)]
    with pytest.raises(ValueError, match="one page"):
        write_scan(pages, tmp_path / "x.jpg", "jpeg")

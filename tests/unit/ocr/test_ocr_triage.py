"""Triage: what a file is, and whether it may be processed, decided before any pixel is decoded."""

from __future__ import annotations

import io
import os
import pickle
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from ocr import Limits, OcrOptions, inspect, sniff
from ocr.errors import (
    APT_INSTALL,
    BadInput,
    CorruptDocument,
    EmptyDocument,
    EncryptedDocument,
    MissingDependency,
    TooLarge,
    UnsupportedType,
)
from ocr.rasterise import load_page
from sohoa.sample.hostile import A4_PAGE, CATALOGUE, ONE_PAGE, minimal_pdf


def _png_bytes(size: tuple[int, int] = (40, 30), dpi: int | None = 300) -> bytes:
    buffer = io.BytesIO()
    extra = {"dpi": (dpi, dpi)} if dpi else {}
    Image.new("L", size, 255).save(buffer, "PNG", **extra)
    return buffer.getvalue()


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares its size and holds no pixel data: decoding it would fail."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b"")


# Hand-built PDFs: the same builder as the hostile-file corpus the pipeline tests use.
_pdf = minimal_pdf
_CATALOGUE = CATALOGUE
_ONE_PAGE = ONE_PAGE


def _a4_page() -> bytes:
    return A4_PAGE


def _image_pdf(tmp_path: Path, pages: int = 2, dpi: int = 150) -> Path:
    path = tmp_path / "scan.pdf"
    images = [Image.new("RGB", (int(8.27 * dpi), int(11.69 * dpi)), (250, 250, 250)) for _ in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return path


# --- sniffing -------------------------------------------------------------------------------------------


def test_type_comes_from_the_bytes_not_the_name(tmp_path: Path) -> None:
    disguised = tmp_path / "giay_phep.pdf"
    disguised.write_bytes(_png_bytes())
    assert sniff(disguised) == "image/png"
    assert inspect(disguised).mime_type == "image/png"


@pytest.mark.parametrize(
    ("head", "mime"),
    [
        (b"%PDF-1.7\n", "application/pdf"),
        (b"\xef\xbb\xbf junk a scanner prepended\n%PDF-1.4\n", "application/pdf"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "image/tiff"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "image/jpeg"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "image/png"),
    ],
)
def test_sniff_recognises_the_four_formats(head: bytes, mime: str) -> None:
    assert sniff(head) == mime


def test_zero_bytes_is_an_empty_document(tmp_path: Path) -> None:
    empty = tmp_path / "scan.pdf"
    empty.write_bytes(b"")
    with pytest.raises(EmptyDocument, match=r"scan\.pdf: the file is empty"):
        inspect(empty)
    with pytest.raises(EmptyDocument):
        sniff(b"")


def test_random_bytes_are_unsupported(tmp_path: Path) -> None:
    junk = tmp_path / "scan.pdf"
    junk.write_bytes(bytes(range(7, 256)) * 8 + os.urandom(512))
    with pytest.raises(UnsupportedType, match="not a PDF, TIFF, JPEG or PNG") as caught:
        inspect(junk)
    assert caught.value.category == "unsupported_type"


def test_word_document_is_unsupported() -> None:
    with pytest.raises(UnsupportedType):
        sniff(b"PK\x03\x04\x14\x00\x06\x00word/document.xml")


# --- damaged, encrypted, empty PDFs ----------------------------------------------------------------------


def test_pdf_cut_in_half_is_corrupt(tmp_path: Path) -> None:
    whole = _image_pdf(tmp_path).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(CorruptDocument, match=r"cut\.pdf: .*truncated"):
        inspect(cut)


def test_pdf_missing_only_its_last_bytes_is_corrupt(tmp_path: Path) -> None:
    whole = _image_pdf(tmp_path).read_bytes()
    cut = tmp_path / "cut.pdf"
    cut.write_bytes(whole[:-8])  # "%%EOF" gone: an interrupted upload
    with pytest.raises(CorruptDocument):
        inspect(cut)


def test_pdf_with_garbage_body_is_corrupt(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n" + os.urandom(2000) + b"\n%%EOF\n")
    with pytest.raises(CorruptDocument, match="damaged"):
        inspect(bad)


def test_pdf_that_needs_a_password_is_encrypted(tmp_path: Path) -> None:
    # A standard security handler whose /U entry matches no empty user password: any reader asks
    # for a password (and we do not have it).
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (
        os.urandom(32).hex().encode(),
        os.urandom(32).hex().encode(),
    )
    doc_id = b"<00112233445566778899aabbccddeeff>"
    locked = tmp_path / "locked.pdf"
    locked.write_bytes(
        _pdf([_CATALOGUE, _ONE_PAGE, _a4_page(), encrypt], b"/Encrypt 4 0 R /ID [%s %s] " % (doc_id, doc_id))
    )
    with pytest.raises(EncryptedDocument, match=r"locked\.pdf: the PDF is protected by a password") as caught:
        inspect(locked)
    assert "remove the password" in str(caught.value)


def test_pdf_without_pages_is_empty(tmp_path: Path) -> None:
    no_pages = tmp_path / "none.pdf"
    no_pages.write_bytes(_pdf([_CATALOGUE, b"<< /Type /Pages /Kids [] /Count 0 >>"]))
    with pytest.raises(EmptyDocument, match="no pages"):
        inspect(no_pages)


def test_minimal_pdf_is_accepted(tmp_path: Path) -> None:
    ok = tmp_path / "ok.pdf"
    ok.write_bytes(_pdf([_CATALOGUE, _ONE_PAGE, _a4_page()]))
    info = inspect(ok)
    assert info.mime_type == "application/pdf"
    assert info.page_count == 1
    assert info.pages[0].dpi is None  # no image: no scan resolution
    assert info.pages[0].render_dpi == 300


# --- limits ------------------------------------------------------------------------------------------------


def test_image_declaring_20000_by_20000_px_is_too_large_without_decoding(tmp_path: Path) -> None:
    huge = tmp_path / "huge.png"
    huge.write_bytes(_png_header_only(20_000, 20_000))  # no pixel data: decoding would raise another error
    with pytest.raises(TooLarge, match=r"huge\.png: .*150 megapixels"):
        inspect(huge)


def test_image_just_over_the_limit_is_too_large(tmp_path: Path) -> None:
    # 169 megapixels: under Pillow's own refusal threshold (twice the limit), so our check must catch it.
    big = tmp_path / "big.png"
    big.write_bytes(_png_header_only(13_000, 13_000))
    with pytest.raises(TooLarge, match="169 megapixels"):
        inspect(big)


def test_pdf_page_too_large_at_its_render_resolution(tmp_path: Path) -> None:
    poster = tmp_path / "poster.pdf"
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>"  # 200 x 200 inches
    poster.write_bytes(_pdf([_CATALOGUE, _ONE_PAGE, page]))
    with pytest.raises(TooLarge, match="page 1 is 60000x60000 px"):
        inspect(poster)


def test_file_over_the_byte_limit_is_too_large(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(_png_bytes())
    with pytest.raises(TooLarge, match="MB"):
        inspect(path, limits=Limits(max_bytes=10))


def test_too_many_pages(tmp_path: Path) -> None:
    path = _image_pdf(tmp_path, pages=3)
    with pytest.raises(TooLarge, match="3 pages, over the limit of 2"):
        inspect(path, limits=Limits(max_pages=2))


# --- what inspect reports ----------------------------------------------------------------------------------


def test_scanned_pdf_pages_report_their_image_resolution(tmp_path: Path) -> None:
    info = inspect(_image_pdf(tmp_path, pages=2, dpi=150))
    assert info.page_count == 2
    assert [p.dpi for p in info.pages] == [150, 150]
    assert info.min_dpi == 150
    assert info.pages[0].render_dpi == 150  # rendered at the scan's own resolution, never upscaled


def test_multipage_tiff_pages_and_resolutions(tmp_path: Path) -> None:
    path = tmp_path / "scan.tif"
    pages = [Image.new("L", (200, 300), 255) for _ in range(3)]
    pages[0].save(path, "TIFF", save_all=True, append_images=pages[1:], dpi=(300, 300))
    info = inspect(path)
    assert info.mime_type == "image/tiff"
    assert info.page_count == 3
    assert {p.dpi for p in info.pages} == {300}


def test_image_without_resolution_is_taken_as_200_dpi(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(_png_bytes(dpi=None))
    assert inspect(path).pages[0].dpi == 200


def test_image_over_400_dpi_is_processed_at_300(tmp_path: Path) -> None:
    path = tmp_path / "fine.png"
    path.write_bytes(_png_bytes(dpi=600))
    page = inspect(path).pages[0]
    assert (page.dpi, page.render_dpi) == (600, 300)


def test_truncated_png_passes_triage_and_is_corrupt_when_decoded(tmp_path: Path) -> None:
    # Triage reads headers only; a damaged body is found when the page is decoded.
    image = Image.effect_noise((400, 400), 60)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    path = tmp_path / "part.png"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    assert inspect(path).page_count == 1
    with pytest.raises(CorruptDocument, match=r"^part\.png: page 1 of the image cannot be decoded"):
        load_page(path, "image/png", 0, OcrOptions())


# --- the errors themselves ---------------------------------------------------------------------------------


def test_errors_name_the_file_not_its_folder(tmp_path: Path) -> None:
    path = tmp_path / "secret-folder" / "scan.pdf"
    path.parent.mkdir()
    path.write_bytes(b"")
    with pytest.raises(BadInput) as caught:
        inspect(path)
    message = str(caught.value)
    assert message.startswith("scan.pdf: ")
    assert "secret-folder" not in message


def test_errors_survive_a_trip_between_processes() -> None:
    error = TooLarge("scan.pdf", "too big")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is TooLarge
    assert str(copy) == str(error)
    assert copy.exit_code == error.exit_code == 2


def test_missing_dependency_says_how_to_install() -> None:
    error = MissingDependency("", "Tesseract OCR is not installed")
    assert APT_INSTALL in str(error)
    assert "tesseract-ocr-vie" in APT_INSTALL


def test_flate_bomb_is_too_large_before_pdfium_draws_it(tmp_path: Path) -> None:
    """Regression: a 1 GB content stream took 64 s and 2.1 GB in PDFium before triage measured it."""
    from sohoa.sample.hostile_pdf import flate_bomb_pdf

    path = tmp_path / "bomb.pdf"
    path.write_bytes(flate_bomb_pdf(inflated_mb=150))
    with pytest.raises(TooLarge, match="drawing instructions of page 1 inflate"):
        inspect(path)


def test_pdf_page_drawing_a_huge_image_is_too_large(tmp_path: Path) -> None:
    from sohoa.sample.hostile_pdf import huge_image_pdf

    path = tmp_path / "image.pdf"
    path.write_bytes(huge_image_pdf())
    with pytest.raises(TooLarge, match="60000x60000 px"):
        inspect(path)


def test_inflated_size_stops_just_past_the_cap() -> None:
    from ocr.pdfstreams import inflated_size

    raw = zlib.compress(b"\0" * 50_000_000)
    assert 1_000_000 < inflated_size(raw, 1_000_000) <= 2_100_000
    assert inflated_size(raw, 100_000_000) == 50_000_000
    assert inflated_size(b"not deflate", 10) == 0

"""Field extraction from OCR text: each field with its page, line, offsets and confidence."""

from __future__ import annotations

from datetime import date

import pytest

from sohoa.extract.fields import LABELLED_INVALID, UNLABELLED_VALID, extract_fields
from sohoa.sample.documents import KINDS, DocFields, render_document

TODAY = date(2026, 11, 21)
CODE = "000.00.32.H19-210708-0032"


def _best(text: str, conf: float | None = 100.0) -> dict[str, tuple[str, int, int, float]]:
    best = extract_fields(text, [conf], today=TODAY).best()
    return {k: (v.value, v.page, v.line, v.confidence) for k, v in best.items()}


def test_labelled_fields_of_an_application_form() -> None:
    text = (
        "ĐƠN ĐỀ NGHỊ\nMã hồ sơ: 000.00.32.H19-210708-0032\nHọ và tên: Nguyễn Thị Mỹ Hạnh\n"
        "Ngày sinh: 03/10/1990\nSố CCCD: 075190012345\nĐồng Nai, ngày 08 tháng 7 năm 2021\n"
    )
    best = _best(text)
    assert best["ma_ho_so"] == (CODE, 1, 2, 1.0)
    assert best["chu_ho_so"] == ("Nguyễn Thị Mỹ Hạnh", 1, 3, 1.0)
    assert best["ngay_sinh"] == ("1990-10-03", 1, 4, 1.0)
    assert best["so_cccd"] == ("075190012345", 1, 5, 1.0)
    assert best["ngay_van_ban"] == ("2021-07-08", 1, 6, 1.0)


def test_offsets_point_at_the_value_and_pages_are_counted() -> None:
    text = "Trang một\fSố: 123/QĐ-UBND\nKết quả KQ.G15.000031"
    extraction = extract_fields(text, [90.0, 80.0], today=TODAY)
    pages = text.split("\f")
    by_name = extraction.best()
    number = by_name["so_ky_hieu"]
    assert (number.value, number.page, number.line) == ("123/QĐ-UBND", 2, 1)
    assert pages[1][number.start : number.end] == "123/QĐ-UBND"
    result_code = by_name["ma_giay_to_ket_qua"]
    assert (result_code.value, result_code.line) == ("KQ.G15.000031", 2)
    assert result_code.confidence == pytest.approx(0.8 * UNLABELLED_VALID)


def test_confidence_follows_the_page_and_the_checks() -> None:
    # Labelled but the check fails (province 000 does not exist): kept, at low confidence.
    assert _best("Số CCCD: 000190012345", 90.0)["so_cccd"][3] == pytest.approx(0.9 * LABELLED_INVALID)
    # Valid without a label: kept, a little less sure.
    assert _best("ông 075190012345 đã nộp", 100.0)["so_cccd"][3] == pytest.approx(UNLABELLED_VALID)
    # Neither labelled nor valid: not a field.
    assert "so_cccd" not in _best("mã vạch 000190012345")
    # A page without words counts as fully confident text (a text layer has no word confidences).
    assert _best("Mã hồ sơ: " + CODE, None)["ma_ho_so"][3] == 1.0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mã số thuế: 0100109106", "0100109106"),
        ("MST 0100112437-001", "0100112437-001"),
        ("mã số doanh nghiệp: 0100109106 - 001", "0100109106-001"),
    ],
)
def test_tax_codes_with_their_check_digit(text: str, expected: str) -> None:
    value, _, _, confidence = _best(text)["ma_so_thue"]
    assert (value, confidence) == (expected, 1.0)


def test_a_wrong_tax_check_digit_is_kept_with_low_confidence() -> None:
    assert _best("Mã số thuế: 0100109107")["ma_so_thue"][3] == LABELLED_INVALID


def test_a_twelve_digit_tax_code_is_not_read_as_a_cccd() -> None:
    best = _best("Mã số thuế: 075190012345")
    assert best["ma_so_thue"][0] == "075190012345"
    assert "so_cccd" not in best


def test_dossier_code_with_ocr_spacing_is_normalised() -> None:
    assert _best("Mã hồ sơ: 000.00.32.H19 - 210708 - 0032")["ma_ho_so"][0] == CODE


def test_a_dossier_code_with_an_impossible_date_is_not_trusted() -> None:
    best = _best("Mã hồ sơ: 000.00.32.H19-211308-0032")
    assert best["ma_ho_so"][3] == LABELLED_INVALID
    assert "ma_ho_so" not in _best("ghi chú 000.00.32.H19-211308-0032")


def test_name_stops_at_the_next_label_and_may_wrap() -> None:
    assert _best("Họ và tên: Trần Văn An\nNgày sinh: 01/01/1980")["chu_ho_so"][0] == "Trần Văn An"
    assert _best("đề nghị của ông (bà) Lê Thị\nHương, mã hồ sơ")["chu_ho_so"][0] == "Lê Thị Hương"
    assert "chu_ho_so" not in _best("Họ và tên: (ký, ghi rõ họ tên)")


def test_dates_take_their_role_from_their_label() -> None:
    text = (
        "Căn cứ hồ sơ tiếp nhận ngày 08/07/2021;\nThời gian nhận kết quả: ngày 20/07/2021\n"
        "Giấy phép có hiệu lực kể từ ngày 21/07/2021.\nCăn cứ Luật ngày 19 tháng 6 năm 2015;"
    )
    best = _best(text)
    assert best["ngay_tiep_nhan"][0] == "2021-07-08"
    assert best["ngay_hen_tra"][0] == "2021-07-20"
    assert best["ngay_hieu_luc"][0] == "2021-07-21"
    assert "ngay_van_ban" not in best  # a law's date in the preamble is not the document's date


@pytest.mark.parametrize("kind", KINDS)
def test_every_ground_truth_field_of_a_generated_document(kind: str) -> None:
    fields = DocFields.fake(11)
    _, truth = render_document(kind, fields, dpi=72, seed=5)
    best = {k: v.value for k, v in extract_fields(truth, [95.0], today=TODAY).best().items()}
    assert best["ma_ho_so"] == fields.ma_ho_so
    assert best["so_cccd"] == fields.cccd
    assert best["chu_ho_so"] == fields.applicant
    expected_date = fields.issued if kind in ("quyet_dinh", "giay_phep") else fields.received
    assert best["ngay_van_ban"] == expected_date.isoformat()
    if kind != "don_de_nghi":
        assert "/" in best["so_ky_hieu"]


@pytest.mark.parametrize("printed", ["Số: 469/QĐÐ-SXD", "Số: 469/QÐ-SXD", "Số : 469 / QĐ - SXD"])
def test_document_symbol_survives_tesseract_eth(printed: str) -> None:
    """Regression: Tesseract vie read "QĐ" as "QĐÐ" (eth) on generated decisions at 300 dpi."""
    assert _best(printed)["so_ky_hieu"][0] == "469/QĐ-SXD"


def test_birth_date_after_an_identity_number_is_not_the_document_date() -> None:
    """Regression: "Số CCCD: ..., ngày sinh 03/10/1990" was taken for a place-and-date line."""
    best = _best("Số CCCD: 075190012345, ngày sinh 03/10/1990")
    assert best["ngay_sinh"][0] == "1990-10-03"
    assert "ngay_van_ban" not in best

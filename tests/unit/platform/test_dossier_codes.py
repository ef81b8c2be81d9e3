"""Finding a dossier code in barcode payloads and OCR text (no services)."""

from __future__ import annotations

from sohoa.intake.dossier_codes import code_in_ocr_text, codes_in

A = "000.00.32.H19-210708-0032"
B = "000.00.32.H19-210708-0033"


def test_codes_in_a_url_payload() -> None:
    assert codes_in(f"https://dichvucong.gov.vn/tra-cuu?ma_ho_so={A}&x=1") == [A]


def test_an_impossible_date_is_not_a_code() -> None:
    assert codes_in("000.00.32.H19-211308-0032") == []  # month 13


def test_ocr_text_with_digit_lookalikes_is_repaired() -> None:
    assert code_in_ocr_text("Mã hồ sơ: 000.OO.32.H19-21O708-0032\nNgày nhận") == A


def test_the_code_printed_most_often_wins() -> None:
    assert code_in_ocr_text(f"Mã hồ sơ: {A}\n... căn cứ hồ sơ {B} ...\nSố hồ sơ: {A}") == A


def test_a_tie_is_left_for_a_person() -> None:
    assert code_in_ocr_text(f"{A} và {B}") is None
    assert code_in_ocr_text("Đơn đề nghị cấp giấy phép") is None


def test_a_code_on_record_beats_one_that_is_not() -> None:
    assert code_in_ocr_text(f"{A} và {B}", known={B}) == B

"""Reading order from word boxes: side-by-side blocks block by block, table rows whole, noise out."""

from __future__ import annotations

from ocr.layout import clean_lines, reading_order
from ocr.models import Word

_H = 30  # word height in pixels (13 pt at 200 dpi)


def _line(y: int, *spans: tuple[int, str], confidence: float = 95.0) -> list[Word]:
    """Words laid out left to right from each (x, text) start, 12 px apart, on row ``y``."""
    words = []
    for x, text in spans:
        for token in text.split():
            width = 18 * len(token)
            words.append(Word(token, confidence, x, y, width, _H))
            x += width + 12
    return words


def test_two_column_header_is_read_left_block_then_right_block() -> None:
    # Tesseract often returns each printed row across both columns as one line.
    lines = [
        _line(150, (230, "UBND TỈNH ĐỒNG NAI"), (760, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")),
        _line(200, (260, "SỞ XÂY DỰNG"), (860, "Độc lập - Tự do - Hạnh phúc")),
        _line(260, (250, "Số: 469/QĐ-SXD"), (790, "Đồng Nai, ngày 20 tháng 9 năm 2021")),
        _line(360, (700, "QUYẾT ĐỊNH")),
        _line(420, (240, "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015")),
    ]
    assert reading_order(lines) == [
        "UBND TỈNH ĐỒNG NAI",
        "SỞ XÂY DỰNG",
        "Số: 469/QĐ-SXD",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Đồng Nai, ngày 20 tháng 9 năm 2021",
        "QUYẾT ĐỊNH",
        "Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015",
    ]


def test_closing_blocks_keep_the_signer_name_under_a_gap() -> None:
    lines = [
        _line(1000, (240, "Tôi xin cam đoan những nội dung trên là đúng sự thật và chịu trách nhiệm")),
        _line(1100, (236, "Nơi nhận:"), (1050, "KT. GIÁM ĐỐC")),
        _line(1150, (238, "- Như Điều 3;"), (1030, "PHÓ GIÁM ĐỐC")),
        _line(1200, (238, "- Lưu: VT.")),
        _line(1400, (1040, "Phạm Thanh An")),
    ]
    assert reading_order(lines)[1:] == [
        "Nơi nhận:",
        "- Như Điều 3;",
        "- Lưu: VT.",
        "KT. GIÁM ĐỐC",
        "PHÓ GIÁM ĐỐC",
        "Phạm Thanh An",
    ]


def test_table_rows_stay_whole_with_cells_in_order() -> None:
    lines = [
        _line(900, (260, "STT"), (370, "Tên giấy tờ"), (1280, "Số lượng")),
        _line(960, (290, "1"), (370, "Bản sao Căn cước công dân"), (1340, "01")),
        _line(1020, (290, "2"), (370, "Đơn đề nghị theo mẫu"), (1340, "01")),
    ]
    assert reading_order(lines) == [
        "STT Tên giấy tờ Số lượng",
        "1 Bản sao Căn cước công dân 01",
        "2 Đơn đề nghị theo mẫu 01",
    ]


def test_two_cell_table_rows_inside_ruled_table_stay_rows() -> None:
    lines = [
        _line(900, (260, "Tên giấy tờ"), (1280, "Số lượng")),
        _line(960, (260, "Bản sao Căn cước công dân"), (1340, "01")),
    ]
    assert reading_order(lines, table_spans=[(880, 1000)]) == [
        "Tên giấy tờ Số lượng",
        "Bản sao Căn cước công dân 01",
    ]


def test_noise_from_seals_and_gaps_is_dropped() -> None:
    lines = [
        _line(150, (230, "UBND TỈNH")) + [Word("ˆ", 21.0, 700, 140, 20, 50)] + _line(150, (760, "CỘNG HÒA")),
        _line(500, (900, "lây Hè"), confidence=25.0),
    ]
    kept = clean_lines(lines)
    assert [" ".join(w.text for w in line) for line in kept] == ["UBND TỈNH CỘNG HÒA"]


def test_sure_punctuation_is_kept() -> None:
    lines = [_line(100, (238, "- Như Điều 3;"))]
    assert reading_order(lines) == ["- Như Điều 3;"]

"""Realistic scanned pages of Vietnamese administrative documents, for tests, benchmarks and the demo.

A page is laid out the way Decree 30/2020/NĐ-CP lays out an official document: a two-column header
(agency and document number on the left, national motto, place and date on the right), a bold centred
title, body paragraphs, sometimes a table, and two closing blocks ("Nơi nhận" on the left, the signer
on the right). A red round seal and a blue signature are stamped over the signer's block and the page is
degraded like a flatbed scan (paper tint, slight skew, blur, sensor noise; JPEG artefacts when saved as
JPEG or PDF).

The ground truth returned with the pages is what ``sohoa ocr`` promises to read (see the contract in
``contracts/outputs.md``): Unicode NFC, one line per printed line, side-by-side blocks block by block
(left first), a table row as its cells in order, pages separated by a form feed; seals, signatures and
rules are not text.

Only Pillow and numpy are used; a page renders in well under 0.3 s at 200 dpi.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import math
import random
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

KINDS = ("don_de_nghi", "quyet_dinh", "giay_phep", "bien_nhan")
"""Kinds of document :func:`render_document` draws."""

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")

ScanFormat = Literal["pdf", "tiff", "jpeg", "png"]

_FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
)
_MIDDLE = (
    "Văn",
    "Thị",
    "Hữu",
    "Đức",
    "Minh",
    "Thanh",
    "Ngọc",
    "Quốc",
    "Thu",
    "Hoàng",
    "Gia",
    "Xuân",
    "Thị Mỹ",
    "Văn Hoài",
)
_GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hòa",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Việt",
    "Yến",
    "Đạt",
    "Nhung",
)

# (place name printed in dates, province name in capitals, province code of agency codes, CCCD birth code,
#  wards and streets used for addresses)
_PROVINCES = (
    (
        "Đồng Nai",
        "ĐỒNG NAI",
        "H19",
        "075",
        ("Phường Tân Phong", "Phường Trảng Dài", "Xã Long Hưng"),
        ("Đường Đồng Khởi", "Đường Phạm Văn Thuận", "Đường Võ Thị Sáu"),
    ),
    (
        "Huế",
        "THỪA THIÊN HUẾ",
        "H57",
        "046",
        ("Phường Phú Hội", "Phường Vĩnh Ninh", "Phường An Cựu"),
        ("Đường Lê Lợi", "Đường Hùng Vương", "Đường Nguyễn Huệ"),
    ),
    (
        "Lạng Sơn",
        "LẠNG SƠN",
        "H37",
        "020",
        ("Phường Chi Lăng", "Phường Hoàng Văn Thụ", "Phường Tam Thanh"),
        ("Đường Trần Đăng Ninh", "Đường Bà Triệu", "Đường Lê Lai"),
    ),
)

# (agency name in capitals, as written in running text, second group of the agency code, short form used in
#  document numbers)
_AGENCIES = (
    ("SỞ XÂY DỰNG", "Sở Xây dựng", "32", "SXD"),
    ("SỞ TƯ PHÁP", "Sở Tư pháp", "14", "STP"),
    ("SỞ KẾ HOẠCH VÀ ĐẦU TƯ", "Sở Kế hoạch và Đầu tư", "21", "SKHĐT"),
    ("SỞ TÀI NGUYÊN VÀ MÔI TRƯỜNG", "Sở Tài nguyên và Môi trường", "27", "STNMT"),
)

# (procedure name, what the result grants, short form of the result number)
_PROCEDURES = (
    ("Cấp giấy phép xây dựng nhà ở riêng lẻ", "giấy phép xây dựng nhà ở riêng lẻ", "GPXD"),
    ("Đăng ký thành lập hộ kinh doanh", "giấy chứng nhận đăng ký hộ kinh doanh", "ĐKKD"),
    ("Cấp bản sao trích lục hộ tịch", "bản sao trích lục hộ tịch", "TLHT"),
    ("Cấp giấy chứng nhận quyền sử dụng đất lần đầu", "giấy chứng nhận quyền sử dụng đất", "GCN"),
)

_COMPONENTS = (
    ("Đơn đề nghị theo mẫu", "01"),
    ("Bản sao Căn cước công dân", "01"),
    ("Bản vẽ thiết kế xây dựng", "02"),
    ("Giấy tờ chứng minh quyền sử dụng đất", "01"),
    ("Văn bản ủy quyền", "01"),
)


@dataclass(frozen=True)
class DocFields:
    """What a generated document says; fake but consistent with the codes of ``domain/codes.md``."""

    ma_ho_so: str
    province: str  # as printed in dates: "Đồng Nai"
    parent_agency: str  # first header line: "UBND TỈNH ĐỒNG NAI"
    agency: str  # second header line: "SỞ XÂY DỰNG"
    agency_name: str  # in running text: "Sở Xây dựng"
    agency_short: str  # used in document numbers: "SXD"
    applicant: str
    cccd: str
    birth_date: dt.date
    address: str
    procedure: str
    result_name: str
    result_short: str
    received: dt.date
    issued: dt.date
    doc_number: str  # "123/QĐ-UBND"
    signer: str
    components: tuple[tuple[str, str], ...]

    @property
    def place_phrase(self) -> str:
        """The province as named in running text: "tỉnh Đồng Nai", "thành phố Huế"."""
        return _place_phrase(self.province)

    @classmethod
    def fake(cls, seed: int) -> DocFields:
        """Plausible fields drawn from small lists; the same seed gives the same fields."""
        rng = random.Random(seed)
        place, province_caps, h_code, birth_code, wards, streets = rng.choice(_PROVINCES)
        agency, agency_name, group, agency_short = rng.choice(_AGENCIES)
        procedure, result_name, result_short = rng.choice(_PROCEDURES)
        received = dt.date(2021, 1, 4) + dt.timedelta(days=rng.randrange(0, 4 * 365))
        issued = received + dt.timedelta(days=rng.randrange(3, 20))
        birth = dt.date(rng.randrange(1950, 2004), rng.randrange(1, 13), rng.randrange(1, 29))
        female = rng.random() < 0.5
        century_sex = (0 if birth.year < 2000 else 2) + (1 if female else 0)
        cccd = f"{birth_code}{century_sex}{birth.year % 100:02d}{rng.randrange(10**6):06d}"
        ma_ho_so = f"000.00.{group}.{h_code}-{received:%y%m%d}-{rng.randrange(1, 200):04d}"
        address = f"Số {rng.randrange(1, 300)}, {rng.choice(streets)}, {rng.choice(wards)}, {_place_phrase(place)}"
        components = tuple(rng.sample(_COMPONENTS, rng.randrange(3, 5)))
        return cls(
            ma_ho_so=ma_ho_so,
            province=place,
            parent_agency=f"UBND TỈNH {province_caps}" if place != "Huế" else "UBND THÀNH PHỐ HUẾ",
            agency=agency,
            agency_name=agency_name,
            agency_short=agency_short,
            applicant=_fake_name(rng),
            cccd=cccd,
            birth_date=birth,
            address=address,
            procedure=procedure,
            result_name=result_name,
            result_short=result_short,
            received=received,
            issued=issued,
            doc_number=f"{rng.randrange(1, 2000)}/QĐ-{agency_short}",
            signer=_fake_name(rng),
            components=components,
        )


def _place_phrase(place: str) -> str:
    return "thành phố Huế" if place == "Huế" else f"tỉnh {place}"


def _fake_name(rng: random.Random) -> str:
    return f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"


# --- layout primitives ---------------------------------------------------------------------------------

Style = Literal["regular", "bold", "italic", "bolditalic"]
Align = Literal["left", "centre", "right"]

_FONT_FILES: dict[Style, str] = {
    "regular": "DejaVuSerif.ttf",
    "bold": "DejaVuSerif-Bold.ttf",
    "italic": "DejaVuSerif-Italic.ttf",
    "bolditalic": "DejaVuSerif-BoldItalic.ttf",
}

_INK = (28, 28, 34)
_RED = (205, 35, 45)
_BLUE = (35, 55, 165)


@functools.lru_cache(maxsize=64)
def _font(style: Style, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / _FONT_FILES[style]), px)


@dataclass(frozen=True)
class _Line:
    text: str
    style: Style = "regular"
    pt: float = 13.0
    align: Align = "left"
    indent_mm: float = 0.0
    rule_below: bool = False  # a short centred rule under the line (not text)


@dataclass
class _Block:
    """Lines set in a column [x0, x1) (millimetres from the left edge of the page)."""

    x0_mm: float
    x1_mm: float
    lines: list[_Line] = dataclasses.field(default_factory=list)

    def add(
        self,
        text: str,
        style: Style = "regular",
        pt: float = 13.0,
        align: Align = "left",
        indent_mm: float = 0.0,
        rule_below: bool = False,
    ) -> None:
        self.lines.append(_Line(text, style, pt, align, indent_mm, rule_below))


@dataclass
class _Table:
    widths_mm: tuple[float, ...]
    rows: Sequence[tuple[str, ...]]
    header_rows: int = 1


class _Page:
    """One A4 page being drawn at a resolution; remembers the text it drew, in reading order."""

    def __init__(self, dpi: int, paper: tuple[int, int, int]) -> None:
        self.dpi = dpi
        self.image = Image.new("RGB", (self.px(210), self.px(297)), paper)
        self.draw = ImageDraw.Draw(self.image)
        self.truth: list[str] = []

    def px(self, mm: float) -> int:
        return round(mm / 25.4 * self.dpi)

    def pt_px(self, pt: float) -> int:
        return round(pt / 72 * self.dpi)

    def block(self, block: _Block, top_px: int) -> int:
        """Draw a block's lines (wrapping long ones); return the y under it."""
        y = top_px
        x0, x1 = self.px(block.x0_mm), self.px(block.x1_mm)
        for line in block.lines:
            font = _font(line.style, self.pt_px(line.pt))
            step = round(self.pt_px(line.pt) * 1.45)
            indent = self.px(line.indent_mm)
            for k, piece in enumerate(_wrap(line.text, font, x1 - x0, indent)):
                width = font.getlength(piece)
                if line.align == "centre":
                    x = x0 + (x1 - x0 - width) / 2
                elif line.align == "right":
                    x = x1 - width
                else:
                    x = x0 + (indent if k == 0 else 0)
                self.draw.text((x, y), piece, font=font, fill=_INK)
                self.truth.append(piece)
                y += step
            if line.rule_below:
                width = min(font.getlength(line.text) * 0.5, x1 - x0)
                mid = (x0 + x1) / 2
                rule_y = y + self.pt_px(line.pt) * 0.05
                self.draw.line(
                    [(mid - width / 2, rule_y), (mid + width / 2, rule_y)], fill=_INK, width=max(1, self.dpi // 100)
                )
                y += round(step * 0.35)
        return y

    def table(self, table: _Table, x0_mm: float, top_px: int, pt: float = 12.0) -> int:
        font = _font("regular", self.pt_px(pt))
        bold = _font("bold", self.pt_px(pt))
        row_h = round(self.pt_px(pt) * 1.9)
        pad = self.px(1.5)
        lw = max(1, self.dpi // 100)
        xs = [self.px(x0_mm)]
        for w in table.widths_mm:
            xs.append(xs[-1] + self.px(w))
        y = top_px
        for r, row in enumerate(table.rows):
            f = bold if r < table.header_rows else font
            for c, cell in enumerate(row):
                width = f.getlength(cell)
                x = (
                    xs[c] + pad
                    if width > xs[c + 1] - xs[c] - 2 * pad or c == 1
                    else xs[c] + (xs[c + 1] - xs[c] - width) / 2
                )
                self.draw.text((x, y + (row_h - self.pt_px(pt)) / 2 - lw), cell, font=f, fill=_INK)
            self.truth.append(" ".join(row))
            y += row_h
        for k in range(len(table.rows) + 1):
            self.draw.line([(xs[0], top_px + k * row_h), (xs[-1], top_px + k * row_h)], fill=_INK, width=lw)
        for x in xs:
            self.draw.line([(x, top_px), (x, y)], fill=_INK, width=lw)
        return y


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float, indent: float) -> list[str]:
    words = text.split()
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        room = width - (indent if not lines else 0)
        if current and font.getlength(candidate) > room:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines


# --- the documents ---------------------------------------------------------------------------------------

_LEFT_MARGIN_MM = 30.0
_RIGHT_EDGE_MM = 190.0
_TOP_MM = 20.0
_BOTTOM_MM = 277.0


def _date_line(place: str, day: dt.date) -> str:
    return f"{place}, ngày {day.day:02d} tháng {day.month} năm {day.year}"


def _official_header(f: DocFields, number: str, date: dt.date) -> tuple[_Block, _Block]:
    left = _Block(_LEFT_MARGIN_MM - 8, 92)
    left.add(f.parent_agency, "regular", 12.5, "centre")
    left.add(f.agency, "bold", 12.5, "centre", rule_below=True)
    left.add(f"Số: {number}", "regular", 13, "centre")
    right = _Block(92, _RIGHT_EDGE_MM + 8)
    right.add("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "bold", 12, "centre")
    right.add("Độc lập - Tự do - Hạnh phúc", "bold", 13, "centre", rule_below=True)
    right.add(_date_line(f.province, date), "italic", 13, "centre")
    return left, right


def _body(lines: Sequence[tuple[str, Style, float]]) -> _Block:
    block = _Block(_LEFT_MARGIN_MM, _RIGHT_EDGE_MM)
    for text, style, indent in lines:
        block.add(text, style, 13, "left", indent_mm=indent)
    return block


def _closing(
    f: DocFields, signer_title: str, sub_title: str | None, recipients: Sequence[str]
) -> tuple[_Block, _Block]:
    left = _Block(_LEFT_MARGIN_MM, 100)
    if recipients:
        left.add("Nơi nhận:", "bolditalic", 12)
        for r in recipients:
            left.add(r, "regular", 11)
    right = _Block(105, _RIGHT_EDGE_MM)
    right.add(signer_title, "bold", 13, "centre")
    if sub_title:
        right.add(sub_title, "bold", 13, "centre")
    return left, right


@dataclass
class _Layout:
    header: tuple[_Block, _Block] | None
    centred_header: _Block | None
    title: _Block
    body: _Block
    table: _Table | None
    after_table: _Block | None
    closing: tuple[_Block, _Block]
    signer: str
    stamp_text: str | None


def _layout(kind: str, f: DocFields) -> _Layout:
    if kind == "don_de_nghi":
        motto = _Block(_LEFT_MARGIN_MM, _RIGHT_EDGE_MM)
        motto.add("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "bold", 13, "centre")
        motto.add("Độc lập - Tự do - Hạnh phúc", "bold", 13, "centre", rule_below=True)
        title = _Block(_LEFT_MARGIN_MM, _RIGHT_EDGE_MM)
        title.add("ĐƠN ĐỀ NGHỊ", "bold", 14, "centre")
        title.add(f.procedure, "bold", 13, "centre")
        body = _body(
            [
                (f"Kính gửi: {f.agency_name} {f.place_phrase}", "regular", 25),
                (f"Mã hồ sơ: {f.ma_ho_so}", "regular", 0),
                (f"Họ và tên: {f.applicant}", "regular", 0),
                (f"Ngày sinh: {f.birth_date:%d/%m/%Y}", "regular", 0),
                (f"Số CCCD: {f.cccd}", "regular", 0),
                (f"Nơi cư trú: {f.address}", "regular", 0),
                (
                    f"Tôi làm đơn này đề nghị cơ quan có thẩm quyền xem xét giải quyết thủ tục {f.procedure.lower()} "
                    "theo quy định của pháp luật. Hồ sơ kèm theo gồm các giấy tờ sau đây:",
                    "regular",
                    10,
                ),
            ]
        )
        table = _Table(
            (15, 110, 35),
            [("STT", "Tên giấy tờ", "Số lượng")]
            + [(str(i + 1), name, count) for i, (name, count) in enumerate(f.components)],
        )
        after = _body(
            [
                (
                    "Tôi xin cam đoan những nội dung trên là đúng sự thật và chịu trách nhiệm trước "
                    "pháp luật về nội dung đã kê khai.",
                    "regular",
                    10,
                )
            ]
        )
        date_block = _Block(95, _RIGHT_EDGE_MM + 5)
        date_block.add(_date_line(f.province, f.received), "italic", 13, "centre")
        date_block.add("NGƯỜI LÀM ĐƠN", "bold", 13, "centre")
        date_block.add("(Ký và ghi rõ họ tên)", "italic", 12, "centre")
        return _Layout(
            None, motto, title, body, table, after, (_Block(_LEFT_MARGIN_MM, 100), date_block), f.applicant, None
        )
    if kind in ("quyet_dinh", "giay_phep"):
        number = f.doc_number if kind == "quyet_dinh" else f"{f.doc_number.split('/')[0]}/{f.result_short}"
        header = _official_header(f, number, f.issued)
        title = _Block(_LEFT_MARGIN_MM, _RIGHT_EDGE_MM)
        if kind == "quyet_dinh":
            title.add("QUYẾT ĐỊNH", "bold", 14, "centre")
            title.add(f"Về việc cấp {f.result_name}", "bold", 13, "centre", rule_below=True)
            title.add(f"GIÁM ĐỐC {f.agency}", "bold", 13, "centre")
            body = _body(
                [
                    ("Căn cứ Luật Tổ chức chính quyền địa phương ngày 19 tháng 6 năm 2015;", "italic", 10),
                    (
                        f"Căn cứ hồ sơ đề nghị của ông (bà) {f.applicant}, mã hồ sơ {f.ma_ho_so}, tiếp nhận ngày "
                        f"{f.received:%d/%m/%Y};",
                        "italic",
                        10,
                    ),
                    (f"Theo đề nghị của Trưởng phòng chuyên môn thuộc {f.agency_name}.", "italic", 10),
                    ("QUYẾT ĐỊNH:", "bold", 0),
                    (
                        f"Điều 1. Cấp {f.result_name} cho ông (bà) {f.applicant}, số CCCD {f.cccd}, nơi cư trú "
                        f"{f.address}.",
                        "regular",
                        10,
                    ),
                    ("Điều 2. Quyết định này có hiệu lực kể từ ngày ký.", "regular", 10),
                    (
                        "Điều 3. Chánh Văn phòng, Trưởng các phòng chuyên môn và ông (bà) có tên tại Điều 1 chịu "
                        "trách nhiệm thi hành Quyết định này.",
                        "regular",
                        10,
                    ),
                ]
            )
            closing = _closing(f, "KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", ["- Như Điều 3;", "- Lưu: VT, bộ phận một cửa."])
        else:
            title.add(f.result_name.upper(), "bold", 14, "centre")
            title.add(f"Số hồ sơ: {f.ma_ho_so}", "bold", 13, "centre", rule_below=True)
            body = _body(
                [
                    (f"Cấp cho ông (bà): {f.applicant}", "regular", 10),
                    (f"Số CCCD: {f.cccd}, ngày sinh {f.birth_date:%d/%m/%Y}", "regular", 10),
                    (f"Địa chỉ: {f.address}", "regular", 10),
                    (
                        f"Được phép thực hiện nội dung theo hồ sơ đề nghị tiếp nhận ngày {f.received:%d/%m/%Y}, "
                        "đúng quy hoạch và các quy định hiện hành.",
                        "regular",
                        10,
                    ),
                    (
                        f"Giấy phép có hiệu lực kể từ ngày {f.issued:%d/%m/%Y}. Chủ hồ sơ phải thông báo cho cơ "
                        "quan cấp phép trước khi thực hiện.",
                        "regular",
                        10,
                    ),
                ]
            )
            closing = _closing(f, "GIÁM ĐỐC", None, ["- Như trên;", "- Lưu: VT."])
        return _Layout(header, None, title, body, None, None, closing, f.signer, f.agency)
    if kind == "bien_nhan":
        header = _official_header(f, f"{f.ma_ho_so.split('-')[-1]}/BN-{f.agency_short}", f.received)
        title = _Block(_LEFT_MARGIN_MM, _RIGHT_EDGE_MM)
        title.add("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ", "bold", 13.5, "centre")
        title.add(f"Mã hồ sơ: {f.ma_ho_so}", "bold", 13, "centre", rule_below=True)
        body = _body(
            [
                (f"Bộ phận Một cửa {f.agency_name} tiếp nhận hồ sơ của: {f.applicant}", "regular", 10),
                (f"Số CCCD: {f.cccd}", "regular", 10),
                (f"Địa chỉ: {f.address}", "regular", 10),
                (f"Nội dung yêu cầu giải quyết: {f.procedure}", "regular", 10),
                ("Thành phần hồ sơ nộp gồm:", "regular", 10),
            ]
        )
        table = _Table(
            (15, 110, 35),
            [("STT", "Tên giấy tờ", "Số lượng")]
            + [(str(i + 1), name, count) for i, (name, count) in enumerate(f.components)],
        )
        after = _body(
            [
                (f"Thời gian nhận kết quả: ngày {f.issued:%d/%m/%Y} tại Bộ phận Một cửa.", "regular", 10),
            ]
        )
        closing = _closing(f, "NGƯỜI TIẾP NHẬN", None, [])
        closing[1].add("(Ký và ghi rõ họ tên)", "italic", 12, "centre")
        return _Layout(header, None, title, body, table, after, closing, f.signer, None)
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


# --- rendering -------------------------------------------------------------------------------------------


def render_document(kind: str, fields: DocFields, *, dpi: int = 200, seed: int) -> tuple[list[Image.Image], str]:
    """Draw one document as scanned page images and return them with the text they show.

    Args:
        kind: one of :data:`KINDS`.
        fields: what the document says (see :meth:`DocFields.fake`).
        dpi: scan resolution; page images are A4 at this resolution and carry it in ``info["dpi"]``.
        seed: drives the paper tint, skew, noise, seal and signature, so a seed reproduces a scan.

    Returns:
        The RGB page images and the ground-truth text (NFC, pages separated by ``"\\f"``, one line per
        printed line, in the reading order of the ``sohoa ocr`` contract; seal and signature excluded).
    """
    rng = np.random.default_rng(seed)
    layout = _layout(kind, fields)
    paper = (int(rng.integers(236, 248)), int(rng.integers(236, 246)), int(rng.integers(226, 240)))
    page = _Page(dpi, paper)
    y = page.px(_TOP_MM)
    if layout.header is not None:
        left, right = layout.header
        y = max(page.block(left, y), page.block(right, y))
    if layout.centred_header is not None:
        y = page.block(layout.centred_header, y)
    y += page.px(6)
    y = page.block(layout.title, y) + page.px(3)
    y = page.block(layout.body, y)
    if layout.table is not None:
        y = page.table(layout.table, _LEFT_MARGIN_MM, y + page.px(2)) + page.px(3)
    if layout.after_table is not None:
        y = page.block(layout.after_table, y)
    y += page.px(5)
    left, right = layout.closing
    y_left = page.block(left, y)
    y_sig = page.block(right, y)
    # The signer's name sits under the space kept for the signature and seal.
    name_y = y_sig + page.px(24)
    name = _Block(right.x0_mm, right.x1_mm)
    name.add(layout.signer, "bold", 13, "centre")
    page.block(name, name_y)
    if max(y_left, name_y) > page.px(_BOTTOM_MM):
        raise ValueError(f"{kind} does not fit on one A4 page at these fields")
    centre_x = page.px((right.x0_mm + right.x1_mm) / 2)
    _signature(page, rng, centre_x, (y_sig + name_y) // 2)
    if layout.stamp_text is not None:
        _stamp(
            page,
            rng,
            centre_x - page.px(18),
            (y_sig + name_y) // 2 - page.px(4),
            layout.stamp_text,
            f"{fields.parent_agency.split(' ', 1)[1]}",
        )
    image = _scan(page.image, rng, paper, dpi)
    truth = unicodedata.normalize("NFC", "\n".join(page.truth))
    return [image], truth


def render_blank_page(*, dpi: int = 200, seed: int) -> Image.Image:
    """A scanned empty sheet: paper tint and sensor noise only, as scanners produce between documents."""
    rng = np.random.default_rng(seed)
    paper = (int(rng.integers(236, 248)), int(rng.integers(236, 246)), int(rng.integers(226, 240)))
    page = _Page(dpi, paper)
    return _scan(page.image, rng, paper, dpi)


def _multiply(page: _Page, layer: Image.Image, box: tuple[int, int]) -> None:
    """Lay coloured ink over the page like ink on paper: darken, never lighten (multiply blend)."""
    x, y = box
    region = page.image.crop((x, y, x + layer.width, y + layer.height))
    a = np.asarray(region, dtype=np.uint16)
    b = np.asarray(layer.convert("RGB"), dtype=np.uint16)
    page.image.paste(Image.fromarray((a * b // 255).astype(np.uint8)), (x, y))


def _stamp(page: _Page, rng: np.random.Generator, cx: int, cy: int, ring_text: str, place: str) -> None:
    radius = page.px(19)
    size = 2 * radius + 8
    layer = Image.new("RGB", (size, size), (255, 255, 255))
    draw = ImageDraw.Draw(layer)
    c = size / 2
    lw = max(2, page.dpi // 60)
    draw.ellipse([c - radius, c - radius, c + radius, c + radius], outline=_RED, width=lw)
    inner = radius * 0.68
    draw.ellipse([c - inner, c - inner, c + inner, c + inner], outline=_RED, width=max(1, lw // 2))
    font = _font("bold", page.pt_px(8.5))
    text = f"{ring_text} * {place.upper()} *"
    r_text = (radius + inner) / 2
    step = 2 * math.pi / len(text)
    for k, ch in enumerate(text):
        angle = -math.pi / 2 + k * step
        box = round(font.size * 2)
        glyph = Image.new("L", (box, box), 0)
        ImageDraw.Draw(glyph).text((box // 2, box // 2), ch, font=font, fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BILINEAR)
        gx = round(c + r_text * math.cos(angle) - glyph.width / 2)
        gy = round(c + r_text * math.sin(angle) - glyph.height / 2)
        layer.paste(_RED, (gx, gy, gx + glyph.width, gy + glyph.height), glyph)
    star = [
        (
            c + inner * 0.45 * math.cos(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45),
            c + inner * 0.45 * math.sin(-math.pi / 2 + k * math.pi / 5) * (1 if k % 2 == 0 else 0.45),
        )
        for k in range(10)
    ]
    draw.polygon(star, fill=_RED)
    layer = layer.rotate(float(rng.uniform(-25, 25)), resample=Image.Resampling.BILINEAR, fillcolor=(255, 255, 255))
    # Seal ink is uneven: lighten random spots so the seal is not a perfect vector drawing.
    arr = np.asarray(layer, dtype=np.float32)
    fade = rng.uniform(0.0, 0.45, size=(size // 8 + 1, size // 8 + 1)).astype(np.float32)
    fade_full = np.asarray(Image.fromarray(fade, mode="F").resize((size, size), Image.Resampling.BILINEAR))
    arr = arr + (255 - arr) * fade_full[..., None]
    _multiply(page, Image.fromarray(arr.clip(0, 255).astype(np.uint8)), (cx - size // 2, cy - size // 2))


def _signature(page: _Page, rng: np.random.Generator, cx: int, cy: int) -> None:
    w, h = page.px(45), page.px(18)
    layer = Image.new("RGB", (w, h), (255, 255, 255))
    draw = ImageDraw.Draw(layer)
    t = np.linspace(0, 1, 120)
    loops = rng.uniform(2.5, 4.5)
    xs = 0.08 * w + 0.84 * w * t + 0.06 * w * np.sin(2 * np.pi * loops * t + rng.uniform(0, 6))
    ys = h / 2 + 0.3 * h * np.sin(2 * np.pi * loops * 1.7 * t) * np.exp(-t) + rng.normal(0, 0.01 * h, t.size)
    draw.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), fill=_BLUE, width=max(2, page.dpi // 70), joint="curve")
    _multiply(page, layer, (cx - w // 2, cy - h // 2))


def _scan(image: Image.Image, rng: np.random.Generator, paper: tuple[int, int, int], dpi: int) -> Image.Image:
    """Degrade a clean page like a flatbed scanner: skew, optics blur, sensor noise."""
    image = image.rotate(float(rng.uniform(-1.0, 1.0)), resample=Image.Resampling.BILINEAR, fillcolor=paper)
    # A 3x3 binomial kernel is the scanner's optics (about a 0.5 px Gaussian at 200 dpi), at a quarter of
    # the cost of GaussianBlur; the noise is triangular (sum of two uniforms, sd about 3.7), one value per
    # pixel for all channels as a sensor's luminance noise, added in C by ImageChops.
    image = image.filter(ImageFilter.Kernel((3, 3), (1, 2, 1, 2, 4, 2, 1, 2, 1)))
    shape = (image.height, image.width)
    noise = rng.integers(0, 9, size=shape, dtype=np.uint8) + rng.integers(0, 9, size=shape, dtype=np.uint8)
    grain = Image.fromarray(noise)
    out = ImageChops.add(image, Image.merge("RGB", (grain, grain, grain)), scale=1.0, offset=-8)
    out.info["dpi"] = (dpi, dpi)
    return out


# --- files -----------------------------------------------------------------------------------------------


def write_scan(
    images: Sequence[Image.Image], path: Path, fmt: ScanFormat | str, *, dpi: int | None = None, quality: int = 85
) -> Path:
    """Save page images the way scanners do, with the resolution recorded in the file.

    Args:
        images: pages (a JPEG or PNG holds exactly one).
        path: where to write.
        fmt: ``pdf`` (image-only PDF, JPEG-compressed pages), ``tiff`` (multipage, LZW), ``jpeg`` or ``png``.
        dpi: resolution to record; defaults to the first image's ``info["dpi"]``, else 200.
        quality: JPEG quality for ``jpeg`` and ``pdf``.

    Returns:
        ``path``.
    """
    if not images:
        raise ValueError("no page to write")
    if fmt in ("jpeg", "png") and len(images) != 1:
        raise ValueError(f"a {fmt.upper()} file holds one page, got {len(images)}")
    if dpi is None:
        recorded = images[0].info.get("dpi", (200, 200))
        dpi = round(float(recorded[0]))
    first, rest = images[0].convert("RGB"), [im.convert("RGB") for im in images[1:]]
    if fmt == "pdf":
        first.save(path, "PDF", save_all=True, append_images=rest, resolution=float(dpi), quality=quality)
    elif fmt == "tiff":
        first.save(path, "TIFF", save_all=True, append_images=rest, dpi=(dpi, dpi), compression="tiff_lzw")
    elif fmt == "jpeg":
        first.save(path, "JPEG", dpi=(dpi, dpi), quality=quality)
    elif fmt == "png":
        first.save(path, "PNG", dpi=(dpi, dpi))
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return path

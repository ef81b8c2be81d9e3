"""The invisible text layer of a searchable PDF page, written from sohoa's own words in reading order.

A PDF reader searches and copies a page's text in the order the page's content stream shows it. So the
layer is written here from the very lines of ``text.txt`` (:func:`ocr.layout.reading_order_words`), not
taken from Tesseract's text-only PDF: Tesseract's page interleaves the two columns of an official
document's header and closing blocks line by line (9.6% character errors against the contract's reading
order on the benchmark corpus), while this layer copies out as ``text.txt`` reads.

How a word is drawn (the approach of Tesseract's and OCRmyPDF's renderers):

- text render mode 3 (neither filled nor stroked: invisible, yet searchable and copyable);
- the font is the 572-byte *GlyphLessFont* (``ocr/fonts/``): a Type 0 font with ``Identity-H`` encoding,
  so each character is shown by its two-byte UTF-16 code, every code drawn with the one empty glyph
  (500/1000 em wide) and mapped back to the same code by the ToUnicode CMap: any Vietnamese text (NFC,
  one code per letter with its marks) copies out exactly as it went in, without embedding a real font;
- a line's words share one baseline (the bottom of the line's box) and one size (the box's height), so
  a reader's selection runs along the printed line and each character's box covers the printed word;
- each word is placed at its box's left edge and stretched horizontally (``Tz``) to the box's width;
  an explicit space, stretched over the gap, follows every word but a line's last, so a copied line has
  its spaces whatever the reader's own word-break heuristics;
- the words were read from the page deskewed; the whole layer is turned back by the skew about the
  page's centre (one ``cm``), so every word sits on its printed place on the untouched scan;
- a page shown turned by a quarter turn (``/Rotate``: the scan's own JPEG embedded as it lies) gets one
  more ``cm`` that maps the upright page, where the words were read, onto the page as it lies.
"""

from __future__ import annotations

import functools
import math
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocr.models import Word

FONT_NAME = "GlyphLessFont"
"""The font's resource name on every page that has a text layer (``/Resources /Font /GlyphLessFont``)."""

_FONT_FILE = Path(__file__).with_name("fonts") / "GlyphLessFont.ttf"
_CHAR_EM = 0.5  # advance of the font's one glyph, in em (the font dictionary's /DW 500)
_MIN_SKEW_DEG = 0.005
TURNS = (0, 90, 180, 270)
"""Quarter turns a page can be shown with (``/Rotate``, clockwise degrees)."""
_TO_UNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


@dataclass(frozen=True)
class Placement:
    """How the image the words were read from lies on the PDF page.

    Attributes:
        image_width: width in pixels of the (deskewed) image Tesseract read; word boxes are in its pixels.
        image_height: its height in pixels.
        page_width: the PDF page's width in points (the scan's physical width).
        page_height: its height in points.
        skew: degrees the page was turned clockwise to be read (the scan's skew, positive when the scan
            is turned counter-clockwise); the layer is turned back counter-clockwise by as much.
        turn: the page's ``/Rotate`` (clockwise degrees a reader turns it to show it upright);
            ``page_width`` and ``page_height`` are those of the upright page.
    """

    image_width: int
    image_height: int
    page_width: float
    page_height: float
    skew: float = 0.0
    turn: int = 0


def content(lines: Sequence[Sequence[Word]], placement: Placement) -> bytes:
    """Content-stream operators drawing ``lines`` (reading order, words left to right) invisibly.

    The operators use the font resource :data:`FONT_NAME`; the page that shows them must carry
    :func:`add_font`'s font under that name. Returns ``b""`` when there is no word to draw.
    """
    sx = placement.page_width / max(placement.image_width, 1)
    sy = placement.page_height / max(placement.image_height, 1)
    ops: list[str] = []
    for line in lines:
        words = [(w, _codes(w.text)) for w in line]
        words = [(w, codes) for w, codes in words if codes]
        if not words:
            continue
        top = min(w.top for w, _ in words)
        bottom = max(w.top + w.height for w, _ in words)
        size = max((bottom - top) * sy, 1.0)
        baseline = placement.page_height - bottom * sy
        ops.append(f"/{FONT_NAME} {_num(size)} Tf")
        em = _CHAR_EM * size
        for i, (word, codes) in enumerate(words):
            width = max(word.width * sx, 0.01)
            natural = em * (len(codes) // 4)  # four hex digits per character code
            ops.append(
                f"1 0 0 1 {_num(word.left * sx)} {_num(baseline)} Tm {_num(100 * width / natural)} Tz <{codes}> Tj"
            )
            if i + 1 < len(words):
                gap = (words[i + 1][0].left - word.left - word.width) * sx
                ops.append(f"{_num(100 * max(gap, 0.01) / em)} Tz <0020> Tj")
    if not ops:
        return b""
    head = ["q"]
    if placement.turn:
        head.append(_lay_down(placement))
    if abs(placement.skew) >= _MIN_SKEW_DEG:
        head.append(_turn_about_centre(placement))
    return "\n".join([*head, "BT", "3 Tr", *ops, "ET", "Q", ""]).encode("ascii")


def _codes(text: str) -> str:
    """The word as hex two-byte codes (UTF-16BE of its NFC form; spaces inside it kept)."""
    return unicodedata.normalize("NFC", text.strip()).encode("utf-16-be").hex().upper()


def _num(value: float) -> str:
    """A PDF number, two decimals at most (a hundredth of a point is far below a pixel)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _turn_about_centre(placement: Placement) -> str:
    """``cm`` operator turning counter-clockwise by the skew about the page's centre."""
    t = math.radians(placement.skew)
    cos, sin = math.cos(t), math.sin(t)
    cx, cy = placement.page_width / 2, placement.page_height / 2
    e = cx - cx * cos + cy * sin
    f = cy - cx * sin - cy * cos
    return f"{cos:.6f} {sin:.6f} {-sin:.6f} {cos:.6f} {e:.3f} {f:.3f} cm"


def _lay_down(placement: Placement) -> str:
    """``cm`` operator mapping the upright page (where the words are) onto the page as it lies, which a
    reader turns clockwise by ``placement.turn`` to show it upright."""
    w, h = _num(placement.page_width), _num(placement.page_height)
    return {90: f"0 1 -1 0 {h} 0 cm", 180: f"-1 0 0 -1 {w} {h} cm", 270: f"0 -1 1 0 0 {w} cm"}[placement.turn]


@functools.cache
def _font_program() -> bytes:
    return _FONT_FILE.read_bytes()


@functools.cache
def _cid_to_gid_map() -> bytes:
    """Every two-byte code to glyph 1 (the empty glyph), Flate-compressed (128 KB to a few hundred bytes)."""
    return zlib.compress(b"\x00\x01" * 65536, 9)


def add_font(pdf: Any) -> Any:
    """Add the glyphless Type 0 font to a pikepdf ``Pdf`` and return it (an indirect object).

    One font object serves every page of a document: pages refer to it under :data:`FONT_NAME`.
    """
    from pikepdf import Array, Dictionary, Name, Stream, String

    program = _font_program()
    font_file = Stream(pdf, program)
    font_file.Length1 = len(program)
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/" + FONT_NAME),
            Flags=5,
            FontBBox=Array([0, 0, 500, 1000]),
            ItalicAngle=0,
            Ascent=1000,
            Descent=-1,
            CapHeight=1000,
            StemV=80,
            FontFile2=font_file,
        )
    )
    cid_to_gid = Stream(pdf, _cid_to_gid_map())
    cid_to_gid.Filter = Name.FlateDecode
    cid_font = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/" + FONT_NAME),
            CIDSystemInfo=Dictionary(Registry=String("Adobe"), Ordering=String("Identity"), Supplement=0),
            FontDescriptor=descriptor,
            DW=int(_CHAR_EM * 1000),
            CIDToGIDMap=cid_to_gid,
        )
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FONT_NAME),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([cid_font]),
            ToUnicode=Stream(pdf, _TO_UNICODE),
        )
    )

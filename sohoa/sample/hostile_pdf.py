"""Hostile and odd PDFs, written byte by byte (or with pikepdf), for the hostile-input corpus.

Each builder returns the bytes of one file. They are small on disk even when they describe something
enormous (a 60,000-pixel image, a stream that inflates to a gigabyte, 2,001 pages): the point is that
sohoa must refuse those from headers, before anything is decoded.
"""

from __future__ import annotations

import io
import os
import zlib
from collections.abc import Sequence

from sohoa.sample.hostile_images import g4_strip, text_bitmap

CATALOGUE = b"<< /Type /Catalog /Pages 2 0 R >>"
ONE_PAGE = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
A4_PAGE = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"
HELVETICA = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
PAGE_TEXT = b"BT /F1 14 Tf 72 760 Td (GIAY DE NGHI CAP GIAY PHEP XAY DUNG) Tj 0 -24 Td (So 12/2026) Tj ET"


def minimal_pdf(objects: Sequence[bytes], trailer_extra: bytes = b"") -> bytes:
    """A minimal, well-formed PDF from numbered objects (object 1 is the catalogue)."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R " % (len(objects) + 1) + trailer_extra + b">>\n"
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return out


def stream(data: bytes, extra: bytes = b"") -> bytes:
    """The body of a stream object holding ``data`` as it is (``extra`` goes into its dictionary)."""
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def text_page_pdf(
    page_extra: bytes = b"",
    catalogue_extra: bytes = b"",
    extra_objects: Sequence[bytes] = (),
    content: bytes = PAGE_TEXT,
    font: bytes = HELVETICA,
) -> bytes:
    """A born-digital one-page PDF with a line of text (objects 1-5), plus extra objects from 6 on."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R " + page_extra + b">>"
    )
    catalogue = b"<< /Type /Catalog /Pages 2 0 R " + catalogue_extra + b">>"
    return minimal_pdf([catalogue, ONE_PAGE, page, stream(content), font, *extra_objects])


def image_page_pdf(
    image: bytes, width: int, height: int, image_dict: bytes, media_box: bytes = b"[0 0 595 842]"
) -> bytes:
    """A one-page PDF whose page is one image XObject drawn over the whole page (what scanners write)."""
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox " + media_box + b" /Resources << /XObject << /Im1 5 0 R >> >> "
        b"/Contents 4 0 R >>"
    )
    draw = b"q 595 0 0 842 0 0 cm /Im1 Do Q"
    xobject = stream(image, b"/Type /XObject /Subtype /Image /Width %d /Height %d " % (width, height) + image_dict)
    return minimal_pdf([CATALOGUE, ONE_PAGE, page, stream(draw), xobject])


def image_pdf(pages: int = 2, dpi: int = 100) -> bytes:
    """A valid image-only PDF (what a scanner writes), light grey pages."""
    from PIL import Image

    images = [Image.new("RGB", (int(8.27 * dpi), int(11.69 * dpi)), (250, 250, 250)) for _ in range(pages)]
    buf = io.BytesIO()
    images[0].save(buf, "PDF", save_all=True, append_images=images[1:], resolution=float(dpi))
    return buf.getvalue()


def truncated_pdf() -> bytes:
    data = image_pdf()
    return data[: len(data) // 2]


def encrypted_rc4_pdf() -> bytes:
    """A PDF under the standard security handler whose user password is not empty: readers ask for it."""
    encrypt = b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P -4 >>" % (
        os.urandom(32).hex().encode(),
        os.urandom(32).hex().encode(),
    )
    doc_id = b"<00112233445566778899aabbccddeeff>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, A4_PAGE, encrypt], b"/Encrypt 4 0 R /ID [%s %s] " % (doc_id, doc_id))


def _pikepdf_save(pdf: object, **kwargs: object) -> bytes:
    buf = io.BytesIO()
    pdf.save(buf, **kwargs)  # type: ignore[attr-defined]
    return buf.getvalue()


def encrypted_aes256_pdf(user: str = "matkhau", owner: str = "chu-so-huu") -> bytes:
    """A real born-digital PDF encrypted with AES-256 (R6) by pikepdf, user password set."""
    import pikepdf

    with pikepdf.open(io.BytesIO(text_page_pdf())) as pdf:
        return _pikepdf_save(pdf, encryption=pikepdf.Encryption(user=user, owner=owner, R=6))


def owner_password_only_pdf() -> bytes:
    """Encrypted with an owner password only (printing forbidden): any reader opens it without asking."""
    import pikepdf

    with pikepdf.open(io.BytesIO(text_page_pdf())) as pdf:
        permissions = pikepdf.Permissions(print_highres=False, print_lowres=False, modify_other=False)
        return _pikepdf_save(pdf, encryption=pikepdf.Encryption(user="", owner="chu", R=4, allow=permissions))


def zero_pages_pdf() -> bytes:
    return minimal_pdf([CATALOGUE, b"<< /Type /Pages /Kids [] /Count 0 >>"])


def header_only_pdf() -> bytes:
    return b"%PDF-1.7\n%%EOF\n"


def garbage_body_pdf() -> bytes:
    return b"%PDF-1.4\n" + os.urandom(4000) + b"\n%%EOF\n"


def many_pages_pdf(count: int = 2001) -> bytes:
    """``count`` empty A4 pages sharing nothing but their parent: a few hundred kilobytes."""
    kids = b" ".join(b"%d 0 R" % (n + 3) for n in range(count))
    pages = [b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"] * count
    return minimal_pdf([CATALOGUE, b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % count, *pages])


def lying_page_count_pdf() -> bytes:
    """A page tree whose ``/Count`` claims ten million pages but holds one."""
    return minimal_pdf([CATALOGUE, b"<< /Type /Pages /Kids [3 0 R] /Count 10000000 >>", A4_PAGE])


def page_tree_loop_pdf() -> bytes:
    """A page tree whose node lists itself as a kid: a naive walk never ends."""
    return minimal_pdf([CATALOGUE, b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>", A4_PAGE])


def huge_mediabox_pdf() -> bytes:
    """One page of 200 x 200 inches (the largest a PDF allows): 60,000 px a side at 300 dpi."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] >>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, page])


def absurd_mediabox_pdf() -> bytes:
    """A MediaBox of 1e30 points: not a real number of pixels at any resolution."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1e30 1e30] >>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, page])


def empty_mediabox_pdf() -> bytes:
    """A page of zero width and height."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 0 0] >>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, page])


def huge_image_pdf(side: int = 60_000) -> bytes:
    """An A4 page showing one ``side`` x ``side`` grey image whose data is a few hundred kilobytes of
    deflated zeros (truncated): rendering the page would decode billions of pixels."""
    compressor = zlib.compressobj(9)
    data = compressor.compress(b"\x00" * (64 << 20)) + compressor.flush()
    return image_page_pdf(data, side, side, b"/ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode ")


def flate_bomb_pdf(inflated_mb: int = 1024) -> bytes:
    """A page whose content stream is about a megabyte that inflates to ``inflated_mb`` MB of spaces."""
    compressor = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    parts = [compressor.compress(chunk) for _ in range(inflated_mb)]
    parts.append(compressor.compress(b"\nBT /F1 14 Tf 72 760 Td (bom) Tj ET\n"))
    parts.append(compressor.flush())
    page = (
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>"
    )
    return minimal_pdf([CATALOGUE, ONE_PAGE, page, stream(b"".join(parts), b"/Filter /FlateDecode "), HELVETICA])


def deep_nesting_pdf(depth: int = 100_000) -> bytes:
    """A page dictionary with an entry nested ``depth`` arrays deep: a recursive parser overflows."""
    page = b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Junk " + b"[" * depth + b"]" * depth + b" >>"
    return minimal_pdf([CATALOGUE, ONE_PAGE, page])


def javascript_pdf() -> bytes:
    """A born-digital page that runs JavaScript when opened (OpenAction) and on a page action."""
    js = b"<< /Type /Action /S /JavaScript /JS (app.alert('xin chao'); this.submitForm('http://example.invalid/');) >>"
    return text_page_pdf(
        page_extra=b"/AA << /O 6 0 R >> ",
        catalogue_extra=b"/OpenAction 6 0 R /Names << /JavaScript << /Names [(a) 6 0 R] >> >> ",
        extra_objects=[js],
    )


def launch_action_pdf() -> bytes:
    """A page whose OpenAction asks the reader to launch a program."""
    launch = b"<< /Type /Action /S /Launch /F (cmd.exe) /Win << /F (cmd.exe) /P (/c calc) >> >>"
    return text_page_pdf(catalogue_extra=b"/OpenAction 6 0 R ", extra_objects=[launch])


def acroform_pdf() -> bytes:
    """A filled application form: AcroForm text field and checkbox with appearance streams."""
    field = (
        b"<< /Type /Annot /Subtype /Widget /FT /Tx /T (HoTen) /V (Nguyen Van Mau) /Rect [72 600 400 620] "
        b"/P 3 0 R /F 4 /DA (/Helv 12 Tf 0 g) /AP << /N 7 0 R >> >>"
    )
    appearance = stream(
        b"/Tx BMC BT /Helv 12 Tf 2 5 Td (Nguyen Van Mau) Tj ET EMC",
        b"/Type /XObject /Subtype /Form /BBox [0 0 328 20] /Resources << /Font << /Helv 5 0 R >> >> ",
    )
    check = b"<< /Type /Annot /Subtype /Widget /FT /Btn /T (DongY) /V /Yes /AS /Yes /Rect [72 560 90 578] /P 3 0 R >>"
    return text_page_pdf(
        page_extra=b"/Annots [6 0 R 8 0 R] ",
        catalogue_extra=b"/AcroForm << /Fields [6 0 R 8 0 R] /NeedAppearances true "
        b"/DR << /Font << /Helv 5 0 R >> >> /DA (/Helv 0 Tf 0 g) >> ",
        extra_objects=[field, appearance, check],
    )


def attachment_pdf() -> bytes:
    """A born-digital page carrying an embedded Windows executable as an attachment."""
    import pikepdf

    with pikepdf.open(io.BytesIO(text_page_pdf())) as pdf:
        program = b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"
        pdf.attachments["huong-dan.exe"] = pikepdf.AttachedFileSpec(  # type: ignore[call-arg]
            pdf, program, filename="huong-dan.exe"
        )
        return _pikepdf_save(pdf)


def broken_xref_pdf() -> bytes:
    """Every cross-reference offset points at the wrong byte (an editor that rewrote the file badly)."""
    data = text_page_pdf()
    head, _, tail = data.partition(b"xref\n")
    table, _, trailer = tail.partition(b"trailer")
    lines = table.split(b"\n")
    fixed = [lines[0], lines[1]] + [
        (b"%010d 00000 n " % (int(line[:10]) + 7) if line.endswith(b" n ") else line) for line in lines[2:]
    ]
    return head + b"xref\n" + b"\n".join(fixed) + b"trailer" + trailer


def no_xref_pdf() -> bytes:
    """Objects and a trailer but no cross-reference table and a ``startxref`` pointing nowhere."""
    data = text_page_pdf()
    head, _, tail = data.partition(b"xref\n")
    _, _, trailer = tail.partition(b"trailer")
    return head + b"trailer" + trailer.replace(b"startxref\n", b"startxref\n9").rstrip() + b"\n"


def xref_loop_pdf() -> bytes:
    """A trailer whose ``/Prev`` points back at its own cross-reference table."""
    data = text_page_pdf()
    xref = data.index(b"xref\n")
    return text_page_pdf().replace(b"/Root 1 0 R ", b"/Root 1 0 R /Prev %d " % xref)


def junk_before_header_pdf() -> bytes:
    """A scanner that writes 500 bytes of its own before ``%PDF-`` (readers look in the first kilobyte)."""
    return b"SCANNER-HEADER v2\n" + b"\x00" * 482 + text_page_pdf()


def bad_tounicode_pdf() -> bytes:
    """A text layer whose font maps character codes to NUL, an unpaired surrogate, U+FFFE and control
    characters (a broken or hostile ToUnicode map), next to ordinary text."""
    cmap = (
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Bad def "
        b"1 begincodespacerange <00> <FF> endcodespacerange "
        b"6 beginbfchar <41> <0000> <42> <D800> <43> <FFFE> <44> <001B> <45> <202E> <46> <DFFF> endbfchar "
        b"endcmap CMapName currentdict /CMap defineresource pop end end"
    )
    font = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>"
    content = (
        b"BT /F1 14 Tf 72 760 Td (ABCDEFABCDEF ABCDEF ABCDEF) Tj 0 -24 Td "
        b"(GIAY DE NGHI CAP GIAY PHEP XAY DUNG SO 12) Tj ET"
    )
    return text_page_pdf(content=content, font=font, extra_objects=[stream(cmap)])


def invalid_utf8_text_pdf() -> bytes:
    """A text layer written in a legacy Vietnamese 8-bit encoding (TCVN3 bytes in a WinAnsi font), with
    stray bytes that are not UTF-8 and a string that claims UTF-16 but is cut in half."""
    content = (
        b"BT /F1 14 Tf 72 760 Td (\xa7\xb5n \xae\xd2 ngh\xdb c\xc0p gi\xc0y ph\xd0p \xff\xfe\x80\x81) Tj "
        b"0 -24 Td <FEFF00480069D8> Tj 0 -24 Td (GIAY DE NGHI CAP GIAY PHEP XAY DUNG SO 12) Tj ET"
    )
    return text_page_pdf(content=content)


def ccitt_pdf() -> bytes:
    """A bilevel scan stored as a CCITT Group 4 image, as many office scanners write."""
    image = text_bitmap()
    params = b"/DecodeParms << /K -1 /Columns %d /Rows %d /BlackIs1 false >> " % (image.width, image.height)
    return image_page_pdf(
        g4_strip(image),
        image.width,
        image.height,
        b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /CCITTFaxDecode " + params,
    )


def jbig2_pdf() -> bytes:
    """A bilevel scan stored as a JBIG2 image (generic region, MMR coding), as archival scanners write."""
    image = text_bitmap()
    return image_page_pdf(
        jbig2_generic(g4_strip(image), image.width, image.height),
        image.width,
        image.height,
        b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode ",
    )


def jbig2_garbage_pdf() -> bytes:
    """A JBIG2 image whose segment data is random bytes."""
    return image_page_pdf(
        os.urandom(3000), 1654, 2339, b"/ColorSpace /DeviceGray /BitsPerComponent 1 /Filter /JBIG2Decode "
    )


def jbig2_generic(mmr: bytes, width: int, height: int) -> bytes:
    """JBIG2 segments as embedded in a PDF: page information, one immediate lossless generic region
    coded with MMR (the T.6 Group 4 code), end of page."""
    import struct

    def segment(number: int, kind: int, data: bytes) -> bytes:
        return struct.pack(">IBBBI", number, kind, 0, 1, len(data)) + data

    page_info = struct.pack(">IIIIBH", width, height, 0, 0, 0, 0)
    region = struct.pack(">IIIIB", width, height, 0, 0, 0) + b"\x01" + mmr
    return segment(0, 48, page_info) + segment(1, 39, region) + segment(2, 49, b"")


def html_pdf_polyglot() -> bytes:
    """An HTML page with a PDF inside its first kilobyte: a browser runs the script, a reader shows the PDF."""
    return b"<html><body><script>document.write('polyglot')</script><!--\n" + text_page_pdf() + b"\n--></body></html>\n"


def pdf_zip_polyglot() -> bytes:
    """A valid PDF followed by a ZIP archive (a PDF reader and an unzip tool each see their own file)."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("payload.js", "WScript.Echo('hi')")
    return text_page_pdf() + buf.getvalue()


def gzipped_pdf() -> bytes:
    import gzip

    return gzip.compress(text_page_pdf())

"""QR codes on generated pages, as one-stop receipts and cover sheets print them.

The QR payload is the portal's lookup URL with the dossier code as a parameter, the common form; the reader
must find the code inside it. Generated with zxing-cpp, the library sohoa reads barcodes with.
"""

from __future__ import annotations

from PIL import Image


def qr_payload(ma_ho_so: str) -> str:
    """What a receipt's QR code carries: a lookup URL naming the dossier."""
    return f"https://dichvucong.gov.vn/p/home/dvc-tra-cuu-ho-so.html?ma_ho_so={ma_ho_so}"


def with_qr(page: Image.Image, ma_ho_so: str, *, dpi: int) -> Image.Image:
    """A copy of ``page`` with a 2 cm QR code of the dossier in its top-right corner."""
    import zxingcpp

    symbol = zxingcpp.create_barcode(qr_payload(ma_ho_so), zxingcpp.BarcodeFormat.QRCode)
    modules = Image.fromarray(symbol.to_image(scale=1)).convert("L")
    side = round(2 / 2.54 * dpi)
    qr = modules.resize((side, side), Image.Resampling.NEAREST).convert(page.mode)
    out = page.copy()
    margin = round(0.8 / 2.54 * dpi)
    out.paste(qr, (out.width - side - margin, margin))
    return out

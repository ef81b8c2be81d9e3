"""A benchmark corpus of scanned Vietnamese administrative pages, each with its ground-truth text.

Built on :mod:`sohoa.sample.documents` (two-column header with the national motto, document number, bold
title, body, tables, a red round seal over a blue signature; a flatbed scan's paper tint, skew up to 1°,
optics blur and sensor noise), then degraded further, page by page, in a fixed cycle so every
degradation the issue lists is in any corpus of 12 pages or more:

=====  ==========================================================================================
cycle  page
=====  ==========================================================================================
0      flatbed scan, 200 dpi, JPEG quality 85
1      flatbed scan, 300 dpi
2      skew up to 2.5° and a softer focus (Gaussian blur)
3      heavy JPEG artefacts (quality 35) and extra sensor noise
4      uneven light (a lamp on one side: the far corner at about 60 % brightness)
5      turned 90° (fed sideways)
6      turned 180° (fed upside down)
7      phone photo: perspective (keystone), uneven light, a desk around the sheet, 300 dpi-equivalent
8      300 dpi, blur and noise
9      a blank sheet (first cycle only; later cycles put a flatbed scan here)
10     skew up to 2.5°, 300 dpi
11     phone photo, milder, 200 dpi-equivalent
=====  ==========================================================================================

Every page is stored as the JPEG a scanner or phone would produce, and the same bytes are used by every
engine the benchmark runs (sohoa, OCRmyPDF, Tesseract alone): the corpus PDF embeds them unchanged.

Run it alone to look at the pages: ``uv run python bench/ocr_corpus.py --pages 12 --out bench/out/corpus``.
"""

from __future__ import annotations

import argparse
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageFilter

from sohoa.sample.documents import KINDS, DocFields, render_blank_page, render_document

CYCLE = (
    "flatbed-200",
    "flatbed-300",
    "skew-blur",
    "jpeg-noise",
    "uneven-light",
    "rotated-90",
    "rotated-180",
    "phone-photo",
    "300dpi-blur-noise",
    "blank",
    "skew-300",
    "phone-photo-mild",
)


@dataclass(frozen=True)
class CorpusPage:
    """One page of the corpus: where its JPEG is, what it shows and how it was degraded."""

    number: int
    kind: str  # document kind, or "blank"
    degradation: str
    dpi: int
    jpeg: str  # file name of the page image, relative to the corpus folder
    truth: str  # what ``sohoa ocr`` must read (NFC, contract reading order); "" for a blank page


def _paper(image: Image.Image) -> tuple[int, int, int]:
    arr = np.asarray(image.reduce(8))
    med = np.median(arr.reshape(-1, 3), axis=0)
    return int(med[0]), int(med[1]), int(med[2])


def _skew(image: Image.Image, rng: np.random.Generator, max_deg: float) -> Image.Image:
    angle = float(rng.uniform(1.0, max_deg)) * (1 if rng.random() < 0.5 else -1)
    return image.rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=_paper(image))


def _noise(image: Image.Image, rng: np.random.Generator, sd: float) -> Image.Image:
    arr = np.asarray(image, dtype=np.float32)
    noisy = arr + rng.normal(0.0, sd, size=arr.shape[:2])[..., None]
    return Image.fromarray(noisy.clip(0, 255).astype(np.uint8))


def _uneven_light(image: Image.Image, rng: np.random.Generator, darkest: float) -> Image.Image:
    """Light falling off from a lamp beside the page: a smooth field from 1 down to ``darkest``."""
    w, h = image.size
    small_w, small_h = 64, round(64 * h / w)
    ys, xs = np.mgrid[0:small_h, 0:small_w].astype(np.float32)
    lamp_x, lamp_y = float(rng.uniform(-0.3, 0.3)) * small_w, float(rng.uniform(0, 1)) * small_h
    dist = np.hypot(xs - lamp_x, ys - lamp_y)
    field = 1.0 - (1.0 - darkest) * dist / dist.max()
    full = np.asarray(Image.fromarray(field, mode="F").resize((w, h), Image.Resampling.BILINEAR))
    arr = np.asarray(image, dtype=np.float32) * full[..., None]
    return Image.fromarray(arr.clip(0, 255).astype(np.uint8))


def _perspective_coefficients(src: list[tuple[float, float]], dst: list[tuple[float, float]]) -> list[float]:
    """Coefficients of Pillow's PERSPECTIVE transform mapping output points ``dst`` to input points ``src``."""
    rows = []
    rhs = []
    for (x, y), (u, v) in zip(dst, src, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    solved = np.linalg.solve(np.asarray(rows, dtype=np.float64), np.asarray(rhs, dtype=np.float64))
    return [float(c) for c in solved]


def _phone_photo(image: Image.Image, rng: np.random.Generator, strength: float) -> Image.Image:
    """The sheet photographed from above at a slight angle, on a desk, under a lamp."""
    w, h = image.size
    margin = 0.05
    out_w, out_h = round(w * (1 + 2 * margin)), round(h * (1 + 2 * margin))
    jitter = strength * min(w, h)

    def corner(x: float, y: float) -> tuple[float, float]:
        return (x + float(rng.uniform(-jitter, jitter)), y + float(rng.uniform(-jitter, jitter)))

    mx, my = margin * w, margin * h
    dst = [corner(mx, my), corner(mx + w, my), corner(mx + w, my + h), corner(mx, my + h)]
    # Keystone: the far edge (top) is narrower than the near one.
    squeeze = strength * w * 0.8
    dst[0] = (dst[0][0] + squeeze, dst[0][1])
    dst[1] = (dst[1][0] - squeeze, dst[1][1])
    src = [(0.0, 0.0), (float(w), 0.0), (float(w), float(h)), (0.0, float(h))]
    desk = (int(rng.integers(70, 110)), int(rng.integers(55, 85)), int(rng.integers(40, 65)))
    photo = image.transform(
        (out_w, out_h),
        Image.Transform.PERSPECTIVE,
        _perspective_coefficients(src, dst),
        resample=Image.Resampling.BICUBIC,
        fillcolor=desk,
    )
    photo = _uneven_light(photo, rng, darkest=0.65)
    return photo.filter(ImageFilter.GaussianBlur(0.6))


def _degrade(image: Image.Image, degradation: str, rng: np.random.Generator) -> tuple[Image.Image, int]:
    """Apply one row of the cycle; returns the page and its JPEG quality."""
    if degradation == "skew-blur":
        return _skew(image, rng, 2.5).filter(ImageFilter.GaussianBlur(0.8)), 85
    if degradation == "jpeg-noise":
        return _noise(image, rng, 6.0), 35
    if degradation == "uneven-light":
        return _uneven_light(image, rng, darkest=0.6), 85
    if degradation == "rotated-90":
        return image.transpose(Image.Transpose.ROTATE_90), 85
    if degradation == "rotated-180":
        return image.transpose(Image.Transpose.ROTATE_180), 85
    if degradation in ("phone-photo", "phone-photo-mild"):
        return _phone_photo(image, rng, 0.02 if degradation == "phone-photo" else 0.01), 80
    if degradation == "300dpi-blur-noise":
        return _noise(image.filter(ImageFilter.GaussianBlur(1.0)), rng, 5.0), 85
    if degradation == "skew-300":
        return _skew(image, rng, 2.5), 85
    return image, 85


def _dpi_of(degradation: str) -> int:
    return 300 if degradation in ("flatbed-300", "phone-photo", "300dpi-blur-noise", "skew-300") else 200


def build(out: Path, pages: int, *, seed: int = 2026) -> list[CorpusPage]:
    """Write ``pages`` page JPEGs, ``corpus.pdf`` (those JPEGs, unchanged) and ``truth.json`` into ``out``.

    The same ``pages`` and ``seed`` give the same corpus, byte for byte.
    """
    out.mkdir(parents=True, exist_ok=True)
    corpus: list[CorpusPage] = []
    for i in range(pages):
        degradation = CYCLE[i % len(CYCLE)]
        if degradation == "blank" and i >= len(CYCLE):
            degradation = "flatbed-200"
        dpi = _dpi_of(degradation)
        rng = np.random.default_rng(seed + i)
        if degradation == "blank":
            image, truth, kind, quality = render_blank_page(dpi=dpi, seed=seed + i), "", "blank", 85
        else:
            kind = KINDS[i % len(KINDS)]
            rendered, truth = render_document(kind, DocFields.fake(seed + i), dpi=dpi, seed=seed + i)
            image, quality = _degrade(rendered[0], degradation, rng)
        name = f"page-{i + 1:03d}.jpg"
        image.convert("RGB").save(out / name, "JPEG", quality=quality, dpi=(dpi, dpi))
        corpus.append(CorpusPage(i + 1, kind, degradation, dpi, name, truth))
    write_pdf(out, corpus, out / "corpus.pdf")
    (out / "truth.json").write_text(
        json.dumps([asdict(p) for p in corpus], ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return corpus


def write_pdf(folder: Path, corpus: list[CorpusPage], destination: Path) -> None:
    """An image-only PDF of the corpus: each page's JPEG embedded unchanged at its resolution."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    try:
        for page_info in corpus:
            data = (folder / page_info.jpeg).read_bytes()
            with Image.open(io.BytesIO(data)) as probe:
                w_px, h_px = probe.size
            w_pt, h_pt = w_px / page_info.dpi * 72, h_px / page_info.dpi * 72
            page = pdf.new_page(w_pt, h_pt)
            image = pdfium.PdfImage.new(pdf)
            image.load_jpeg(io.BytesIO(data), pages=[page], inline=False, autoclose=True)
            image.set_matrix(pdfium.PdfMatrix().scale(w_pt, h_pt))
            page.insert_obj(image)
            page.gen_content()
            page.close()
        pdf.save(destination)
    finally:
        pdf.close()


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--pages", type=int, default=12)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=Path("bench/out/corpus"))
    args = parser.parse_args()
    corpus = build(args.out, args.pages, seed=args.seed)
    words = sum(len(p.truth.split()) for p in corpus)
    print(
        f"{len(corpus)} pages, {words} words of ground truth, in {args.out} "
        f"({math.ceil((args.out / 'corpus.pdf').stat().st_size / 1024)} KiB PDF)"
    )


if __name__ == "__main__":
    _main()

"""Page clean-up: coloured ink, blank pages, Otsu, deskew, rules, orientation hint."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from ocr import preprocess
from sohoa.sample.documents import DocFields, render_blank_page, render_document

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf"


@pytest.fixture(scope="module")
def document_page() -> Image.Image:
    pages, _ = render_document("quyet_dinh", DocFields.fake(1), dpi=200, seed=1)
    return pages[0]


def _text_page(lines: list[str], size: tuple[int, int] = (1654, 2339)) -> Image.Image:
    image = Image.new("L", size, 245)
    draw = ImageDraw.Draw(image)
    font = ImageFont.truetype(FONT, 36)
    for i, line in enumerate(lines):
        draw.text((240, 300 + 55 * i), line, font=font, fill=20)
    return image


def test_scanned_empty_sheet_is_blank() -> None:
    for seed in range(3):
        sheet = render_blank_page(dpi=200, seed=seed)
        assert preprocess.is_blank(preprocess.ink_gray(sheet), 200)


def test_printed_page_is_not_blank(document_page: Image.Image) -> None:
    assert not preprocess.is_blank(preprocess.ink_gray(document_page), 200)


def test_page_with_one_short_line_is_not_blank() -> None:
    assert not preprocess.is_blank(_text_page(["Trang 2"]), 200)


def test_perfectly_uniform_page_is_blank_and_otsu_does_not_divide_by_zero() -> None:
    uniform = np.full((500, 400), 255, dtype=np.uint8)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a division by zero in numpy would warn
        threshold = preprocess.otsu_threshold(uniform)
        ink = preprocess.binarise(Image.fromarray(uniform))
    assert threshold < 255
    assert not ink.any()
    assert preprocess.is_blank(Image.fromarray(uniform), 200)


def test_otsu_splits_ink_from_paper() -> None:
    rng = np.random.default_rng(0)
    paper = rng.normal(235, 6, 9000)
    ink = rng.normal(40, 10, 1000)
    paper_px, ink_px = paper.clip(0, 255).astype(np.uint8), ink.clip(0, 255).astype(np.uint8)
    threshold = preprocess.otsu_threshold(np.concatenate([paper_px, ink_px]).reshape(100, 100))
    assert (ink_px <= threshold).mean() > 0.95
    assert (paper_px <= threshold).mean() < 0.01


def test_red_seal_and_blue_signature_become_light_black_print_stays_dark() -> None:
    colours = Image.new("RGB", (3, 1))
    colours.putdata([(205, 35, 45), (35, 55, 165), (28, 28, 34)])
    gray = preprocess.ink_gray(colours)
    red, blue, black = (int(np.asarray(gray)[0, x]) for x in range(3))
    assert red > 200
    assert blue > 160
    assert black < 40


@pytest.mark.parametrize("angle", [-2.5, -0.7, 0.6, 1.8])
def test_skew_is_measured_and_positive_means_counter_clockwise(angle: float) -> None:
    straight = _text_page([f"Dòng chữ số {i} của văn bản hành chính mẫu" for i in range(20)])
    turned = straight.rotate(angle, resample=Image.Resampling.BILINEAR, fillcolor=245)
    assert preprocess.estimate_skew(turned, 200) == pytest.approx(angle, abs=0.15)


def test_deskew_fills_corners_with_the_paper_colour() -> None:
    page = Image.new("RGB", (400, 600), (236, 232, 220))
    turned = preprocess.rotate(page, 2.0, preprocess.paper_colour(page))
    assert turned.getpixel((0, 0)) == (236, 232, 220)


def test_rules_are_removed_and_letters_kept() -> None:
    page = _text_page(["Số lượng"], size=(800, 600))
    draw = ImageDraw.Draw(page)
    draw.line([(50, 450), (750, 450)], fill=0, width=3)  # a table border
    draw.line([(60, 380), (60, 580)], fill=0, width=3)  # a vertical border
    ink = preprocess.binarise(page)
    cleaned, spans = preprocess.remove_rules(ink, 200)
    assert ink[450, 400] == 1
    assert cleaned[440:460, 100:700].sum() == 0
    assert cleaned[300:350, 240:500].sum() > 0.8 * ink[300:350, 240:500].sum()  # the words survive
    assert len(spans) == 1
    assert spans[0][0] <= 400 <= spans[0][1]


def test_sideways_page_is_noticed(document_page: Image.Image) -> None:
    gray = preprocess.ink_gray(document_page)
    assert not preprocess.looks_sideways(gray, 200)
    assert preprocess.looks_sideways(gray.transpose(Image.Transpose.ROTATE_90), 200)
    assert preprocess.looks_sideways(gray.transpose(Image.Transpose.ROTATE_270), 200)

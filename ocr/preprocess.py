"""Clean a page for Tesseract: drop coloured ink, detect blank paper, deskew, binarise, remove rules.

Order matters, and each step is here because it was measured to help (ARCHITECTURE.md, "Facts"):

1. :func:`ink_gray` keeps, per pixel, the lightest of the three channels: black print stays black while
   coloured ink (the red seal, the blue signature) turns as light as paper. Seals and signatures are not
   text, and left in they become garbage words.
2. :func:`is_blank` decides on the grey page, before any threshold: Otsu on uniform paper would invent
   ink out of sensor noise (and divide by zero on a perfectly uniform page).
3. :func:`estimate_skew` searches ±3° for the angle whose horizontal projection of the ink is sharpest
   (text lines then fall on few rows); :func:`rotate` turns the page back and fills the exposed corners
   with the paper's colour, not white, so no dark or white wedge becomes "text".
4. :func:`binarise` applies Otsu's global threshold, then a 3x3 majority vote (the median of a binary
   image) removes scanner speckle.
5. :func:`remove_rules` erases long horizontal and vertical strokes (table borders, the rules under the
   motto and the agency name): rules are not text and make Tesseract merge table cells.

Before all of this, a phone photo of a sheet lying on a desk is cut out and straightened
(:func:`find_sheet`, :func:`flatten_sheet`): the desk around it read as garbage and the keystone made
lines of the two header columns drift into each other (about 9% character errors on such pages).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageChops

U8 = NDArray[np.uint8]

# Blank-page detection works on a ~50 dpi copy: averaging 4x4 pixels at 200 dpi flattens sensor noise but
# keeps a line of print clearly darker than paper.
_BLANK_DPI = 50
_BLANK_DARKER_BY = 48  # grey levels under the paper that count as ink at 50 dpi
_BLANK_MAX_INK = 0.0005  # share of ink pixels under which the page is empty paper
_BLANK_MARGIN = 0.04  # scanner edges and punch holes live here

_SKEW_DPI = 100
_SIDEWAYS_RATIO = 0.8
_RULE_MIN_INCHES = 0.6  # a run of ink longer than this, thinner than a stroke, is a rule, not a letter
_RULE_MARGIN = 2  # pixels erased around a rule (its anti-aliased edges)


def ink_gray(image: Image.Image) -> Image.Image:
    """Grey image in which coloured ink is light: the per-pixel maximum of R, G and B."""
    if image.mode == "L":
        return image
    r, g, b = (image if image.mode == "RGB" else image.convert("RGB")).split()  # convert() would copy
    return ImageChops.lighter(ImageChops.lighter(r, g), b)


def paper_level(gray: U8) -> int:
    """Grey level of the paper: the median (print covers far less than half a page)."""
    hist = np.bincount(gray.ravel(), minlength=256)
    return int(np.searchsorted(np.cumsum(hist), gray.size / 2))


def paper_colour(image: Image.Image) -> tuple[int, ...] | int:
    """Colour of the paper, per channel, for filling the corners exposed by a rotation."""
    small = np.asarray(image.reduce(8))
    if small.ndim == 2:
        return paper_level(small)
    return tuple(paper_level(np.ascontiguousarray(small[..., c])) for c in range(small.shape[2]))


def is_blank(gray: Image.Image, dpi: int) -> bool:
    """True when the page is empty paper (noise, tint and edge shadows allowed, no print)."""
    factor = max(1, round(dpi / _BLANK_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray)
    h, w = small.shape
    my, mx = int(h * _BLANK_MARGIN), int(w * _BLANK_MARGIN)
    core = small[my : h - my, mx : w - mx]
    if core.size == 0:
        return True
    paper = paper_level(core)
    ink = np.count_nonzero(core < paper - _BLANK_DARKER_BY)
    return bool(ink / core.size < _BLANK_MAX_INK)


def otsu_threshold(gray: U8) -> int:
    """Otsu's global threshold: pixels ``<=`` the returned level are ink.

    On a uniform image there is no threshold to find; the function then returns one level below the
    image's single value (so nothing is ink) instead of dividing by zero.
    """
    return _otsu(np.bincount(gray.ravel(), minlength=256).astype(np.float64))


def _otsu(hist: NDArray[np.float64]) -> int:
    """Otsu's threshold from a 256-bin histogram (see :func:`otsu_threshold`)."""
    total = hist.sum()
    if total == 0:
        return 0
    levels = np.arange(256, dtype=np.float64)
    weight0 = np.cumsum(hist)
    weight1 = total - weight0
    sum0 = np.cumsum(hist * levels)
    mean_all = sum0[-1] / total
    with np.errstate(divide="ignore", invalid="ignore"):
        mean0 = sum0 / weight0
        mean1 = (sum0[-1] - sum0) / weight1
        between = weight0 * weight1 * (mean0 - mean1) ** 2
    between = np.where((weight0 > 0) & (weight1 > 0), between, -1.0)
    if float(between.max()) <= 0.0:
        # One grey level only (or no spread at all): everything is paper.
        return max(int(round(mean_all)) - 1, -1)
    return int(np.argmax(between))


def estimate_skew(gray: Image.Image, dpi: int, max_deg: float = 3.0) -> float:
    """Skew of the text lines in degrees, within ``±max_deg``; positive means turned counter-clockwise.

    Projects the ink pixels of a ~100 dpi copy onto the vertical axis for each candidate angle (coarse
    steps of 0.25°, then 0.05° around the best) and keeps the angle with the sharpest profile.
    """
    factor = max(1, round(dpi / _SKEW_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray)
    threshold = otsu_threshold(small)
    ys, xs = np.nonzero(small <= threshold)
    if ys.size < 200:
        return 0.0
    if ys.size > 200_000:  # plenty for a sharp profile, and keeps the search fast on dense pages
        keep = np.random.default_rng(0).choice(ys.size, 200_000, replace=False)
        ys, xs = ys[keep], xs[keep]
    yf = ys.astype(np.float64)
    xf = xs.astype(np.float64) - small.shape[1] / 2
    rows = small.shape[0] + small.shape[1]

    def sharpness(angle: float) -> float:
        # Row a pixel falls on once the page is turned back by ``angle`` (image y axis points down).
        t = math.radians(angle)
        projected = np.rint(yf * math.cos(t) - xf * math.sin(t)).astype(np.int64) + small.shape[1]
        profile = np.bincount(projected, minlength=rows).astype(np.float64)
        return float(np.square(np.diff(profile)).sum())

    # ``sharpness(a)`` peaks where turning the page by ``a`` (counter-clockwise) straightens it, i.e. at
    # minus the skew.
    coarse = np.arange(-max_deg, max_deg + 1e-9, 0.25)
    best = max(coarse, key=sharpness)
    fine = np.arange(best - 0.25, best + 0.25 + 1e-9, 0.05)
    best = max(fine, key=sharpness)
    return round(-float(best), 2) + 0.0


def looks_sideways(gray: Image.Image, dpi: int) -> bool:
    """True when the print runs up or down the page (a page scanned turned by 90 or 270 degrees).

    Text lines make the ink's row profile alternate sharply and its column profile smooth; on a page
    lying sideways it is the other way round (measured ratios: 2.4-5 upright, 0.2-0.4 sideways).
    Tesseract cannot be trusted to notice: it reads sideways lines with high confidence, in the
    wrong order.
    """
    factor = max(1, round(dpi / _SKEW_DPI))
    small = np.asarray(gray.reduce(factor) if factor > 1 else gray)
    ink = small <= otsu_threshold(small)
    rows = np.square(np.diff(ink.sum(axis=1).astype(np.float64))).sum()
    cols = np.square(np.diff(ink.sum(axis=0).astype(np.float64))).sum()
    return bool(rows < _SIDEWAYS_RATIO * cols)


def rotate(image: Image.Image, angle: float, fill: tuple[int, ...] | int) -> Image.Image:
    """Turn counter-clockwise by ``angle`` degrees about the centre, same size, exposed corners in ``fill``.

    Bilinear, by OpenCV's ``warpAffine`` (fixed-point SIMD: a 200 dpi page in about 12 ms of CPU, where
    Pillow's ``rotate`` takes 60 ms; the grey levels differ by half a level on average).
    """
    if abs(angle) < 0.01:
        return image
    cv2 = _cv2()
    pixels = np.asarray(image)
    height, width = pixels.shape[:2]
    # Pillow's centre (w/2, h/2) in pixel-edge coordinates is ((w-1)/2, (h-1)/2) in OpenCV's pixel-centre ones.
    matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), angle, 1.0)
    turned = cv2.warpAffine(
        pixels,
        matrix,
        (width, height),
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_border(fill),
    )
    return Image.fromarray(turned)


def _border(fill: tuple[int, ...] | int) -> tuple[float, float, float, float]:
    """A fill colour (one grey level or one level per channel, in the image's channel order) for OpenCV."""
    levels = (fill,) if isinstance(fill, int) else tuple(fill)
    return tuple(float(v) for v in (*levels, 0, 0, 0, 0)[:4])  # type: ignore[return-value]


@functools.cache
def _cv2() -> Any:
    """OpenCV, imported on first use and kept to one thread: pages already run in parallel workers, each
    with a Tesseract process, and OpenCV's own threads would only compete with them for the cores."""
    import cv2

    cv2.setNumThreads(1)
    return cv2


def binarise(gray: Image.Image) -> U8:
    """Ink mask (1 for ink) by Otsu's threshold, cleaned by a 3x3 majority vote.

    The majority vote of a binary image is exactly the 3x3 median of the thresholded grey image (a
    threshold commutes with a median). It is computed as two separable running sums of the 0/1 mask
    in ``uint8`` (at most 9), ten times faster than Pillow's box blur of a 0/255 image; the histogram
    comes from Pillow (four times faster than ``np.bincount`` on a page). Pixels outside the page
    count as paper.
    """
    threshold = _otsu(np.asarray(gray.histogram(), dtype=np.float64))
    ink = np.pad((np.asarray(gray) <= threshold).view(np.uint8), 1)
    rows = ink[:, :-2] + ink[:, 1:-1] + ink[:, 2:]
    votes = rows[:-2] + rows[1:-1] + rows[2:]
    mask: U8 = (votes >= 5).view(np.uint8)
    return mask


def remove_rules(ink: U8, dpi: int) -> tuple[U8, list[tuple[int, int]]]:
    """Erase straight horizontal and vertical runs of ink longer than about 0.6 inch (rules, borders).

    Returns:
        The cleaned ink mask, and the vertical extents ``(top, bottom)`` of the vertical rules: the rows
        of a ruled table, which the reading order keeps row by row.

    The runs are found on the mask packed eight pixels to a byte along its rows (:func:`_row_runs`,
    :func:`_column_runs`): a page is a few hundred kilobytes of bitwise AND and OR instead of megabytes,
    and nothing is transposed. Only the few rows and columns that hold a rule are ever unpacked.
    """
    height, width = ink.shape
    length = max(8, round(_RULE_MIN_INCHES * dpi))
    packed = np.packbits(ink, axis=1)
    rows, horizontal = _row_runs(packed, width, length)
    cols, vertical = _column_runs(packed, width, length)
    if rows.size == 0 and cols.size == 0:
        return ink, []
    spans = _spans(np.flatnonzero(vertical.any(axis=1)))
    # A rule's anti-aliased edges and the ends where it meets another are not part of the long runs:
    # widen the mask by two pixels so no stub is left to be read as "|" or "_". (The square dilation of
    # the union of both masks, applied to each where it lives: a horizontal rule's rows, a vertical
    # rule's columns, two pixels either side.)
    out = ink.copy()
    if rows.size:
        wide = ~_widen(horizontal, _RULE_MARGIN, axis=1)
        for step in range(-_RULE_MARGIN, _RULE_MARGIN + 1):
            target = rows + step
            inside = (target >= 0) & (target < height)
            out[target[inside]] &= wide[inside]
    if cols.size:
        wide = ~_widen(vertical, _RULE_MARGIN, axis=0)
        for step in range(-_RULE_MARGIN, _RULE_MARGIN + 1):
            target = cols + step
            inside = (target >= 0) & (target < width)
            out[:, target[inside]] &= wide[:, inside]
    return out, spans


def _widen(mask: NDArray[np.bool_], radius: int, axis: int) -> NDArray[np.bool_]:
    """The mask dilated by ``radius`` pixels both ways along one axis (shifted ORs)."""
    out = mask.copy()
    view, source = np.moveaxis(out, axis, 0), np.moveaxis(mask, axis, 0)
    for step in range(1, radius + 1):
        view[step:] |= source[:-step]
        view[:-step] |= source[step:]
    return out


def _dilate(mask: NDArray[np.bool_], radius: int) -> NDArray[np.bool_]:
    """Square dilation by shifted ORs (separable; far faster than Pillow's MaxFilter on a whole page)."""
    rows = mask.copy()
    for step in range(1, radius + 1):
        rows[step:] |= mask[:-step]
        rows[:-step] |= mask[step:]
    out = rows.copy()
    for step in range(1, radius + 1):
        out[:, step:] |= rows[:, :-step]
        out[:, :-step] |= rows[:, step:]
    return out


def _spans(rows: NDArray[np.intp]) -> list[tuple[int, int]]:
    """Runs of consecutive row numbers as ``(first, last)``."""
    if rows.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(rows) > 1)
    starts = np.concatenate([[rows[0]], rows[breaks + 1]])
    ends = np.concatenate([rows[breaks], [rows[-1]]])
    return [(int(a), int(b)) for a, b in zip(starts, ends, strict=True)]


def _shift_bits(packed: U8, shift: int) -> U8:
    """Rows packed 8 pixels to a byte (first pixel in the high bit), moved ``shift`` pixels to the left:
    bit ``k`` of the result is bit ``k + shift`` of the input, paper past the end."""
    whole, part = divmod(shift, 8)
    out = np.zeros_like(packed)
    if whole >= packed.shape[1]:
        return out
    source = packed[:, whole:]
    if part == 0:
        out[:, : source.shape[1]] = source
        return out
    out[:, : source.shape[1]] = source << part
    out[:, : source.shape[1] - 1] |= source[:, 1:] >> (8 - part)
    return out


def _row_runs(packed: U8, width: int, length: int) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Horizontal runs of at least ``length`` ink pixels: the rows that hold one, and for each of those
    rows the pixels (``width`` of them) that belong to one.

    A morphological opening by a row of ``length`` pixels, by doubling: ANDing the packed rows with
    themselves moved by 1, 2, 4... pixels marks the starts of all-ink windows of 2, 4, 8... pixels, and
    two windows of the largest power of two that fits cover any ``length`` (``full``: bit ``k`` set when
    ``[k, k + length)`` is all ink). A pixel is part of a run if a full window covers it: the same
    doubling with OR, on the unpacked rows that hold a full window only (rules are few).
    """
    if width < length:
        return np.zeros(0, dtype=np.intp), np.zeros((0, width), dtype=bool)
    windows, span = packed, 1
    while span * 2 <= length:
        windows = windows & _shift_bits(windows, span)
        span *= 2
    extra = length - span
    full = windows & _shift_bits(windows, extra) if extra else windows
    rows = np.flatnonzero(full.any(axis=1))
    if rows.size == 0:
        return rows, np.zeros((0, width), dtype=bool)
    covered = np.unpackbits(full[rows], axis=1, count=width).view(bool)
    # Pixel j is covered when some start k in [j - length + 1, j] is full: OR of right shifts 0..length-1.
    return rows, _spread(covered, length, axis=1)


def _column_runs(packed: U8, width: int, length: int) -> tuple[NDArray[np.intp], NDArray[np.bool_]]:
    """Vertical runs of at least ``length`` ink pixels: the columns that hold one, and for each of those
    columns the pixels (one per row) that belong to one.

    The same doubling as :func:`_row_runs` along the columns, where moving by ``n`` pixels is moving by
    ``n`` packed rows (eight columns per byte go along at once).
    """
    height = packed.shape[0]
    if height < length:
        return np.zeros(0, dtype=np.intp), np.zeros((height, 0), dtype=bool)
    windows, span = packed, 1
    while span * 2 <= length:
        windows = windows[: windows.shape[0] - span] & windows[span:]
        span *= 2
    extra = length - span
    full = windows[: windows.shape[0] - extra] & windows[extra:] if extra else windows
    cols = np.flatnonzero(np.unpackbits(np.bitwise_or.reduce(full, axis=0), count=width))
    if cols.size == 0:
        return cols, np.zeros((height, 0), dtype=bool)
    starts = np.zeros((height, cols.size), dtype=bool)
    starts[: full.shape[0]] = (full[:, cols >> 3] >> (7 - (cols & 7)).astype(np.uint8)) & 1
    return cols, _spread(starts, length, axis=0)


def _spread(starts: NDArray[np.bool_], length: int, axis: int) -> NDArray[np.bool_]:
    """Every pixel within ``length - 1`` after a set one along ``axis`` (the windows that start there)."""
    out = np.moveaxis(starts, axis, 0)
    size = out.shape[0]
    span = 1
    while span * 2 <= length:
        out[span:] |= out[:-span].copy()
        span *= 2
    if length > span:
        out[length - span :] |= out[: size - (length - span)].copy()
    return starts


# --- phone photos --------------------------------------------------------------------------------------

_SHEET_DPI = 40
_SHEET_MIN_SHARE = 0.35  # the sheet covers at least this much of a photo...
_SHEET_MAX_SHARE = 0.97  # ...and leaves some background around it
_SHEET_MIN_BORDER_BACKGROUND = 0.6  # share of the frame's edge that must be background
_SHEET_MIN_CONTRAST = 40  # grey levels between paper and background


def find_sheet(gray: Image.Image, dpi: int) -> list[tuple[float, float]] | None:
    """Corners of the sheet in a photo of a page lying on a darker surface, or ``None`` for a scan.

    Works on a ~40 dpi copy: Otsu separates the light paper from the darker background, a morphological
    closing and opening remove the print inside the sheet and light specks outside it, and the corners are
    the paper pixels farthest along the four diagonals. A scan (paper up to the frame's edges) has no
    background around it and gives ``None``, as does a photo whose background is as light as paper.

    Returns:
        top-left, top-right, bottom-right, bottom-left, in pixels of ``gray``.
    """
    factor = max(1, round(dpi / _SHEET_DPI))
    small = gray.reduce(factor) if factor > 1 else gray
    arr = np.asarray(small)
    threshold = otsu_threshold(arr)
    light, dark = arr[arr > threshold], arr[arr <= threshold]
    if light.size == 0 or dark.size == 0 or float(np.median(light)) - float(np.median(dark)) < _SHEET_MIN_CONTRAST:
        return None
    # A closing fills the print inside the sheet, an opening drops light specks on the background; both
    # keep the sheet's outline where it is. (Shifted ORs: Pillow's rank filters cost 20 times more.)
    closed = ~_dilate(~_dilate(arr > threshold, 2), 2)
    paper = _dilate(~_dilate(~closed, 2), 2)
    share = paper.mean()
    if not _SHEET_MIN_SHARE <= share <= _SHEET_MAX_SHARE:
        return None
    edge = np.concatenate([paper[0], paper[-1], paper[:, 0], paper[:, -1]])
    if 1.0 - edge.mean() < _SHEET_MIN_BORDER_BACKGROUND:
        return None
    ys, xs = np.nonzero(paper)
    sums, diffs = xs + ys, xs - ys
    picks = [np.argmin(sums), np.argmax(diffs), np.argmax(sums), np.argmin(diffs)]
    # Corner pixels stand for the outer edge of their 40 dpi cell.
    return [(float(xs[i] + 0.5) * factor, float(ys[i] + 0.5) * factor) for i in picks]


def flatten_sheet(image: Image.Image, corners: list[tuple[float, float]]) -> Image.Image:
    """The sheet cut out of a photo and straightened to a rectangle (perspective corrected).

    The rectangle's sides are the mean lengths of the opposite sides of the sheet, so the print keeps
    its size.
    """
    (tlx, tly), (trx, try_), (brx, bry), (blx, bly) = corners
    width = round((math.hypot(trx - tlx, try_ - tly) + math.hypot(brx - blx, bry - bly)) / 2)
    height = round((math.hypot(blx - tlx, bly - tly) + math.hypot(brx - trx, bry - try_)) / 2)
    target = [(0.0, 0.0), (float(width), 0.0), (float(width), float(height)), (0.0, float(height))]
    rows: list[list[float]] = []
    rhs: list[float] = []
    for (x, y), (u, v) in zip(target, corners, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    coefficients = np.linalg.solve(np.asarray(rows), np.asarray(rhs))
    # The coefficients map the rectangle's pixels to the photo's (what Pillow's PERSPECTIVE transform
    # takes); OpenCV's warp does the same with WARP_INVERSE_MAP, a sixth of Pillow's time on a colour page.
    cv2 = _cv2()
    matrix = np.append(coefficients, 1.0).reshape(3, 3)
    # Pillow samples at pixel centres in edge coordinates; OpenCV's pixels are centred on integers.
    shift = np.array([[1.0, 0.0, 0.5], [0.0, 1.0, 0.5], [0.0, 0.0, 1.0]])
    unshift = np.array([[1.0, 0.0, -0.5], [0.0, 1.0, -0.5], [0.0, 0.0, 1.0]])
    flattened = cv2.warpPerspective(
        np.asarray(image),
        unshift @ matrix @ shift,
        (width, height),
        flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=_border(paper_colour(image)),
    )
    return Image.fromarray(flattened)

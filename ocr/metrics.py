"""How close recognised text is to the truth: character and word error rates (CER, WER).

CER = Levenshtein edit distance (insertions, deletions, substitutions of Unicode code points) divided by
the length of the reference; WER is the same over words (whitespace-separated tokens). Both texts are
first normalised to NFC and their whitespace collapsed to single spaces (line breaks and page breaks
count as one space), so only the characters are judged, not the layout.
The distance runs in O(n·m) time with numpy row updates, fast enough for a few pages.
"""

from __future__ import annotations

import unicodedata

import numpy as np


def normalise(text: str) -> str:
    """NFC, whitespace runs (including line and page breaks) collapsed to one space, ends trimmed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def levenshtein(a: str, b: str) -> int:
    """Edit distance between two strings (code points)."""
    if a == b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    if not b:
        return len(a)
    target = np.frombuffer(b.encode("utf-32-le"), dtype=np.uint32)
    previous = np.arange(len(b) + 1, dtype=np.int64)
    for i, char in enumerate(a, start=1):
        substitute = previous[:-1] + (target != ord(char))
        current = np.empty_like(previous)
        current[0] = i
        # deletion / substitution first, then insertions need a running minimum along the row
        current[1:] = np.minimum(previous[1:] + 1, substitute)
        # insertion: current[j] = min(current[j], current[j-1] + 1); solved as a cumulative min of
        # current[j] - j, shifted back.
        offsets = np.arange(len(current), dtype=np.int64)
        current = np.minimum.accumulate(current - offsets) + offsets
        previous = current
    return int(previous[-1])


def cer(hypothesis: str, reference: str) -> float:
    """Character error rate of ``hypothesis`` against ``reference`` after :func:`normalise`.

    Returns 0.0 for two empty texts and 1.0 for anything against an empty reference.
    """
    hyp, ref = normalise(hypothesis), normalise(reference)
    if not ref:
        return 0.0 if not hyp else 1.0
    return levenshtein(hyp, ref) / len(ref)


def wer(hypothesis: str, reference: str) -> float:
    """Word error rate of ``hypothesis`` against ``reference`` after :func:`normalise`.

    Each distinct word is mapped to one private code point, so the word-level edit distance is
    :func:`levenshtein` over those strings. Returns 0.0 for two empty texts and 1.0 for anything against
    an empty reference.
    """
    hyp, ref = normalise(hypothesis).split(), normalise(reference).split()
    if not ref:
        return 0.0 if not hyp else 1.0
    codes: dict[str, str] = {}
    for word in (*ref, *hyp):
        # Supplementary private use area A: 65,534 code points, more than any page has distinct words.
        codes.setdefault(word, chr(0xF0000 + len(codes)))
    return levenshtein("".join(codes[w] for w in hyp), "".join(codes[w] for w in ref)) / len(ref)

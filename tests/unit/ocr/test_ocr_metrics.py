"""Character error rate, as used to judge OCR against ground truth."""

from __future__ import annotations

import random
import unicodedata

import pytest

from ocr.metrics import cer, levenshtein, normalise, wer


def _reference_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def test_levenshtein_matches_the_textbook_definition() -> None:
    rng = random.Random(0)
    for _ in range(500):
        a = "".join(rng.choice("aăâđ ệ1") for _ in range(rng.randrange(0, 15)))
        b = "".join(rng.choice("aăâđ ệ1") for _ in range(rng.randrange(0, 15)))
        assert levenshtein(a, b) == _reference_distance(a, b)


def test_layout_whitespace_does_not_count() -> None:
    assert cer("Độc lập -  Tự do\n- Hạnh phúc\f", "Độc lập - Tự do - Hạnh phúc") == 0.0


def test_decomposed_accents_equal_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Hạnh phúc")
    assert cer(decomposed, "Hạnh phúc") == 0.0
    assert normalise(decomposed) == "Hạnh phúc"


def test_one_wrong_letter_in_ten() -> None:
    assert cer("Tổ chúc ab", "Tổ chức ab") == pytest.approx(0.1)


def test_empty_reference() -> None:
    assert cer("", "  ") == 0.0
    assert cer("rác", "") == 1.0


def test_wer_counts_whole_words_after_normalising() -> None:
    truth = "Cộng hòa xã hội chủ nghĩa Việt Nam"
    assert wer(truth, truth) == 0.0
    # one word wrong by one diacritic is one word error out of eight
    assert wer(unicodedata.normalize("NFD", truth), truth) == 0.0  # decomposed diacritics are the same words
    assert wer("Cộng hòa xa hội chủ nghĩa Việt Nam", truth) == pytest.approx(1 / 8)
    # a dropped word and an inserted one; line breaks are just spaces
    assert wer("Cộng hòa xã hội\nchủ nghĩa Nam thêm", truth) == pytest.approx(2 / 8)
    assert wer("", "") == 0.0
    assert wer("chữ", "") == 1.0

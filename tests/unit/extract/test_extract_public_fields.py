"""What truong_trich_xuat shows of the extracted fields: values of non-personal fields, pseudonyms of
identity numbers, only the presence of names and birth dates; a person's correction wins."""

from __future__ import annotations

import json

from sohoa.extract.store import EffectiveField, public_fields
from sohoa.privacy import pseudonym

KEY = b"k"


def test_personal_values_never_reach_the_public_json() -> None:
    fields = {
        "ma_ho_so": EffectiveField("ma_ho_so", "000.00.32.H19-210708-0032", "ocr", 0.93, 1, 6, 10, 35),
        "so_cccd": EffectiveField("so_cccd", "075190012345", "ocr", 0.9, 1, 9, 40, 52),
        "ma_so_thue": EffectiveField("ma_so_thue", "0100109106", "ocr", 0.9, 1, 10, 60, 70),
        "chu_ho_so": EffectiveField(
            "chu_ho_so", "Nguyễn Văn An", "person", None, 1, 7, 20, 33, "2026-11-21T21:00:00+00:00"
        ),
        "ngay_sinh": EffectiveField("ngay_sinh", "1990-10-03", "ocr", 0.9, 1, 8, 36, 46),
    }
    shown = public_fields(fields, KEY)
    text = json.dumps(shown, ensure_ascii=False)
    for secret in ("075190012345", "0100109106", "Nguyễn Văn An", "1990-10-03"):
        assert secret not in text
    assert shown["version"] == "sohoa-extract/1"
    f = shown["fields"]
    assert f["ma_ho_so"] == {
        "value": "000.00.32.H19-210708-0032",
        "page": 1,
        "line": 6,
        "start": 10,
        "end": 35,
        "confidence": 0.93,
        "source": "ocr",
    }
    assert f["so_cccd"]["pseudonym"] == pseudonym(KEY, "075190012345")
    assert f["chu_ho_so"]["present"] is True
    assert f["chu_ho_so"]["source"] == "person"
    assert f["chu_ho_so"]["corrected_at"] == "2026-11-21T21:00:00+00:00"
    assert f["ngay_sinh"]["present"] is True


def test_a_field_a_person_says_is_absent_shows_as_absent() -> None:
    shown = public_fields({"chu_ho_so": EffectiveField("chu_ho_so", None, "person", None)}, KEY)
    assert shown["fields"]["chu_ho_so"] == {"present": False, "source": "person"}
    shown = public_fields({"so_ky_hieu": EffectiveField("so_ky_hieu", None, "person", None)}, KEY)
    assert shown["fields"]["so_ky_hieu"] == {"value": None, "source": "person"}

"""The two datetime forms of the input contract, and what is rejected."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from sohoa.records.datetimes import VIETNAM, DatetimeError, local_date, parse_datetime

NINE_FIFTEEN_VN = datetime(2021, 7, 8, 9, 15, tzinfo=timezone(timedelta(hours=7)))


@pytest.mark.parametrize(
    "text",
    [
        "2021-07-08T09:15:00+07:00",
        "2021-07-08T02:15:00Z",
        "2021-07-08T02:15:00+00:00",
        "2021-07-08T11:15:00+09:00",
        "2021-07-08T09:15:00+0700",
        "2021-07-08T09:15+07:00",
        "2021-07-08 09:15:00+07:00",
        "20210708091500",
        "  20210708091500 ",
    ],
)
def test_both_forms_give_the_same_instant(text: str) -> None:
    parsed = parse_datetime(text)
    assert parsed == NINE_FIFTEEN_VN
    assert parsed.tzinfo is VIETNAM  # always returned in Vietnam time
    assert (parsed.hour, parsed.minute) == (9, 15)


def test_compact_form_is_vietnam_time_not_utc() -> None:
    parsed = parse_datetime("20210708091500")
    assert parsed.astimezone(UTC) == datetime(2021, 7, 8, 2, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "microsecond"),
    [
        ("2021-07-08T09:15:00.5+07:00", 500000),
        ("2021-07-08T02:15:00.123Z", 123000),
        ("2021-07-08T09:15:00.123456789+07:00", 123456),
    ],
)
def test_fractional_seconds(text: str, microsecond: int) -> None:
    assert parse_datetime(text).microsecond == microsecond


def test_utc_evening_is_the_next_day_in_vietnam() -> None:
    parsed = parse_datetime("2021-07-08T18:30:00Z")
    assert local_date(parsed) == date(2021, 7, 9)
    assert parsed.date() == date(2021, 7, 9)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2021-07-08", "date without a time"),
        ("20210708", "date without a time"),
        ("2021-07-08T09:15:00", "without an offset"),
        ("2021-07-08 09:15", "without an offset"),
        ("20210231091500", "no real date"),
        ("20210708251500", "no real date"),
        ("2021-02-30T09:15:00+07:00", "no real date"),
        ("2021-07-08T24:15:00+07:00", "no real date"),
        ("08/07/2021 09:15", "expected ISO 8601"),
        ("2021-W27-4T09:15:00+07:00", "expected ISO 8601"),
        ("20210708T091500+0700", "expected ISO 8601"),
        ("2021-07-08T09:15:00+07:00:00", "expected ISO 8601"),
        ("2021-07-08T09:15:00 +07:00", "expected ISO 8601"),
        ("", "expected ISO 8601"),
        ("hôm qua", "expected ISO 8601"),
    ],
)
def test_rejected_forms(text: str, reason: str) -> None:
    with pytest.raises(DatetimeError, match=reason):
        parse_datetime(text)


def test_error_message_never_quotes_the_value() -> None:
    with pytest.raises(DatetimeError) as caught:
        parse_datetime("Nguyễn Văn An 075190012345")
    assert "Nguyễn" not in str(caught.value)
    assert "075190012345" not in str(caught.value)

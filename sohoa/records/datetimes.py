"""The two datetime forms of the input contract.

- ISO 8601 with an offset: ``2021-07-08T09:15:00+07:00``, ``2021-07-08T02:15:00Z``, fractional seconds
  allowed (more than six digits are truncated to microseconds);
- the national portal's compact local form ``yyyyMMddHHmmss`` (``20210708091500``), which is Vietnam time.

A date without a time and an ISO time without an offset are rejected: the instant would be a guess.
Every parsed value is returned as an aware datetime in Vietnam time (Asia/Ho_Chi_Minh), so that
``value.date()`` is the local date the KPI definitions speak of.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

# Only the extended ISO form with a time and an offset; datetime.fromisoformat alone would also take
# week dates, basic formats, date-only and naive values.
_ISO = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)")
_COMPACT = re.compile(r"\d{14}")
# The form nearly every export uses, already in Vietnam time, in years when Vietnam's offset was +07:00 (it has
# been since 1975; earlier years take the general path, which applies the historical offsets).
_VIETNAM_ISO = re.compile(r"(?:19[89][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+07:00")
# The second most common form, UTC with a "Z" (often with milliseconds), in the same years.
_UTC_ISO = re.compile(r"(?:19[89][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?Z")
_SEVEN_HOURS = timedelta(hours=7)
_fromisoformat = datetime.fromisoformat


class DatetimeError(ValueError):
    """A value that is not one of the contract's datetime forms; the message names the form expected,
    never the value itself (it may be personal data typed into the wrong field)."""


def parse_datetime(value: str) -> datetime:
    """Parse one datetime of the input contract.

    Args:
        value: the text as received; surrounding whitespace is ignored.

    Returns:
        An aware datetime in Vietnam time.

    Raises:
        DatetimeError: when the text is neither form, or names a date or time that does not exist.
    """
    # The two usual forms, read to the same value as the general path (fold 0: Vietnam has had no transition
    # since 1975) without its conversion through UTC; the constructor is several times cheaper than
    # ``replace(tzinfo=...)`` or ``astimezone``. A date that does not exist falls through: the general path
    # refuses it with its reason.
    size = len(value)
    if size == 25 and _VIETNAM_ISO.fullmatch(value):
        try:
            n = _fromisoformat(value[:19])
        except ValueError:
            pass
        else:
            return datetime(n.year, n.month, n.day, n.hour, n.minute, n.second, 0, VIETNAM)
    elif 20 <= size <= 27 and _UTC_ISO.fullmatch(value):
        try:
            n = _fromisoformat(value[:-1]) + _SEVEN_HOURS
        except ValueError:
            pass
        else:
            return datetime(n.year, n.month, n.day, n.hour, n.minute, n.second, n.microsecond, VIETNAM)
    text = value.strip()
    if len(text) == 14 and _COMPACT.fullmatch(text):
        try:
            return datetime(
                int(text[0:4]),
                int(text[4:6]),
                int(text[6:8]),
                int(text[8:10]),
                int(text[10:12]),
                int(text[12:14]),
                tzinfo=VIETNAM,
            )
        except ValueError:
            raise DatetimeError("compact yyyyMMddHHmmss value names no real date and time") from None
    if _ISO.fullmatch(text):
        try:
            return datetime.fromisoformat(text).astimezone(VIETNAM)
        except (ValueError, OverflowError):
            raise DatetimeError("ISO 8601 value names no real date and time") from None
    if len(text) == 10 and text[4:5] == "-" or len(text) == 8 and text.isdigit():
        raise DatetimeError("a date without a time is not a valid datetime")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?", text):
        raise DatetimeError("ISO 8601 time without an offset (add +07:00 or Z)")
    raise DatetimeError("expected ISO 8601 with an offset or compact yyyyMMddHHmmss")


def local_date(moment: datetime) -> date:
    """The date in Vietnam of an aware datetime."""
    return moment.astimezone(VIETNAM).date()


def today_in_vietnam() -> date:
    """The current date in Vietnam."""
    return datetime.now(VIETNAM).date()

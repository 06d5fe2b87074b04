"""Values said the way a person would describe them instead of stating them: "the third Monday of May
2026" for 2026-05-18, "half past two in the afternoon" for 14:30. Each description names exactly one
value, and `value_of` reads it back, so a request that describes a value stays verifiable.
"""

from __future__ import annotations

import calendar
import re
from datetime import date

ORDINALS = ("first", "second", "third", "fourth", "fifth")
HOURS = ("twelve", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven")
QUARTERS = {15: "a quarter past", 30: "half past", 45: "a quarter to"}
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::00)?$")


def date_description(day: date) -> str:
    """The day as the n-th (or last) weekday of its month: 'the last Friday of July 2026'."""
    weekday, month = calendar.day_name[day.weekday()], calendar.month_name[day.month]
    last_day = calendar.monthrange(day.year, day.month)[1]
    nth = "last" if day.day + 7 > last_day else ORDINALS[(day.day - 1) // 7]
    return f"the {nth} {weekday} of {month} {day.year}"


def time_description(hour: int, minute: int) -> str | None:
    """A time on the quarter hour in words: 'half past two in the afternoon'; None for other minutes."""
    if minute == 0 and hour in (0, 12):
        return "midnight" if hour == 0 else "noon"
    if minute and minute not in QUARTERS:
        return None
    shown = (hour + 1) % 24 if minute == 45 else hour
    if shown in (0, 12):  # 'a quarter to noon' reads oddly as 'a quarter to twelve in the afternoon'
        return f"{QUARTERS[minute]} {'midnight' if shown == 0 else 'noon'}" if minute else None
    part = "in the morning" if shown < 12 else "in the afternoon" if shown < 18 else "in the evening"
    words = HOURS[shown % 12]
    return f"{QUARTERS[minute]} {words} {part}" if minute else f"{words} o'clock {part}"


def describe(value) -> str | None:
    """How a person would describe `value` instead of stating it, or None where it is no date or time."""
    if not isinstance(value, str):
        return None
    if m := ISO_DATE.match(value):
        try:
            return date_description(date(int(m[1]), int(m[2]), int(m[3])))
        except ValueError:
            return None
    if m := CLOCK.match(value):
        return time_description(int(m[1]), int(m[2]))
    return None


def named_by_date(value) -> bool:
    """Whether a person names the day by its date, not its weekday: the first or last of a month (January 1)."""
    m = ISO_DATE.match(value) if isinstance(value, str) else None
    if not m:
        return False
    year, month, day = int(m[1]), int(m[2]), int(m[3])
    return day == 1 or (1 <= month <= 12 and day == calendar.monthrange(year, month)[1])


def _date_of(text: str) -> date | None:
    m = re.fullmatch(r"the (\w+) (\w+) of (\w+) (\d{4})", text)
    if not m or m[2] not in calendar.day_name or m[3] not in calendar.month_name:
        return None
    year, month, weekday = int(m[4]), list(calendar.month_name).index(m[3]), list(calendar.day_name).index(m[2])
    days = [d for d in range(1, calendar.monthrange(year, month)[1] + 1) if date(year, month, d).weekday() == weekday]
    if m[1] == "last":
        return date(year, month, days[-1])
    return date(year, month, days[ORDINALS.index(m[1])]) if m[1] in ORDINALS[: len(days)] else None


def value_of(text: str, like: str) -> str | None:
    """The value a description names, written as `like` is (an ISO date or a clock time): the inverse of
    `describe`, which keeps the operator that uses it honest."""
    if ISO_DATE.match(like):
        day = _date_of(text)
        return day.isoformat() if day else None
    for hour in range(24):
        for minute in (0, 15, 30, 45):
            if time_description(hour, minute) == text:
                return f"{hour:02d}:{minute:02d}" + like[5:]
    return None

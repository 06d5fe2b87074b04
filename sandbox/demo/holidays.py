"""Public holidays from rules (fixed dates, Easter offsets, n-th weekdays) for a few countries."""

from datetime import date, timedelta

from toolloom.sandbox import ToolError, tool

from ._data import load
from .dates import _parse

_WEEKDAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


def easter(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * l) // 451
    month = (h + l - 7 * m + 114) // 31
    day = (h + l - 7 * m + 114) % 31 + 1
    return date(year, month, day)


def equinox(year: int, month: int) -> date:
    """The March or September equinox day in Japan's calendar (the published approximation for 1980-2099)."""
    base = 20.8431 if month == 3 else 23.2488
    return date(year, month, int(base + 0.242194 * (year - 1980) - (year - 1980) // 4))


def _resolve(rule: str, year: int) -> date:
    if rule.startswith("equinox@"):  # equinox@03: Vernal Equinox Day
        return equinox(year, int(rule[8:]))
    if rule.startswith("easter"):
        return easter(year) + timedelta(days=int(rule[6:] or 0))
    if "#" in rule:  # mon#3@01: third Monday of January; mon#-1@05: last Monday of May
        wd, rest = rule.split("#")
        n, month = (int(x) for x in rest.split("@"))
        if n > 0:
            first = date(year, month, 1)
            return first + timedelta(days=(_WEEKDAYS[wd] - first.weekday()) % 7 + 7 * (n - 1))
        last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
        return last - timedelta(days=(last.weekday() - _WEEKDAYS[wd]) % 7)
    if "<" in rule:  # mon<05-25: the Monday before 25 May
        wd, md = rule.split("<")
        ref = date(year, *(int(x) for x in md.split("-")))
        return ref - timedelta(days=(ref.weekday() - _WEEKDAYS[wd]) % 7 or 7)
    month, day = (int(x) for x in rule.split("-"))
    return date(year, month, day)


def _calendar(country_code: str, year: int) -> list[dict]:
    rules = load("holidays")["calendars"].get(country_code.upper())
    if rules is None:
        raise ToolError(
            404,
            f"no holiday calendar for '{country_code}'; available: {', '.join(sorted(load('holidays')['calendars']))}",
        )
    if not 1900 <= year <= 2100:
        raise ToolError(400, "year must be between 1900 and 2100")
    days = sorted((_resolve(rule, year), name) for rule, name in rules)
    days = _with_substitutes(days, country_code.upper())
    return [{"date": d.isoformat(), "name": n, "weekday": d.strftime("%A")} for d, n in days]


def _with_substitutes(days: list[tuple[date, str]], country: str) -> list[tuple[date, str]]:
    """A holiday on a day off moves its rest day to the next free working day (Japan: Sunday; the UK: the
    weekend); Japan also rests on a day between two holidays."""
    data = load("holidays")
    off = {_WEEKDAYS[w] for w in data.get("substitutes", {}).get(country, [])}
    taken = {d for d, _ in days}
    extra = []
    for d, name in days:
        if d.weekday() in off:
            free = d + timedelta(days=1)
            while free in taken or free.weekday() >= 5:
                free += timedelta(days=1)
            taken.add(free)
            extra.append((free, f"{name} (substitute day)"))
    if country in data.get("sandwiched", []):
        extra += [
            (d + timedelta(days=1), "Citizens' Holiday")
            for d in sorted(taken)
            if d + timedelta(days=2) in taken and d + timedelta(days=1) not in taken
        ]
    return sorted(days + extra)


@tool("list_holidays")
def list_holidays(country_code: str, year: int) -> dict:
    return {"country_code": country_code.upper(), "year": year, "holidays": _calendar(country_code, year)}


@tool("next_holiday")
def next_holiday(country_code: str, after_date: str) -> dict:
    start = _parse(after_date, "after_date")
    for year in (start.year, start.year + 1):
        for h in _calendar(country_code, year):
            if h["date"] > start.isoformat():
                return {
                    "country_code": country_code.upper(),
                    **h,
                    "days_until": (date.fromisoformat(h["date"]) - start).days,
                }
    raise ToolError(404, "no upcoming holiday found")


@tool("is_holiday")
def is_holiday(country_code: str, day: str) -> dict:
    d = _parse(day, "day")
    match = next((h for h in _calendar(country_code, d.year) if h["date"] == d.isoformat()), None)
    return {
        "country_code": country_code.upper(),
        "date": d.isoformat(),
        "is_holiday": match is not None,
        "name": match["name"] if match else None,
    }

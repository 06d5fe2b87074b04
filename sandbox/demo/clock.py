"""Local times and time differences between cities (IANA time zones)."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from toolloom.sandbox import ToolError, tool

from .geo import _city


def _utc(value: str, field: str = "utc_time", form: str = "2026-03-01T14:30") -> datetime:
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        raise ToolError(400, f"{field} must look like {form}, got '{value}'") from None
    return dt.replace(tzinfo=timezone.utc) if dt.tzinfo is None else dt.astimezone(timezone.utc)


@tool("local_time")
def local_time(city_id: str, utc_time: str) -> dict:
    city = _city(city_id)
    local = _utc(utc_time).astimezone(ZoneInfo(city["timezone"]))
    offset = local.utcoffset().total_seconds() / 3600
    return {
        "city_id": city_id,
        "local_time": local.strftime("%Y-%m-%dT%H:%M"),
        "timezone": city["timezone"],
        "utc_offset_hours": offset,
    }


@tool("time_difference")
def time_difference(from_city_id: str, to_city_id: str, day: str) -> dict:
    if len(day) != 10:
        raise ToolError(400, f"day must look like 2026-03-01, got '{day}'")
    moment = _utc(f"{day}T12:00", "day", "2026-03-01")
    a = moment.astimezone(ZoneInfo(_city(from_city_id)["timezone"])).utcoffset()
    b = moment.astimezone(ZoneInfo(_city(to_city_id)["timezone"])).utcoffset()
    return {
        "from_city_id": from_city_id,
        "to_city_id": to_city_id,
        "date": day,
        "hours": (b - a).total_seconds() / 3600,
    }

"""Date arithmetic."""

from datetime import date, timedelta

from toolloom.sandbox import ToolError, tool


def _parse(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ToolError(400, f"{field} must be a date as YYYY-MM-DD, got '{value}'") from None


@tool("add_days")
def add_days(start_date: str, days: int) -> dict:
    d = _parse(start_date, "start_date") + timedelta(days=days)
    return {"date": d.isoformat(), "weekday": d.strftime("%A")}


@tool("day_of_week")
def day_of_week(day: str) -> dict:
    return {"date": day, "weekday": _parse(day, "day").strftime("%A")}


@tool("days_between")
def days_between(start_date: str, end_date: str) -> dict:
    return {"days": (_parse(end_date, "end_date") - _parse(start_date, "start_date")).days}

"""Rough door-to-door travel time estimates between cities."""

from toolloom.sandbox import ToolError, tool

from .geo import city_distance

# average speed (km/h) and fixed overhead (h) per mode; a road or rail detour factor on the great circle
_MODES = {"car": (95.0, 0.25, 1.2), "train": (150.0, 0.5, 1.2), "plane": (750.0, 3.0, 1.05)}


@tool("travel_time")
def travel_time(from_city_id: str, to_city_id: str, mode: str) -> dict:
    if mode not in _MODES:
        raise ToolError(400, f"mode must be one of {', '.join(_MODES)}")
    km = city_distance(from_city_id, to_city_id)["distance_km"]
    speed, overhead, detour = _MODES[mode]
    if mode != "plane" and km > 3000:
        raise ToolError(422, f"no {mode} route over {km:.0f} km in this estimate; try plane")
    return {
        "from_city_id": from_city_id,
        "to_city_id": to_city_id,
        "mode": mode,
        "distance_km": km,
        "hours": round(overhead + km * detour / speed, 1),
    }

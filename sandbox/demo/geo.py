"""Countries and cities."""

import math

from toolloom.sandbox import ToolError, tool

from ._data import load


def _country(code: str) -> dict:
    for c in load("countries"):
        if c["code"] == code.upper():
            return c
    raise ToolError(404, f"no country with code '{code}'")


def _city(city_id: str) -> dict:
    for c in load("cities"):
        if c["city_id"] == city_id:
            return c
    raise ToolError(404, f"no city with id '{city_id}'")


@tool("get_country")
def get_country(country_code: str) -> dict:
    return dict(_country(country_code))


@tool("find_country")
def find_country(name: str) -> dict:
    matches = [c for c in load("countries") if name.lower() in c["name"].lower()]
    if not matches:
        raise ToolError(404, f"no country matches '{name}'")
    return {"results": [{"country_code": c["code"], "name": c["name"]} for c in matches]}


@tool("list_cities")
def list_cities(country_code: str, min_population: int = 0) -> dict:
    _country(country_code)
    cities = [c for c in load("cities") if c["country"] == country_code.upper() and c["population"] >= min_population]
    cities.sort(key=lambda c: -c["population"])
    return {"cities": [{"city_id": c["city_id"], "name": c["name"], "population": c["population"]} for c in cities]}


@tool("get_city")
def get_city(city_id: str) -> dict:
    c = _city(city_id)
    return {
        "city_id": c["city_id"],
        "name": c["name"],
        "country_code": c["country"],
        "latitude": c["lat"],
        "longitude": c["lon"],
        "population": c["population"],
        "timezone": c["timezone"],
    }


@tool("city_distance")
def city_distance(from_city_id: str, to_city_id: str) -> dict:
    a, b = _city(from_city_id), _city(to_city_id)
    p1, p2 = math.radians(a["lat"]), math.radians(b["lat"])
    dp, dl = p2 - p1, math.radians(b["lon"] - a["lon"])
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(h))
    return {"from_city_id": from_city_id, "to_city_id": to_city_id, "distance_km": round(km, 1)}


@tool("list_countries_by_region")
def list_countries_by_region(region: str, min_population: int = 0) -> dict:
    regions = sorted({c["region"] for c in load("countries")})
    match = next((r for r in regions if r.lower() == region.lower()), None)
    if match is None:
        raise ToolError(400, f"unknown region '{region}'; regions: {', '.join(regions)}")
    return {
        "region": match,
        "countries": [
            {"country_code": c["code"], "name": c["name"]}
            for c in load("countries")
            if c["region"] == match and c["population"] >= min_population
        ],
    }


@tool("get_capital_city")
def get_capital_city(country_code: str) -> dict:
    country = _country(country_code)
    city = next(
        (c for c in load("cities") if c["country"] == country["code"] and c["name"] == country["capital"]), None
    )
    if city is None:
        raise ToolError(404, f"the capital of {country['name']} is not in the city database")
    return {"country_code": country["code"], "city_id": city["city_id"], "name": city["name"]}

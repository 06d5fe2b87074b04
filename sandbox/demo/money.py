"""Currency conversion at fixed, dated reference rates, and unit conversion."""

from toolloom.sandbox import ToolError, tool

from ._data import load

_LENGTH_M = {"m": 1.0, "km": 1000.0, "mi": 1609.344, "ft": 0.3048, "in": 0.0254, "cm": 0.01}
_MASS_KG = {"kg": 1.0, "g": 0.001, "lb": 0.45359237, "oz": 0.028349523125}


@tool("convert_currency")
def convert_currency(amount: float, from_currency: str, to_currency: str) -> dict:
    table = load("rates")
    rates = table["rates"]
    for code in (from_currency, to_currency):
        if code.upper() not in rates:
            raise ToolError(400, f"unsupported currency '{code}'; supported: {', '.join(sorted(rates))}")
    rate = rates[to_currency.upper()] / rates[from_currency.upper()]
    return {
        "amount": round(amount * rate, 2),
        "currency": to_currency.upper(),
        "rate": round(rate, 6),
        "as_of": table["as_of"],
    }


@tool("convert_units")
def convert_units(value: float, from_unit: str, to_unit: str) -> dict:
    for table in (_LENGTH_M, _MASS_KG):
        if from_unit in table and to_unit in table:
            return {"value": round(value * table[from_unit] / table[to_unit], 4), "unit": to_unit}
    temps = {("c", "f"): lambda v: v * 9 / 5 + 32, ("f", "c"): lambda v: (v - 32) * 5 / 9}
    if (from_unit, to_unit) in temps:
        return {"value": round(temps[(from_unit, to_unit)](value), 2), "unit": to_unit}
    raise ToolError(400, f"cannot convert '{from_unit}' to '{to_unit}'")


@tool("get_exchange_rate")
def get_exchange_rate(from_currency: str, to_currency: str) -> dict:
    converted = convert_currency(1.0, from_currency, to_currency)
    return {
        "from_currency": from_currency.upper(),
        "to_currency": to_currency.upper(),
        "rate": converted["rate"],
        "as_of": converted["as_of"],
    }


@tool("list_currencies")
def list_currencies() -> dict:
    table = load("rates")
    users = {}
    for c in load("countries"):
        users.setdefault(c["currency"], []).append(c["code"])
    return {
        "as_of": table["as_of"],
        "currencies": [{"code": code, "used_in": users.get(code, [])} for code in sorted(table["rates"])],
    }


@tool("get_vat_rate")
def get_vat_rate(country_code: str) -> dict:
    table = load("vat")
    if country_code.upper() not in table["rates"]:
        raise ToolError(404, f"no VAT data for '{country_code}'")
    rate = table["rates"][country_code.upper()]
    return {
        "country_code": country_code.upper(),
        "standard_rate_percent": rate,
        "as_of": table["as_of"],
        "note": None
        if rate is not None
        else "there is no single national VAT rate: sales taxes vary by state or province",
    }


@tool("add_vat")
def add_vat(net_amount: float, country_code: str) -> dict:
    rate = get_vat_rate(country_code)["standard_rate_percent"]
    if rate is None:
        raise ToolError(422, f"{country_code.upper()} has no single national VAT rate")
    vat = round(net_amount * rate / 100, 2)
    return {"net_amount": net_amount, "vat_rate_percent": rate, "vat": vat, "gross_amount": round(net_amount + vat, 2)}

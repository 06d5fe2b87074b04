"""Languages and where they are official."""

from toolloom.sandbox import ToolError, tool

from ._data import load


@tool("get_language")
def get_language(language_code: str) -> dict:
    for lang in load("languages"):
        if lang["code"] == language_code.lower():
            return dict(lang)
    raise ToolError(404, f"no language with code '{language_code}'")


@tool("countries_speaking")
def countries_speaking(language_code: str, region: str | None = None) -> dict:
    get_language(language_code)
    found = [
        {"country_code": c["code"], "name": c["name"]}
        for c in load("countries")
        if language_code.lower() in c["languages"] and (region is None or c["region"].lower() == region.lower())
    ]
    return {"language_code": language_code.lower(), "countries": found}

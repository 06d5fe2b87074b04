"""Realistic values for a JSON Schema and a field name, drawn from a seeded generator.

Used for synthesised call arguments (toolloom.text.synthesis) and for the fields of offline simulated
results (toolloom.executors.simulated). Faker supplies names, places, e-mails and the like; rstr
draws strings that match a `pattern`. Deterministic for a given `random.Random`.

A string with no evidence behind it (no example, enum, format, pattern or a kind Faker knows by
name: a free-text query, a title, an overview, a field named `board_visualization`) is never a
random word presented as a fact: it is a placeholder that says so, `<board visualization>`, and
rows that carry one are labelled (`is_placeholder`, `has_placeholder`) and kept out of exports.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import date, datetime, timedelta, timezone

import rstr
from faker import Faker

from ..graph.names import singular

_WORD = re.compile(r"[a-z0-9]+")

_PLACEHOLDER = re.compile(r"<[a-z0-9]+(?: [a-z0-9]+)*>")
_QUOTED_PLACEHOLDER = re.compile(r'"<[a-z0-9]+(?: [a-z0-9]+)*>"')  # as a JSON text or a request quotes it
# free text no documentation can tell (a title, an overview): Faker would write random words
_FREE_TEXT = frozenset(
    """title headline subject overview biography review tagline synopsis abstract description text
content body message comment note summary bio""".split()
)
# leaf keys that say little alone: inside `genres` items, `name` is a genre's name, not a person's
_GENERIC_LEAVES = frozenset({"name", "code", "value", "label", "type"})


def placeholder(name: str) -> str:
    """The stand-in for a value nothing documents: `<board visualization>`."""
    return "<" + (" ".join(_WORD.findall(re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower())) or "value") + ">"


def is_placeholder(value) -> bool:
    return isinstance(value, str) and _PLACEHOLDER.fullmatch(value) is not None


def has_placeholder(value) -> bool:
    """Whether a JSON value, a JSON text or a request holds a placeholder anywhere (a whole string value)."""
    if isinstance(value, str):
        return is_placeholder(value) or _QUOTED_PLACEHOLDER.search(value) is not None
    if isinstance(value, dict):
        return any(has_placeholder(v) for v in value.values())
    if isinstance(value, list):
        return any(has_placeholder(v) for v in value)
    return False


# what a model writes when it has no value in mind: dummy names, reserved domains, counting ids
_STAND_IN_TEXT = re.compile(
    r"^(john|jane) (doe|smith)$|^(string|example|sample|test|placeholder|value|todo|n/a|xxx+|foo|bar|lorem ipsum.*)$"
    r"|^(an? )?example\b|\bexample[a-z]*\.(com|org|net)\b|/path/to/|\byour[_ -](api[_ -])?(key|token)\b",
    re.I,
)


def _counting(n: int) -> bool:
    """123, 123456789, 1234567890, 98765, 54321, 67890, 11111: an id counted out, not one a record has."""
    d = str(n)
    return len(d) >= 3 and (
        "1234567890".startswith(d)
        or (len(d) >= 5 and (d in "9876543210" or d in "1234567890"))
        or len(set(d)) == 1 < len(d) - 3
    )


def stand_ins(value, allowed=(), path: str = "") -> list[str]:
    """Where a model's JSON holds stand-ins instead of values (`John Doe`, `example.com`, `/path/to/`,
    a field's own name, id 12345), as `path: value`; values in `allowed` (the call's own) are fine."""
    if isinstance(value, dict):
        return [f for k, v in value.items() for f in stand_ins(v, allowed, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list):
        return [f for i, v in enumerate(value) for f in stand_ins(v, allowed, f"{path}[{i}]")]
    if value in allowed or isinstance(value, bool):
        return []
    leaf = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1].lower()
    if isinstance(value, str) and (_STAND_IN_TEXT.search(value.strip()) or (leaf and value.strip().lower() == leaf)):
        return [f"{path}: {value!r}"]
    if isinstance(value, int) and _counting(value) and (leaf == "id" or leaf.endswith("_id")):
        return [f"{path}: {value}"]
    return []


# field-name words -> a Faker provider (or a fixed generator); the first matching rule wins
_BY_NAME: list[tuple[tuple[str, ...], object]] = [
    (("date", "birthday", "dob"), lambda f, r: _FORMATS["date"](f, r)),
    (("time", "timestamp", "datetime", "created_at", "updated_at", "at"), lambda f, r: _FORMATS["date-time"](f, r)),
    (("iso_639_1", "language_code"), lambda f, r: r.choice(["en", "fr", "de", "es", "ja"])),
    (("iso_3166_1",), "country_code"),
    (
        ("path", "image", "poster", "backdrop", "logo", "avatar", "thumbnail", "photo", "picture", "file", "filename"),
        lambda f, r: "/" + f.file_name(category="image"),
    ),
    (("character", "nickname"), "name"),
    (("genre",), lambda f, r: r.choice(["Drama", "Comedy", "Action", "Documentary", "Jazz", "Pop"])),
    (("status", "state_code"), lambda f, r: r.choice(["active", "pending", "completed"])),
    (("email", "mail"), "email"),
    (("url", "uri", "link", "website", "homepage", "href"), "url"),
    (("phone", "mobile", "tel"), "phone_number"),
    (("ip", "ipv4", "ip_address"), "ipv4"),
    (("domain", "hostname", "host"), "domain_name"),
    (("username", "user_name", "login", "handle", "screen_name"), "user_name"),
    (("first_name", "firstname", "given_name"), "first_name"),
    (("last_name", "lastname", "surname", "family_name"), "last_name"),
    (("author", "artist", "person", "actor", "director", "full_name", "fullname", "owner", "contact"), "name"),
    (("company", "organization", "organisation", "brand", "publisher", "employer"), "company"),
    (("city", "town"), "city"),
    (("country_code", "countrycode"), "country_code"),
    (("country", "nation"), "country"),
    (("state", "province", "region"), "state"),
    (("street", "address"), "street_address"),
    (("zip", "zipcode", "postcode", "postal_code", "postalcode"), "postcode"),
    (("currency", "currency_code"), "currency_code"),
    (("language", "lang", "locale"), lambda f, r: r.choice(["en", "fr", "de", "es", "ja"])),
    (("color", "colour"), "color_name"),
    (("job", "occupation", "profession"), "job"),
    (("symbol", "ticker", "stock"), lambda f, r: r.choice(["AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA"])),
    (("timezone", "tz", "time_zone"), "timezone"),
    (("password", "secret"), lambda f, r: f.password(length=12)),
    (("name",), "name"),
]
_FORMATS = {
    "date": lambda f, r: (date(2024, 1, 1) + timedelta(days=r.randint(0, 700))).isoformat(),
    "date-time": lambda f, r: (
        (datetime(2024, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=r.randint(0, 10**6)))
        .isoformat()
        .replace("+00:00", "Z")
    ),
    "time": lambda f, r: f"{r.randint(0, 23):02d}:{r.choice([0, 15, 30, 45]):02d}:00",
    "email": lambda f, r: f.email(),
    "idn-email": lambda f, r: f.email(),
    "uri": lambda f, r: f.url(),
    "url": lambda f, r: f.url(),
    "iri": lambda f, r: f.url(),
    "uri-reference": lambda f, r: "/" + f.uri_path(),
    "hostname": lambda f, r: f.domain_name(),
    "ipv4": lambda f, r: f.ipv4(),
    "ipv6": lambda f, r: f.ipv6(),
    "uuid": lambda f, r: str(uuid.UUID(int=r.getrandbits(128), version=4)),
    "byte": lambda f, r: "aGVsbG8gd29ybGQ=",
    "binary": lambda f, r: "file.bin",
    "password": lambda f, r: f.password(length=12),
}


def words(text: str) -> list[str]:
    return _WORD.findall((text or "").lower().replace("_", " "))


def is_id_name(name: str) -> bool:
    """`id`, `movie_id`, `userId`, `playlist-id`: a parameter or field that names an entity."""
    low = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
    return low == "id" or low.endswith(("_id", "-id", "_ids")) or low in {"uuid", "guid", "key_id"}


def schema_type(schema: dict) -> str | None:
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), None)
    if typ is None and "properties" in schema:
        return "object"
    if typ is None and "items" in schema:
        return "array"
    return typ


def documented_values(schema: dict) -> list:
    """The values a schema itself offers: enum members, examples, example, default."""
    out = list(schema.get("enum") or [])
    ex = schema.get("examples")
    out += ex if isinstance(ex, list) else []
    if schema.get("example") is not None:
        out.append(schema["example"])
    if schema.get("default") is not None:
        out.append(schema["default"])
    return out


def fitting(value, schema: dict):
    """`value` as the schema's type (a documented "10" for an integer is 10), or None when it cannot be."""
    typ = schema_type(schema)
    if typ in (None, "string"):
        return value if isinstance(value, str) or typ is None else None
    if isinstance(value, str):
        text = value.strip()
        try:
            value = {"integer": int, "number": float}[typ](text) if typ in ("integer", "number") else value
        except ValueError:
            return None
        if typ == "boolean" and text.lower() in ("true", "false"):
            value = text.lower() == "true"
    ok = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "null": lambda v: v is None,
    }.get(typ)
    return value if ok is None or ok(value) else None


class ValueFactory:
    """`value(schema, name, rng)`: a value of the schema's type, realistic for the field name."""

    def __init__(self, locale: str = "en_US"):
        self.faker = Faker(locale)

    def _faker(self, rng: random.Random) -> Faker:
        self.faker.seed_instance(rng.getrandbits(32))
        return self.faker

    def string_for(self, name: str, rng: random.Random) -> str:
        """A string for a field name: Faker by name or an id; else a placeholder (free text, a query,
        a name nothing documents)."""
        low = re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower().replace("-", "_").replace(".", "_")
        parts = set(low.split("_"))
        f = self._faker(rng)
        if is_id_name(name.rsplit(".", 1)[-1]):
            return str(rng.randint(10_000, 999_999))
        if low.split("_")[-1] not in _FREE_TEXT:
            # a whole name or a compound ending (`production_country_code`) first, then any word of it
            for match in (
                lambda keys: low in keys or any(low.endswith("_" + k) for k in keys if "_" in k),
                lambda keys: parts & set(keys),
            ):
                for keys, how in _BY_NAME:
                    if match(keys):
                        return str(how(f, rng) if callable(how) else getattr(f, how)())
        return placeholder(name.rsplit(".", 1)[-1])

    @staticmethod
    def _qualified(parent: str, key: str, topic: str = "") -> str:
        """`genre.name` for the `name` of a `genres` item: a generic leaf is read with its parent's name, or,
        under a parent that says nothing (`result`, `results`, `data`), with what the tool is about (`topic`)."""
        if key not in _GENERIC_LEAVES:
            return key
        if parent.rsplit(".", 1)[-1] in ("result", "results", "data", "item", "items", "record", ""):
            return f"{topic}.{key}".replace(" ", "_") if topic else key
        return f"{parent}.{key}"

    def number_for(self, name: str, schema: dict, rng: random.Random, integer: bool):
        name = name.rsplit(".", 1)[-1]
        low = name.lower()
        lo, hi = schema.get("minimum"), schema.get("maximum")
        if schema.get("exclusiveMinimum") is not None and not isinstance(schema.get("exclusiveMinimum"), bool):
            lo = schema["exclusiveMinimum"] + (1 if integer else 0.01)
        if schema.get("exclusiveMaximum") is not None and not isinstance(schema.get("exclusiveMaximum"), bool):
            hi = schema["exclusiveMaximum"] - (1 if integer else 0.01)
        if lo is None and hi is None:
            if "lat" in low:
                lo, hi = -60, 70
            elif "lon" in low or "lng" in low:
                lo, hi = -170, 170
            elif "year" in low:
                lo, hi = 1990, 2025
            elif any(k in low for k in ("limit", "count", "size", "num", "top", "max")):
                lo, hi = 1, 20
            elif any(k in low for k in ("page", "offset", "skip")):
                lo, hi = (1, 3) if "page" in low else (0, 20)
            elif any(k in low for k in ("price", "amount", "cost", "salary", "income", "balance")):
                lo, hi = 5, 5000
            elif "month" in low:
                lo, hi = 1, 12
            elif "day" in low:
                lo, hi = 1, 28
            elif "age" in low:
                lo, hi = 18, 80
            elif is_id_name(name):
                lo, hi = 1_000, 999_999
            else:
                lo, hi = 1, 100
        lo = lo if lo is not None else min(0, hi)
        hi = hi if hi is not None else lo + 100
        if integer:
            lo, hi = int(-(-lo // 1)), int(hi // 1)
            value = rng.randint(lo, max(lo, hi))
            step = schema.get("multipleOf")
            return value - value % step if isinstance(step, int) and step > 0 and value - value % step >= lo else value
        return round(rng.uniform(lo, hi), 4 if "lat" in low or "lon" in low or "lng" in low else 2)

    def value(
        self,
        schema: dict | None,
        name: str,
        rng: random.Random,
        topic: str = "",  # what the tool is about ('movie', 'tv show'): names a generic field under `result`
        depth: int = 0,
        all_properties: bool = True,
    ):
        """A value that fits `schema` (enum, const, examples and default first)."""
        schema = schema if isinstance(schema, dict) else {}
        if "const" in schema:
            return schema["const"]
        documented = [v for v in (fitting(x, schema) for x in documented_values(schema)) if v is not None]
        if documented:
            return rng.choice(documented)
        if (combined := combined_schema(schema)) is not None:
            return self.value(combined, name, rng, topic, depth)
        typ = schema_type(schema)
        if typ in ("object", "array"):
            return self._container(typ, schema, name, rng, topic, depth, all_properties)
        if typ in ("integer", "number"):
            return self.number_for(name, schema, rng, integer=typ == "integer")
        if typ == "boolean":
            return rng.random() < 0.5
        if typ == "null":
            return None
        return self._string(schema, name, rng)

    def _container(
        self, typ: str, schema: dict, name: str, rng: random.Random, topic: str, depth: int, all_properties: bool
    ):
        """An object (every property, or the required ones) or an array of 1 to 3 items; empty past depth 4."""
        if typ == "object":
            if depth > 4:
                return {}
            props = schema.get("properties") or {}
            required = set(schema.get("required") or [])
            keep = props if all_properties else {k: v for k, v in props.items() if k in required}
            return {k: self.value(v, self._qualified(name, k, topic), rng, topic, depth + 1) for k, v in keep.items()}
        if depth > 4:
            return []
        n = max(int(schema.get("minItems") or 1), min(int(schema.get("maxItems") or 3), rng.randint(1, 3)))
        item = singular(name)
        return [self.value(schema.get("items"), item, rng, topic, depth + 1) for _ in range(n)]

    def _string(self, schema: dict, name: str, rng: random.Random) -> str:
        """A string of the schema's format or pattern, else one chosen by the field's name, fitted to its length."""
        fmt = schema.get("format")
        if fmt in _FORMATS:
            return _FORMATS[fmt](self._faker(rng), rng)
        if isinstance(schema.get("pattern"), str):
            try:
                return rstr.Rstr(rng).xeger(schema["pattern"])
            except Exception:  # a pattern rstr cannot invert; the validator will say so
                pass
        text = self.string_for(name, rng)
        if is_placeholder(text):
            return text  # a placeholder is not padded or cut to a length: it must read as one
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        if isinstance(hi, int) and len(text) > hi:
            text = text[:hi]
        if isinstance(lo, int) and len(text) < lo:
            text = text + "x" * (lo - len(text))
        return text  # a placeholder is not padded or cut to a length: it must read as one
        lo, hi = schema.get("minLength"), schema.get("maxLength")
        if isinstance(hi, int) and len(text) > hi:
            text = text[:hi]
        if isinstance(lo, int) and len(text) < lo:
            text = text + "x" * (lo - len(text))
        return text


def combined_schema(schema: dict) -> dict | None:
    """The schema a value of an anyOf/oneOf (its first non-null option) or allOf (the parts merged) follows."""
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            options = [s for s in schema[key] if isinstance(s, dict) and s.get("type") != "null"] or schema[key]
            return options[0]
    if isinstance(schema.get("allOf"), list):
        merged = {}
        for part in schema["allOf"]:
            if isinstance(part, dict):
                merged.update(part)
        return merged
    return None

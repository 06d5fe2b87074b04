"""What a request asks for: its parts, whether it is a yes/no question, which fields of a result it
names; and whether a call changes something. Read by the offline answers and by the filter's
answer checks (completeness, focus), for any assistant."""

from __future__ import annotations

import re

from ..graph.names import singular
from .wording import ALSO_INLINE, ALSO_WORDS, AND_WORD, THEN_INLINE, THEN_WORDS

_WORD = re.compile(r"[a-z0-9]+")
_YES_NO = re.compile(r"^\W*(is|are|was|were|do|does|did|can|could|has|have|will|would|should|am)\b", re.I)
# the joining words requests are written with, and those of earlier versions
_JOINS = THEN_WORDS + ALSO_WORDS + ("With that", "Besides that", "At the same time")
_PARTS = re.compile(
    r"(?:^|\s)(?:" + "|".join(_JOINS) + r"),\s|,\s(?:" + "|".join(THEN_INLINE + ALSO_INLINE) + r")\s"
    rf"|(?-i:(?<=[.?!])\s{AND_WORD}\s(?=[a-z]))",  # '... Tokyo. And what is ...?' (wording.THEN_SPLIT)
    re.I,
)


# verbs of a request that asks for a change, and how it is said once done
DOING = set(
    "add create update delete remove cancel place book set send save rename move copy restore kill interrupt "
    "restart start stop upload write edit change modify make clear reset enable disable archive submit "
    "approve reject assign schedule subscribe unsubscribe follow unfollow publish share transfer buy reserve "
    "commit push merge mark insert register replace apply put stage unstage".split()
)
_PAST = {
    "set": "set",
    "put": "put",
    "send": "sent",
    "make": "made",
    "write": "wrote",
    "buy": "bought",
    "stop": "stopped",
    "commit": "committed",
    "cancel": "cancelled",
    "shut": "shut",
    "reset": "reset",
}
_STARTS = re.compile(r"(?:^|[,;:]\s+|[.?!]\s+|\b(?:then|also|and|please)\s+)(?=[A-Za-z])", re.I)
_CLAUSE = re.compile(r"([A-Za-z]+)\s+(.+?)(?:[.?!](?=\s|$)|,\s+(?:and\s+)?(?:then|also)\b|;|$)", re.I)
_WHEN_CLAUSE = re.compile(r" (?:before|after|when|while|once|so that|because|since) (?:it|they|you|I)\b[^\"]*$")
_YOURS = {"my": "your", "me": "you", "i": "you", "mine": "yours", "myself": "yourself"}


def past(verb: str) -> str:
    if verb in _PAST:
        return _PAST[verb]
    return verb + "d" if verb.endswith("e") else verb[:-1] + "ied" if re.search(r"[^aeiou]y$", verb) else verb + "ed"


def action_said(request: str) -> str:
    """What a request asked to have done, said as done: 'For the file "a.md", delete the checkpoint "c".' ->
    'I deleted the checkpoint "c".'; '' when no clause of it starts with such a verb."""
    for start in _STARTS.finditer(request):
        m = _CLAUSE.match(request, start.end())
        if m and m.group(1).lower() in DOING:
            verb = m.group(1).lower()
            what = re.sub(
                r"\b(my|me|i|mine|myself)\b(?![^\"]*\"(?:[^\"]*\"[^\"]*\")*[^\"]*$)",
                lambda w: _YOURS[w.group(1).lower()],
                m.group(2),
                flags=re.I,
            )
            what = what if verb in ("add", "create", "make", "book", "register") else re.sub(r"^an? ", "the ", what)
            what = re.sub(r"\b(of|for|into|to) an? (?=[a-z])", r"\1 the ", what)  # 'I put 2 of the product ...'

            what = re.sub(r",? please$", "", what.rstrip(" ,;"), flags=re.I)  # not 'I added it to your cart, please.'
            # 'Stop order ord_1002 before it ships': 'I stopped order ord_1002.', not '... before it ships.'
            what = _WHEN_CLAUSE.sub("", what)
            return f"I {past(verb)} {what}."
    return ""


ANY_WORDS = re.compile(r"\b(any|anything|anyone|anywhere|there)\b", re.I)


def is_yes_no(request: str) -> bool:
    """A question answered by yes or no: 'Is p300 in stock?', 'Do you sell anything for "kitchen"?', 'I ordered a
    while ago (ord_1002); has it shipped?' (its question after what the person says first)."""
    asked = request.split(";")[-1] if ";" in request else request
    return bool(_YES_NO.match(asked) or _YES_NO.match(request)) and request.rstrip().endswith("?")


def request_parts(request: str) -> list[str]:
    """The parts of a request that asks several things ('..., Then, ...', '... Also, ...')."""
    parts = [p.strip() for p in _PARTS.split(request) if p.strip()]
    # a part that ended inside one sentence ('Has it shipped, and then ...?') keeps the sentence's mark: a question
    return [
        p if p[-1] in ".?!" or not rest else p + next((q[-1] for q in rest if q[-1] in ".?!"), "")
        for p, rest in ((p, parts[i + 1 :]) for i, p in enumerate(parts))
    ]


def words(text: str) -> list[str]:
    return _WORD.findall(str(text).lower().replace("_", " "))


def label(key: str) -> str:
    """`utc_offset_hours` -> 'UTC offset hours'; `priceEur` -> 'price eur'."""
    key = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", key)
    out = " ".join(words(key))
    return re.sub(r"\b(id|utc|url|iso|vat|gst|eur|usd|api)\b", lambda m: m.group(1).upper(), out)


UNITS = {
    "km": "km",
    "kg": "kg",
    "eur": "EUR",
    "usd": "USD",
    "hours": "hours",
    "percent": "percent",
    "minutes": "minutes",
    "days": "days",
    "seconds": "seconds",
    "millions": "million",
    "m": "m",
    "mi": "miles",
}


# question words that ask for a kind of field: 'how much' asks for an amount, 'how far' for a distance
_ASKS = {
    "how much": {"amount", "price", "cost", "total", "converted", "gross", "net", "value"},
    "how many": {"count", "total", "number", "population", "speakers"},
    "cost": {"price", "cost"},  # 'is it in stock, and what does it cost?' answered with the stock alone (a blind read)
    "how far": {"distance"},
    "how long": {"hours", "duration", "minutes", "days"},
    "what time": {"time", "local"},
    "when": {"date", "time", "day"},
    "which day": {"weekday", "day", "date"},
    "the next": {"date"},  # 'What is the next public holiday in France?' answered without its date (a blind read)
    "coordinates": {"latitude", "longitude", "lat", "lon", "lng"},
    "where exactly": {"latitude", "longitude", "lat", "lon", "lng"},
    "which country": {"country"},
    "part of the world": {"region", "continent"},  # 'Which part of the world is JP in?' (a blind read: unsaid)
    "what continent": {"region", "continent"},
    "where": {"status", "location", "address"},
    "available": {"stock", "available", "availability", "in"},
    "in stock": {"stock", "in"},
    "are left": {"stock", "remaining", "left"},  # 'How many of p101 are left?' (a blind read: the stock unsaid)
    "is left": {"stock", "remaining", "left"},
    "after adding": {"gross", "total"},
    "once": {"gross", "total"},
    "call their": {"native"},
    "called in its own": {"native"},  # what a language is called by its speakers
    "plus vat": {"gross", "total"},
    "iso code": {"country", "currency", "language", "code"},  # 'the ISO code for Germany' asks for country_code
    "letter code": {"country", "currency", "language", "code"},  # 'What two-letter code does Korea use?'
}


def _compounds(text: str) -> set[str]:
    """Two or three neighbouring words written as one: 'time zone' -> 'timezone'."""
    ws = words(text)
    return {"".join(ws[i : i + n]) for n in (2, 3) for i in range(len(ws) - n + 1)}


def _named(key: str, request_words: set[str], request_squashed: str, request: str = "") -> bool:
    """The request names the field: every word of its name is in the request ('time zone' names
    `timezone`; 'population' names `population`), or a question word asks for its kind ('how much'
    asks for `amount`)."""
    if words(key)[-1:] == ["id"] and "id" not in request_words:  # 'that city' asks about the city, not its id
        return False
    parts = [w for w in words(key) if w not in ("is", "has")] or words(key)
    if len(parts) > 1 and parts[-1] in UNITS:  # 'price' names price_eur
        parts = parts[:-1]
    joined = "".join(parts)  # 'time zone' names timezone; but 'sepaRATEly' names no rate
    if all(w in request_words for w in parts) or (
        joined in request_squashed if len(parts) > 1 else joined in _compounds(request)
    ):
        return True
    low = request.lower()
    return any(q in low and parts[0] in kinds for q, kinds in _ASKS.items())


def requested_fields(request: str, result, asks: bool = True) -> list[str]:
    """Top-level fields of a result (or of the items of a list result) that the request names (`asks`: or asks
    for by a question word, 'how many')."""
    rw = set(words(request))
    rw |= {singular(w) for w in rw}  # 'the contents of the file' names `content`
    squashed = "".join(words(request))
    record = result[0] if isinstance(result, list) and result and isinstance(result[0], dict) else result
    if not isinstance(record, dict):
        return []
    return [k for k in record if _named(k, rw, squashed, request if asks else "")]

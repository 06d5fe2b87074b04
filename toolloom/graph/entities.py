"""What a collection's entities are, read from the collection itself: the nouns its identifiers name, and
for each entity with a detail operation (`GET /movie/{movie_id}`, or a tool whose one input is an id) the
keys of the record it returns. A bare `id` in a response is then typed by the record around it:
the entity whose record shares the most (rarity-weighted) keys with it.
"""

from __future__ import annotations

import math
from collections import defaultdict

from ..domain import Tool
from .names import snake
from .schemas import items_of, leaves, properties
from .slots import GENERIC_LEAVES, NO_TYPING, Typing, input_slots, owner_of_id, split_kind

_ID_LIKE = GENERIC_LEAVES - {"name", "title", "type", "value"}
_NAMING = frozenset({"name", "title"})


def names_apart(record: frozenset, keys: frozenset) -> bool:
    """A record and an item that name their thing by different keys (a movie's `title`, a show's `name`) are not
    the same kind of thing, however many other keys they share (overview, poster_path, vote_average)."""
    return bool(record & _NAMING) and bool(keys & _NAMING) and not record & keys & _NAMING


class EntityIndex(Typing):
    """`min_score`: share of a record's key weight that must be shared; `margin`: lead over the runner-up."""

    def __init__(self, tools: list[Tool], min_score: float = 0.3, margin: float = 0.05):
        self.min_score, self.margin = min_score, margin
        self.records = _detail_records(tools)
        self._holders: dict[str, list[str]] = defaultdict(list)
        for entity, keys in self.records.items():
            for key in keys:
                self._holders[key].append(entity)
        n = len(self.records)
        self._weight = {k: math.log(1 + n / len(h)) for k, h in self._holders.items()}
        self._unknown = math.log(1 + n) if n else 1.0
        self.entities = frozenset(self._named(tools))

    def _named(self, tools: list[Tool]):
        """Entities the collection's identifiers name: owners of id inputs, and of id outputs (by name or record)."""
        for tool in tools:
            for slot in input_slots(tool):
                owner, kind = split_kind(slot.entity)
                if owner and kind in _ID_LIKE:
                    yield owner
            for path, _, siblings in leaves(tool.get("returns") or {}):
                owner, kind = split_kind(snake(path[-1]))
                if kind in _ID_LIKE and (owner or (owner := owner_of_id(path, siblings, self))):
                    yield owner

    def entity_of_record(self, keys: frozenset) -> str:
        if len(keys) < 2 or not self.records:
            return ""
        total = sum(self._weight.get(k, self._unknown) for k in keys)
        scores: dict[str, float] = defaultdict(float)
        shared: dict[str, int] = defaultdict(int)
        for k in keys:
            for entity in self._holders.get(k, ()):
                if names_apart(self.records[entity], keys):
                    continue
                scores[entity] += self._weight[k] / total
                shared[entity] += 1
        ranked = sorted(((s, e) for e, s in scores.items() if shared[e] >= 2), reverse=True)
        if not ranked or ranked[0][0] < self.min_score:
            return ""
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < self.margin:
            return ""
        return ranked[0][1]


def _detail_records(tools: list[Tool]) -> dict[str, frozenset]:
    """entity -> top-level keys of what its detail operation returns (the shortest path wins)."""
    found: dict[str, tuple[int, frozenset]] = {}
    for tool in tools:
        meta = tool.get("meta") or {}
        method, path = str(meta.get("method") or "get").lower(), meta.get("path") or ""
        if method != "get":
            continue
        ins = input_slots(tool, NO_TYPING)
        if path:
            last = path.rstrip("/").rsplit("/", 1)[-1]
            slot = next((s for s in ins if f"{{{s.path}}}" == last), None)
        else:
            slot = ins[0] if len(ins) == 1 else None
        owner, kind = split_kind(slot.entity) if slot else ("", "")
        if not owner or kind not in _ID_LIKE:
            continue
        returns = tool.get("returns") or {}
        returns = (items_of(returns) or returns) if isinstance(returns, dict) else {}
        keys = frozenset(snake(k) for k in properties(returns)) if isinstance(returns, dict) else frozenset()
        if len(keys) >= 3 and (owner not in found or len(path) < found[owner][0]):
            found[owner] = (len(path), keys)
    return {e: keys for e, (_, keys) in found.items()}

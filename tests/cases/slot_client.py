"""One process of a run, for the shared endpoint limit's tests and benchmark: sends N requests at once through
a ModelClient whose endpoint limit is shared (file locks in a folder, or advisory locks in PostgreSQL) or not.

python slot_client.py URL N MAX_CONCURRENCY (file FOLDER | postgres CATALOG_URL | none) CACHE_PATH TAG GO
Writes GO.TAG.ready, waits until the file GO exists (so that every process starts sending at once), and
prints the seconds the N requests took."""

import asyncio
import sys
import time
from pathlib import Path

from toolloom.llm import ModelClient, RequestCache, RunBudget, UsageLedger
from toolloom.llm.endpoint_slots import FileSlotLocks, PostgresSlotLocks, SharedSlots
from toolloom.llm.model_spec import ModelSpec


def main(url: str, n: int, size: int, mode: str, where: str, cache: str, tag: str, go: str) -> None:
    slots = {}

    def slots_for(endpoint: str, k: int) -> SharedSlots:
        if endpoint not in slots:
            locks = FileSlotLocks(Path(where)) if mode == "file" else PostgresSlotLocks(where, endpoint)
            slots[endpoint] = SharedSlots(locks, k)
        return slots[endpoint]

    spec = ModelSpec(provider="openai", model="fake", base_url=url, max_concurrency=size, timeout_s=60)
    client = ModelClient(
        spec,
        cache=RequestCache(cache),
        ledger=UsageLedger(),
        budget=RunBudget(None),
        slots_for=None if mode == "none" else slots_for,
    )

    async def run():
        messages = [[{"role": "user", "content": f"{tag} request {i}"}] for i in range(n)]
        await asyncio.gather(*(client.chat(m, stage="bench", role="user") for m in messages))
        await client.close_session()

    Path(f"{go}.{tag}.ready").touch()
    while not Path(go).exists():
        time.sleep(0.01)
    started = time.monotonic()
    asyncio.run(run())
    print(f"{time.monotonic() - started:.3f}")
    for s in slots.values():
        s.close()
    client.cache.close()


if __name__ == "__main__":
    url, n, size, mode, where, cache, tag, go = sys.argv[1:9]
    main(url, int(n), int(size), mode, where, cache, tag, go)

"""One concurrency limit per endpoint whatever the number of processes (llm/endpoint_slots.py): slots held as
file locks (step processes on one host) or PostgreSQL advisory locks (any number of hosts)."""

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from toolloom.llm.endpoint_slots import FileSlotLocks, SharedSlots
from toolloom.llm.fake_server import FakeServer

CLIENT = Path(__file__).parent / "cases" / "slot_client.py"


def test_a_slot_held_elsewhere_is_waited_for_and_taken_once_freed(tmp_path):
    # two lock sets on one folder contend as two processes do: flock locks belong to an open file description
    a, b = SharedSlots(FileSlotLocks(tmp_path), 2), SharedSlots(FileSlotLocks(tmp_path), 2)

    async def scenario():
        held = [await a.take(), await a.take()]
        assert sorted(held) == [0, 1]
        with pytest.raises(asyncio.TimeoutError):  # every slot is a's: b gets none
            await asyncio.wait_for(b.take(), 0.2)
        assert b.waited == 1
        a.release(1)
        assert await asyncio.wait_for(b.take(), 10) == 1
        return b.held

    assert asyncio.run(scenario()) == {1}
    a.close()  # closing gives back the slot a still held
    assert asyncio.run(asyncio.wait_for(b.take(), 10)) == 0


def test_requests_of_one_process_wait_for_its_own_freed_slots(tmp_path):
    slots = SharedSlots(FileSlotLocks(tmp_path), 3)
    peak, now = [0], [0]

    async def request():
        async with slots.holding():
            now[0] += 1
            peak[0] = max(peak[0], now[0])
            await asyncio.sleep(0.01)
            now[0] -= 1

    async def many():
        await asyncio.gather(*(request() for _ in range(20)))

    asyncio.run(many())
    assert peak[0] == 3 and slots.held == set()


def _run_processes(server: FakeServer, tmp_path: Path, mode: str, where: str, *, processes=4, each=24, size=8):
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, str(CLIENT), server.base_url, str(each), str(size), mode, where]
            + [str(tmp_path / f"cache{i}.sqlite"), f"p{i}", str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("go.*.ready"))) < processes and time.monotonic() < deadline:
        time.sleep(0.05)
    go.touch()  # every process is ready: all start sending at once
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
    return len(server.model.history)


@pytest.mark.services
@pytest.mark.parametrize("mode", ["file", "none"])
def test_four_processes_keep_one_limit_of_eight_in_flight(tmp_path, mode):
    with FakeServer(latency_s=0.15) as server:
        sent = _run_processes(server, tmp_path, mode, str(tmp_path / "slots"))
    assert sent == 4 * 24
    if mode == "file":
        assert server.peak_in_flight <= 8
    else:  # the control: each process alone allows 8, so four of them together exceed it
        assert server.peak_in_flight > 8


@pytest.mark.services
def test_processes_share_the_limit_through_the_postgres_catalog(postgres, tmp_path):
    from .scale_services import create_database

    catalog = create_database(postgres, f"slots{time.monotonic_ns() % 10**9}")
    with FakeServer(latency_s=0.15) as server:
        sent = _run_processes(server, tmp_path, "postgres", catalog)
    assert sent == 4 * 24 and server.peak_in_flight <= 8


@pytest.mark.services
def test_a_lost_catalog_session_gives_its_slots_back_and_the_next_take_reconnects(postgres):
    import psycopg

    from toolloom.llm.endpoint_slots import PostgresSlotLocks

    from .scale_services import create_database

    catalog = create_database(postgres, f"lost{time.monotonic_ns() % 10**9}")
    a, b = PostgresSlotLocks(catalog, "http://e/v1"), PostgresSlotLocks(catalog, "http://e/v1")
    assert a.take_one([0, 1]) == 0 and b.take_one([0, 1]) == 1 and b.take_one([0]) is None
    with psycopg.connect(catalog, autocommit=True) as admin:  # the server ends b's session (a restart, an admin)
        pid = b.con.info.backend_pid
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        # the termination is a signal: wait until the backend has gone and its locks with it (a loaded machine
        # took longer than the next statement once), within a deadline that is no claim about speed
        gone = "SELECT 1 FROM pg_locks WHERE pid = %s UNION ALL SELECT 1 FROM pg_stat_activity WHERE pid = %s"
        deadline = time.monotonic() + 60
        while admin.execute(gone, (pid, pid)).fetchone() and time.monotonic() < deadline:
            time.sleep(0.05)
    assert a.take_one([1]) == 1  # b's slot went with its session
    assert b.take_one([0, 1]) is None  # b notices, reconnects on its next try, and finds both taken
    a.give(0)
    assert b.take_one([0, 1]) == 0
    a.close(), b.close()

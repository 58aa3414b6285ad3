"""The sandbox's state: records by kind and id, kept in memory and written through to SQLite.

Every record is a JSON object stored under ``(kind, id)``; the working set is small (hundreds
to a few thousand rows), so reads come from memory and filtering happens in Python, while each
change is written to SQLite at once so a ``state_dir`` survives restarts. ``None`` as the folder
keeps an in-memory database (nothing written to disk).
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Record = dict[str, Any]

DB_FILE = "sandbox.sqlite3"


def _copy(record: Record) -> Record:
    """A deep copy through JSON (records are JSON by construction): C-fast, and it does not
    run out of stack on a value nested as deep as a request may carry."""
    copied: Record = json.loads(json.dumps(record))
    return copied


class Store:
    def __init__(self, state_dir: Path | None) -> None:
        if state_dir is None:
            target = ":memory:"
        else:
            state_dir.mkdir(parents=True, exist_ok=True)
            target = str(state_dir / DB_FILE)
        # one connection shared by the handler threads; the portal lock serializes access
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS records (
                kind TEXT NOT NULL, id INTEGER NOT NULL, data TEXT NOT NULL,
                PRIMARY KEY (kind, id));
            CREATE TABLE IF NOT EXISTS sequences (kind TEXT PRIMARY KEY, value INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            """
        )
        self._lock = threading.RLock()
        self._depth = 0
        self._rows: dict[str, dict[int, Record]] = {}
        for kind, rid, data in self._db.execute("SELECT kind, id, data FROM records ORDER BY id"):
            self._rows.setdefault(kind, {})[rid] = json.loads(data)
        self._seq: dict[str, int] = dict(self._db.execute("SELECT kind, value FROM sequences"))

    # --- reading: callers get copies, so a handler cannot change state without ``put``
    def rows(self, kind: str) -> list[Record]:
        with self._lock:
            table = self._rows.get(kind, {})
            return [_copy(table[k]) for k in sorted(table)]

    def get(self, kind: str, rid: int) -> Record | None:
        with self._lock:
            row = self._rows.get(kind, {}).get(rid)
            return _copy(row) if row is not None else None

    def count(self, kind: str) -> int:
        with self._lock:
            return len(self._rows.get(kind, {}))

    def kinds(self) -> list[str]:
        with self._lock:
            return sorted(self._rows)

    # --- writing
    def new_id(self, kind: str, first: int = 1) -> int:
        with self._lock:
            value = max(self._seq.get(kind, first - 1) + 1, first)
            self._seq[kind] = value
            self._write(
                "INSERT INTO sequences(kind, value) VALUES(?, ?) "
                "ON CONFLICT(kind) DO UPDATE SET value = excluded.value",
                (kind, value),
            )
            return value

    def put(self, kind: str, rid: int, record: Record) -> None:
        with self._lock:
            data = json.dumps(record, ensure_ascii=False)
            # memory holds exactly what the database holds (and what a restart reads back)
            self._rows.setdefault(kind, {})[rid] = json.loads(data)
            self._write(
                "INSERT OR REPLACE INTO records(kind, id, data) VALUES(?, ?, ?)",
                (kind, rid, data),
            )

    def delete(self, kind: str, rid: int) -> None:
        with self._lock:
            self._rows.get(kind, {}).pop(rid, None)
            self._write("DELETE FROM records WHERE kind = ? AND id = ?", (kind, rid))

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._write("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group many writes into one commit (seeding hundreds of rows stays fast)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        self._db.execute(sql, args)

    def close(self) -> None:
        with self._lock:
            self._db.close()

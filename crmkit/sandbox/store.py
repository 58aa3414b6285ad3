"""The sandbox's state: records by kind and id, kept in memory and written through to SQLite.

Every record is a JSON object stored under ``(kind, id)``; reads come from memory and filtering
happens in Python, while each change is written to SQLite at once so a ``state_dir`` survives
restarts. ``None`` as the folder keeps an in-memory database (nothing written to disk).

Reads that must stay fast on a big portal do not copy whole tables: ``scan`` walks the records
of a kind in id order without copying them (its callers only read), ``find`` uses an index per
field that is built on first use and kept up to date by every write, ``window`` answers a page
of the id order by slicing it, and ``derived`` keeps what is computed from a whole table (a
list's order by some field, the field names in use) until that table changes.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

Record = dict[str, Any]
T = TypeVar("T")

DB_FILE = "sandbox.sqlite3"


def _index_key(value: Any) -> Any:
    """A field value as an index key (lists and tables, unhashable, by their JSON text)."""
    return json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else value


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
        #: a portal kept in a folder writes every record through; one in memory keeps only its
        #: meta data in (in-memory) SQLite: its records live in the dicts below, once
        self._persist = state_dir is not None
        self._lock = threading.RLock()
        self._depth = 0
        #: inside a transaction, the state before it of every record and sequence it touched
        #: (a rollback restores memory as SQLite restores the file)
        self._undo_rows: dict[tuple[str, int], Record | None] = {}
        self._undo_seq: dict[str, int | None] = {}
        self._rows: dict[str, dict[int, Record]] = {}
        for kind, rid, data in self._db.execute("SELECT kind, id, data FROM records ORDER BY id"):
            self._rows.setdefault(kind, {})[rid] = json.loads(data)
        #: kind → ids in ascending order (None: to be sorted again after an out-of-order insert)
        self._order: dict[str, list[int] | None] = {}
        #: (kind, field) → field value → ids holding it
        self._index: dict[tuple[str, str], dict[Any, set[int]]] = {}
        #: kind → (field, values) → the ids holding them, sorted (dropped when kind changes)
        self._sorted: dict[str, dict[tuple[str, frozenset[Any]], list[int]]] = {}
        #: kind → key → a value computed from its records (dropped when kind changes)
        self._derived: dict[str, dict[Hashable, Any]] = {}
        #: (kind, field) → (the function, record id → the function of the record's field)
        self._field_keys: dict[tuple[str, str], tuple[Callable[[Any], Any], dict[int, Any]]] = {}
        self._seq: dict[str, int] = dict(self._db.execute("SELECT kind, value FROM sequences"))

    # --- reading: callers get copies, so a handler cannot change state without ``put``
    def rows(self, kind: str) -> list[Record]:
        with self._lock:
            table = self._rows.get(kind, {})
            return [_copy(table[k]) for k in self._ids(kind)]

    def scan(self, kind: str, after: int | None = None) -> Iterator[Record]:
        """The records of ``kind`` in id order (those with ids above ``after``), *not* copied:
        read them, never change them (``put`` a copy instead)."""
        with self._lock:  # held while the caller iterates (the same thread: an RLock)
            table = self._rows.get(kind, {})
            ids = self._ids(kind)
            start = 0 if after is None else bisect.bisect_right(ids, after)
            for position in range(start, len(ids)):
                yield table[ids[position]]

    def window(
        self, kind: str, after: int | None, start: int, stop: int
    ) -> tuple[int, list[Record]]:
        """How many records of ``kind`` have ids above ``after`` (all: None), and the ones from
        the ``start``-th to before the ``stop``-th of them in id order, *not* copied."""
        with self._lock:
            ids = self._ids(kind)
            first = 0 if after is None else bisect.bisect_right(ids, after)
            table = self._rows.get(kind, {})
            chosen = ids[first + start : first + stop] if stop > start else []
            return len(ids) - first, [table[rid] for rid in chosen]

    def records(self, kind: str, ids: Iterable[int]) -> Iterator[Record]:
        """The records of ``kind`` with ``ids``, in that order, *not* copied (read them only)."""
        with self._lock:  # held while the caller iterates (the same thread: an RLock)
            table = self._rows.get(kind, {})
            for rid in ids:
                yield table[rid]

    def derived(
        self, kind: str, key: Hashable, compute: Callable[[list[tuple[int, Record]]], T]
    ) -> T:
        """``compute`` of the (id, record) pairs of ``kind`` in id order, kept until a record of
        ``kind`` changes: an order of the table, the field names it uses. ``compute`` and the
        callers only read the records and the value."""
        with self._lock:
            cache = self._derived.setdefault(kind, {})
            if key not in cache:
                table = self._rows.get(kind, {})
                cache[key] = compute([(rid, table[rid]) for rid in self._ids(kind)])
            value: T = cache[key]
            return value

    def field_keys(self, kind: str, name: str, key_of: Callable[[Any], Any]) -> dict[int, Any]:
        """Record id → ``key_of`` of the record's ``name`` field (a sort key), for every record
        of ``kind``: built on first use and kept up to date by every write, so a table is
        sorted again after a change without working out every key again. One ``key_of`` per
        field; read the mapping, never change it."""
        with self._lock:
            found = self._field_keys.get((kind, name))
            if found is None:
                table = self._rows.get(kind, {})
                found = (key_of, {rid: key_of(r.get(name)) for rid, r in table.items()})
                self._field_keys[(kind, name)] = found
            return found[1]

    def find(self, kind: str, **equal: Any) -> list[Record]:
        """Copies of the records of ``kind`` whose fields equal ``equal``, in id order."""
        with self._lock:
            return [_copy(r) for r in self._matching(kind, equal)]

    def indexed(
        self, kind: str, name: str, value: Any, after: int | None = None
    ) -> Iterator[Record]:
        """The records of ``kind`` whose ``name`` equals ``value`` as a filter compares them (a
        number and its text are the same), in id order, above ``after``; *not* copied."""
        with self._lock:  # held while the caller iterates (the same thread: an RLock)
            text = str(value)
            keys = {_index_key(value), text}
            if text.lstrip("-").isdigit():
                keys.add(int(text))
            ids = self._sorted_holders(kind, name, frozenset(keys))
            start = 0 if after is None else bisect.bisect_right(ids, after)
            table = self._rows.get(kind, {})
            for position in range(start, len(ids)):
                yield table[ids[position]]

    def count_indexed(self, kind: str, name: str, value: Any) -> int:
        """How many records ``indexed`` would give (no ``after``), without walking them."""
        with self._lock:
            text = str(value)
            keys = {_index_key(value), text}
            if text.lstrip("-").isdigit():
                keys.add(int(text))
            return len(self._sorted_holders(kind, name, frozenset(keys)))

    def _sorted_holders(self, kind: str, name: str, keys: frozenset[Any]) -> list[int]:
        """The ids holding any of ``keys`` in ``name``, sorted; kept until ``kind`` changes."""
        cache = self._sorted.setdefault(kind, {})
        found = cache.get((name, keys))
        if found is None:
            index = self._index_of(kind, name)
            found = sorted({rid for key in keys for rid in index.get(key, ())})
            cache[(name, keys)] = found
        return found

    def exists(self, kind: str, **equal: Any) -> bool:
        with self._lock:
            return next(iter(self._matching(kind, equal)), None) is not None

    def _matching(self, kind: str, equal: dict[str, Any]) -> list[Record]:
        table = self._rows.get(kind, {})
        if not equal:
            return [table[rid] for rid in self._ids(kind)]
        first, value = next(iter(equal.items()))
        ids = sorted(self._index_of(kind, first).get(_index_key(value), ()))
        rest = [(k, v) for k, v in equal.items() if k != first]
        return [table[rid] for rid in ids if all(table[rid].get(k) == v for k, v in rest)]

    def _ids(self, kind: str) -> list[int]:
        ids = self._order.get(kind)
        if ids is None:
            ids = sorted(self._rows.get(kind, {}))
            self._order[kind] = ids
        return ids

    def _index_of(self, kind: str, name: str) -> dict[Any, set[int]]:
        index = self._index.get((kind, name))
        if index is None:
            index = {}
            for rid, record in self._rows.get(kind, {}).items():
                index.setdefault(_index_key(record.get(name)), set()).add(rid)
            self._index[(kind, name)] = index
        return index

    def _reindex(self, kind: str, rid: int, before: Record | None, after: Record | None) -> None:
        """Keep the order and the indexes of ``kind`` right after a record changed."""
        self._sorted.pop(kind, None)
        self._derived.pop(kind, None)
        ids = self._order.get(kind)
        if ids is not None and before is None and after is not None:  # a new record
            if not ids or rid > ids[-1]:
                ids.append(rid)
            else:
                self._order[kind] = None
        elif ids is not None and before is not None and after is None:  # a deleted one
            at = bisect.bisect_left(ids, rid)
            if at < len(ids) and ids[at] == rid:
                del ids[at]
        for (keys_kind, name), (key_of, keys) in self._field_keys.items():
            if keys_kind == kind:
                if after is None:
                    keys.pop(rid, None)
                else:
                    keys[rid] = key_of(after.get(name))
        for (index_kind, name), index in self._index.items():
            if index_kind != kind:
                continue
            if before is not None:
                holders = index.get(_index_key(before.get(name)))
                if holders is not None:
                    holders.discard(rid)
            if after is not None:
                index.setdefault(_index_key(after.get(name)), set()).add(rid)

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
            if self._depth:
                self._undo_seq.setdefault(kind, self._seq.get(kind))
            self._seq[kind] = value
            self._write_record(
                "INSERT INTO sequences(kind, value) VALUES(?, ?) "
                "ON CONFLICT(kind) DO UPDATE SET value = excluded.value",
                (kind, value),
            )
            return value

    def put(self, kind: str, rid: int, record: Record) -> None:
        with self._lock:
            data = json.dumps(record, ensure_ascii=False)
            self._remember(kind, rid)
            # memory holds exactly what the database holds (and what a restart reads back)
            table = self._rows.setdefault(kind, {})
            before = table.get(rid)
            table[rid] = json.loads(data)
            self._reindex(kind, rid, before, table[rid])
            self._write_record(
                "INSERT OR REPLACE INTO records(kind, id, data) VALUES(?, ?, ?)",
                (kind, rid, data),
            )

    def put_many(self, kind: str, records: list[Record], id_field: str = "ID") -> None:
        """Store many new records at once (seeding a large portal). The records are kept as
        given, not copied: the caller hands them over and must not change them afterwards."""
        with self._lock:
            table = self._rows.setdefault(kind, {})
            rows = []
            for record in records:
                rid = int(record[id_field])
                self._remember(kind, rid)
                before = table.get(rid)
                table[rid] = record
                self._reindex(kind, rid, before, record)
                if self._persist:
                    rows.append((kind, rid, json.dumps(record, ensure_ascii=False)))
            if rows:
                self._db.executemany(
                    "INSERT OR REPLACE INTO records(kind, id, data) VALUES(?, ?, ?)", rows
                )

    def delete(self, kind: str, rid: int) -> None:
        with self._lock:
            self._remember(kind, rid)
            before = self._rows.get(kind, {}).pop(rid, None)
            if before is not None:
                self._reindex(kind, rid, before, None)
            self._write_record("DELETE FROM records WHERE kind = ? AND id = ?", (kind, rid))

    def meta(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
            return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock:
            self._write("INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", (key, value))

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Group writes into one commit: all of them happen or none (a pipeline and its default
        stages are one), and many writes cost one commit (seeding stays fast). An exception
        rolls back the file and the memory alike; a killed process leaves the file as it was
        before the transaction."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN")
                self._undo_rows.clear()
                self._undo_seq.clear()
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                    self._restore()
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")
                self._undo_rows.clear()
                self._undo_seq.clear()

    def _remember(self, kind: str, rid: int) -> None:
        if self._depth and (kind, rid) not in self._undo_rows:
            self._undo_rows[(kind, rid)] = self._rows.get(kind, {}).get(rid)

    def _restore(self) -> None:
        for (kind, rid), before in self._undo_rows.items():
            table = self._rows.setdefault(kind, {})
            now = table.pop(rid, None)
            if before is not None:
                table[rid] = before
            self._reindex(kind, rid, now, before)
        for kind, value in self._undo_seq.items():
            if value is None:
                self._seq.pop(kind, None)
            else:
                self._seq[kind] = value
        self._undo_rows.clear()
        self._undo_seq.clear()

    def _write(self, sql: str, args: tuple[Any, ...]) -> None:
        self._db.execute(sql, args)

    def _write_record(self, sql: str, args: tuple[Any, ...]) -> None:
        if self._persist:
            self._db.execute(sql, args)

    def reserve(self, kind: str, last: int) -> None:
        """Make ``last`` the highest id of ``kind`` handed out (after ``put_many``)."""
        with self._lock:
            if last > self._seq.get(kind, 0):
                if self._depth:
                    self._undo_seq.setdefault(kind, self._seq.get(kind))
                self._seq[kind] = last
                self._write_record(
                    "INSERT INTO sequences(kind, value) VALUES(?, ?) "
                    "ON CONFLICT(kind) DO UPDATE SET value = excluded.value",
                    (kind, last),
                )

    def close(self) -> None:
        with self._lock:
            self._db.close()

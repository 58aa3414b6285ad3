"""Reading plain TOML values into typed objects, with precise complaints.

A ``Node`` wraps one table of a parsed TOML document together with its key path and the
document's positions, so every complaint names ``file:line`` and the key path. Readers collect
problems instead of stopping at the first, then ``Problems.raise_if_any`` raises one
``InputError`` (the first) that carries the rest — a CLI prints one line, lint prints all.
Pure: no files are read here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import InputError
from crmkit.i18n import Text, run_msg
from crmkit.tomlpos import KeyPath, Positions, format_path


@dataclass(frozen=True)
class Source:
    """Where a document came from: a name to show (a path) and the lines of its keys."""

    name: str
    positions: Positions = field(default_factory=Positions)

    def where(self, path: KeyPath) -> str:
        line = self.positions.line_of(path)
        return f"{self.name}:{line}" if line else self.name


class LoadError(InputError):
    """A document failed to load; ``problems`` holds every problem found, first one first."""

    def __init__(self, problems: Sequence[InputError]) -> None:
        first = problems[0]
        self.problems = list(problems)
        super().__init__(first.problem, where=first.where, key=first.key)
        if len(problems) > 1:
            more = len(problems) - 1
            self.message = run_msg("schema.more", message=first.message, more=more)


@dataclass
class Problems:
    items: list[InputError] = field(default_factory=list)

    def add(self, source: Source, path: KeyPath, problem: str) -> None:
        self.items.append(
            InputError(problem, where=source.where(path), key=format_path(path) or None)
        )

    def raise_if_any(self) -> None:
        if self.items:
            raise LoadError(sorted(self.items, key=_position))


def _position(error: InputError) -> tuple[str, int]:
    """Sort key: file, then line (problems are found in reading order, not file order)."""
    where = error.where or ""
    name, _, line = where.rpartition(":")
    if line.isdigit():
        return (name, int(line))
    return (where, 0)


def type_name(value: object) -> str:
    """What ``value`` is, as a complaint names it (``a string``, «строка»)."""
    import datetime  # only for a complaint

    kinds: dict[type, str] = {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "table",
        datetime.datetime: "datetime",
        datetime.date: "date",
        datetime.time: "time",
    }
    kind = kinds.get(type(value))
    return run_msg(f"schema.type.{kind}") if kind else type(value).__name__


def expected(what: str, value: object) -> str:
    """«ожидается число, а здесь строка»: ``what`` is a kind of ``schema.type``."""
    return run_msg("schema.expected", expected=run_msg(f"schema.type.{what}"), got=type_name(value))


_MISSING = object()
#: the longest string any crmkit file may hold (a stage description is a few hundred): a
#: document repeats names in many places, so one 10 MB name would make hundreds of MB of output
MAX_TEXT = 10_000


def _too_long() -> str:
    return run_msg("schema.too_long", limit=MAX_TEXT)


# Node has methods named str/int/float/bool; inside its body those names are the methods, so its
# annotations use these aliases of the builtins.
_Str = str
_Int = int
_Float = float
_Bool = bool


class Node:
    """One TOML table being read. Call ``done()`` after reading to report unknown keys."""

    def __init__(
        self,
        value: dict[_Str, Any],
        path: KeyPath,
        source: Source,
        problems: Problems,
        origins: Origins | None = None,
    ) -> None:
        self.value = value
        self.path = path
        self.source = source
        self.problems = problems
        self.origins = origins
        self._seen: set[_Str] = set()

    def child(self, value: dict[_Str, Any], path: KeyPath) -> Node:
        """A node for a nested table; a table merged in from another file keeps its origin."""
        if self.origins is not None:
            origin = self.origins.get(value)
            if origin is not None:
                return Node(value, origin[1], origin[0], self.problems, self.origins)
        return Node(value, path, self.source, self.problems, self.origins)

    @property
    def where(self) -> _Str:
        return self.source.where(self.path)

    # -- complaints -------------------------------------------------------------------------
    def error(self, problem: _Str, key: _Str | _Int | None = None) -> None:
        if isinstance(key, str) and self.origins is not None:
            # a key merged in from another file is reported where it was written
            origin = self.origins.key_origin(self.value, key)
            if origin is not None:
                self.problems.add(origin[0], origin[1], problem)
                return
        path = self.path if key is None else self.path + (key,)
        self.problems.add(self.source, path, problem)

    def done(self, allowed_extra: Iterable[_Str] = ()) -> None:
        extra = set(allowed_extra)
        for key in self.value:
            if key not in self._seen and key not in extra:
                known = sorted(self._seen | extra)  # only for a complaint: most tables have none
                self.error(unknown_key(key, known), key)

    def has(self, key: _Str) -> _Bool:
        return key in self.value

    # -- raw access -------------------------------------------------------------------------
    def _get(self, key: _Str, required: _Bool) -> Any:
        self._seen.add(key)
        if key not in self.value:
            if required:
                self.error(run_msg("schema.required", key=key))
            return _MISSING
        return self.value[key]

    def _typed(self, key: _Str, value: Any, kinds: tuple[type, ...], what: _Str) -> _Bool:
        """``value`` is one of ``kinds``; else a complaint that it is not ``what`` (a kind of
        ``schema.type``)."""
        # bool is an int in Python; TOML keeps them apart, so do we.
        ok = isinstance(value, kinds) and not (isinstance(value, _Bool) and bool not in kinds)
        if not ok:
            self.error(expected(what, value), key)
        return ok

    # -- scalars ----------------------------------------------------------------------------
    def str(
        self,
        key: _Str,
        *,
        required: _Bool = False,
        default: _Str | None = None,
        choices: Sequence[_Str] | None = None,
        pattern: re.Pattern[_Str] | None = None,
        hint_key: _Str = "",
    ) -> _Str | None:
        """A string; with ``pattern``, ``hint_key`` is the message key of what a valid one
        looks like (looked up only for a complaint)."""
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not self._typed(key, value, (str,), "string"):
            return default
        if len(value) > MAX_TEXT:
            self.error(_too_long(), key)
            return default
        if choices is not None and value not in choices:
            self.error(run_msg("schema.not_one_of", value=value, choices=", ".join(choices)), key)
            return default
        if pattern is not None and not pattern.fullmatch(value):
            if hint_key:
                self.error(
                    run_msg("schema.not_valid_hint", value=value, hint=run_msg(hint_key)), key
                )
            else:
                self.error(run_msg("schema.not_valid", value=value), key)
            return default
        return value

    def int(
        self,
        key: _Str,
        *,
        required: _Bool = False,
        default: _Int | None = None,
        minimum: _Int | None = None,
        maximum: _Int | None = None,
    ) -> _Int | None:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not self._typed(key, value, (int,), "integer"):
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            low = "…" if minimum is None else minimum
            high = "…" if maximum is None else maximum
            bounds = f"{low}..{high}"
            self.error(run_msg("schema.out_of_range", value=value, bounds=bounds), key)
            return default
        return int(value)

    def float(
        self,
        key: _Str,
        *,
        required: _Bool = False,
        default: _Float | None = None,
        minimum: _Float | None = None,
        maximum: _Float | None = None,
    ) -> _Float | None:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not self._typed(key, value, (int, _Float), "number"):
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = f"{minimum}..{maximum}"
            self.error(run_msg("schema.out_of_range", value=value, bounds=bounds), key)
            return default
        return float(value)

    def bool(self, key: _Str, *, required: _Bool = False, default: _Bool = False) -> _Bool:
        value = self._get(key, required)
        if value is _MISSING:
            return default
        if not self._typed(key, value, (bool,), "true_false"):
            return default
        return bool(value)

    def str_list(self, key: _Str, *, required: _Bool = False) -> list[_Str]:
        value = self._get(key, required)
        if value is _MISSING:
            return []
        if isinstance(value, _Str):
            return [value]
        if not self._typed(key, value, (list,), "strings"):
            return []
        out: list[_Str] = []
        for index, item in enumerate(value):
            if isinstance(item, _Str) and len(item) > MAX_TEXT:
                self.problems.add(self.source, self.path + (key, index), _too_long())
            elif isinstance(item, _Str):
                out.append(item)
            else:
                self.problems.add(self.source, self.path + (key, index), expected("string", item))
        return out

    def text(self, key: _Str, *, required: _Bool = False) -> Text:
        """A bilingual text: ``{ru = "...", en = "..."}``, or one string for both languages."""
        value = self._get(key, required)
        if value is _MISSING:
            return Text()
        if isinstance(value, _Str):
            if len(value) > MAX_TEXT:
                self.error(_too_long(), key)
                return Text()
            if required and not value.strip():
                self.error(run_msg("schema.empty_text"), key)
            return Text(ru=value, en=value, uk=value)
        if not self._typed(key, value, (dict,), "text"):
            return Text()
        node = self.child(value, self.path + (key,))
        ru = node.str("ru") or ""
        en = node.str("en") or ""
        uk = node.str("uk") or ""
        node.done()
        if required and not (ru or en or uk):
            self.error(run_msg("schema.empty_text"), key)
        return Text(ru=ru, en=en, uk=uk)

    # -- structure --------------------------------------------------------------------------
    def table(self, key: _Str, *, required: _Bool = False) -> Node | None:
        value = self._get(key, required)
        if value is _MISSING:
            return None
        if not self._typed(key, value, (dict,), "table"):
            return None
        return self.child(value, self.path + (key,))

    def tables(self, key: _Str, *, required: _Bool = False) -> list[Node]:
        """An array of tables (``[[key]]``)."""
        value = self._get(key, required)
        if value is _MISSING:
            return []
        if not self._typed(key, value, (list,), "tables"):
            return []
        nodes: list[Node] = []
        for index, item in enumerate(value):
            if isinstance(item, dict):
                nodes.append(self.child(item, self.path + (key, index)))
            else:
                self.problems.add(self.source, self.path + (key, index), expected("table", item))
        return nodes

    def raw(self, key: _Str, *, required: _Bool = False) -> Any:
        value = self._get(key, required)
        return None if value is _MISSING else value


def unknown_key(key: str, known: Iterable[str] = ()) -> str:
    """«неизвестный ключ «x»; допустимые ключи: a, b» (``known`` empty: no list)."""
    names = ", ".join(known)
    hint = run_msg("schema.known_keys", keys=names) if names else ""
    return run_msg("schema.unknown_key", key=key, hint=hint)


def root(
    data: dict[str, Any],
    source: Source,
    problems: Problems | None = None,
    origins: Origins | None = None,
) -> Node:
    return Node(data, (), source, problems or Problems(), origins)


class Origins:
    """Which file and key path each table came from, for documents merged from several files.

    Keyed by object identity; the tables are kept alive here so an identity is never reused.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, tuple[dict[str, Any], Source, KeyPath]] = {}
        # for tables merged from several files: where each key's value came from
        self._keys: dict[int, dict[str, tuple[Source, KeyPath]]] = {}

    def set_key(self, table: dict[str, Any], key: str, source: Source, path: KeyPath) -> None:
        self._keys.setdefault(id(table), {})[key] = (source, path)

    def key_origin(self, table: dict[str, Any], key: str) -> tuple[Source, KeyPath] | None:
        found = self._keys.get(id(table), {}).get(key)
        if found is not None:
            return found
        origin = self.get(table)
        return (origin[0], origin[1] + (key,)) if origin is not None else None

    def set(self, table: dict[str, Any], source: Source, path: KeyPath) -> None:
        self._by_id[id(table)] = (table, source, path)

    def get(self, table: dict[str, Any]) -> tuple[Source, KeyPath] | None:
        entry = self._by_id.get(id(table))
        return (entry[1], entry[2]) if entry is not None else None

    def annotate(self, value: Any, source: Source, path: KeyPath = ()) -> None:
        """Record the origin of every table inside ``value``."""
        if isinstance(value, dict):
            self.set(value, source, path)
            for key, item in value.items():
                self.annotate(item, source, path + (key,))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.annotate(item, source, path + (index,))

    def copy(self, value: Any) -> Any:
        """A deep copy whose tables keep the origins of the originals."""
        if isinstance(value, dict):
            new = {k: self.copy(v) for k, v in value.items()}
            origin = self.get(value)
            if origin is not None:
                self.set(new, *origin)
            for key in value:
                key_origin = self._keys.get(id(value), {}).get(key)
                if key_origin is not None:
                    self.set_key(new, key, *key_origin)
            return new
        if isinstance(value, list):
            return [self.copy(v) for v in value]
        return value

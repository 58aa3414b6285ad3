"""List semantics shared by the list methods: filter operators, ordering, 50-row pages.

Filter keys carry an operator prefix (``>=DATE_CREATE``, ``!STAGE_ID``, ``@ID``, ``%TITLE``);
values are compared as numbers when both sides look numeric, as moments when both look like
ISO dates (a date without an offset is read in the portal's time zone), else as strings.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from crmkit.sandbox.errors import legacy
from crmkit.sandbox.params import as_int, as_mapping, pick

PAGE = 50
#: the sandbox portal lives in Moscow time, like most of crmkit's users' portals
PORTAL_TZ = timezone(timedelta(hours=3))

# longest prefixes first, so ``!=%`` is not read as ``!`` + ``=%``
_OPERATORS = ("!=%", "!%=", "=%", "%=", "!%", "!@", "!=", ">=", "<=", "@", "!", ">", "<", "=", "%")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2})?)?")


@dataclass
class Page:
    """A list method's answer: the rows plus the envelope's ``total`` and ``next``."""

    result: Any
    total: int
    next: int | None = None


def split_key(key: str) -> tuple[str, str]:
    for op in _OPERATORS:
        if key.startswith(op) and len(key) > len(op):
            return op, key[len(op) :]
    return "", key


def parse_moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        moment = datetime.fromisoformat(value.replace(" ", "T", 1))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=PORTAL_TZ)


def _comparable(left: Any, right: Any) -> tuple[Any, Any] | None:
    if left is None or right is None:
        return None
    # a JSON true/false compares as 1/0; the other side keeps its own type
    if isinstance(left, bool):
        left = int(left)
    if isinstance(right, bool):
        right = int(right)
    ls, rs = str(left), str(right)
    if _NUMBER.match(ls) and _NUMBER.match(rs):
        return float(ls), float(rs)
    lm, rm = parse_moment(ls), parse_moment(rs)
    if lm is not None and rm is not None:
        return lm, rm
    return ls, rs


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, list):
        return any(_equal(item, right) for item in left)
    if right in ("", None) or left in ("", None):
        return (left in ("", None)) and (right in ("", None))
    pair = _comparable(left, right)
    return pair is not None and pair[0] == pair[1]


def _like(left: Any, pattern: Any, explicit: bool) -> bool:
    if left is None:
        return False
    text, needle = str(left).lower(), str(pattern).lower()
    if not explicit:
        return needle in text
    regex = "^" + ".*".join(re.escape(part) for part in needle.split("%")) + "$"
    return re.match(regex, text, re.DOTALL) is not None


def matches(op: str, left: Any, right: Any) -> bool:
    """Whether a row value ``left`` passes ``op right``."""
    values = right if isinstance(right, list) else None
    if op in ("", "=") and values is not None:  # an array without an operator means IN
        return any(_equal(left, v) for v in values)
    if op in ("", "="):
        return _equal(left, right)
    if op in ("!", "!="):
        if values is not None:
            return not any(_equal(left, v) for v in values)
        return not _equal(left, right)
    if op == "@":
        return any(_equal(left, v) for v in (values if values is not None else [right]))
    if op == "!@":
        return not any(_equal(left, v) for v in (values if values is not None else [right]))
    if op == "%":
        return _like(left, right, explicit=False)
    if op in ("=%", "%="):
        return _like(left, right, explicit=True)
    if op in ("!%",):
        return not _like(left, right, explicit=False)
    if op in ("!=%", "!%="):
        return not _like(left, right, explicit=True)
    pair = _comparable(left, right)
    if pair is None:
        return False
    a, b = pair
    try:
        if op == ">":
            return bool(a > b)
        if op == ">=":
            return bool(a >= b)
        if op == "<":
            return bool(a < b)
        if op == "<=":
            return bool(a <= b)
    except TypeError:
        return False
    return False


Getter = Callable[[dict[str, Any], str], Any]


def plain_getter(row: dict[str, Any], name: str) -> Any:
    return row.get(name)


def apply_filter(
    rows: Iterable[dict[str, Any]],
    conditions: dict[str, Any],
    getter: Getter = plain_getter,
    special: dict[str, Callable[[dict[str, Any], Any], bool]] | None = None,
    fold_case: bool = True,
) -> list[dict[str, Any]]:
    """Rows passing every condition; ``special`` handles keys with their own meaning
    (``BINDINGS``, ``LANG``). Field names are matched case-insensitively when ``fold_case``.

    A numeric key holding an object is a nested group, and a ``logic: "OR"`` key makes its
    level match when any member does (crm-item-list.md: ``{"0": {"logic": "OR", "0": {…},
    "1": {…}}, ">=opportunity": 5000}``); the default is AND."""
    test = _compile(conditions, getter, special or {}, fold_case)
    return [row for row in rows if test(row)]


Test = Callable[[dict[str, Any]], bool]


def _compile(
    conditions: dict[str, Any],
    getter: Getter,
    special: dict[str, Callable[[dict[str, Any], Any], bool]],
    fold_case: bool,
) -> Test:
    tests: list[Test] = []
    any_of = False
    for key, value in conditions.items():
        if key.lower() == "logic":
            any_of = str(value).strip().upper() == "OR"
            continue
        if key.isdigit():
            if isinstance(value, dict):
                tests.append(_compile(value, getter, special, fold_case))
            elif isinstance(value, list):
                group = {str(i): v for i, v in enumerate(value)}
                tests.append(_compile(group, getter, special, fold_case))
            continue
        op, name = split_key(str(key))
        hook = special.get(name.upper() if fold_case else name)
        if hook is not None:
            tests.append(_hook_test(hook, value))
            continue
        tests.append(_field_test(op, name.upper() if fold_case else name, value, getter))
    if len(tests) == 1:  # most filters: the one test, without a loop around it per row
        return tests[0]
    if any_of and tests:
        return lambda row: any(test(row) for test in tests)
    return lambda row: all(test(row) for test in tests)


def _hook_test(hook: Callable[[dict[str, Any], Any], bool], value: Any) -> Test:
    return lambda row: hook(row, value)


def _field_test(op: str, name: str, value: Any, getter: Getter) -> Test:
    return lambda row: matches(op, getter(row, name), value)


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None or value == "":
        return (0, "")
    text = str(value)
    if _NUMBER.match(text):
        return (1, float(text))
    moment = parse_moment(text)
    if moment is not None:
        return (2, moment.timestamp())
    return (3, text.lower())


def apply_order(
    rows: list[dict[str, Any]],
    order: dict[str, Any],
    getter: Getter = plain_getter,
    id_field: str = "ID",
    fold_case: bool = True,
) -> list[dict[str, Any]]:
    """Stable multi-key sort; the id breaks ties so paging is deterministic."""
    result = sorted(rows, key=lambda r: _sort_key(getter(r, id_field)))
    for key, direction in reversed(list(order.items())):
        name = key.upper() if fold_case else key
        descending = str(direction).upper() == "DESC"
        result.sort(key=_keyfunc(getter, name), reverse=descending)
    return result


def _keyfunc(getter: Getter, name: str) -> Callable[[dict[str, Any]], tuple[int, Any]]:
    return lambda row: _sort_key(getter(row, name))


def _by_id(order: dict[str, Any], id_field: str) -> bool:
    """Whether ``order`` is the id, ascending (keyset paging, or no order given)."""
    items = [(str(k).upper(), str(v).upper()) for k, v in order.items()]
    return items == [(id_field.upper(), "ASC")]


def _index_condition(conditions: dict[str, Any], special: set[str]) -> tuple[str, Any] | None:
    """A plain equality on a field (``STAGE_ID: "C3:NEW"``), usable through the store's index."""
    for key, value in conditions.items():
        op, name = split_key(str(key))
        if op not in ("", "=") or name.upper() in special or str(key).isdigit():
            continue
        if not isinstance(value, (str, int)) or isinstance(value, bool) or value == "":
            continue
        text = str(value)
        # what the index cannot answer as a filter does: a user field may hold a list, a date
        # equals its datetime, "1.0" equals 1
        if name.upper().startswith("UF_") or _DATE.match(text):
            continue
        if _NUMBER.match(text) and not text.lstrip("-").isdigit():
            continue
        return name.upper(), value
    return None


def _after(conditions: dict[str, Any], id_field: str) -> int | None:
    """The id a keyset page starts after (``>ID: 500``; ``>=ID: 501`` too)."""
    for key, value in conditions.items():
        op, name = split_key(str(key))
        if name.upper() == id_field.upper() and op in (">", ">="):
            bound = as_int(value)
            if bound is not None:
                return bound if op == ">" else bound - 1
    return None


def _only_after(conditions: dict[str, Any], id_field: str) -> bool:
    """Whether the filter is nothing but the keyset bound ``_after`` reads (or is empty)."""
    if not conditions:
        return True
    if len(conditions) != 1:
        return False
    ((key, value),) = conditions.items()
    op, name = split_key(str(key))
    return name.upper() == id_field.upper() and op in (">", ">=") and as_int(value) is not None


def _order_of(
    store: Any, kind: str, order: dict[str, Any], id_field: str, fold_case: bool
) -> Callable[[list[tuple[int, dict[str, Any]]]], list[int]]:
    """What puts a table's (id, record) pairs in ``order``, as ``apply_order`` sorts records:
    by the id, then stably by each key from the last, with the store's kept sort keys."""

    def arrange(pairs: list[tuple[int, dict[str, Any]]]) -> list[int]:
        ids = [rid for rid, _ in pairs]
        ids.sort(key=store.field_keys(kind, id_field, _sort_key).__getitem__)
        for key, direction in reversed(list(order.items())):
            name = key.upper() if fold_case else key
            keys = store.field_keys(kind, name, _sort_key)
            ids.sort(key=keys.__getitem__, reverse=str(direction).upper() == "DESC")
        return ids

    return arrange


def _stream_page(rows: Iterable[dict[str, Any]], start: int) -> Page:
    """``page_of`` of the rows ``rows`` yields, without making a list of them all."""
    if start == -1:
        return Page(list(itertools.islice(rows, PAGE)), 0, None)
    start = max(start, 0)
    chunk, total = [], 0
    for row in rows:
        if start <= total < start + PAGE:
            chunk.append(row)
        total += 1
    following = start + PAGE if start + PAGE < total else None
    return Page(chunk, total, following)


def select_page(
    store: Any,
    kind: str,
    conditions: dict[str, Any],
    order: dict[str, Any],
    start_param: Any,
    *,
    special: dict[str, Callable[[dict[str, Any], Any], bool]] | None = None,
    id_field: str = "ID",
    fold_case: bool = True,
) -> Page:
    """One page of the records of ``kind`` that pass ``conditions``, as ``page_of`` of the
    filtered and ordered table would give it, without copying or sorting the table per page:

    - no filter (or only a ``>ID`` keyset bound), ordered by id: a slice of the store's id list,
      ``total`` its length — flat in the table's size;
    - ordered by other fields: the table's order is computed once and kept until the table
      changes, so a page walks it (a filter tests the rows in that order; with no filter the
      page is a slice);
    - a plain equality narrows through the store's index, a ``>ID`` keyset starts where it
      says, a keyset page (``start=-1``) stops at its 50th match.

    The rows are the store's own: read them, never change them."""
    special = special or {}
    test = _compile(conditions, plain_getter, special, fold_case)
    indexed = _index_condition(conditions, {k.upper() for k in special}) if fold_case else None
    after = _after(conditions, id_field)
    start = as_int(start_param, 0)
    assert start is not None
    plain = [k for k in conditions if split_key(str(k))[1].upper() != id_field.upper()]
    by_id = _by_id(order, id_field)
    bare = _only_after(conditions, id_field)
    if by_id and bare:
        first = 0 if start == -1 else max(start, 0)
        total, rows = store.window(kind, after, first, first + PAGE)
        if start == -1:
            return Page(rows, 0, None)
        following = first + PAGE if first + PAGE < total else None
        return Page(rows, total, following)
    if indexed is not None:
        name, value = indexed
        candidates: Iterable[dict[str, Any]] = store.indexed(kind, name, value, after)
    else:
        candidates = store.scan(kind, after=after)
    if indexed is not None and len(plain) == 1 and after is None and start >= 0 and by_id:
        # a count of one indexed equality (the audit's counts by stage): the index answers it
        name, value = indexed
        total = store.count_indexed(kind, name, value)
        first_rows = list(itertools.islice(candidates, start, start + PAGE))
        following = start + PAGE if start + PAGE < total else None
        return Page(first_rows, total, following)
    if not by_id and indexed is not None:  # the equality's rows only, sorted as before
        matching = [r for r in candidates if test(r)]
        return page_of(apply_order(matching, order, id_field=id_field, fold_case=fold_case), start)
    if not by_id:
        spec = ("order", tuple((str(k), str(v)) for k, v in order.items()), id_field, fold_case)
        ids = store.derived(kind, spec, _order_of(store, kind, order, id_field, fold_case))
        if not conditions:
            first = 0 if start == -1 else max(start, 0)
            rows = list(store.records(kind, ids[first : first + PAGE]))
            if start == -1:
                return Page(rows, 0, None)
            following = first + PAGE if first + PAGE < len(ids) else None
            return Page(rows, len(ids), following)
        return _stream_page((r for r in store.records(kind, ids) if test(r)), start)
    return _stream_page((r for r in candidates if test(r)), start)


def page_of(rows: list[Any], start_param: Any) -> Page:
    """One page of 50: ``total`` counts every match; ``next`` only when more remain;
    ``start=-1`` skips the count (``total`` 0, no ``next``)."""
    start = as_int(start_param, 0)
    assert start is not None
    if start == -1:
        return Page(rows[:PAGE], 0, None)
    start = max(start, 0)
    chunk = rows[start : start + PAGE]
    following = start + PAGE if start + PAGE < len(rows) else None
    return Page(chunk, len(rows), following)


def equality(conditions: dict[str, Any], field: str) -> str | None:
    """The value a filter requires ``field`` to equal exactly (a plain string condition), so a
    list can start from the store's index instead of every row; None if there is none."""
    for key, value in conditions.items():
        op, name = split_key(str(key))
        if op in ("", "=") and name.upper() == field.upper() and isinstance(value, str):
            return value
    return None


def list_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """``filter``, ``order`` and ``select`` of a list call, validated like the portal does."""
    conditions = _checked(params, "filter")
    order = _checked(params, "order")
    raw_select = pick(params, "select")
    if raw_select is None:
        select: list[str] = []
    elif isinstance(raw_select, list):
        select = [str(s) for s in raw_select]
    elif isinstance(raw_select, dict):
        select = [str(s) for s in raw_select.values()]
    else:
        select = [str(raw_select)]
    return conditions, order, select


def _checked(params: dict[str, Any], name: str) -> dict[str, Any]:
    present = any(k.lower() == name for k in params)
    value = pick(params, name)
    if present and (value is None or isinstance(value, str | int | float)):
        raise legacy(f"Parameter '{name}' must be array.")
    return as_mapping(value, name)

"""HAL collections, paging and the list filters API v4 documents.

A list answers ``{"_page", "_links": {self, next, first, prev}, "_embedded": {<key>: [...]}}``;
``next`` only while another page exists; a page with nothing on it is ``204 No Content``
(docs:crm_platform/leads-api.md, error-codes.md code 2002). ``limit`` is cut to the page cap.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from crmkit.sandbox.amocrm.account import DEFAULT_LIMIT, PAGE_CAP, Account, Reply, Request
from crmkit.sandbox.amocrm.errors import AmoError
from crmkit.sandbox.store import Record


def _positive(value: Any, name: str, default: int) -> int:
    if value is None or value == "":
        return default
    text = str(value).strip()
    if not text.isdigit() or int(text) < 1:
        raise AmoError(400, f"{name} must be a positive integer")
    return int(text)


def page_params(request: Request, cap: int = PAGE_CAP) -> tuple[int, int]:
    page = _positive(request.query.get("page"), "page", 1)
    limit = _positive(request.query.get("limit"), "limit", DEFAULT_LIMIT)
    return page, min(limit, cap)


def _href(account: Account, request: Request, page: int, limit: int) -> dict[str, str]:
    kept = [
        (k, v)
        for k, v in parse_qsl(request.query_string, keep_blank_values=True)
        if k not in ("page", "limit")
    ]
    query = urlencode([*kept, ("limit", str(limit)), ("page", str(page))])
    return {"href": f"{account.base_url}{request.path}?{query}"}


def paged(
    account: Account,
    request: Request,
    key: str,
    rows: list[Any],
    cap: int = PAGE_CAP,
    shape: Callable[[Any], dict[str, Any]] = lambda r: r,
    total: bool = False,
) -> Reply:
    """One page of ``rows`` as a HAL collection under ``_embedded[key]``; 204 if it is empty.
    ``total`` adds ``_total_items`` and ``_page_count`` (custom fields carry them)."""
    page, limit = page_params(request, cap)
    chunk = rows[(page - 1) * limit : page * limit]
    if not chunk:
        return Reply(204)
    links = {"self": _href(account, request, page, limit)}
    if page * limit < len(rows):
        links["next"] = _href(account, request, page + 1, limit)
    if page > 1:
        links["first"] = _href(account, request, 1, limit)
        links["prev"] = _href(account, request, page - 1, limit)
    body: dict[str, Any] = {"_page": page, "_links": links}
    if total:
        body = {"_total_items": len(rows), "_page": page, "_page_count": -(-len(rows) // limit)}
        body["_links"] = links
    body["_embedded"] = {key: [shape(r) for r in chunk]}
    return Reply(200, body)


def collection(account: Account, path: str, key: str, items: list[dict[str, Any]]) -> Reply:
    """An unpaged collection (pipelines, statuses, the results of a batch)."""
    return Reply(
        200,
        {"_total_items": len(items), "_links": account.link(path), "_embedded": {key: items}},
    )


# --- filters (docs:crm_platform/filters-api.md, tasks-api.md, events-and-notes.md)
def values(value: Any) -> list[str]:
    """A filter value as texts: one value, a list (``x[]=1&x[]=2``) or indexed keys."""
    if value is None:
        return []
    if isinstance(value, dict):
        return [str(v) for v in value.values() if not isinstance(v, (dict, list))]
    if isinstance(value, list):
        return [str(v) for v in value if not isinstance(v, (dict, list))]
    return [str(value)]


def members(value: Any) -> list[Any]:
    """The members of an array parameter, from a list or from indexed keys."""
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        return list(value.values())
    return []


def _number(text: Any, name: str) -> int:
    stripped = str(text).strip()
    if not stripped.lstrip("-").isdigit():
        raise AmoError(400, f"filter[{name}] must be a number")
    return int(stripped)


def in_range(value: Any, condition: Any, name: str, since_scalar: bool = False) -> bool:
    """A range filter ``{from, to}`` (both ends included); ``since_scalar``: a bare timestamp
    means "from then on" (tasks' and events' ``updated_at``/``created_at``)."""
    if isinstance(condition, dict) and ("from" in condition or "to" in condition):
        low = condition.get("from")
        high = condition.get("to")
    elif since_scalar and not isinstance(condition, (dict, list)):
        low, high = condition, None
    else:
        raise AmoError(400, f"filter[{name}] must be a range: [from] and [to]")
    if value is None:
        return False
    if low not in (None, "") and value < _number(low, name):
        return False
    return not (high not in (None, "") and value > _number(high, name))


def matcher(
    filters: dict[str, Any],
    exact: Iterable[str] = (),
    ranges: Iterable[str] = (),
    since: Iterable[str] = (),
) -> Callable[[Record], bool]:
    """A test for the ``exact`` (one or many values) and ``ranges`` filters present."""
    tests: list[Callable[[Record], bool]] = []
    for name in exact:
        if name in filters:
            wanted = set(values(filters[name]))
            tests.append(lambda r, n=name, w=wanted: str(r.get(n)) in w)  # type: ignore[misc]
    for name in ranges:
        if name in filters:
            cond = filters[name]
            tests.append(lambda r, n=name, c=cond: in_range(r.get(n), c, n))  # type: ignore[misc]
    for name in since:
        if name in filters:
            cond = filters[name]
            tests.append(
                lambda r, n=name, c=cond: in_range(r.get(n), c, n, since_scalar=True)  # type: ignore[misc]
            )
    return lambda r: all(test(r) for test in tests)


def ordered(rows: list[Record], request: Request, allowed: Iterable[str]) -> list[Record]:
    """``order[field]=asc|desc`` over the ``allowed`` fields; id ascending otherwise."""
    order = request.query.get("order")
    rows = sorted(rows, key=lambda r: r["id"])
    if not isinstance(order, dict):
        return rows
    for name, direction in reversed(list(order.items())):
        if name not in allowed or str(direction).lower() not in ("asc", "desc"):
            raise AmoError(400, f"order[{name}] is not supported")
        rows.sort(key=lambda r, n=name: (r.get(n) is None, r.get(n) or 0), reverse=False)  # type: ignore[misc]
        if str(direction).lower() == "desc":
            rows.reverse()
    return rows


def filters_of(request: Request) -> dict[str, Any]:
    found = request.query.get("filter")
    if found is None:
        return {}
    if not isinstance(found, dict):
        raise AmoError(400, "filter must be an object")
    return found

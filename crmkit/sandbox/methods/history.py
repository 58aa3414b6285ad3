"""``crm.stagehistory.list``: when each lead and deal entered each stage (docs:
api-reference/crm/crm-stage-history-list.md, BITRIX24.md §7.5).

A row is written when an item is created (``TYPE_ID`` 1), moved to an intermediate stage (2) or
to a final one (3), or moved to another pipeline (5). Lead rows carry ``STATUS_ID`` and
``STATUS_SEMANTIC_ID``; deal rows ``CATEGORY_ID``, ``STAGE_ID`` and ``STAGE_SEMANTIC_ID``; ids
are numbers. The answer is ``{"items": [...]}`` with ``total`` and ``next``; ``start=-1``
pages by keyset like the other lists.
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import ApiError
from crmkit.sandbox.listing import Page, list_params, select_page, split_key
from crmkit.sandbox.params import as_int, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.store import Record, Store

registry = Registry()

CREATED, MOVED, FINAL, FUNNEL = 1, 2, 3, 5
_COMMON = ("ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME")
FIELDS = {
    1: (*_COMMON, "STATUS_ID", "STATUS_SEMANTIC_ID"),
    2: (*_COMMON, "CATEGORY_ID", "STAGE_ID", "STAGE_SEMANTIC_ID"),
}


def kind_of(entity_type_id: int) -> str:
    return f"history{entity_type_id}"


def history_row(rid: int, entity_type_id: int, type_id: int, item: Record, moment: str) -> Record:
    """One row of the history of lead or deal ``item`` (as the store keeps it)."""
    row: Record = {"ID": rid, "TYPE_ID": type_id, "OWNER_ID": item["ID"], "CREATED_TIME": moment}
    if entity_type_id == 1:
        row["STATUS_ID"] = item.get("STATUS_ID")
        row["STATUS_SEMANTIC_ID"] = item.get("STATUS_SEMANTIC_ID") or "P"
    else:
        row["CATEGORY_ID"] = item.get("CATEGORY_ID") or 0
        row["STAGE_ID"] = item.get("STAGE_ID")
        row["STAGE_SEMANTIC_ID"] = item.get("STAGE_SEMANTIC_ID") or "P"
    return row


def record_history(store: Store, kind: str, item: Record, type_id: int, moment: str) -> None:
    """Write the row a change of a lead's or deal's stage leaves."""
    etid = {"lead": 1, "deal": 2}.get(kind)
    if etid is None:
        return
    rid = store.new_id("history")
    store.put(kind_of(etid), rid, history_row(rid, etid, type_id, item, moment))


def move_type(semantic: str) -> int:
    return FINAL if semantic in ("S", "F") else MOVED


def _checked(entity_type_id: int, conditions: dict[str, Any], order: dict[str, Any]) -> None:
    allowed = set(FIELDS[entity_type_id])
    for key in conditions:
        _op, name = split_key(str(key))
        if name.upper() not in allowed:
            raise ApiError(
                "INVALID_ARG_VALUE", f"Invalid filter: field '{name}' is not allowed in filter"
            )
    for key, direction in order.items():
        if str(key).upper() not in allowed:
            raise ApiError(
                "INVALID_ARG_VALUE", f"Invalid order: field '{key}' is not allowed in order"
            )
        if str(direction).upper() not in ("ASC", "DESC"):
            raise ApiError(
                "INVALID_ARG_VALUE",
                "Invalid order: allowed sort directions are `ASC, DESC`. "
                f"But got '{direction}' for field '{key}'",
            )


@registry.method("crm.stagehistory.list")
def stagehistory_list(portal: Portal, params: dict[str, Any]) -> Page:
    etid = as_int(pick(params, "entityTypeId"))
    if etid not in FIELDS:
        raise ApiError(
            "ENTITY_TYPE_NOT_SUPPORTED",
            f"Entity type `{pick(params, 'entityTypeId')}` is not supported",
        )
    conditions, order, select = list_params(params)
    _checked(etid, conditions, order)
    page = select_page(
        portal.store, kind_of(etid), conditions, order or {"ID": "ASC"}, pick(params, "start")
    )
    wanted = [s.upper() for s in select] or list(FIELDS[etid])
    items = [
        {k: row.get(k) for k in FIELDS[etid] if k in wanted or k == "ID"} for row in page.result
    ]
    return Page({"items": items}, page.total, page.next)

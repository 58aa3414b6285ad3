"""The deprecated deal-pipeline methods ``crm.dealcategory.*`` (docs:
api-reference/crm/outdated/category-old/): the same pipelines as ``crm.category.*`` with
``entityTypeId`` 2, in the legacy shape (upper-case keys, numbers as strings).

The pages show no answers but ``default.get`` (``{ID: 0, NAME}``); ``list`` leaves the default
pipeline out (client code always merges ``default.get`` into it); ``stage.list`` of an id that
does not exist returns nothing; ``status`` gives the stages' ENTITY_ID.
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import legacy
from crmkit.sandbox.listing import Page, apply_filter, apply_order, list_params, page_of
from crmkit.sandbox.methods import category as categories
from crmkit.sandbox.methods.status import render
from crmkit.sandbox.params import as_int, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import DEAL, describe, stage_entity_id, statuses_of
from crmkit.sandbox.store import Record

registry = Registry()


def _legacy(row: Record) -> dict[str, Any]:
    return {
        "ID": str(row["id"]),
        "CREATED_DATE": row.get("_created") or "",
        "NAME": row["name"],
        "IS_LOCKED": "N",
        "SORT": str(row["sort"]),
    }


def _row(portal: Portal, params: dict[str, Any]) -> Record:
    cid = as_int(pick(params, "id"))
    row = portal.store.get("category", cid) if cid is not None and cid > 0 else None
    if row is None or row["entityTypeId"] != DEAL:
        raise legacy("Not found")
    return row


def _as_new(params: dict[str, Any], cid: Any = None) -> dict[str, Any]:
    fields = pick(params, "fields")
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    new: dict[str, Any] = {}
    if "NAME" in fields:
        new["name"] = fields["NAME"]
    if "SORT" in fields:
        new["sort"] = fields["SORT"]
    out: dict[str, Any] = {"entityTypeId": DEAL, "fields": new}
    if cid is not None:
        out["id"] = cid
    return out


@registry.method("crm.dealcategory.list")
def dealcategory_list(portal: Portal, params: dict[str, Any]) -> Page:
    conditions, order, _select = list_params(params)
    rows = [_legacy(c) for c in categories.categories_of(portal, DEAL) if c["id"] != 0]
    rows = apply_order(apply_filter(rows, conditions), order or {"SORT": "ASC"})
    return page_of(rows, pick(params, "start"))


@registry.method("crm.dealcategory.get")
def dealcategory_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    return _legacy(_row(portal, params))


@registry.method("crm.dealcategory.add")
def dealcategory_add(portal: Portal, params: dict[str, Any]) -> int:
    made = categories.category_add(portal, _as_new(params))
    cid = int(made["category"]["id"])
    row = portal.store.get("category", cid)
    assert row is not None
    row["_created"] = portal.now_iso()
    portal.store.put("category", cid, row)
    return cid


@registry.method("crm.dealcategory.update")
def dealcategory_update(portal: Portal, params: dict[str, Any]) -> bool:
    row = _row(portal, params)
    categories.category_update(portal, _as_new(params, row["id"]))
    return True


@registry.method("crm.dealcategory.delete")
def dealcategory_delete(portal: Portal, params: dict[str, Any]) -> bool:
    row = _row(portal, params)
    categories.category_delete(portal, {"entityTypeId": DEAL, "id": row["id"]})
    return True


@registry.method("crm.dealcategory.fields")
def dealcategory_fields(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    meta = {
        "CREATED_DATE": ("datetime", True, False),
        "ID": ("integer", True, False),
        "IS_LOCKED": ("char", True, False),
        "NAME": ("string", False, True),
        "SORT": ("integer", False, False),
    }
    return {
        name: {
            "type": kind,
            "isRequired": required,
            "isReadOnly": read_only,
            "isImmutable": False,
            "isMultiple": False,
            "isDynamic": False,
            "title": name,
        }
        for name, (kind, read_only, required) in meta.items()
    }


@registry.method("crm.dealcategory.default.get")
def dealcategory_default_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    row = portal.store.get("category", 0)
    return {"ID": 0, "NAME": row["name"] if row else ""}


@registry.method("crm.dealcategory.default.set")
def dealcategory_default_set(portal: Portal, params: dict[str, Any]) -> bool:
    categories.category_update(
        portal, {"entityTypeId": DEAL, "id": 0, "fields": {"name": pick(params, "name")}}
    )
    return True


@registry.method("crm.dealcategory.status")
def dealcategory_status(portal: Portal, params: dict[str, Any]) -> str:
    return stage_entity_id(DEAL, as_int(pick(params, "id"), 0) or 0)


@registry.method("crm.dealcategory.stage.list")
def dealcategory_stage_list(portal: Portal, params: dict[str, Any]) -> list[dict[str, Any]]:
    entity_id = stage_entity_id(DEAL, as_int(pick(params, "id"), 0) or 0)
    dictionary = describe(portal.store, entity_id)
    if dictionary is None:
        return []  # an id that does not exist "returns nothing"
    return [render(row, dictionary) for row in statuses_of(portal.store, entity_id)]

"""``crm.type.*``: smart processes. A new type gets a default funnel with default stages."""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import ApiError
from crmkit.sandbox.listing import Page, apply_filter, apply_order, list_params, page_of
from crmkit.sandbox.methods.category import required
from crmkit.sandbox.params import as_int, as_yn, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import (
    SMART_STAGES,
    create_default_stages,
    default_category_record,
    default_funnel_name,
    describe,
    stage_entity_id,
)
from crmkit.sandbox.store import Record

registry = Registry()


def _admin_only(portal: Portal) -> None:
    """Listing and changing smart processes needs a CRM administrator (crm-type-list.md)."""
    if not portal.admin:
        raise ApiError("ACCESS_DENIED", "Access denied", 400)


FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isBeginCloseDatesEnabled",
    "isClientEnabled",
    "isLinkWithProductsEnabled",
    "isMycompanyEnabled",
    "isDocumentsEnabled",
    "isSourceEnabled",
    "isObserversEnabled",
    "isRecyclebinEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
    "isUseInUserfieldEnabled",
    "isSetOpenPermissions",
    "isPaymentsEnabled",
    "isCountersEnabled",
)
_DEFAULT_ON = {"isSetOpenPermissions"}


def _allowed(etid: int) -> bool:
    return 128 <= etid <= 192 or (etid >= 1030 and etid % 2 == 0)


def _next_entity_type_id(used: set[int]) -> int:
    for etid in range(128, 193):
        if etid not in used:
            return etid
    etid = 1030
    while etid in used:
        etid += 2
    return etid


def _true_false(value: Any) -> bool:
    # relations and linkedUserFields take the strings "true"/"false"; Y/N do not work
    return isinstance(value, bool) and value or str(value).strip().lower() == "true"


def _relations(value: Any) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"parent": [], "child": []}
    if not isinstance(value, dict):
        return out
    for side in ("parent", "child"):
        entries = value.get(side) or []
        if isinstance(entries, dict):
            entries = list(entries.values())
        for entry in entries:
            if isinstance(entry, dict) and as_int(entry.get("entityTypeId")) is not None:
                enabled = _true_false(entry.get("isChildrenListEnabled"))
                out[side].append(
                    {
                        "entityTypeId": as_int(entry.get("entityTypeId")),
                        "isChildrenListEnabled": "Y" if enabled else "N",
                        "isPredefined": "N",
                    }
                )
    return out


def _linked(value: Any, enabled: bool) -> dict[str, str]:
    if not enabled or not isinstance(value, dict):
        return {}
    return {str(k): "Y" if _true_false(v) else "N" for k, v in value.items()}


def _find(portal: Portal, params: dict[str, Any], missing: str = "SPA not found") -> Record:
    """The type of ``id``; unknown: code 0 (a number in the docs), text per method (§7.3)."""
    rid = as_int(required(params, "id"))
    row = portal.store.get("type", rid) if rid is not None else None
    if row is None:
        raise ApiError(0, missing)
    return row


@registry.method("crm.type.add")
def type_add(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _admin_only(portal)
    fields = pick(params, "fields")
    if not isinstance(fields, dict) or not fields:
        raise ApiError("100", "Could not find value for parameter {fields}")
    title = str(fields.get("title") or "").strip()
    if not title:
        raise ApiError("0", "Field 'title' is required")
    used = {t["entityTypeId"] for t in portal.store.rows("type")}
    etid = as_int(fields.get("entityTypeId"))
    if etid is None:
        etid = _next_entity_type_id(used)
    elif not _allowed(etid) or etid in used:
        raise ApiError("INVALID_ARG_VALUE", "entityTypeId is out of allowed range")
    rid = portal.store.new_id("type")
    now = portal.now_iso()
    record: Record = {
        "id": rid,
        "title": title,
        "code": fields.get("code"),
        "createdBy": portal.user_id,
        "entityTypeId": etid,
        "customSectionId": None,
        "createdTime": now,
        "updatedTime": now,
        "updatedBy": portal.user_id,
    }
    for flag in FLAGS:
        record[flag] = as_yn(fields.get(flag), "Y" if flag in _DEFAULT_ON else "N")
    record["relations"] = _relations(fields.get("relations"))
    record["linkedUserFields"] = _linked(
        fields.get("linkedUserFields"), record["isUseInUserfieldEnabled"] == "Y"
    )
    with portal.store.transaction():
        portal.store.put("type", rid, record)
        cid = portal.store.new_id("category")
        name = default_funnel_name(portal.store)
        portal.store.put("category", cid, default_category_record(etid, cid, name, 500, True))
        dictionary = describe(portal.store, stage_entity_id(etid, cid))
        assert dictionary is not None
        create_default_stages(portal.store, dictionary, SMART_STAGES)
    return {"type": record}


@registry.method("crm.type.update")
def type_update(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _admin_only(portal)
    rid = as_int(pick(params, "id"))
    row = portal.store.get("type", rid) if rid is not None else None
    if row is None:
        raise ApiError(0, "SPA not found")  # the docs show a numeric 0 here
    fields = pick(params, "fields")
    if not isinstance(fields, dict):
        raise ApiError("100", "Could not find value for parameter {fields}")
    if "title" in fields:
        title = str(fields["title"] or "").strip()
        if not title:
            raise ApiError("0", "Field 'title' is required")
        row["title"] = title
    for flag in FLAGS:
        if flag in fields:
            row[flag] = as_yn(fields[flag], row[flag])
    if "relations" in fields:
        row["relations"] = _relations(fields["relations"])
    if "linkedUserFields" in fields:
        row["linkedUserFields"] = _linked(
            fields["linkedUserFields"], row["isUseInUserfieldEnabled"] == "Y"
        )
    row["updatedTime"] = portal.now_iso()
    row["updatedBy"] = portal.user_id
    portal.store.put("type", row["id"], row)
    return {"type": row}


@registry.method("crm.type.get")
def type_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    return {"type": _find(portal, params)}


@registry.method("crm.type.getByEntityTypeId")
def type_by_entity(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    etid = as_int(required(params, "entityTypeId"))
    row = next((t for t in portal.store.rows("type") if t["entityTypeId"] == etid), None)
    if row is None:
        raise ApiError(0, "Smart process not found")
    return {"type": row}


@registry.method("crm.type.list")
def type_list(portal: Portal, params: dict[str, Any]) -> Page:
    _admin_only(portal)
    conditions, order, _ = list_params(params)
    rows = apply_filter(portal.store.rows("type"), conditions, fold_case=False)
    rows = apply_order(rows, order, id_field="id", fold_case=False)
    page = page_of(rows, pick(params, "start"))
    return Page({"types": page.result}, page.total, page.next)


@registry.method("crm.type.delete")
def type_delete(portal: Portal, params: dict[str, Any]) -> list[Any]:
    _admin_only(portal)
    row = _find(portal, params, "Smart process not found")
    etid = row["entityTypeId"]
    if portal.store.count(f"item{etid}"):
        raise ApiError("BX_ERROR", "You cannot delete an entity type that has elements")
    with portal.store.transaction():
        for category in portal.store.rows("category"):
            if category["entityTypeId"] == etid:
                entity_id = stage_entity_id(etid, category["id"])
                for status in portal.store.rows("status"):
                    if status["ENTITY_ID"] == entity_id:
                        portal.store.delete("status", status["ID"])
                portal.store.delete("category", category["id"])
        for field in portal.store.rows("userfield"):
            if field["ENTITY_ID"] == f"CRM_{row['id']}":
                portal.store.delete("userfield", field["ID"])
        portal.store.delete("type", row["id"])
    return []

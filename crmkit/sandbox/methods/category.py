"""``crm.category.*``: pipelines (funnels) of deals and smart processes.

New-family shapes: numbers, camelCase, answers wrapped in ``{"category": …}`` /
``{"categories": […]}``. A new pipeline comes with its default stages at once, and the same
name may be added twice (no duplicate check, BITRIX24.md §5.15).
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import ApiError
from crmkit.sandbox.listing import Page
from crmkit.sandbox.params import as_int, as_yn, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import (
    COMPANY,
    CONTACT,
    DEAL,
    DEAL_STAGES,
    LEAD,
    SMART_STAGES,
    create_default_stages,
    default_category_record,
    default_funnel_name,
    describe,
    smart_type,
    stage_entity_id,
)
from crmkit.sandbox.store import Record

registry = Registry()

_NAMES = {LEAD: "Lead", DEAL: "Deal", CONTACT: "Contact", COMPANY: "Company", 7: "Quote"}


def required(params: dict[str, Any], name: str) -> Any:
    value = pick(params, name)
    if value is None or value == "":
        raise ApiError("100", f"Could not find value for parameter {{{name}}}")
    return value


def entity_type(portal: Portal, params: dict[str, Any]) -> int:
    """The ``entityTypeId`` of a call, checked: funnels exist for deals, contacts, companies and
    smart processes with categories enabled."""
    etid = as_int(required(params, "entityTypeId"))
    if etid is None:
        raise ApiError("NOT_FOUND", "Smart process not found")
    if etid in (DEAL, CONTACT, COMPANY):
        return etid
    if etid in _NAMES:  # a CRM object without funnels (leads, quotes)
        raise ApiError(
            "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type `{_NAMES[etid]}` is not supported"
        )
    # any other number must be a smart process's entityTypeId; its row ``id`` passed by
    # mistake is NOT_FOUND too (how-to-add-category-to-spa.md)
    kind = smart_type(portal.store, etid)
    if kind is None:
        raise ApiError("NOT_FOUND", "Smart process not found")
    if kind.get("isCategoriesEnabled") != "Y":
        raise ApiError(
            "ENTITY_TYPE_NOT_SUPPORTED", f"Entity type `{kind['title']}` is not supported"
        )
    return etid


def categories_of(portal: Portal, etid: int) -> list[Record]:
    rows = portal.store.find("category", entityTypeId=etid)
    if etid in (CONTACT, COMPANY) and not any(c["id"] == 0 for c in rows):
        # contacts and companies always have their default funnel with id 0 as well
        rows.insert(0, default_category_record(etid, 0, default_funnel_name(portal.store), 0, True))
    return sorted(rows, key=lambda c: (c["sort"], c["id"]))


def _find(portal: Portal, etid: int, params: dict[str, Any]) -> Record:
    cid = as_int(required(params, "id"))
    found = next((c for c in categories_of(portal, etid) if c["id"] == cid), None)
    if found is None:
        raise ApiError("NOT_FOUND", "Element not found")
    return found


def public(row: Record) -> dict[str, Any]:
    return {k: row[k] for k in row if not k.startswith("_")}


def _clean_name(value: Any) -> str:
    name = str(value if value is not None else "").strip()
    if len(name) > 255:
        raise ApiError("0", "Field 'NAME' must be no longer than 255 characters")
    return name


@registry.method("crm.category.list")
def category_list(portal: Portal, params: dict[str, Any]) -> Page:
    etid = entity_type(portal, params)
    rows = [public(c) for c in categories_of(portal, etid)]
    return Page({"categories": rows}, len(rows))


@registry.method("crm.category.get")
def category_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    etid = entity_type(portal, params)
    return {"category": public(_find(portal, etid, params))}


@registry.method("crm.category.add")
def category_add(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    etid = entity_type(portal, params)
    fields = required(params, "fields")
    if not isinstance(fields, dict):
        raise ApiError("100", "Could not find value for parameter {fields}")
    name = _clean_name(fields.get("name"))
    if not name:
        raise ApiError("0", "Field 'NAME' is required")
    sort = max(as_int(fields.get("sort"), 500) or 0, 0)
    default = as_yn(fields.get("isDefault")) == "Y" and etid not in (DEAL, CONTACT, COMPANY)
    cid = portal.store.new_id("category")
    if default:
        _demote_defaults(portal, etid)
    record = default_category_record(etid, cid, name, sort, default)
    portal.store.put("category", cid, record)
    dictionary = describe(portal.store, stage_entity_id(etid, cid))
    if dictionary is not None:  # deal and smart-process funnels come with their stages
        create_default_stages(
            portal.store, dictionary, DEAL_STAGES if etid == DEAL else SMART_STAGES
        )
    return {"category": public(record)}


def _demote_defaults(portal: Portal, etid: int) -> None:
    for other in portal.store.find("category", entityTypeId=etid, isDefault="Y"):
        other["isDefault"] = "N"
        portal.store.put("category", other["id"], other)


@registry.method("crm.category.update")
def category_update(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    etid = entity_type(portal, params)
    row = _find(portal, etid, params)
    fields = required(params, "fields")
    if not isinstance(fields, dict):
        raise ApiError("100", "Could not find value for parameter {fields}")
    if "name" in fields:
        name = _clean_name(fields["name"])
        if not name:
            raise ApiError("0", "Field 'NAME' is required")
        row["name"] = name
    if "sort" in fields:
        row["sort"] = max(as_int(fields["sort"], row["sort"]) or 0, 0)
    smart = etid not in (DEAL, CONTACT, COMPANY)
    # isDefault changes only for smart processes, and only towards "Y" (the old one is demoted)
    if smart and as_yn(fields.get("isDefault")) == "Y" and row["isDefault"] != "Y":
        _demote_defaults(portal, etid)
        row["isDefault"] = "Y"
    if not (row["id"] == 0 and etid in (CONTACT, COMPANY)):
        # the contact/company default funnel is synthetic (id 0 belongs to deals in the store)
        portal.store.put("category", row["id"], row)
    return {"category": public(row)}


@registry.method("crm.category.delete")
def category_delete(portal: Portal, params: dict[str, Any]) -> None:
    etid = entity_type(portal, params)
    row = _find(portal, etid, params)
    cid = row["id"]
    if etid == DEAL:
        if cid == 0:
            raise ApiError("0", "Default deal category cannot be deleted")
        if portal.store.exists("deal", CATEGORY_ID=cid):
            raise ApiError("0", "Deals related to the funnel found")
    elif etid in (CONTACT, COMPANY):
        if row["isDefault"] == "Y":
            raise ApiError("BX_ERROR", "This funnel is the default funnel")
    else:
        if row["isDefault"] == "Y":
            raise ApiError("BX_ERROR", "This funnel is the default funnel")
        if portal.store.exists(f"item{etid}", categoryId=cid):
            raise ApiError("BX_ERROR", "Elements related to the funnel found")
    entity_id = stage_entity_id(etid, cid)
    with portal.store.transaction():
        for status in portal.store.find("status", ENTITY_ID=entity_id):
            portal.store.delete("status", status["ID"])
        portal.store.delete("category", cid)
    return None

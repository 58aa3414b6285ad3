"""``crm.status.*``: dictionaries and stages, with the code, semantics and deletion rules."""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import ApiError, legacy
from crmkit.sandbox.listing import Page, apply_filter, apply_order, equality, list_params
from crmkit.sandbox.params import as_int, as_mapping, as_yn, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import (
    DEAL,
    LEAD,
    STRICT_CHARSET,
    Dictionary,
    add_status,
    all_dictionaries,
    describe,
    items_in_stage,
    prefixed,
    statuses_of,
)
from crmkit.sandbox.store import Record

registry = Registry()

_EXTRA = {"S": "success", "F": "failure", None: "process"}
_DEFAULT_COLORS = {"S": "#7BD500", "F": "#FF5752", None: "#ACE9FB"}
AFTER_SUCCESS = (
    "Cannot create more stages after the final stage because the final successful stage "
    "already exists."
)


def render(row: Record, dictionary: Dictionary | None) -> dict[str, Any]:
    """The legacy shape: strings for numbers, ``SEMANTICS`` null for in-progress stages."""
    out: dict[str, Any] = {
        "ID": str(row["ID"]),
        "ENTITY_ID": row["ENTITY_ID"],
        "STATUS_ID": row["STATUS_ID"],
        "NAME": row["NAME"],
        "NAME_INIT": row["NAME_INIT"],
        "SORT": str(row["SORT"]),
        "SYSTEM": row["SYSTEM"],
        "CATEGORY_ID": None if not row["CATEGORY_ID"] else str(row["CATEGORY_ID"]),
        "COLOR": row["COLOR"],
        "SEMANTICS": row["SEMANTICS"],
    }
    if dictionary is not None and dictionary.is_stage:
        semantics = row.get("EXTRA_SEMANTICS") or _EXTRA.get(row["SEMANTICS"], "process")
        out["EXTRA"] = {"SEMANTICS": semantics, "COLOR": row["COLOR"]}
    return out


def _row_by_id(portal: Portal, params: dict[str, Any]) -> Record:
    rid = as_int(pick(params, "id"))
    if rid is None or rid <= 0:
        raise legacy("Invalid identifier.")
    row = portal.store.get("status", rid)
    if row is None:
        raise legacy("Status is not found.")
    return row


@registry.method("crm.status.list")
def status_list(portal: Portal, params: dict[str, Any]) -> Page:
    conditions, order, _ = list_params(params)
    dictionaries: dict[str, Dictionary | None] = {}
    rows = []
    wanted = equality(conditions, "ENTITY_ID")
    found = portal.store.find("status", ENTITY_ID=wanted) if wanted else portal.store.rows("status")
    for row in found:
        entity_id = row["ENTITY_ID"]
        if entity_id not in dictionaries:
            dictionaries[entity_id] = describe(portal.store, entity_id)
        rows.append(render(row, dictionaries[entity_id]))
    rows = apply_filter(rows, conditions)
    rows = apply_order(rows, order or {"SORT": "ASC"})
    # the whole dictionary in one answer: crm.status.list does not page (BITRIX24.md §1.5)
    return Page(rows, len(rows))


@registry.method("crm.status.get")
def status_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    row = _row_by_id(portal, params)
    return render(row, describe(portal.store, row["ENTITY_ID"]))


@registry.method("crm.status.add")
def status_add(portal: Portal, params: dict[str, Any]) -> int:
    fields = pick(params, "fields")
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    entity_id = str(fields.get("ENTITY_ID") or "").strip()
    code = str(fields.get("STATUS_ID") or "").strip()
    name = str(fields.get("NAME") or "").strip()
    missing = []
    if not entity_id:
        missing.append("The field ENTITY_ID is required.")
    if not code:
        missing.append("The field STATUS_ID is required.")
    if missing:
        raise legacy(*missing)
    dictionary = describe(portal.store, entity_id)
    if dictionary is None:
        raise legacy("Specified entity type is not supported.")
    if not name:
        raise legacy("The field Title is required.")
    code = prefixed(dictionary, code)
    if dictionary.strict and not STRICT_CHARSET.match(code.split(":", 1)[-1]):
        raise legacy(
            "The field STATUS_ID may contain only Latin letters, digits, hyphens and underscores."
        )
    if len(code) > dictionary.max_len:
        raise legacy(f"The field STATUS_ID must not exceed {dictionary.max_len} characters.")
    existing = statuses_of(portal.store, entity_id)
    if any(r["STATUS_ID"] == code for r in existing):
        raise ApiError("ERROR_CORE", "The specified status ID already exists.")
    sort = as_int(fields.get("SORT"), 10)
    assert sort is not None
    semantics: str | None = None
    if dictionary.is_stage:
        raw = str(fields.get("SEMANTICS") or "").upper()
        semantics = raw if raw in ("S", "F") else None
        success = [r for r in existing if r["SEMANTICS"] == "S"]
        if semantics == "S" and success:
            raise legacy("The final successful stage already exists.")
        if semantics is None and success and sort > success[0]["SORT"]:
            raise legacy(AFTER_SUCCESS)
    color = fields.get("COLOR")
    if not color and dictionary.is_stage:
        color = _DEFAULT_COLORS[semantics]
    # REST never creates system rows (crm/status/index.md)
    return add_status(
        portal.store,
        dictionary,
        code,
        name,
        sort,
        color=str(color) if color else None,
        semantics=semantics,
    )


@registry.method("crm.status.update")
def status_update(portal: Portal, params: dict[str, Any]) -> bool:
    row = _row_by_id(portal, params)
    fields = pick(params, "fields")
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    # STATUS_ID, ENTITY_ID, SEMANTICS and the rest are immutable: silently ignored
    if "NAME" in fields:
        name = str(fields["NAME"] or "").strip()
        if not name:
            raise legacy("The field Title is required.")
        row["NAME"] = name
    if "SORT" in fields:
        sort = as_int(fields["SORT"])
        if sort is not None:
            row["SORT"] = sort
    if "COLOR" in fields:
        row["COLOR"] = str(fields["COLOR"]) if fields["COLOR"] else row["COLOR"]
    portal.store.put("status", row["ID"], row)
    return True


@registry.method("crm.status.delete")
def status_delete(portal: Portal, params: dict[str, Any]) -> bool:
    row = _row_by_id(portal, params)
    options = as_mapping(pick(params, "params"), "params")
    forced = as_yn(options.get("FORCED")) == "Y"
    if row["SYSTEM"] == "Y" and not forced:
        raise legacy(
            "CRM System Status can be deleted only if parameter FORCED is specified and equal "
            'to "Y".'
        )
    dictionary = describe(portal.store, row["ENTITY_ID"])
    if dictionary is not None and items_in_stage(portal.store, dictionary, row["STATUS_ID"]):
        raise legacy("There are active items in this status.")
    if dictionary is not None and dictionary.is_stage:
        # a funnel keeps a stage of each group and its one success stage, FORCED or not
        # (how-to-add-category-to-spa.md step 3; the refusal's text is undocumented)
        group = [
            r
            for r in statuses_of(portal.store, row["ENTITY_ID"])
            if r["SEMANTICS"] == row["SEMANTICS"]
        ]
        if len(group) <= 1:
            raise legacy(
                "The last stage of a group (in progress, success, failure) cannot be deleted."
            )
    portal.store.delete("status", row["ID"])
    return True


_FIELD_META = {
    "ID": ("integer", True, False, False),
    "ENTITY_ID": ("string", False, True, True),
    "STATUS_ID": ("string", False, True, True),
    "SORT": ("integer", False, False, False),
    "NAME": ("string", False, False, True),
    "NAME_INIT": ("string", True, False, False),
    "SYSTEM": ("char", True, False, False),
    "CATEGORY_ID": ("integer", False, True, False),
    "COLOR": ("string", False, False, False),
    "SEMANTICS": ("string", False, True, False),
    "EXTRA": ("crm_status_extra", False, False, False),
}


@registry.method("crm.status.fields")
def status_fields(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    return {
        name: {
            "type": kind,
            "isRequired": required,
            "isReadOnly": read_only,
            "isImmutable": immutable,
            "isMultiple": False,
            "isDynamic": False,
            "title": name,
        }
        for name, (kind, read_only, immutable, required) in _FIELD_META.items()
    }


@registry.method("crm.status.entity.types")
def status_entity_types(portal: Portal, params: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for dictionary in all_dictionaries(portal.store):
        row: dict[str, Any] = {"ID": dictionary.entity_id, "NAME": dictionary.name}
        if dictionary.is_stage:
            stages = statuses_of(portal.store, dictionary.entity_id)
            legacy_entity = dictionary.entity_type_id in (LEAD, DEAL)
            row["SEMANTIC_INFO"] = _semantic_info(stages) if legacy_entity else []
            if dictionary.prefix:
                row["PREFIX"] = dictionary.prefix
            row["FIELD_ATTRIBUTE_SCOPE"] = dictionary.prefix
            row["ENTITY_TYPE_ID"] = dictionary.entity_type_id
            if dictionary.category_id is not None:
                category = portal.store.get("category", dictionary.category_id)
                row["CATEGORY_ID"] = dictionary.category_id
                if category is not None:
                    row["CATEGORY_NAME"] = category["name"]
                    row["CATEGORY_SORT"] = category["sort"]
                    row["IS_DEFAULT_CATEGORY"] = category["isDefault"] == "Y"
        out.append(row)
    return out


def _semantic_info(stages: list[Record]) -> dict[str, str]:
    start = next((r for r in stages if r["SEMANTICS"] is None), None)
    success = next((r for r in stages if r["SEMANTICS"] == "S"), None)
    failure = next((r for r in stages if r["SEMANTICS"] == "F"), None)
    return {
        "START_FIELD": start["STATUS_ID"] if start else "",
        "FINAL_SUCCESS_FIELD": success["STATUS_ID"] if success else "",
        "FINAL_UNSUCCESS_FIELD": failure["STATUS_ID"] if failure else "",
        "FINAL_SORT": str(success["SORT"]) if success else "0",
    }


@registry.method("crm.status.entity.items")
def status_entity_items(portal: Portal, params: dict[str, Any]) -> list[dict[str, Any]]:
    entity_id = str(pick(params, "entityId") or "")
    if describe(portal.store, entity_id) is None:
        raise legacy("Specified entity type is not supported.")
    return [
        {"NAME": r["NAME"], "SORT": r["SORT"], "STATUS_ID": r["STATUS_ID"]}
        for r in statuses_of(portal.store, entity_id)
    ]

"""CRM records: leads, deals, contacts, companies, activities (legacy family, UPPER_CASE,
string values) and ``crm.item.*`` (camelCase, numbers) over the same rows and smart processes.

Enough to fill a portal and read it back for an audit: add/get/update/delete and the list
methods with filters, ordering, paging and ``select``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from crmkit.sandbox.errors import ApiError, legacy
from crmkit.sandbox.listing import (
    Page,
    apply_filter,
    apply_order,
    list_params,
    page_of,
    select_page,
    split_key,
)
from crmkit.sandbox.methods.category import categories_of, required
from crmkit.sandbox.methods.history import CREATED, FUNNEL, move_type, record_history
from crmkit.sandbox.params import as_int, as_yn, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import (
    DEAL,
    LEGACY_KINDS,
    semantic_letter,
    smart_type,
    stage_entity_id,
    statuses_of,
)
from crmkit.sandbox.store import Record

registry = Registry()

UF_ENTITY = {
    "lead": "CRM_LEAD",
    "deal": "CRM_DEAL",
    "contact": "CRM_CONTACT",
    "company": "CRM_COMPANY",
}
_BOOLEAN_TRUE = ("Y", "1", "TRUE", "YES")


# --- value conversions -------------------------------------------------------------------------
def to_legacy_value(value: Any) -> Any:
    """Legacy CRM answers carry every scalar as a string (``"ID": "101"``)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "Y" if value else "N"
    if isinstance(value, float):
        return f"{value:.2f}"
    # plain loops, not comprehensions: one stack frame per level of a deeply nested value
    if isinstance(value, list):
        items = []
        for item in value:
            items.append(to_legacy_value(item))
        return items
    if isinstance(value, dict):
        members = {}
        for key, member in value.items():
            members[key] = to_legacy_value(member)
        return members
    return str(value)


def snake_to_camel(name: str) -> str:
    parts = name.lower().split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def camel_to_snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).upper()


def uf_camel(name: str, smart: bool) -> str:
    """``UF_CRM_7_COLOR`` → ``ufCrm7Color`` (smart process ``7``); ``UF_CRM_1634567`` →
    ``ufCrm_1634567``: how crm.item names user fields unless ``useOriginalUfNames``."""
    rest = name[len("UF_CRM_") :] if name.startswith("UF_CRM_") else name
    head = "ufCrm"
    match = re.match(r"^(\d+)_(.+)$", rest) if smart else None
    if match:
        head += match.group(1)
        rest = match.group(2)
    out = head
    for part in rest.split("_"):
        if not part:
            continue
        out += "_" + part.lower() if part[0].isdigit() else part[:1].upper() + part[1:].lower()
    return out


def _boolean_fields(portal: Portal, uf_entity: str) -> set[str]:
    return {
        r["FIELD_NAME"]
        for r in portal.store.rows("userfield")
        if r["ENTITY_ID"] == uf_entity and r["USER_TYPE_ID"] == "boolean"
    }


def _store_uf(value: Any, boolean: bool) -> Any:
    if boolean:  # boolean user fields are stored (and filtered) as 1/0
        return 1 if str(value).strip().upper() in _BOOLEAN_TRUE else 0
    return value


# --- legacy entities ---------------------------------------------------------------------------
_DEFAULT_SELECT: dict[str, tuple[str, ...]] = {
    "lead": (
        "ID",
        "TITLE",
        "NAME",
        "LAST_NAME",
        "STATUS_ID",
        "STATUS_SEMANTIC_ID",
        "SOURCE_ID",
        "OPPORTUNITY",
        "CURRENCY_ID",
        "ASSIGNED_BY_ID",
        "CREATED_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "MOVED_TIME",
        "OPENED",
        "COMPANY_ID",
        "CONTACT_ID",
    ),
    "deal": (
        "ID",
        "TITLE",
        "TYPE_ID",
        "CATEGORY_ID",
        "STAGE_ID",
        "STAGE_SEMANTIC_ID",
        "CLOSED",
        "OPPORTUNITY",
        "CURRENCY_ID",
        "PROBABILITY",
        "COMPANY_ID",
        "CONTACT_ID",
        "ASSIGNED_BY_ID",
        "CREATED_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "BEGINDATE",
        "CLOSEDATE",
        "MOVED_TIME",
        "LAST_ACTIVITY_TIME",
        "LAST_ACTIVITY_BY",
        "SOURCE_ID",
        "OPENED",
    ),
    "contact": (
        "ID",
        "NAME",
        "LAST_NAME",
        "POST",
        "TYPE_ID",
        "SOURCE_ID",
        "COMPANY_ID",
        "ASSIGNED_BY_ID",
        "CREATED_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "OPENED",
    ),
    "company": (
        "ID",
        "TITLE",
        "COMPANY_TYPE",
        "INDUSTRY",
        "EMPLOYEES",
        "REVENUE",
        "CURRENCY_ID",
        "ASSIGNED_BY_ID",
        "CREATED_BY_ID",
        "DATE_CREATE",
        "DATE_MODIFY",
        "OPENED",
    ),
    "activity": (
        "ID",
        "OWNER_ID",
        "OWNER_TYPE_ID",
        "TYPE_ID",
        "PROVIDER_ID",
        "PROVIDER_TYPE_ID",
        "SUBJECT",
        "START_TIME",
        "END_TIME",
        "DEADLINE",
        "COMPLETED",
        "STATUS",
        "RESPONSIBLE_ID",
        "PRIORITY",
        "DIRECTION",
        "DESCRIPTION",
        "CREATED",
        "LAST_UPDATED",
        "AUTHOR_ID",
        "EDITOR_ID",
    ),
}
_DEFAULT_ORDER = {"activity": {"START_TIME": "ASC"}}


def _select(kind: str, row: Record, select: list[str]) -> dict[str, Any]:
    names = [s.upper() for s in select]
    base = _DEFAULT_SELECT[kind]
    wanted: list[str] = []
    if not names or "*" in names:
        wanted += list(base)
    if "UF_*" in names:
        wanted += sorted(k for k in row if k.startswith("UF_"))
    wanted += [n for n in names if n not in ("*", "UF_*")]
    if "ID" not in wanted:
        wanted.insert(0, "ID")
    seen: dict[str, Any] = {}
    for name in wanted:
        if name not in seen and (name in base or name.startswith("UF_")):
            seen[name] = to_legacy_value(row.get(name))
    return seen


def _derive(portal: Portal, kind: str, row: Record, changed_stage: bool) -> None:
    """Fields the portal computes: stage semantics, CLOSED, MOVED_TIME."""
    now = portal.now_iso()
    if kind == "lead":
        row.setdefault("STATUS_ID", "NEW")
        row["STATUS_SEMANTIC_ID"] = semantic_letter(portal.store, "STATUS", row["STATUS_ID"])
    if kind == "deal":
        category = as_int(row.get("CATEGORY_ID"), 0) or 0
        row["CATEGORY_ID"] = category
        entity_id = stage_entity_id(DEAL, category)
        if not row.get("STAGE_ID"):
            stages = statuses_of(portal.store, entity_id)
            row["STAGE_ID"] = stages[0]["STATUS_ID"] if stages else "NEW"
        letter = semantic_letter(portal.store, entity_id, row["STAGE_ID"])
        row["STAGE_SEMANTIC_ID"] = letter
        row["CLOSED"] = "Y" if letter in ("S", "F") else "N"
    if changed_stage:
        row["MOVED_TIME"] = now
    row["DATE_MODIFY"] = now


def _clean_fields(portal: Portal, kind: str, fields: Any) -> dict[str, Any]:
    if not isinstance(fields, dict):
        raise legacy("Parameter 'fields' must be array.")
    booleans = _boolean_fields(portal, UF_ENTITY.get(kind, ""))
    out: dict[str, Any] = {}
    for key, value in fields.items():
        name = str(key).upper()
        if name in ("ID", "DATE_CREATE", "STATUS_SEMANTIC_ID", "STAGE_SEMANTIC_ID", "CLOSED"):
            continue  # read-only
        if name.startswith("UF_"):
            out[name] = _store_uf(value, name in booleans)
        elif name in _DEFAULT_SELECT[kind] or name == "BINDINGS":
            out[name] = (
                as_int(value, None)
                if name.endswith("_ID") and as_int(value) is not None and name not in _STRING_IDS
                else value
            )
    return out


#: *_ID fields that hold codes, not numbers
_STRING_IDS = {
    "STATUS_ID",
    "STAGE_ID",
    "SOURCE_ID",
    "TYPE_ID",
    "CURRENCY_ID",
    "PROVIDER_ID",
    "PROVIDER_TYPE_ID",
    "COMPANY_TYPE",
}


def legacy_add(portal: Portal, kind: str, fields: dict[str, Any]) -> int:
    """Create a lead/deal/contact/company/activity from UPPER_CASE fields; returns its id."""
    row = _clean_fields(portal, kind, fields)
    rid = portal.store.new_id(kind)
    now = portal.now_iso()
    row["ID"] = rid
    row.setdefault("ASSIGNED_BY_ID", portal.user_id)
    row.setdefault("CREATED_BY_ID", portal.user_id)
    row["DATE_CREATE"] = fields.get("DATE_CREATE") or now
    if kind in ("lead", "deal"):
        row.setdefault("OPPORTUNITY", 0.0)
        row.setdefault("CURRENCY_ID", "RUB")
    if kind != "activity":
        row.setdefault("OPENED", "Y")
    if kind == "activity":
        _activity_defaults(portal, row, now)
    _derive(portal, kind, row, changed_stage=True)
    if fields.get("MOVED_TIME"):
        row["MOVED_TIME"] = fields["MOVED_TIME"]
    portal.store.put(kind, rid, row)
    record_history(portal.store, kind, row, CREATED, row["DATE_CREATE"])
    return rid


def _activity_defaults(portal: Portal, row: Record, now: str) -> None:
    owner_type = as_int(row.get("OWNER_TYPE_ID"))
    owner = as_int(row.get("OWNER_ID"))
    if owner_type is None or owner is None:
        raise legacy("OWNER_TYPE_ID and OWNER_ID are required.")
    row["OWNER_TYPE_ID"], row["OWNER_ID"] = owner_type, owner
    bindings = row.pop("BINDINGS", None)
    extra = []
    if isinstance(bindings, list):
        extra = [
            {"OWNER_TYPE_ID": as_int(b.get("OWNER_TYPE_ID")), "OWNER_ID": as_int(b.get("OWNER_ID"))}
            for b in bindings
            if isinstance(b, dict)
        ]
    primary = {"OWNER_TYPE_ID": owner_type, "OWNER_ID": owner}
    row["_BINDINGS"] = [primary] + [b for b in extra if b != primary]
    row.setdefault("TYPE_ID", 3)
    row.setdefault("COMPLETED", "N")
    row["COMPLETED"] = as_yn(row["COMPLETED"])
    row["STATUS"] = 2 if row["COMPLETED"] == "Y" else 1
    row.setdefault("RESPONSIBLE_ID", portal.user_id)
    row.setdefault("PRIORITY", 2)
    row.setdefault("DIRECTION", 0)
    row.setdefault("START_TIME", now)
    row.setdefault("END_TIME", row.get("DEADLINE") or row["START_TIME"])
    row.setdefault("DEADLINE", row["END_TIME"])
    row.setdefault("PROVIDER_ID", "CRM_TODO" if row["TYPE_ID"] == 6 else "")
    row.setdefault("SUBJECT", "")
    row.setdefault("DESCRIPTION", "")
    row["CREATED"] = now
    row["LAST_UPDATED"] = now
    row.setdefault("AUTHOR_ID", portal.user_id)
    row.setdefault("EDITOR_ID", portal.user_id)


def _legacy_row(portal: Portal, kind: str, params: dict[str, Any]) -> Record:
    rid = as_int(pick(params, "id"))
    if rid is None or rid <= 0:
        raise legacy("ID is not defined or invalid.")
    row = portal.store.get(kind, rid)
    if row is None:
        raise legacy("Not found")  # crm.deal.get: an empty code (crm-deal-get.md)
    return row


def _bindings_match(row: Record, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        entries = list(wanted.values())
    elif isinstance(wanted, list):
        entries = wanted
    else:  # not an array of bindings: nothing is bound to it
        return False
    pairs = {
        (as_int(e.get("OWNER_TYPE_ID")), as_int(e.get("OWNER_ID")))
        for e in entries
        if isinstance(e, dict)
    }
    return any((b["OWNER_TYPE_ID"], b["OWNER_ID"]) in pairs for b in row.get("_BINDINGS", []))


def _owner_filter(conditions: dict[str, Any]) -> dict[str, Any]:
    """OWNER_TYPE_ID/OWNER_ID (no operator) match any binding of an activity, as a pair."""
    keys = {k.upper(): k for k in conditions}
    if "OWNER_TYPE_ID" not in keys and "OWNER_ID" not in keys:
        return conditions
    rest = dict(conditions)
    owner_type = rest.pop(keys["OWNER_TYPE_ID"], None) if "OWNER_TYPE_ID" in keys else None
    owner = rest.pop(keys["OWNER_ID"], None) if "OWNER_ID" in keys else None
    rest["\x00OWNER"] = (owner_type, owner)
    return rest


def _owner_match(row: Record, wanted: Any) -> bool:
    owner_type, owner = wanted

    def accepts(expected: Any, actual: int) -> bool:
        if expected is None:
            return True
        options = expected if isinstance(expected, list) else [expected]
        return any(as_int(o) == actual for o in options)

    return any(
        accepts(owner_type, b["OWNER_TYPE_ID"]) and accepts(owner, b["OWNER_ID"])
        for b in row.get("_BINDINGS", [])
    )


def _register_legacy(kind: str) -> None:
    prefix = f"crm.{kind}"

    @registry.method(f"{prefix}.list")
    def entity_list(portal: Portal, params: dict[str, Any]) -> Page:
        conditions, order, select = list_params(params)
        special: dict[str, Callable[[Record, Any], bool]] = {}
        if kind == "activity":
            conditions = _owner_filter(conditions)
            special = {"BINDINGS": _bindings_match, "\x00OWNER": _owner_match}
        wanted = order or _DEFAULT_ORDER.get(kind, {"ID": "ASC"})
        page = select_page(
            portal.store, kind, conditions, wanted, pick(params, "start"), special=special
        )
        return Page([_select(kind, r, select) for r in page.result], page.total, page.next)

    @registry.method(f"{prefix}.get")
    def entity_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
        return _select(kind, _legacy_row(portal, kind, params), ["*", "UF_*"])

    @registry.method(f"{prefix}.add")
    def entity_add(portal: Portal, params: dict[str, Any]) -> int:
        return legacy_add(portal, kind, pick(params, "fields"))

    @registry.method(f"{prefix}.update")
    def entity_update(portal: Portal, params: dict[str, Any]) -> bool:
        row = _legacy_row(portal, kind, params)
        changes = _clean_fields(portal, kind, pick(params, "fields"))
        moved = any(k in changes and changes[k] != row.get(k) for k in ("STATUS_ID", "STAGE_ID"))
        if kind == "deal" and "CATEGORY_ID" in changes and "STAGE_ID" not in changes:
            changes["STAGE_ID"] = ""  # a deal moved to another pipeline starts at its first stage
        pipeline_changed = (
            kind == "deal"
            and "CATEGORY_ID" in changes
            and (as_int(changes["CATEGORY_ID"], 0) != as_int(row.get("CATEGORY_ID"), 0))
        )
        row.update(changes)
        if kind == "activity":
            row["COMPLETED"] = as_yn(row.get("COMPLETED"))
            row["STATUS"] = 2 if row["COMPLETED"] == "Y" else 1
            row["LAST_UPDATED"] = portal.now_iso()
        _derive(portal, kind, row, changed_stage=moved)
        portal.store.put(kind, row["ID"], row)
        if moved or pipeline_changed:
            semantic = row.get("STAGE_SEMANTIC_ID") or row.get("STATUS_SEMANTIC_ID") or "P"
            type_id = FUNNEL if pipeline_changed else move_type(str(semantic))
            record_history(portal.store, kind, row, type_id, portal.now_iso())
        return True

    @registry.method(f"{prefix}.delete")
    def entity_delete(portal: Portal, params: dict[str, Any]) -> bool:
        row = _legacy_row(portal, kind, params)
        portal.store.delete(kind, row["ID"])
        return True


for _kind in ("lead", "deal", "contact", "company", "activity"):
    _register_legacy(_kind)


# --- crm.item.* -----------------------------------------------------------------------------
class _Items:
    """crm.item over one entity type: legacy rows converted to camelCase, or smart items."""

    def __init__(self, portal: Portal, etid: int) -> None:
        self.portal = portal
        self.etid = etid
        self.legacy_kind = LEGACY_KINDS.get(etid)
        kind = None if self.legacy_kind else smart_type(portal.store, etid)
        if self.legacy_kind is None and kind is None:
            raise ApiError("NOT_FOUND", "Smart process not found")
        self.type = kind
        self.uf_entity = (
            UF_ENTITY[self.legacy_kind] if self.legacy_kind else f"CRM_{kind['id'] if kind else 0}"
        )
        smart = self.legacy_kind is None
        self.booleans = {uf_camel(n, smart) for n in _boolean_fields(portal, self.uf_entity)}
        self.uf_names = {
            uf_camel(r["FIELD_NAME"], smart): r["FIELD_NAME"]
            for r in portal.store.rows("userfield")
            if r["ENTITY_ID"] == self.uf_entity
        }

    def rows(self) -> list[Record]:
        if self.legacy_kind:
            return [self._camel(r) for r in self.portal.store.rows(self.legacy_kind)]
        return self.portal.store.rows(f"item{self.etid}")

    def row(self, rid: int | None) -> Record | None:
        """One item as ``rows`` has it, or None."""
        if rid is None:
            return None
        if self.legacy_kind:
            found = self.portal.store.get(self.legacy_kind, rid)
            return self._camel(found) if found is not None else None
        return self.portal.store.get(f"item{self.etid}", rid)

    def page(self, conditions: dict[str, Any], order: dict[str, Any], start: Any) -> Page:
        """A page of items as ``page_of`` of the filtered and ordered ``rows`` gave it, from the
        store's own rows: a legacy table's filter and order are put in its UPPER_CASE names
        (``stageId`` → ``STAGE_ID``) and only the page's rows are converted to camelCase."""
        store = self.portal.store
        if not self.legacy_kind:
            kind = f"item{self.etid}"
            return select_page(
                store,
                kind,
                conditions,
                order or {"id": "ASC"},
                start,
                id_field="id",
                fold_case=False,
            )
        names = store.derived(self.legacy_kind, "camel names", self._upper_names)
        upper = _upper_request(conditions, order, names)
        if upper is None:  # two fields of a record under one camelCase name: the slow way
            rows = apply_filter(self.rows(), conditions, fold_case=False)
            return page_of(apply_order(rows, order, id_field="id", fold_case=False), start)
        wanted, ordered = upper
        page = select_page(store, self.legacy_kind, wanted, ordered or {"ID": "ASC"}, start)
        return Page([self._camel(r) for r in page.result], page.total, page.next)

    def _upper_names(self, pairs: list[tuple[int, Record]]) -> dict[str, list[str]]:
        """camelCase name → the UPPER_CASE fields of the table ``_camel`` gives it."""
        fields: dict[str, None] = {}
        for _, record in pairs:
            fields.update(dict.fromkeys(record))
        names: dict[str, list[str]] = {}
        for key in fields:
            if not key.startswith("_"):
                names.setdefault(self._camel_name(key), []).append(key)
        return names

    @staticmethod
    def _camel_name(key: str) -> str:
        name = uf_camel(key, False) if key.startswith("UF_") else snake_to_camel(key)
        return _ITEM_RENAMES.get(name, name)

    def _camel(self, row: Record) -> Record:
        out: Record = {}
        for key, value in row.items():
            if key.startswith("_"):
                continue
            out[self._camel_name(key)] = value
        return out

    def render(self, row: Record, select: list[str]) -> dict[str, Any]:
        out = {
            k: (("Y" if v else "N") if k in self.booleans and v in (0, 1) else v)
            for k, v in row.items()
        }
        if select and "*" not in select:
            out = {k: v for k, v in out.items() if k in select}
        return out

    def add(self, fields: dict[str, Any]) -> Record:
        if self.legacy_kind:
            upper = {camel_to_snake(k): v for k, v in fields.items() if not k.startswith("uf")}
            upper.update({self.uf_names[k]: v for k, v in fields.items() if k in self.uf_names})
            rid = legacy_add(self.portal, self.legacy_kind, upper)
            added = self.row(rid)
            assert added is not None
            return added
        store = self.portal.store
        now = self.portal.now_iso()
        rid = store.new_id(f"item{self.etid}")
        categories = categories_of(self.portal, self.etid)
        default = next((c for c in categories if c["isDefault"] == "Y"), categories[0])
        category = as_int(fields.get("categoryId"), default["id"])
        assert category is not None
        stages = statuses_of(store, stage_entity_id(self.etid, category))
        stage = str(fields.get("stageId") or (stages[0]["STATUS_ID"] if stages else ""))
        letter = semantic_letter(store, stage_entity_id(self.etid, category), stage)
        row: Record = {
            "id": rid,
            "title": str(
                fields.get("title") or f"{self.type['title'] if self.type else ''} #{rid}"
            ),
            "categoryId": category,
            "stageId": stage,
            "stageSemanticId": letter,
            "closed": "Y" if letter in ("S", "F") else "N",
            "assignedById": as_int(fields.get("assignedById"), self.portal.user_id),
            "createdBy": self.portal.user_id,
            "createdTime": fields.get("createdTime") or now,
            "updatedTime": now,
            "movedTime": now,
            "opportunity": _amount(fields.get("opportunity")),
            "currencyId": str(fields.get("currencyId") or "RUB"),
            "entityTypeId": self.etid,
        }
        for key, value in fields.items():
            if key.startswith("uf"):
                row[key] = _store_uf(value, key in self.booleans)
        store.put(f"item{self.etid}", rid, row)
        return row


def _amount(value: Any) -> float:
    """An item's ``opportunity``: a number or a numeric string; anything else counts as 0."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0.0
    try:
        amount = float(value)
    except ValueError:
        return 0.0
    return amount if math.isfinite(amount) else 0.0


_ITEM_RENAMES = {
    "dateCreate": "createdTime",
    "dateModify": "updatedTime",
    "createdById": "createdBy",
    "statusId": "stageId",
    "statusSemanticId": "stageSemanticId",
}


def _items(portal: Portal, params: dict[str, Any]) -> _Items:
    etid = as_int(required(params, "entityTypeId"))
    if etid is None:
        raise ApiError("NOT_FOUND", "Smart process not found")
    return _Items(portal, etid)


@registry.method("crm.item.list")
def item_list(portal: Portal, params: dict[str, Any]) -> Page:
    items = _items(portal, params)
    conditions, order, select = list_params(params)
    page = items.page(conditions, order, pick(params, "start"))
    out = [items.render(r, select) for r in page.result]
    return Page({"items": out}, page.total, page.next)


def _upper_request(
    conditions: dict[str, Any], order: dict[str, Any], names: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """A crm.item filter and order over camelCase names, in the legacy table's own names. A
    name no record has becomes one no record can have (the filter sees nothing there, as it
    did); None when a name stands for two fields (then ``_camel`` keeps the later one)."""

    def field(name: str) -> str | None:
        found = names.get(name, [])
        if len(found) > 1:
            return None
        return found[0] if found else "\x00" + name

    def table(given: dict[str, Any]) -> dict[str, Any] | None:
        out: dict[str, Any] = {}
        for key, value in given.items():
            text = str(key)
            if text.lower() == "logic":
                out[key] = value
            elif text.isdigit():
                if isinstance(value, dict):
                    inner = table(value)
                elif isinstance(value, list):
                    inner = table({str(i): v for i, v in enumerate(value)})
                else:
                    out[key] = value
                    continue
                if inner is None:
                    return None
                out[key] = inner
            else:
                op, name = split_key(text)
                upper = field(name)
                if upper is None:
                    return None
                out[op + upper] = value
        return out

    wanted = table(conditions)
    ordered: dict[str, Any] = {}
    for key, direction in order.items():
        upper = field(str(key))
        if upper is None:
            return None
        ordered[upper] = direction
    return None if wanted is None else (wanted, ordered)


@registry.method("crm.item.add")
def item_add(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    items = _items(portal, params)
    fields = required(params, "fields")
    if not isinstance(fields, dict):
        raise ApiError("100", "Could not find value for parameter {fields}")
    return {"item": items.render(items.add(fields), [])}


@registry.method("crm.item.get")
def item_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    items = _items(portal, params)
    rid = as_int(required(params, "id"))
    row = items.row(rid)
    if row is None:
        raise ApiError("NOT_FOUND", "Element not found")
    return {"item": items.render(row, [])}


@registry.method("crm.item.delete")
def item_delete(portal: Portal, params: dict[str, Any]) -> None:
    items = _items(portal, params)
    rid = as_int(required(params, "id"))
    kind = items.legacy_kind or f"item{items.etid}"
    if rid is None or portal.store.get(kind, rid) is None:
        raise ApiError("NOT_FOUND", "Element not found")
    portal.store.delete(kind, rid)
    return None

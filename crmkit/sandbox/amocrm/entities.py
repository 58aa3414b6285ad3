"""Leads, contacts and companies (docs:crm_platform/leads-api.md, contacts-api.md,
companies-api.md, filters-api.md, custom-fields.md "Примеры заполнения").

Batch adds answer the new ids with each item's ``request_id``; edits the ids and ``updated_at``.
A lead is placed by ``pipeline_id``/``status_id`` (default: the main pipeline's first status);
moving it writes a ``lead_status_changed`` event, entering won 142 / lost 143 sets
``closed_at``. A GET of an id that does not exist answers 204.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmkit.sandbox.amocrm import checks
from crmkit.sandbox.amocrm.account import ACCOUNT_ID, LOST, WON, Account, Reply, Request
from crmkit.sandbox.amocrm.errors import (
    FIELD_MISSING,
    INVALID_TYPE,
    NOT_SUPPORTED_CHOICE,
    Item,
    raise_failed,
)
from crmkit.sandbox.amocrm.events import record_event
from crmkit.sandbox.amocrm.fields import WITH_ENUMS, fields_of
from crmkit.sandbox.amocrm.hal import filters_of, matcher, members, ordered, paged
from crmkit.sandbox.amocrm.pipelines import first_status, main_pipeline
from crmkit.sandbox.amocrm.router import Router
from crmkit.sandbox.store import Record

routes = Router()

#: entity (URL name) → store kind, event name
KINDS = {"leads": "lead", "contacts": "contact", "companies": "company"}


# --- custom field values
def cf_values(
    account: Account, entity: str, given: list[Any], item: Item
) -> list[dict[str, Any]] | None:
    """``custom_fields_values`` checked against the entity's fields, in the stored shape."""
    fields = {f["id"]: f for f in fields_of(account, entity)}
    by_code = {f["code"]: f for f in fields.values() if f.get("code")}
    out = []
    for index, entry in enumerate(given):
        path = f"custom_fields_values.{index}."
        if not isinstance(entry, dict):
            item.add(INVALID_TYPE, path.rstrip("."))
            continue
        field = fields.get(entry.get("field_id")) or by_code.get(entry.get("field_code"))
        if field is None:
            item.add(NOT_SUPPORTED_CHOICE, f"{path}field_id")
            continue
        given_values = checks.array(entry, "values", item, path)
        if given_values is None:
            item.add(FIELD_MISSING, f"{path}values")
            continue
        kept = [
            _one_value(field, v, item, f"{path}values.{n}.") for n, v in enumerate(given_values)
        ]
        out.append(
            {
                "field_id": field["id"],
                "field_name": field["name"],
                "field_code": field.get("code"),
                "field_type": field["type"],
                "values": [v for v in kept if v is not None],
            }
        )
    return out


def _one_value(field: Record, value: Any, item: Item, path: str) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        item.add(INVALID_TYPE, path.rstrip("."))
        return None
    if field["type"] not in WITH_ENUMS:
        if "value" not in value:
            item.add(FIELD_MISSING, f"{path}value")
            return None
        return {"value": value["value"]}
    enums = field.get("enums") or []
    if "enum_id" in value:
        enum = next((e for e in enums if e["id"] == value["enum_id"]), None)
        where = f"{path}enum_id"
    elif "enum_code" in value:
        enum = next((e for e in enums if e.get("code") == value["enum_code"]), None)
        where = f"{path}enum_code"
    else:
        enum = next((e for e in enums if e["value"] == value.get("value")), None)
        where = f"{path}value"
    if field["type"] == "multitext" and "value" in value:
        code = value.get("enum_code") or (enum or {}).get("value") or "WORK"
        return {"value": value["value"], "enum_code": code}
    if enum is None:
        item.add(NOT_SUPPORTED_CHOICE, where)
        return None
    return {"value": enum["value"], "enum_id": enum["id"], "enum_code": enum.get("code")}


# --- shapes
def _closest_tasks(account: Account, entity: str) -> dict[int, int]:
    """Each entity's nearest open task deadline (``closest_task_at``)."""
    nearest: dict[int, int] = {}
    for task in account.store.scan("task"):
        if task["entity_type"] == entity and not task["is_completed"] and task["entity_id"]:
            eid = task["entity_id"]
            nearest[eid] = min(nearest.get(eid, task["complete_till"]), task["complete_till"])
    return nearest


def _withs(request: Request) -> set[str]:
    return set(str(request.query.get("with", "")).split(","))


def lead_shape(
    account: Account, lead: Record, withs: set[str], closest: dict[int, int]
) -> dict[str, Any]:
    keys = [
        "id",
        "name",
        "price",
        "responsible_user_id",
        "group_id",
        "status_id",
        "pipeline_id",
        "loss_reason_id",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "closed_at",
    ]
    shaped: dict[str, Any] = {k: lead.get(k) for k in keys}
    shaped.update(
        closest_task_at=closest.get(lead["id"]),
        is_deleted=False,
        custom_fields_values=lead.get("custom_fields_values") or None,
        score=None,
        account_id=ACCOUNT_ID,
        labor_cost=None,
        _links=account.link(f"/api/v4/leads/{lead['id']}"),
    )
    embedded: dict[str, Any] = {"tags": [], "companies": []}
    if lead.get("company_id"):
        cid = lead["company_id"]
        embedded["companies"] = [{"id": cid, "_links": account.link(f"/api/v4/companies/{cid}")}]
    if "contacts" in withs:
        embedded["contacts"] = [
            {**c, "_links": account.link(f"/api/v4/contacts/{c['id']}")}
            for c in lead.get("contacts", [])
        ]
    if "loss_reason" in withs and lead.get("loss_reason_id"):
        reason = account.store.get("loss_reason", lead["loss_reason_id"])
        if reason is not None:
            embedded["loss_reason"] = [{k: reason[k] for k in ("id", "name", "sort")}]
    shaped["_embedded"] = embedded
    return shaped


def party_shape(
    account: Account, entity: str, row: Record, withs: set[str], closest: dict[int, int]
) -> dict[str, Any]:
    """A contact or a company."""
    keys = "id name responsible_user_id group_id created_by updated_by created_at updated_at"
    shaped: dict[str, Any] = {k: row.get(k) for k in keys.split()}
    if entity == "contacts":
        shaped["first_name"] = row.get("first_name", "")
        shaped["last_name"] = row.get("last_name", "")
    shaped.update(
        closest_task_at=closest.get(row["id"]),
        custom_fields_values=row.get("custom_fields_values") or None,
        is_deleted=False,
        account_id=ACCOUNT_ID,
        _links=account.link(f"/api/v4/{entity}/{row['id']}"),
    )
    embedded: dict[str, Any] = {"tags": []}
    if entity == "contacts":
        cid = row.get("company_id")
        embedded["companies"] = (
            [{"id": cid, "_links": account.link(f"/api/v4/companies/{cid}")}] if cid else []
        )
    if "leads" in withs:
        key = "company_id" if entity == "companies" else None
        linked = [
            lead["id"]
            for lead in account.store.scan("lead")
            if (key and lead.get(key) == row["id"])
            or (not key and any(c["id"] == row["id"] for c in lead.get("contacts", [])))
        ]
        embedded["leads"] = [
            {"id": i, "_links": account.link(f"/api/v4/leads/{i}")} for i in linked
        ]
    shaped["_embedded"] = embedded
    return shaped


def shape_of(account: Account, entity: str, request: Request) -> Callable[[Record], Any]:
    withs = _withs(request)
    closest = _closest_tasks(account, entity)
    if entity == "leads":
        return lambda r: lead_shape(account, r, withs, closest)
    return lambda r: party_shape(account, entity, r, withs, closest)


# --- placing a lead
def _place(
    account: Account, model: dict[str, Any], item: Item, old: Record | None
) -> tuple[int, int] | None:
    """The (pipeline, status) a lead model puts the lead in, or None if invalid."""
    pid = checks.integer(model, "pipeline_id", item)
    sid = checks.integer(model, "status_id", item)
    if pid is None and sid is None:
        if old is not None:
            return old["pipeline_id"], old["status_id"]
        main = main_pipeline(account)
        return main["id"], first_status(main)["id"]
    pipeline: Record | None
    if pid is not None:
        pipeline = account.pipeline(pid)
        if pipeline is None:
            item.add(NOT_SUPPORTED_CHOICE, "pipeline_id")
            return None
    elif sid in (WON, LOST):
        pipeline = account.pipeline(old["pipeline_id"]) if old else main_pipeline(account)
    else:
        pipeline = next((p for p in account.pipelines() if account.status_in(p, sid or 0)), None)
    if pipeline is None:
        item.add(NOT_SUPPORTED_CHOICE, "status_id")
        return None
    if sid is None:
        return pipeline["id"], first_status(pipeline)["id"]
    status = account.status_in(pipeline, sid)
    if status is None or status["type"] != 0:  # the unsorted status takes leads from forms
        item.add(NOT_SUPPORTED_CHOICE, "status_id")
        return None
    return pipeline["id"], sid


def _links_of(account: Account, model: dict[str, Any], item: Item) -> dict[str, Any]:
    """``_embedded[contacts]`` and ``_embedded[companies]`` of a model (by id)."""
    out: dict[str, Any] = {}
    for key, kind in (("contacts", "contact"), ("companies", "company")):
        given = checks.embedded(model, key, item)
        if given is None:
            continue
        ids = []
        for index, link in enumerate(given):
            lid = link.get("id") if isinstance(link, dict) else None
            if not isinstance(lid, int) or account.store.get(kind, lid) is None:
                item.add(NOT_SUPPORTED_CHOICE, f"_embedded.{key}.{index}.id")
                continue
            ids.append((lid, bool(link.get("is_main", index == 0))))
        if key == "contacts":
            out["contacts"] = [{"id": i, "is_main": m} for i, m in ids]
        else:
            out["company_id"] = ids[0][0] if ids else None
    return out


# --- reading a model
_TEXTS = {
    "leads": ("name",),
    "contacts": ("name", "first_name", "last_name"),
    "companies": ("name",),
}
_INTS = (
    "price",
    "responsible_user_id",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
    "closed_at",
    "loss_reason_id",
)


def _read(
    account: Account, entity: str, model: Any, item: Item, old: Record | None
) -> Record | None:
    if not isinstance(model, dict):
        item.add(INVALID_TYPE, "")
        return None
    changes: Record = {}
    for key in _TEXTS[entity]:
        name = checks.text(model, key, item)
        if name is not None:
            changes[key] = name
    for key in _INTS if entity == "leads" else _INTS[1:6]:
        number = checks.integer(model, key, item)
        if number is not None:
            changes[key] = number
    if "responsible_user_id" in changes and not account.has_user(changes["responsible_user_id"]):
        item.add(NOT_SUPPORTED_CHOICE, "responsible_user_id")
    reason = changes.get("loss_reason_id")
    if reason is not None and account.store.get("loss_reason", reason) is None:
        item.add(NOT_SUPPORTED_CHOICE, "loss_reason_id")
    given = checks.array(model, "custom_fields_values", item)
    if given is not None:
        changes["custom_fields_values"] = cf_values(account, entity, given, item)
    changes.update(_links_of(account, model, item))
    if entity == "leads":
        placed = _place(account, model, item, old)
        if placed is not None:
            changes["pipeline_id"], changes["status_id"] = placed
    return None if item.errors else changes


def _merge_values(old: list[Any] | None, new: list[Any]) -> list[Any]:
    """An edit replaces the values of the fields it names and keeps the others."""
    named = {v["field_id"] for v in new}
    kept = [v for v in old or [] if v["field_id"] not in named]
    return [*kept, *[v for v in new if v["values"]]]


def _create(account: Account, entity: str, changes: Record) -> Record:
    kind = KINDS[entity]
    now = account.now()
    rid = account.new_id(kind)
    row: Record = {
        "id": rid,
        "name": "",
        "responsible_user_id": account.user_id,
        "group_id": 0,
        "created_by": account.user_id,
        "updated_by": account.user_id,
        "created_at": now,
        "updated_at": now,
    }
    if entity == "leads":
        row.update(price=0, loss_reason_id=None, closed_at=None, contacts=[], company_id=None)
    row.update(changes)
    if entity == "contacts" and not row["name"]:
        row["name"] = " ".join(p for p in (row.get("first_name"), row.get("last_name")) if p)
    if entity == "leads":
        if not row["name"]:
            row["name"] = f"Сделка #{rid}"
        if row["status_id"] in (WON, LOST) and row.get("closed_at") is None:
            row["closed_at"] = row["updated_at"]
    account.store.put(kind, rid, row)
    record_event(account, f"{kind}_added", kind, rid, row["created_by"], row["created_at"])
    return row


def _update(account: Account, entity: str, old: Record, changes: Record) -> Record:
    kind = KINDS[entity]
    row = {**old, **changes}
    if "custom_fields_values" in changes:
        row["custom_fields_values"] = _merge_values(
            old.get("custom_fields_values"), changes["custom_fields_values"]
        )
    row.setdefault("updated_by", account.user_id)
    if "updated_at" not in changes:
        row["updated_at"] = account.now()
    moved = entity == "leads" and (
        row["status_id"] != old["status_id"] or row["pipeline_id"] != old["pipeline_id"]
    )
    if moved:
        closing = row["status_id"] in (WON, LOST)
        if "closed_at" not in changes:
            row["closed_at"] = row["updated_at"] if closing else None
        record_event(
            account,
            "lead_status_changed",
            "lead",
            row["id"],
            changes.get("updated_by", account.user_id),
            row["updated_at"],
            before=[{"lead_status": {"id": old["status_id"], "pipeline_id": old["pipeline_id"]}}],
            after=[{"lead_status": {"id": row["status_id"], "pipeline_id": row["pipeline_id"]}}],
        )
    account.store.put(kind, row["id"], row)
    return row


def add_many(account: Account, entity: str, models: list[Any]) -> list[tuple[Record, str]]:
    """Create a batch (all or nothing); (record, request_id) for each."""
    items = [Item(checks.request_id(m, i)) for i, m in enumerate(models)]
    parsed = [_read(account, entity, m, it, None) for m, it in zip(models, items, strict=True)]
    raise_failed(items)
    return [
        (_create(account, entity, changes or {}), item.request_id)
        for changes, item in zip(parsed, items, strict=True)
    ]


def edit_many(account: Account, entity: str, models: list[Any]) -> list[tuple[Record, str]]:
    kind = KINDS[entity]
    items: list[Item] = []
    plans: list[tuple[Record | None, Record | None]] = []
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        rid = model.get("id") if isinstance(model, dict) else None
        old = account.store.get(kind, rid) if isinstance(rid, int) else None
        if old is None:
            item.add(NOT_SUPPORTED_CHOICE if rid is not None else FIELD_MISSING, "id")
            plans.append((None, None))
            continue
        plans.append((old, _read(account, entity, model, item, old)))
    raise_failed(items)
    return [
        (_update(account, entity, old, changes or {}), item.request_id)
        for (old, changes), item in zip(plans, items, strict=True)
        if old is not None
    ]


# --- lists
_FILTERS = {
    "leads": (
        ("id", "name", "pipeline_id", "created_by", "updated_by", "responsible_user_id"),
        ("price", "created_at", "updated_at", "closed_at", "closest_task_at"),
    ),
    "contacts": (
        ("id", "name", "created_by", "updated_by", "responsible_user_id"),
        ("created_at", "updated_at", "closest_task_at"),
    ),
}
_FILTERS["companies"] = _FILTERS["contacts"]


def _listed(account: Account, entity: str, request: Request) -> list[Record]:
    filters = filters_of(request)
    exact, ranges = _FILTERS[entity]
    closest = _closest_tasks(account, entity)
    test = matcher(filters, exact, ranges)
    rows = []
    for row in account.store.scan(KINDS[entity]):
        probe = {**row, "closest_task_at": closest.get(row["id"])}
        if test(probe):
            rows.append(row)
    pairs = [p for p in members(filters.get("statuses")) if isinstance(p, dict)]
    if entity == "leads" and "statuses" in filters:
        wanted = {(str(p.get("pipeline_id")), str(p.get("status_id"))) for p in pairs}
        rows = [r for r in rows if (str(r["pipeline_id"]), str(r["status_id"])) in wanted]
    query = request.query.get("query")
    if query not in (None, ""):
        needle = str(query).lower()
        rows = [r for r in rows if needle in str(r.get("name", "")).lower()]
    return ordered(rows, request, ("created_at", "updated_at", "id"))


def _register(entity: str) -> None:
    base = f"/api/v4/{entity}"
    kind = KINDS[entity]

    @routes.add("GET", base)
    def list_rows(account: Account, request: Request) -> Reply:
        rows = _listed(account, entity, request)
        return paged(account, request, entity, rows, shape=shape_of(account, entity, request))

    @routes.add("GET", base + "/{rid}")
    def get_row(account: Account, request: Request) -> Reply:
        row = account.store.get(kind, request.ids["rid"])
        if row is None:
            return Reply(204)
        return Reply(200, shape_of(account, entity, request)(row))

    @routes.add("POST", base)
    def add_rows(account: Account, request: Request) -> Reply:
        made = add_many(account, entity, checks.batch(request.body))
        shaped = [
            {"id": r["id"], "request_id": rid, "_links": account.link(f"{base}/{r['id']}")}
            for r, rid in made
        ]
        return Reply(200, {"_links": account.link(base), "_embedded": {entity: shaped}})

    @routes.add("PATCH", base)
    def edit_rows(account: Account, request: Request) -> Reply:
        changed = edit_many(account, entity, checks.batch(request.body))
        shaped = [
            {
                "id": r["id"],
                "updated_at": r["updated_at"],
                "request_id": rid,
                "_links": account.link(f"{base}/{r['id']}"),
            }
            for r, rid in changed
        ]
        return Reply(200, {"_links": account.link(base), "_embedded": {entity: shaped}})

    @routes.add("PATCH", base + "/{rid}")
    def edit_row(account: Account, request: Request) -> Reply:
        model = {**checks.model(request.body), "id": request.ids["rid"]}
        if account.store.get(kind, request.ids["rid"]) is None:
            return Reply(204)
        ((row, _rid),) = edit_many(account, entity, [model])
        link = account.link(f"{base}/{row['id']}")
        return Reply(200, {"id": row["id"], "updated_at": row["updated_at"], "_links": link})


for _entity in KINDS:
    _register(_entity)

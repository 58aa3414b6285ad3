"""Custom fields of leads, contacts and companies (docs:crm_platform/custom-fields.md).

Lists give at most 50 fields a page ("Метод возвращает до 50 полей за один запрос"). Creating
and editing answer 201. Select, multiselect and radiobutton fields need ``enums``; an edit keeps
the enums it names by ``id``, adds those without one and drops the rest. ``required_statuses``
names the statuses a lead may enter only with the field filled: each must be a status of its
pipeline (the sandbox refuses the unsorted one).
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.amocrm import checks
from crmkit.sandbox.amocrm.account import ACCOUNT_ID, FIELDS_CAP, Account, Reply, Request
from crmkit.sandbox.amocrm.errors import (
    FIELD_MISSING,
    INVALID_TYPE,
    NOT_SUPPORTED_CHOICE,
    AmoError,
    Item,
    not_found,
    raise_failed,
)
from crmkit.sandbox.amocrm.hal import filters_of, ordered, paged, values
from crmkit.sandbox.amocrm.router import Router
from crmkit.sandbox.store import Record

routes = Router()

ENTITIES = ("leads", "contacts", "companies")
_COMMON = (
    "text",
    "numeric",
    "checkbox",
    "select",
    "multiselect",
    "date",
    "url",
    "textarea",
    "radiobutton",
    "streetaddress",
    "smart_address",
    "birthday",
    "legal_entity",
    "date_time",
    "monetary",
    "file",
)
#: the types each entity's fields may have ("Таблица доступности разных типов полей")
TYPES = {
    "leads": (*_COMMON, "tracking_data"),
    "contacts": (*_COMMON, "multitext"),
    "companies": _COMMON,
}
WITH_ENUMS = ("select", "multiselect", "radiobutton", "multitext")


def field_shape(account: Account, field: Record) -> dict[str, Any]:
    entity = field["entity_type"]
    shaped: dict[str, Any] = {
        "id": field["id"],
        "name": field["name"],
        "type": field["type"],
        "account_id": ACCOUNT_ID,
        "code": field.get("code"),
        "sort": field["sort"],
        "is_api_only": field.get("is_api_only", False),
        "enums": field.get("enums"),
        "group_id": field.get("group_id"),
        "required_statuses": field.get("required_statuses", []),
        "is_deletable": field.get("is_deletable", True),
        "is_predefined": field.get("is_predefined", False),
        "entity_type": entity,
        "remind": field.get("remind"),
        "_links": account.link(f"/api/v4/{entity}/custom_fields/{field['id']}"),
    }
    if entity == "leads":
        shaped["is_computed"] = False
        shaped["hidden_statuses"] = []
    return shaped


def fields_of(account: Account, entity: str) -> list[Record]:
    return [f for f in account.store.find("field", entity_type=entity)]


def _enums(account: Account, given: list[Any], item: Item, old: list[Record]) -> list[Record]:
    known = {e["id"]: e for e in old}
    out = []
    for index, enum in enumerate(given):
        path = f"enums.{index}."
        if not isinstance(enum, dict):
            item.add(INVALID_TYPE, path.rstrip("."))
            continue
        value = checks.text(enum, "value", item, path, required=True)
        sort = checks.integer(enum, "sort", item, path)
        code = checks.text(enum, "code", item, path)
        eid = enum.get("id")
        if eid is not None and not checks.choice(eid, known, item, f"{path}id"):
            continue
        if value is None:
            continue
        out.append(
            {
                "id": eid if eid is not None else 0,
                "value": value,
                "sort": sort if sort is not None else (index + 1) * 10,
                "code": code,
            }
        )
    return out


def _required(account: Account, given: list[Any], item: Item) -> list[dict[str, int]]:
    out = []
    for index, pair in enumerate(given):
        path = f"required_statuses.{index}."
        if not isinstance(pair, dict):
            item.add(INVALID_TYPE, path.rstrip("."))
            continue
        pid = checks.integer(pair, "pipeline_id", item, path, required=True)
        sid = checks.integer(pair, "status_id", item, path, required=True)
        if pid is None or sid is None:
            continue
        pipeline = account.pipeline(pid)
        if pipeline is None:
            item.add(NOT_SUPPORTED_CHOICE, f"{path}pipeline_id")
            continue
        status = account.status_in(pipeline, sid)
        if status is None or status["type"] != 0:
            item.add(NOT_SUPPORTED_CHOICE, f"{path}status_id")
            continue
        out.append({"status_id": sid, "pipeline_id": pid})
    return out


def _read(
    account: Account, entity: str, model: Any, item: Item, old: Record | None
) -> dict[str, Any] | None:
    """The field a model describes (a new one if ``old`` is None), or None if it is invalid."""
    if not isinstance(model, dict):
        item.add(INVALID_TYPE, "")
        return None
    creating = old is None
    name = checks.text(model, "name", item, required=creating)
    kind = old["type"] if old is not None else checks.text(model, "type", item, required=True)
    if creating and kind is not None and not checks.choice(kind, TYPES[entity], item, "type"):
        kind = None
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = name
    for key, read in (
        ("code", checks.text),
        ("sort", checks.integer),
        ("is_api_only", checks.flag),
        ("group_id", checks.text),
        ("remind", checks.text),
    ):
        value = read(model, key, item)
        if value is not None:
            changes[key] = value
    enums = checks.array(model, "enums", item)
    if kind in WITH_ENUMS:
        if enums is None and creating:
            item.add(FIELD_MISSING, "enums")
        elif enums is not None:
            changes["enums"] = _enums(account, enums, item, (old or {}).get("enums") or [])
    required = checks.array(model, "required_statuses", item)
    if required is not None:
        if entity != "leads" and required:
            item.add(NOT_SUPPORTED_CHOICE, "required_statuses")
        changes["required_statuses"] = _required(account, required, item)
    if item.errors or kind is None:
        return None
    if creating:
        return {"type": kind, "enums": None, "required_statuses": [], **changes}
    return changes


def _store_field(account: Account, entity: str, record: Record) -> Record:
    if record.get("enums") is not None:
        record["enums"] = [{**e, "id": e["id"] or account.new_id("enum")} for e in record["enums"]]
    account.store.put("field", record["id"], record)
    return record


def make_field(account: Account, entity: str, values: dict[str, Any]) -> Record:
    fid = account.new_id("field")
    sort = values.get("sort", 500 + account.store.count("field"))
    record = {"is_deletable": True, "is_predefined": False, **values, "sort": sort}
    record.update({"id": fid, "entity_type": entity})
    return _store_field(account, entity, record)


def _field_or_404(account: Account, entity: str, fid: int) -> Record:
    field = account.store.get("field", fid)
    if field is None or field["entity_type"] != entity:
        raise not_found()
    return field


def _edit_many(account: Account, entity: str, models: list[Any]) -> list[Record]:
    items: list[Item] = []
    changes: list[dict[str, Any] | None] = []
    olds: list[Record | None] = []
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        fid = model.get("id") if isinstance(model, dict) else None
        old = account.store.get("field", fid) if isinstance(fid, int) else None
        if old is None or old["entity_type"] != entity:
            item.add(NOT_SUPPORTED_CHOICE if fid is not None else FIELD_MISSING, "id")
            changes.append(None)
            olds.append(None)
            continue
        changes.append(_read(account, entity, model, item, old))
        olds.append(old)
    raise_failed(items)
    return [
        _store_field(account, entity, {**old, **change})
        for old, change in zip(olds, changes, strict=True)
        if old is not None and change is not None
    ]


def _register(entity: str) -> None:
    base = f"/api/v4/{entity}/custom_fields"

    @routes.add("GET", base)
    def list_fields(account: Account, request: Request) -> Reply:
        rows = fields_of(account, entity)
        kinds = values(filters_of(request).get("type"))
        if kinds:
            rows = [f for f in rows if f["type"] in kinds]
        rows = ordered(rows, request, ("sort", "id"))
        return paged(
            account,
            request,
            "custom_fields",
            rows,
            cap=FIELDS_CAP,
            shape=lambda f: field_shape(account, f),
            total=True,
        )

    @routes.add("GET", base + "/{field}")
    def get_field(account: Account, request: Request) -> Reply:
        field = _field_or_404(account, entity, request.ids["field"])
        return Reply(200, field_shape(account, field))

    @routes.add("POST", base, admin=True)
    def add_fields(account: Account, request: Request) -> Reply:
        models = checks.batch(request.body)
        items = [Item(checks.request_id(m, i)) for i, m in enumerate(models)]
        parsed = [_read(account, entity, m, it, None) for m, it in zip(models, items, strict=True)]
        raise_failed(items)
        made = []
        for values_, item in zip(parsed, items, strict=True):
            assert values_ is not None
            field = make_field(account, entity, values_)
            made.append({**field_shape(account, field), "request_id": item.request_id})
        return Reply(201, {"_total_items": len(made), "_embedded": {"custom_fields": made}})

    @routes.add("PATCH", base, admin=True)
    def edit_fields(account: Account, request: Request) -> Reply:
        changed = _edit_many(account, entity, checks.batch(request.body))
        shaped = [field_shape(account, f) for f in changed]
        return Reply(201, {"_total_items": len(shaped), "_embedded": {"custom_fields": shaped}})

    @routes.add("PATCH", base + "/{field}", admin=True)
    def edit_field(account: Account, request: Request) -> Reply:
        field = _field_or_404(account, entity, request.ids["field"])
        model = {**checks.model(request.body), "id": field["id"]}
        (changed,) = _edit_many(account, entity, [model])
        return Reply(201, field_shape(account, changed))

    @routes.add("DELETE", base + "/{field}", admin=True)
    def delete_field(account: Account, request: Request) -> Reply:
        field = _field_or_404(account, entity, request.ids["field"])
        if not field.get("is_deletable", True):
            raise AmoError(400, "Поле нельзя удалить")
        store = account.store
        store.delete("field", field["id"])
        kind = entity[:-1] if entity != "companies" else "company"
        for row in store.rows(kind):
            kept = [
                v for v in row.get("custom_fields_values") or [] if v["field_id"] != field["id"]
            ]
            if kept != (row.get("custom_fields_values") or []):
                store.put(kind, row["id"], {**row, "custom_fields_values": kept or None})
        return Reply(204)


for _entity in ENTITIES:
    _register(_entity)

#: the contact fields every account has (PHONE, EMAIL: multitext, predefined, not deletable)
PREDEFINED = (
    ("Телефон", "PHONE", ("WORK", "WORKDD", "MOB", "FAX", "HOME", "OTHER")),
    ("Email", "EMAIL", ("WORK", "PRIV", "OTHER")),
)


def bootstrap_fields(account: Account) -> None:
    for sort, (name, code, enums) in enumerate(PREDEFINED, start=1):
        make_field(
            account,
            "contacts",
            {
                "name": name,
                "type": "multitext",
                "code": code,
                "sort": sort * 2,
                "is_predefined": True,
                "is_deletable": False,
                "required_statuses": [],
                "enums": [
                    {"id": 0, "value": v, "sort": (i + 1) * 2, "code": None}
                    for i, v in enumerate(enums)
                ],
            },
        )

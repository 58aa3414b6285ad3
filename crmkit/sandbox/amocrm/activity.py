"""Tasks (docs:crm_platform/tasks-api.md), the unsorted summary (unsorted-api.md), the account
(account-info.md) and its users (users-api.md).

A task needs ``text`` and ``complete_till``; it belongs to a user (the token's by default) and
may be bound to a lead, contact or company. There is no ``complete_till`` filter: an overdue
task is an open one (``filter[is_completed]=0``) whose ``complete_till`` has passed.
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.amocrm import checks
from crmkit.sandbox.amocrm.account import ACCOUNT_ID, SUBDOMAIN, Account, Reply, Request
from crmkit.sandbox.amocrm.errors import (
    FIELD_MISSING,
    INVALID_TYPE,
    NOT_SUPPORTED_CHOICE,
    AmoError,
    Item,
    raise_failed,
)
from crmkit.sandbox.amocrm.hal import filters_of, in_range, matcher, ordered, paged, values
from crmkit.sandbox.amocrm.router import Router
from crmkit.sandbox.store import Record

routes = Router()

#: "У задач доступны 2 стандартных типа с предопределенными ID: 1 – Звонок, 2 – Встреча"
TASK_TYPES = (
    {"id": 1, "name": "Звонок", "color": None, "icon_id": None, "code": "CALL"},
    {"id": 2, "name": "Встреча", "color": None, "icon_id": None, "code": "MEETING"},
)
_ENTITY_KIND = {"leads": "lead", "contacts": "contact", "companies": "company"}
TASKS = "/api/v4/tasks"


def task_shape(account: Account, task: Record) -> dict[str, Any]:
    keys = [
        "id",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
        "responsible_user_id",
        "group_id",
        "entity_id",
        "entity_type",
        "duration",
        "is_completed",
        "task_type_id",
        "text",
        "complete_till",
    ]
    shaped: dict[str, Any] = {k: task.get(k) for k in keys}
    shaped["result"] = task.get("result") or []
    shaped["account_id"] = ACCOUNT_ID
    shaped["_links"] = account.link(f"{TASKS}/{task['id']}")
    return shaped


def _read_task(account: Account, model: Any, item: Item, old: Record | None) -> Record | None:
    if not isinstance(model, dict):
        item.add(INVALID_TYPE, "")
        return None
    creating = old is None
    changes: Record = {}
    text = checks.text(model, "text", item, required=creating)
    till = checks.integer(model, "complete_till", item, required=creating)
    for key, value in (("text", text), ("complete_till", till)):
        if value is not None:
            changes[key] = value
    for key in (
        "responsible_user_id",
        "entity_id",
        "task_type_id",
        "duration",
        "created_by",
        "updated_by",
        "created_at",
        "updated_at",
    ):
        value = checks.integer(model, key, item)
        if value is not None:
            changes[key] = value
    done = checks.flag(model, "is_completed", item)
    if done is not None:
        changes["is_completed"] = done
    entity = checks.text(model, "entity_type", item)
    if entity is not None and checks.choice(entity, _ENTITY_KIND, item, "entity_type"):
        changes["entity_type"] = entity
    result = model.get("result")
    if isinstance(result, dict) and isinstance(result.get("text"), str):
        changes["result"] = {"text": result["text"]}
    if "responsible_user_id" in changes and not account.has_user(changes["responsible_user_id"]):
        item.add(NOT_SUPPORTED_CHOICE, "responsible_user_id")
    if "task_type_id" in changes:
        checks.choice(changes["task_type_id"], [t["id"] for t in TASK_TYPES], item, "task_type_id")
    bound = {**(old or {}), **changes}
    if "entity_id" in changes:
        kind = _ENTITY_KIND.get(bound.get("entity_type") or "")
        if kind is None:
            item.add(FIELD_MISSING, "entity_type")
        elif account.store.get(kind, changes["entity_id"]) is None:
            item.add(NOT_SUPPORTED_CHOICE, "entity_id")
    return None if item.errors else changes


def make_task(account: Account, changes: Record) -> Record:
    now = account.now()
    tid = account.new_id("task")
    task: Record = {
        "id": tid,
        "created_by": account.user_id,
        "updated_by": account.user_id,
        "created_at": now,
        "updated_at": now,
        "responsible_user_id": account.user_id,
        "group_id": 0,
        "entity_id": None,
        "entity_type": None,
        "duration": 0,
        "is_completed": False,
        "task_type_id": 1,
        "text": "",
        "result": None,
        "complete_till": now,
        **changes,
    }
    account.store.put("task", tid, task)
    return task


@routes.add("GET", TASKS)
def list_tasks(account: Account, request: Request) -> Reply:
    filters = dict(filters_of(request))
    done = values(filters.pop("is_completed", None))
    if "task_type" in filters:
        filters["task_type_id"] = filters.pop("task_type")
    test = matcher(
        filters,
        exact=("id", "responsible_user_id", "task_type_id", "entity_type", "entity_id"),
        since=("updated_at",),
    )
    wanted = {text.lower() in ("1", "true") for text in done}
    rows = [
        t
        for t in account.store.scan("task")
        if test(t) and (not wanted or t["is_completed"] in wanted)
    ]
    rows = ordered(rows, request, ("created_at", "complete_till", "id"))
    return paged(account, request, "tasks", rows, shape=lambda t: task_shape(account, t))


@routes.add("GET", TASKS + "/{task}")
def get_task(account: Account, request: Request) -> Reply:
    task = account.store.get("task", request.ids["task"])
    return Reply(204) if task is None else Reply(200, task_shape(account, task))


@routes.add("POST", TASKS)
def add_tasks(account: Account, request: Request) -> Reply:
    models = checks.batch(request.body)
    items = [Item(checks.request_id(m, i)) for i, m in enumerate(models)]
    parsed = [_read_task(account, m, it, None) for m, it in zip(models, items, strict=True)]
    raise_failed(items)
    made = []
    for changes, item in zip(parsed, items, strict=True):
        task = make_task(account, changes or {})
        made.append({"id": task["id"], "request_id": item.request_id, **_self(account, task)})
    return Reply(200, {"_links": account.link(TASKS), "_embedded": {"tasks": made}})


def _self(account: Account, task: Record) -> dict[str, Any]:
    return {"_links": account.link(f"{TASKS}/{task['id']}")}


def _edit(account: Account, models: list[Any]) -> list[tuple[Record, str]]:
    items: list[Item] = []
    plans: list[tuple[Record | None, Record | None]] = []
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        tid = model.get("id") if isinstance(model, dict) else None
        old = account.store.get("task", tid) if isinstance(tid, int) else None
        if old is None:
            item.add(NOT_SUPPORTED_CHOICE if tid is not None else FIELD_MISSING, "id")
            plans.append((None, None))
            continue
        plans.append((old, _read_task(account, model, item, old)))
    raise_failed(items)
    out: list[tuple[Record, str]] = []
    for (old, changes), item in zip(plans, items, strict=True):
        assert old is not None
        task = {**old, **(changes or {})}
        task["updated_at"] = (changes or {}).get("updated_at", account.now())
        account.store.put("task", task["id"], task)
        out.append((task, item.request_id))
    return out


@routes.add("PATCH", TASKS)
def edit_tasks(account: Account, request: Request) -> Reply:
    changed = _edit(account, checks.batch(request.body))
    shaped = [
        {"id": t["id"], "updated_at": t["updated_at"], "request_id": r, **_self(account, t)}
        for t, r in changed
    ]
    return Reply(200, {"_links": account.link(TASKS), "_embedded": {"tasks": shaped}})


@routes.add("PATCH", TASKS + "/{task}")
def edit_task(account: Account, request: Request) -> Reply:
    if account.store.get("task", request.ids["task"]) is None:
        return Reply(204)
    ((task, _r),) = _edit(account, [{**checks.model(request.body), "id": request.ids["task"]}])
    return Reply(200, {"id": task["id"], "updated_at": task["updated_at"], **_self(account, task)})


# --- the unsorted summary
CATEGORIES = ("sip", "mail", "forms", "chats")


@routes.add("GET", "/api/v4/leads/unsorted/summary")
def unsorted_summary(account: Account, request: Request) -> Reply:
    """Totals of the requests that came in (in the ``created_at`` window): how many, accepted,
    declined, the mean seconds to sort one, and how many came by each category."""
    filters = filters_of(request)
    uids = set(values(filters.get("uid")))
    pipelines = set(values(filters.get("pipeline_id")))
    created = filters.get("created_at")
    chosen = []
    for row in account.store.scan("unsorted"):
        if uids and row["uid"] not in uids:
            continue
        if pipelines and str(row["pipeline_id"]) not in pipelines:
            continue
        if created is not None and not in_range(
            row["created_at"], created, "created_at", since_scalar=True
        ):
            continue
        chosen.append(row)
    sorted_times = [r["sorted_at"] - r["created_at"] for r in chosen if r.get("sorted_at")]
    return Reply(
        200,
        {
            "total": len(chosen),
            "accepted": sum(r["state"] == "accepted" for r in chosen),
            "declined": sum(r["state"] == "declined" for r in chosen),
            "average_sort_time": sum(sorted_times) // len(sorted_times) if sorted_times else 0,
            "categories": {
                c: {"total": sum(r["category"] == c for r in chosen)} for c in CATEGORIES
            },
            "_links": account.link("/api/v4/leads/unsorted/summary"),
        },
    )


# --- the account and its users
@routes.add("GET", "/api/v4/account")
def get_account(account: Account, request: Request) -> Reply:
    withs = set(str(request.query.get("with", "")).split(","))
    body: dict[str, Any] = {
        "id": ACCOUNT_ID,
        "name": "Песочница",
        "subdomain": SUBDOMAIN,
        "created_at": 1_700_000_000,
        "created_by": 1,
        "updated_at": 1_700_000_000,
        "updated_by": 1,
        "current_user_id": account.user_id,
        "country": "RU",
        "currency": "RUB",
        "currency_symbol": "₽",
        "customers_mode": "disabled",
        "is_unsorted_on": True,
        "mobile_feature_version": 0,
        "is_loss_reason_enabled": True,
        "is_helpbot_enabled": False,
        "is_technical_account": False,
        "contact_name_display_order": 1,
        "_links": account.link("/api/v4/account"),
    }
    embedded: dict[str, Any] = {}
    if "task_types" in withs:
        embedded["task_types"] = list(TASK_TYPES)
    if "users_groups" in withs:
        embedded["users_groups"] = [{"id": 0, "name": "Отдел продаж", "uuid": None}]
    if "datetime_settings" in withs:
        embedded["datetime_settings"] = {
            "date_pattern": "d.m.Y H:i",
            "short_date_pattern": "d.m.Y",
            "short_time_pattern": "H:i",
            "date_format": "d.m.Y",
            "time_format": "H:i:s",
            "timezone": "Europe/Moscow",
            "timezone_offset": "+03:00",
        }
    if embedded:
        body["_embedded"] = embedded
    return Reply(200, body)


def user_shape(account: Account, user: Record) -> dict[str, Any]:
    return {
        "id": user["id"],
        "name": user["name"],
        "email": user["email"],
        "lang": "ru",
        "rights": {
            "is_admin": user.get("is_admin", False),
            "is_free": False,
            "is_active": user.get("is_active", True),
            "group_id": None,
            "role_id": None,
        },
        "_links": account.link(f"/api/v4/users/{user['id']}"),
    }


@routes.add("GET", "/api/v4/users")
def list_users(account: Account, request: Request) -> Reply:
    rows = sorted(account.store.rows("user"), key=lambda u: u["id"])
    return paged(account, request, "users", rows, shape=lambda u: user_shape(account, u))


@routes.add("GET", "/api/v4/users/{user}")
def get_user(account: Account, request: Request) -> Reply:
    user = account.store.get("user", request.ids["user"])
    if user is None:
        raise AmoError(404, "Not Found")
    return Reply(200, user_shape(account, user))

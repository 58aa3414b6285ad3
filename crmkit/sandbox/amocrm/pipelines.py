"""Lead pipelines and their statuses, and loss reasons (docs:crm_platform/leads_pipelines.md;
loss reasons from the PHP SDK's ``Leads/LossReasons`` service, the docs have no page for them).

Every pipeline holds three system statuses nobody can edit or delete: the unsorted one
(``type`` 1, first) and won 142 / lost 143 (last; the same ids in every pipeline). At most 50
pipelines per account and 100 statuses per pipeline, system ones included; colours only from
the palette. The last pipeline and a pipeline with leads cannot be deleted; a status's leads go
to the pipeline's first status when it is deleted.
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.amocrm import checks
from crmkit.sandbox.amocrm.account import (
    ACCOUNT_ID,
    LOST,
    LOST_COLOR,
    MAX_PIPELINES,
    MAX_STATUSES,
    PALETTE,
    UNSORTED_COLOR,
    WON,
    WON_COLOR,
    Account,
    Reply,
    Request,
)
from crmkit.sandbox.amocrm.errors import (
    FIELD_MISSING,
    LIMIT_EXCEEDED,
    NOT_SUPPORTED_CHOICE,
    AmoError,
    Item,
    not_found,
    raise_failed,
)
from crmkit.sandbox.amocrm.hal import collection, paged
from crmkit.sandbox.amocrm.router import Router
from crmkit.sandbox.store import Record

routes = Router()

UNSORTED_NAME = "Неразобранное"
WON_NAME = "Успешно реализовано"
LOST_NAME = "Закрыто и не реализовано"
#: the ordinary statuses of a new account's pipeline, as the docs' example shows them (their
#: colours predate the palette: what a real account holds is not always settable)
FIRST_STATUSES = (("Первичный контакт", "#99ccff"), ("Принимают решение", "#ffcc66"))
PIPELINES = "/api/v4/leads/pipelines"


# --- shapes
def ordered_statuses(pipeline: Record) -> list[Record]:
    def rank(status: Record) -> tuple[int, int, int]:
        if status["type"] == 1:
            return (0, 0, 0)
        if status["id"] in (WON, LOST):
            return (2, status["id"], 0)
        return (1, status["sort"], status["id"])

    return sorted(pipeline["statuses"], key=rank)


def status_shape(account: Account, pid: int, status: Record, request: Request) -> dict[str, Any]:
    shaped: dict[str, Any] = {
        "id": status["id"],
        "name": status["name"],
        "sort": status["sort"],
        "is_editable": status["type"] == 0 and status["id"] not in (WON, LOST),
        "pipeline_id": pid,
        "color": status["color"],
        "type": status["type"],
        "account_id": ACCOUNT_ID,
        "_links": account.link(f"{PIPELINES}/{pid}/statuses/{status['id']}"),
    }
    if "descriptions" in str(request.query.get("with", "")).split(","):
        shaped["descriptions"] = []
    return shaped


def pipeline_shape(account: Account, pipeline: Record, request: Request) -> dict[str, Any]:
    pid = pipeline["id"]
    return {
        "id": pid,
        "name": pipeline["name"],
        "sort": pipeline["sort"],
        "is_main": pipeline["is_main"],
        "is_unsorted_on": pipeline["is_unsorted_on"],
        "is_archive": pipeline.get("is_archive", False),
        "account_id": ACCOUNT_ID,
        "_links": account.link(f"{PIPELINES}/{pid}"),
        "_embedded": {
            "statuses": [status_shape(account, pid, s, request) for s in ordered_statuses(pipeline)]
        },
    }


# --- making pipelines (also used by the account's bootstrap and the seed)
def new_status(account: Account, name: str, sort: int, color: str) -> Record:
    return {"id": account.new_id("status"), "name": name, "sort": sort, "color": color, "type": 0}


def make_pipeline(
    account: Account,
    name: str,
    sort: int,
    is_main: bool,
    is_unsorted_on: bool = True,
    statuses: tuple[tuple[str, int, str], ...] = (),
    won: str = WON_NAME,
    lost: str = LOST_NAME,
) -> Record:
    """A pipeline with its system statuses and ``statuses`` (name, sort, colour) between."""
    store = account.store
    if is_main:
        for other in store.rows("pipeline"):
            if other["is_main"]:
                store.put("pipeline", other["id"], {**other, "is_main": False})
    pid = account.new_id("pipeline")
    unsorted = {
        "id": account.new_id("status"),
        "name": UNSORTED_NAME,
        "sort": 10,
        "color": UNSORTED_COLOR,
        "type": 1,
    }
    made = [new_status(account, n, s, c) for n, s, c in statuses]
    system = [
        {"id": WON, "name": won, "sort": 10000, "color": WON_COLOR, "type": 0},
        {"id": LOST, "name": lost, "sort": 11000, "color": LOST_COLOR, "type": 0},
    ]
    record = {
        "id": pid,
        "name": name,
        "sort": sort,
        "is_main": is_main,
        "is_unsorted_on": is_unsorted_on,
        "is_archive": False,
        "statuses": [unsorted, *made, *system],
    }
    store.put("pipeline", pid, record)
    return record


def bootstrap_pipeline(account: Account) -> None:
    make_pipeline(
        account,
        "Воронка",
        1,
        True,
        statuses=tuple((n, 20 + 10 * i, c) for i, (n, c) in enumerate(FIRST_STATUSES)),
    )


def first_status(pipeline: Record) -> Record:
    """Where a lead goes by default: the first ordinary status (the unsorted one if none)."""
    ordinary = [
        s for s in ordered_statuses(pipeline) if s["type"] == 0 and s["id"] not in (WON, LOST)
    ]
    return ordinary[0] if ordinary else ordered_statuses(pipeline)[0]


def main_pipeline(account: Account) -> Record:
    pipelines = account.pipelines()
    return next((p for p in pipelines if p["is_main"]), pipelines[0])


# --- checks
def _color(model: dict[str, Any], item: Item, path: str) -> str | None:
    color = checks.text(model, "color", item, path)
    if color is None:
        return None
    if color.lower() not in PALETTE:
        item.add(NOT_SUPPORTED_CHOICE, f"{path}color")
        return None
    return color.lower()


def _status_model(model: Any, item: Item, path: str) -> tuple[str, int, str] | None:
    if not isinstance(model, dict):
        item.add(FIELD_MISSING, path.rstrip("."))
        return None
    name = checks.text(model, "name", item, path, required=True)
    sort = checks.integer(model, "sort", item, path, required=True)
    color = _color(model, item, path) or PALETTE[0]
    if name is None or sort is None:
        return None
    return name, sort, color


def _pipeline_statuses(model: dict[str, Any], item: Item) -> tuple[list[Any], dict[int, str]]:
    """The ordinary statuses of a new pipeline and the names given to 142/143."""
    given = checks.embedded(model, "statuses", item) or []
    ordinary: list[Any] = []
    system: dict[int, str] = {}
    for index, status in enumerate(given):
        path = f"_embedded.statuses.{index}."
        if isinstance(status, dict) and "id" in status:
            if checks.choice(status["id"], (WON, LOST), item, f"{path}id"):
                name = checks.text(status, "name", item, path, required=True)
                if name is not None:
                    system[int(status["id"])] = name
            continue
        parsed = _status_model(status, item, path)
        if parsed is not None:
            ordinary.append(parsed)
    if 3 + len(ordinary) > MAX_STATUSES:
        item.add(LIMIT_EXCEEDED, "_embedded.statuses")
    return ordinary, system


# --- pipelines
def _pipeline_or_404(account: Account, pid: int) -> Record:
    pipeline = account.pipeline(pid)
    if pipeline is None:
        raise not_found()
    return pipeline


@routes.add("GET", PIPELINES)
def list_pipelines(account: Account, request: Request) -> Reply:
    shaped = [pipeline_shape(account, p, request) for p in account.pipelines()]
    return collection(account, PIPELINES, "pipelines", shaped)


@routes.add("GET", PIPELINES + "/{pipeline}")
def get_pipeline(account: Account, request: Request) -> Reply:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    return Reply(200, pipeline_shape(account, pipeline, request))


@routes.add("POST", PIPELINES, admin=True)
def add_pipelines(account: Account, request: Request) -> Reply:
    models = checks.batch(request.body)
    items: list[Item] = []
    parsed: list[tuple[dict[str, Any], list[Any], dict[int, str]]] = []
    room = MAX_PIPELINES - account.store.count("pipeline")
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        if not isinstance(model, dict):
            item.add(FIELD_MISSING, "")
            continue
        checks.text(model, "name", item, required=True)
        checks.integer(model, "sort", item, required=True)
        checks.flag(model, "is_main", item, required=True)
        checks.flag(model, "is_unsorted_on", item, required=True)
        ordinary, system = _pipeline_statuses(model, item)
        if index >= room:
            item.add(LIMIT_EXCEEDED, "")
        parsed.append((model, ordinary, system))
    raise_failed(items)
    made = []
    for (model, ordinary, system), item in zip(parsed, items, strict=True):
        record = make_pipeline(
            account,
            model["name"],
            model["sort"],
            model["is_main"],
            model["is_unsorted_on"],
            tuple(ordinary),
            won=system.get(WON, WON_NAME),
            lost=system.get(LOST, LOST_NAME),
        )
        made.append({**pipeline_shape(account, record, request), "request_id": item.request_id})
    return collection(account, PIPELINES, "pipelines", made)


@routes.add("PATCH", PIPELINES + "/{pipeline}", admin=True)
def edit_pipeline(account: Account, request: Request) -> Reply:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    model = checks.model(request.body)
    item = Item("0")
    changes: dict[str, Any] = {}
    for key, read in (
        ("name", checks.text),
        ("sort", checks.integer),
        ("is_main", checks.flag),
        ("is_unsorted_on", checks.flag),
    ):
        value = read(model, key, item)
        if value is not None:
            changes[key] = value
    if not changes and not item.errors:
        item.add(FIELD_MISSING, "name")
    raise_failed([item])
    store = account.store
    if changes.get("is_main") is True:
        for other in store.rows("pipeline"):
            if other["is_main"] and other["id"] != pipeline["id"]:
                store.put("pipeline", other["id"], {**other, "is_main": False})
    pipeline = {**pipeline, **changes}
    store.put("pipeline", pipeline["id"], pipeline)
    if changes.get("is_main") is False:
        _ensure_main(account)
    fresh = _pipeline_or_404(account, pipeline["id"])
    return Reply(200, {**pipeline_shape(account, fresh, request), "request_id": "0"})


def _ensure_main(account: Account) -> None:
    """One pipeline is always the main one: the first by sort when none is left."""
    pipelines = account.pipelines()
    if pipelines and not any(p["is_main"] for p in pipelines):
        first = pipelines[0]
        account.store.put("pipeline", first["id"], {**first, "is_main": True})


@routes.add("DELETE", PIPELINES + "/{pipeline}", admin=True)
def delete_pipeline(account: Account, request: Request) -> Reply:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    store = account.store
    if store.count("pipeline") <= 1:
        raise AmoError(400, "Нельзя удалить последнюю воронку в аккаунте")
    if store.count_indexed("lead", "pipeline_id", pipeline["id"]):
        raise AmoError(400, "Нельзя удалить воронку, в которой есть сделки")
    store.delete("pipeline", pipeline["id"])
    _ensure_main(account)
    return Reply(204)


# --- statuses
STATUSES = PIPELINES + "/{pipeline}/statuses"


def _status_or_404(account: Account, request: Request) -> tuple[Record, Record]:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    status = account.status_in(pipeline, request.ids["status"])
    if status is None:
        raise not_found()
    return pipeline, status


def _editable(status: Record) -> None:
    if status["type"] != 0 or status["id"] in (WON, LOST):
        raise AmoError(400, "Системный статус нельзя изменить или удалить")


@routes.add("GET", STATUSES)
def list_statuses(account: Account, request: Request) -> Reply:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    pid = pipeline["id"]
    shaped = [status_shape(account, pid, s, request) for s in ordered_statuses(pipeline)]
    return collection(account, f"{PIPELINES}/{pid}/statuses", "statuses", shaped)


@routes.add("GET", STATUSES + "/{status}")
def get_status(account: Account, request: Request) -> Reply:
    pipeline, status = _status_or_404(account, request)
    return Reply(200, status_shape(account, pipeline["id"], status, request))


@routes.add("POST", STATUSES, admin=True)
def add_statuses(account: Account, request: Request) -> Reply:
    pipeline = _pipeline_or_404(account, request.ids["pipeline"])
    models = checks.batch(request.body)
    room = MAX_STATUSES - len(pipeline["statuses"])
    items: list[Item] = []
    parsed = []
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        values = _status_model(model, item, "")
        if index >= room:
            item.add(LIMIT_EXCEEDED, "")
        parsed.append(values)
    raise_failed(items)
    made = []
    pid = pipeline["id"]
    for values, item in zip(parsed, items, strict=True):
        assert values is not None
        status = new_status(account, *values)
        pipeline["statuses"].append(status)
        made.append({**status_shape(account, pid, status, request), "request_id": item.request_id})
    account.store.put("pipeline", pid, pipeline)
    return collection(account, f"{PIPELINES}/{pid}/statuses", "statuses", made)


@routes.add("PATCH", STATUSES + "/{status}", admin=True)
def edit_status(account: Account, request: Request) -> Reply:
    pipeline, status = _status_or_404(account, request)
    _editable(status)
    model = checks.model(request.body)
    item = Item("0")
    name = checks.text(model, "name", item)
    sort = checks.integer(model, "sort", item)
    color = _color(model, item, "")
    if name is None and sort is None and color is None and not item.errors:
        item.add(FIELD_MISSING, "name")
    raise_failed([item])
    changed = {
        **status,
        **{k: v for k, v in (("name", name), ("sort", sort), ("color", color)) if v is not None},
    }
    pipeline["statuses"] = [changed if s["id"] == status["id"] else s for s in pipeline["statuses"]]
    account.store.put("pipeline", pipeline["id"], pipeline)
    shaped = status_shape(account, pipeline["id"], changed, request)
    return Reply(200, {**shaped, "request_id": "0"})


@routes.add("DELETE", STATUSES + "/{status}", admin=True)
def delete_status(account: Account, request: Request) -> Reply:
    pipeline, status = _status_or_404(account, request)
    _editable(status)
    pipeline["statuses"] = [s for s in pipeline["statuses"] if s["id"] != status["id"]]
    store = account.store
    store.put("pipeline", pipeline["id"], pipeline)
    target = first_status(pipeline)["id"]
    for lead in store.find("lead", status_id=status["id"]):
        if lead["pipeline_id"] == pipeline["id"]:
            store.put("lead", lead["id"], {**lead, "status_id": target})
    return Reply(204)


# --- loss reasons
LOSS_REASONS = "/api/v4/leads/loss_reasons"


def loss_reason_shape(account: Account, reason: Record) -> dict[str, Any]:
    return {
        "id": reason["id"],
        "name": reason["name"],
        "sort": reason["sort"],
        "created_at": reason["created_at"],
        "updated_at": reason["updated_at"],
        "_links": account.link(f"{LOSS_REASONS}/{reason['id']}"),
    }


def make_loss_reason(account: Account, name: str, sort: int | None = None) -> Record:
    rid = account.new_id("loss_reason")
    now = account.now()
    if sort is None:
        sort = 100_000 + 10 * account.store.count("loss_reason")
    record = {"id": rid, "name": name, "sort": sort, "created_at": now, "updated_at": now}
    account.store.put("loss_reason", rid, record)
    return record


def _reason_or_404(account: Account, request: Request) -> Record:
    reason = account.store.get("loss_reason", request.ids["reason"])
    if reason is None:
        raise not_found()
    return reason


@routes.add("GET", LOSS_REASONS)
def list_loss_reasons(account: Account, request: Request) -> Reply:
    rows = sorted(account.store.rows("loss_reason"), key=lambda r: (r["sort"], r["id"]))
    return paged(
        account, request, "loss_reasons", rows, shape=lambda r: loss_reason_shape(account, r)
    )


@routes.add("GET", LOSS_REASONS + "/{reason}")
def get_loss_reason(account: Account, request: Request) -> Reply:
    return Reply(200, loss_reason_shape(account, _reason_or_404(account, request)))


@routes.add("POST", LOSS_REASONS, admin=True)
def add_loss_reasons(account: Account, request: Request) -> Reply:
    models = checks.batch(request.body)
    items = []
    for index, model in enumerate(models):
        item = Item(checks.request_id(model, index))
        items.append(item)
        if not isinstance(model, dict):
            item.add(FIELD_MISSING, "")
            continue
        checks.text(model, "name", item, required=True)
        checks.integer(model, "sort", item)
    raise_failed(items)
    made = []
    for model, item in zip(models, items, strict=True):
        record = make_loss_reason(account, model["name"], model.get("sort"))
        made.append({**loss_reason_shape(account, record), "request_id": item.request_id})
    return collection(account, LOSS_REASONS, "loss_reasons", made)


@routes.add("PATCH", LOSS_REASONS + "/{reason}", admin=True)
def edit_loss_reason(account: Account, request: Request) -> Reply:
    reason = _reason_or_404(account, request)
    model = checks.model(request.body)
    item = Item("0")
    name = checks.text(model, "name", item)
    sort = checks.integer(model, "sort", item)
    if name is None and sort is None and not item.errors:
        item.add(FIELD_MISSING, "name")
    raise_failed([item])
    changed = {**reason, "updated_at": account.now()}
    if name is not None:
        changed["name"] = name
    if sort is not None:
        changed["sort"] = sort
    account.store.put("loss_reason", reason["id"], changed)
    return Reply(200, loss_reason_shape(account, changed))


@routes.add("DELETE", LOSS_REASONS + "/{reason}", admin=True)
def delete_loss_reason(account: Account, request: Request) -> Reply:
    reason = _reason_or_404(account, request)
    store = account.store
    store.delete("loss_reason", reason["id"])
    for lead in store.find("lead", loss_reason_id=reason["id"]):
        store.put("lead", lead["id"], {**lead, "loss_reason_id": None})
    return Reply(204)

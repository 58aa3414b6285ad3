"""The events list (docs:crm_platform/events-and-notes.md): what happened to leads, contacts
and companies. Pages hold at most 100 events; ids are strings; newest first (the docs say no
order, the sandbox picks the one an audit of recent moves reads fastest).

``lead_status_changed`` carries ``value_before``/``value_after`` as
``[{"lead_status": {"id": S, "pipeline_id": P}}]``, and
``filter[value_after][leads_statuses][i][pipeline_id|status_id]`` selects moves into a status.
"""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.amocrm.account import ACCOUNT_ID, EVENTS_CAP, Account, Reply, Request
from crmkit.sandbox.amocrm.errors import AmoError
from crmkit.sandbox.amocrm.hal import filters_of, in_range, members, paged, values
from crmkit.sandbox.amocrm.router import Router
from crmkit.sandbox.store import Record

routes = Router()

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"
#: the URL part of each event entity
_PLURAL = {"lead": "leads", "contact": "contacts", "company": "companies", "task": "tasks"}


def event_uid(number: int) -> str:
    """A 26-character id like amoCRM's (``01pz58t6p04ymgsgfbmfyfy1mf``), from a sequence."""
    text = ""
    while number:
        number, digit = divmod(number, 36)
        text = _DIGITS[digit] + text
    return "01" + text.rjust(24, "0")


def record_event(
    account: Account,
    kind: str,
    entity: str,
    entity_id: int,
    created_by: int,
    created_at: int,
    before: list[Any] | None = None,
    after: list[Any] | None = None,
) -> Record:
    number = account.new_id("event")
    row = {
        "id": number,
        "uid": event_uid(number),
        "type": kind,
        "entity_id": entity_id,
        "entity_type": entity,
        "created_by": created_by,
        "created_at": created_at,
        "value_after": after or [],
        "value_before": before or [],
    }
    account.store.put("event", number, row)
    return row


def event_shape(account: Account, row: Record) -> dict[str, Any]:
    entity = row["entity_type"]
    target = f"/api/v4/{_PLURAL.get(entity, entity)}/{row['entity_id']}"
    return {
        "id": row["uid"],
        "type": row["type"],
        "entity_id": row["entity_id"],
        "entity_type": entity,
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "value_after": row["value_after"],
        "value_before": row["value_before"],
        "account_id": ACCOUNT_ID,
        "_links": account.link(f"/api/v4/events/{row['uid']}"),
        "_embedded": {"entity": {"id": row["entity_id"], "_links": account.link(target)}},
    }


def _status_test(condition: Any, side: str) -> Any:
    pairs = [p for p in members((condition or {}).get("leads_statuses")) if isinstance(p, dict)]
    wanted = {(str(p.get("pipeline_id")), str(p.get("status_id"))) for p in pairs}

    def test(row: Record) -> bool:
        for change in row[side]:
            status = change.get("lead_status") if isinstance(change, dict) else None
            if status and (str(status["pipeline_id"]), str(status["id"])) in wanted:
                return True
        return False

    return test if wanted else None


def _selected(account: Account, request: Request) -> list[Record]:
    filters = filters_of(request)
    entities = set(values(filters.get("entity")))
    entity_ids = set(values(filters.get("entity_id")))
    if entity_ids and len(entities) != 1:
        raise AmoError(400, "filter[entity_id] needs exactly one filter[entity]")
    if len(entity_ids) > 10:
        raise AmoError(400, "filter[entity_id]: at most 10 ids")
    types = set(values(filters.get("type")))
    ids = set(values(filters.get("id")))
    authors = set(values(filters.get("created_by")))
    created = filters.get("created_at")
    tests = [
        t
        for t in (
            _status_test(filters.get("value_after"), "value_after"),
            _status_test(filters.get("value_before"), "value_before"),
        )
        if t is not None
    ]
    rows = []
    for row in account.store.scan("event"):
        if types and row["type"] not in types:
            continue
        if entities and row["entity_type"] not in entities:
            continue
        if entity_ids and str(row["entity_id"]) not in entity_ids:
            continue
        if ids and row["uid"] not in ids:
            continue
        if authors and str(row["created_by"]) not in authors:
            continue
        if created is not None and not in_range(
            row["created_at"], created, "created_at", since_scalar=True
        ):
            continue
        if all(test(row) for test in tests):
            rows.append(row)
    rows.sort(key=lambda r: (r["created_at"], r["id"]), reverse=True)
    return rows


@routes.add("GET", "/api/v4/events")
def list_events(account: Account, request: Request) -> Reply:
    rows = _selected(account, request)
    return paged(
        account, request, "events", rows, cap=EVENTS_CAP, shape=lambda r: event_shape(account, r)
    )


@routes.add("GET", "/api/v4/events/<event>")
def get_event(account: Account, request: Request) -> Reply:
    found = account.store.find("event", uid=str(request.ids["event"]))
    if not found:
        return Reply(204)
    return Reply(200, event_shape(account, found[0]))

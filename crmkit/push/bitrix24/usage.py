"""Reading how a Bitrix24 portal is used, for ``crmkit audit``, cheaply (BITRIX24.md §3.10, §7.5).

- Counts come from the ``total`` of one-row pages (``select: [ID]``), 50 to a ``batch``.
- The row sets an audit must walk — the open deals, the open activities of deals, a window of
  the stage history, the activities of new leads — are read by keyset (``order ID asc``,
  ``filter >ID``, ``start=-1``, only the fields needed) with up to 50 pages chained in one
  ``batch``: each page starts after the last id of the one before (``$result[p3][49][ID]``),
  2,500 rows a request. The pages after the first short one are ignored. Rows are folded into
  aggregates as they come (``crmkit.push.usage``): nothing keeps a whole table.

The configuration (pipelines, stages, fields) is not read here: it is the ``PortalState`` the
shared reader made.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from crmkit.push.bitrix24.encoding import BatchRef
from crmkit.push.bitrix24.replies import PAGE_SIZE, int_or_none, rows_of
from crmkit.push.bitrix24.writer import Batcher
from crmkit.push.state import PortalState
from crmkit.push.usage import History, Usage

Progress = Callable[[str, int, int], None]
Commands = dict[str, tuple[str, dict[str, Any]]]

#: deal fields the walk over open deals needs
_DEAL_FIELDS = [
    "ID",
    "CATEGORY_ID",
    "STAGE_ID",
    "ASSIGNED_BY_ID",
    "CONTACT_ID",
    "COMPANY_ID",
    "CLOSEDATE",
    "MOVED_TIME",
]


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).replace(microsecond=0).isoformat()


def _moment(text: Any) -> float | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _day_start(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).date().isoformat()


class _Reader:
    def __init__(self, client: Batcher, progress: Progress | None) -> None:
        self.client = client
        self.progress = progress
        self.done = 0

    def tick(self, label: str, total: int) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, self.done, max(total, self.done))

    def stream(
        self,
        method: str,
        params: Mapping[str, Any],
        *,
        expected: int | None,
        key: str | None = None,
        label: str = "",
        budget: int = 0,
    ) -> Iterator[list[Mapping[str, Any]]]:
        """Every row of a list by keyset, 50 pages to a request (see the module docstring)."""
        base = dict(params)
        base_filter = dict(base.pop("filter", None) or {})
        last: Any = None
        remaining = expected
        while True:
            pages = 50 if remaining is None else max(1, min(50, math.ceil(remaining / 50) + 1))
            commands: Commands = {}
            for k in range(pages):
                flt = dict(base_filter)
                if k > 0:
                    where = f"[{key}]" if key else ""
                    flt[">ID"] = BatchRef(
                        ((f"$result[p{k - 1}]{where}[{PAGE_SIZE - 1}][ID]", True),)
                    )
                elif last is not None:
                    flt[">ID"] = last
                commands[f"p{k}"] = (
                    method,
                    {**base, "filter": flt, "order": {"ID": "ASC"}, "start": -1},
                )
            answer = self.client.batch(commands)
            self.tick(label, budget)
            for k in range(pages):
                item = answer[f"p{k}"]
                if item.error is not None:
                    raise item.error
                rows = [r for r in rows_of(item.result, key) if isinstance(r, Mapping)]
                yield rows
                if len(rows) < PAGE_SIZE:
                    return
                last = rows[-1].get("ID")
                if remaining is not None:
                    remaining -= len(rows)


def _count(method: str, flt: Mapping[str, Any], **extra: Any) -> tuple[str, dict[str, Any]]:
    return method, {"filter": dict(flt), "select": ["ID"], "start": 0, **extra}


def read_usage(
    client: Batcher,
    state: PortalState,
    *,
    now: float,
    admin: bool = True,
    stale_days: int = 7,
    history_days: int = 90,
    history: bool = True,
    progress: Progress | None = None,
) -> Usage:
    """The usage figures of the portal behind ``client`` whose set-up is ``state``."""
    reader = _Reader(client, progress)
    usage = Usage(now=now, stale_days=stale_days, history_days=history_days)
    if not admin:
        usage.partial["all"] = "not_admin"
    before = client.requests_sent
    _counts(reader, state, usage)
    _open_deals(reader, state, usage)
    usage.requests = client.requests_sent - before
    if history:
        start = client.requests_sent
        usage.deal_history = _deal_history(reader, usage, _paths(state))
        usage.lead_response = _lead_response(reader, usage)
        usage.history_requests = client.requests_sent - start
    return usage


def _counts(reader: _Reader, state: PortalState, usage: Usage) -> None:
    now = usage.now
    lead = state.lead_funnel()
    first = lead.stages[0].status_id if lead and lead.stages else None
    commands: Commands = {
        "leads": _count("crm.lead.list", {}),
        "contacts": _count("crm.contact.list", {}),
        "companies": _count("crm.company.list", {}),
        "activities": _count("crm.activity.list", {}),
        "open_act": _count("crm.activity.list", {"COMPLETED": "N", "OWNER_TYPE_ID": 2}),
        "overdue_act": _count(
            "crm.activity.list", {"COMPLETED": "N", "OWNER_TYPE_ID": 2, "<DEADLINE": _iso(now)}
        ),
        "deals": _count("crm.deal.list", {}),
        "deals_open": _count("crm.deal.list", {"STAGE_SEMANTIC_ID": "P"}),
        "inactive": ("user.get", {"FILTER": {"ACTIVE": False}, "start": 0}),
    }
    if first is not None:
        cutoff = _iso(now - usage.stale_days * 86400)
        commands["first"] = _count("crm.lead.list", {"STATUS_ID": first})
        commands["stale"] = (
            "crm.lead.list",
            {
                "filter": {"STATUS_ID": first, "<DATE_CREATE": cutoff},
                "select": ["ID"],
                "order": {"ID": "ASC"},
                "start": 0,
            },
        )
    statuses = [s.status_id for s in lead.stages] if lead else []
    for index, status in enumerate(statuses):
        commands[f"ls{index}"] = _count("crm.lead.list", {"STATUS_ID": status})
    stages: list[tuple[int, str]] = []
    for funnel in state.deal_funnels():
        for stage in funnel.stages:
            stages.append((funnel.category_id or 0, stage.status_id))
    for index, (_cid, status) in enumerate(stages):
        commands[f"ds{index}"] = _count("crm.deal.list", {"STAGE_ID": status})
    answer = reader.client.batch_many(commands)
    reader.tick("counts", math.ceil(len(commands) / 50))

    def total(label: str, figure: str) -> int | None:
        item = answer[label]
        if item.error is not None:
            usage.partial[figure] = item.error.error or "refused"
            return None
        return item.total if item.total is not None else len(rows_of(item.result))

    usage.leads_total = total("leads", "leads")
    usage.contacts_total = total("contacts", "contacts")
    usage.companies_total = total("companies", "companies")
    usage.activities_total = total("activities", "activities")
    usage.open_activities = total("open_act", "activities")
    usage.overdue_activities = total("overdue_act", "activities")
    usage.deals_total = total("deals", "deals")
    usage.deals_open = total("deals_open", "deals")
    for index, status in enumerate(statuses):
        value = total(f"ls{index}", "leads")
        if value is not None:
            usage.leads_by_status[status] = value
    for index, key in enumerate(stages):
        value = total(f"ds{index}", "deals")
        if value is not None:
            usage.deals_by_stage[key] = value
    if first is not None:
        usage.leads_in_first_status = total("first", "leads")
        stale = answer["stale"]
        if stale.ok:
            usage.stale_leads.count = stale.total or 0
            usage.stale_leads.ids = [
                int(r["ID"]) for r in rows_of(stale.result)[:10] if isinstance(r, Mapping)
            ]
        else:
            usage.partial["leads"] = "refused"
    inactive = answer["inactive"]
    if inactive.ok:
        # a company has few former employees: one page holds them (more are counted partial)
        usage.inactive_users = {
            int(u["ID"]) for u in rows_of(inactive.result) if isinstance(u, Mapping)
        }
        if (inactive.total or 0) > PAGE_SIZE:
            usage.partial["inactive_users"] = "more_than_a_page"
    else:
        usage.partial["inactive_users"] = "no_user_scope"


def _open_deals(reader: _Reader, state: PortalState, usage: Usage) -> None:
    """Walk the open activities of deals, then the open deals, folding them into aggregates."""
    now = usage.now
    with_open: set[int] = set()
    with_overdue: set[int] = set()
    activity_params = {
        "filter": {"COMPLETED": "N", "OWNER_TYPE_ID": 2},
        "select": ["ID", "OWNER_ID", "DEADLINE"],
    }
    budget = _requests_for(usage.open_activities) + _requests_for(usage.deals_open) + 1
    for rows in reader.stream(
        "crm.activity.list",
        activity_params,
        expected=usage.open_activities,
        label="activities",
        budget=budget,
    ):
        for row in rows:
            owner = int_or_none(row.get("OWNER_ID"))
            if owner is None:
                continue
            with_open.add(owner)
            deadline = _moment(row.get("DEADLINE"))
            if deadline is not None and deadline < now:
                with_overdue.add(owner)
    mandatory = [f.field_name for f in state.fields_of("deal") if f.mandatory]
    deals = usage.open_deals
    today = _day_start(now)
    params = {"filter": {"STAGE_SEMANTIC_ID": "P"}, "select": _DEAL_FIELDS + mandatory}
    for rows in reader.stream(
        "crm.deal.list", params, expected=usage.deals_open, label="deals", budget=budget
    ):
        for row in rows:
            rid = int_or_none(row.get("ID"))
            if rid is None:
                continue
            deals.walked += 1
            if rid not in with_open:
                deals.without_open_activity.add(rid)
            if rid in with_overdue:
                deals.with_overdue_activity.add(rid)
            if not int_or_none(row.get("CONTACT_ID")) and not int_or_none(row.get("COMPANY_ID")):
                deals.without_client.add(rid)
            close = str(row.get("CLOSEDATE") or "")[:10]
            if close and close < today:
                deals.past_close_date.add(rid)
            owner = int_or_none(row.get("ASSIGNED_BY_ID")) or 0
            deals.by_owner[owner] = deals.by_owner.get(owner, 0) + 1
            if owner in usage.inactive_users:
                deals.owned_by_inactive.add(rid)
            cid = int_or_none(row.get("CATEGORY_ID")) or 0
            stage = str(row.get("STAGE_ID") or "")
            deals.by_stage[(cid, stage)] = deals.by_stage.get((cid, stage), 0) + 1
            for name in mandatory:
                value = row.get(name)
                if value not in (None, "", [], False, "N"):
                    deals.filled[name] = deals.filled.get(name, 0) + 1
            moved = _moment(row.get("MOVED_TIME"))
            if moved is not None:
                deals.in_stage.append((rid, cid, stage, max(0, int((now - moved) // 60))))
    for name in mandatory:
        deals.filled.setdefault(name, 0)


def _requests_for(rows: int | None) -> int:
    return 1 if rows is None else max(1, math.ceil(rows / (PAGE_SIZE * 50)))


def _paths(state: PortalState) -> dict[str, int]:
    """Each deal stage's position on its pipeline's path: in-progress stages, then success."""
    out = {}
    for funnel in state.deal_funnels():
        path = [s for s in funnel.stages if s.semantics == "process"]
        path += [s for s in funnel.stages if s.semantics == "success"]
        out.update({stage.status_id: index for index, stage in enumerate(path)})
    return out


def _deal_history(reader: _Reader, usage: Usage, positions: Mapping[str, int]) -> History:
    """Stays per stage (for "stuck") and how far the deals of the window got (conversion)."""
    start = usage.now - usage.history_days * 86400
    history = History()
    last: dict[int, tuple[int, str, float]] = {}
    created: set[int] = set()
    furthest: dict[int, tuple[int, int]] = {}
    params = {
        "entityTypeId": 2,
        "filter": {">=CREATED_TIME": _iso(start)},
        "select": ["ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME", "CATEGORY_ID", "STAGE_ID"],
    }
    for rows in reader.stream(
        "crm.stagehistory.list", params, expected=None, key="items", label="history"
    ):
        for row in rows:
            history.rows += 1
            owner = int_or_none(row.get("OWNER_ID"))
            moment = _moment(row.get("CREATED_TIME"))
            if owner is None or moment is None:
                continue
            cid = int_or_none(row.get("CATEGORY_ID")) or 0
            stage = str(row.get("STAGE_ID") or "")
            previous = last.get(owner)
            if previous is not None and previous[0] == cid:
                minutes = max(0, int((moment - previous[2]) // 60))
                history.stays.setdefault((cid, previous[1]), []).append(minutes)
            last[owner] = (cid, stage, moment)
            if int_or_none(row.get("TYPE_ID")) == 1:
                created.add(owner)
                history.started[cid] = history.started.get(cid, 0) + 1
            if owner in created:
                reached = history.reached.setdefault(cid, {})
                reached[stage] = reached.get(stage, 0) + 1
                position = positions.get(stage)
                if position is not None and position >= furthest.get(owner, (cid, -1))[1]:
                    furthest[owner] = (cid, position)
    for cid, position in furthest.values():
        counts = history.furthest.setdefault(cid, {})
        counts[position] = counts.get(position, 0) + 1
    return history


def _lead_response(reader: _Reader, usage: Usage) -> list[int]:
    """Minutes from each lead's creation (in the window) to its first move or first activity."""
    start = usage.now - min(usage.history_days, 30) * 86400
    created: dict[int, float] = {}
    first: dict[int, float] = {}
    params = {
        "entityTypeId": 1,
        "filter": {">=CREATED_TIME": _iso(start)},
        "select": ["ID", "TYPE_ID", "OWNER_ID", "CREATED_TIME"],
    }
    for rows in reader.stream(
        "crm.stagehistory.list", params, expected=None, key="items", label="history"
    ):
        for row in rows:
            owner = int_or_none(row.get("OWNER_ID"))
            moment = _moment(row.get("CREATED_TIME"))
            if owner is None or moment is None:
                continue
            if int_or_none(row.get("TYPE_ID")) == 1:
                created[owner] = moment
            elif owner in created and owner not in first:
                first[owner] = moment
    activity_params = {
        "filter": {"OWNER_TYPE_ID": 1, ">=CREATED": _iso(start)},
        "select": ["ID", "OWNER_ID", "CREATED"],
    }
    for rows in reader.stream("crm.activity.list", activity_params, expected=None, label="history"):
        for row in rows:
            owner = int_or_none(row.get("OWNER_ID"))
            moment = _moment(row.get("CREATED"))
            if owner in created and moment is not None and owner is not None:
                first[owner] = min(first.get(owner, moment), moment)
    return sorted(max(0, int((first[o] - created[o]) // 60)) for o in created if o in first)

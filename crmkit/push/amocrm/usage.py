"""Reading how an amoCRM account is used, for ``crmkit audit``: the same ``Usage`` the Bitrix24
usage reader fills (``crmkit.push.bitrix24.usage``), so one findings engine audits both CRMs.

amoCRM's lists carry no totals (amo-facts §3), so every figure comes from a page scan of its
HAL list (250 rows a page, events 100), folded into aggregates as the rows come. Each scan is
bounded by ``max_rows``: a scan that reaches it stops there and the figure is named in
``Usage.partial`` (``page_cap``), so a huge account is audited in bounded time and says so.

How amoCRM's things stand for the blueprint's (docs/targets.md):

- **Leads and deals.** amoCRM has only leads in pipelines. The pipeline named as the lead funnel
  («Лиды», "Leads", «Ліди»: ``reader.is_lead_funnel_name``) holds the blueprint's leads; every
  other pipeline's leads are its deals. A lead in a pipeline's unsorted status (Неразобранное) is
  a request not yet accepted: neither a lead of a stage nor a deal. An account without a lead
  funnel takes its incoming requests through Неразобранное: then the unsorted summary
  (``/api/v4/leads/unsorted/summary``, unsorted-api) gives the leads' figures — every request,
  and those still waiting to be sorted as the first stage (older than ``stale_days``: stale).
- **Stages.** Status ids are the same (142, 143) in every pipeline and the reader's codes are
  unique per pipeline only, so the audit sees each stage as ``P<pipeline>:<code>`` (``audit_view``).
  amoCRM's loss reasons are one list for the account; a lost lead's reason makes it count in a
  failure stage of that reason in its pipeline (as Bitrix24 keeps a stage per reason), which is
  what the failure breakdown and the «Другое» share read.
- **Activities** are tasks (tasks-api): an open task (``is_completed`` false) is an open
  activity, one whose ``complete_till`` has passed is overdue (no ``complete_till`` filter is
  documented, so the scan reads every task once).
- **Stage history** is the ``lead_status_changed`` events of the window (events-and-notes:
  ``value_before``/``value_after`` name the statuses); a lead's creation is its ``created_at``.
  The time in the current stage is measured from the last move into it (a lead that did not
  move within the window has been there at least since the window began: that lower bound).
- **Responsible users** who are deactivated: ``/api/v4/users``, ``rights.is_active`` false.

What has no amoCRM counterpart is said, not guessed: ``NO_COUNTERPART`` (rule key → reason)
goes into ``Usage.no_counterpart``; the findings engine marks those rules not applicable and
the report names them.

The client is passed in (anything with ``iter_pages``, ``get`` and ``requests_sent``), so this
module never sees the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from crmkit.push.amocrm.reader import LOST
from crmkit.push.errors import NotFound, Refused
from crmkit.push.state import PortalState, StageState
from crmkit.push.usage import History, Usage

Progress = Callable[[str, int, int], None]

#: rows one list scan reads at most (100 pages of 250; 250 pages of events)
MAX_ROWS = 25_000
SUMMARY = "/api/v4/leads/unsorted/summary"

#: Bitrix24 figures amoCRM has no counterpart for: rule key → reason (``audit.amo.reason.*``)
NO_COUNTERPART = {
    # an amoCRM lead has no expected close date (only closed_at, once it is closed)
    "past_close_date": "no_close_date",
    # amoCRM requires a field per status (required_statuses), never always; there is no
    # "mandatory field" whose fill the rule measures
    "required_fill": "required_per_status",
}


class UsageClient(Protocol):
    requests_sent: int

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any: ...

    def iter_pages(
        self, path: str, key: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Mapping[str, Any]]: ...


# -- the audit's view of the account's set-up -------------------------------------------------


def stage_key(pipeline: int, code: str) -> str:
    """A stage's code unique in the account: ``P7000001:WON`` (``strip_prefix`` gives ``WON``)."""
    return f"P{pipeline}:{code}"


def reason_key(pipeline: int, reason: int) -> str:
    return stage_key(pipeline, f"LOSS_{reason}")


def audit_view(state: PortalState) -> PortalState:
    """The set-up as the findings engine reads it: stage codes unique in the account, the
    unsorted statuses left out (requests, not stages), and after each pipeline's lost status a
    failure stage per loss reason."""
    funnels = []
    for funnel in state.funnels:
        pid = funnel.category_id or 0
        stages: list[StageState] = []
        for stage in funnel.stages:
            if stage.unsorted:
                continue
            stages.append(replace(stage, status_id=stage_key(pid, stage.code)))
            if stage.id == LOST:
                stages += [
                    StageState(
                        id=reason.id,
                        status_id=reason_key(pid, reason.id),
                        name=reason.name,
                        sort=stage.sort + 1 + index,
                        color=stage.color,
                        semantics="failure",
                        system=False,
                    )
                    for index, reason in enumerate(state.loss_reasons)
                ]
        funnels.append(replace(funnel, stages=tuple(stages)))
    return replace(state, funnels=tuple(funnels))


@dataclass
class _Stages:
    """Status ids to the view's stage codes, and which pipelines hold leads or deals."""

    codes: dict[tuple[int, int], str]
    reasons: set[int]
    lead_pipeline: int | None
    deal_pipelines: set[int]
    first_lead_stage: str | None

    @classmethod
    def of(cls, view: PortalState) -> _Stages:
        codes = {
            (f.category_id or 0, s.id): s.status_id
            for f in view.funnels
            for s in f.stages
            if s.semantics != "failure" or s.id == LOST
        }
        lead = view.lead_funnel()
        stages = lead.stages if lead is not None else ()
        first = next((s.status_id for s in stages if s.semantics == "process"), None)
        return cls(
            codes=codes,
            reasons={r.id for r in view.loss_reasons},
            lead_pipeline=lead.category_id if lead is not None else None,
            deal_pipelines={f.category_id or 0 for f in view.deal_funnels()},
            first_lead_stage=first,
        )

    def code(self, pipeline: int, status: int, reason: int | None = None) -> str | None:
        if status == LOST and reason in self.reasons and reason is not None:
            return reason_key(pipeline, reason)
        return self.codes.get((pipeline, status))


# -- scanning -------------------------------------------------------------------------------------


@dataclass
class _Scanner:
    client: UsageClient
    usage: Usage
    max_rows: int
    progress: Progress | None
    done: int = 0

    def rows(
        self, path: str, key: str, figure: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """The rows of one HAL list, at most ``max_rows`` (then the figure is partial)."""
        before = self.client.requests_sent
        for seen, row in enumerate(self.client.iter_pages(path, key, params)):
            if seen >= self.max_rows:
                self.usage.partial[figure] = "page_cap"
                break
            yield row
        self.done += max(1, self.client.requests_sent - before)
        if self.progress is not None:
            self.progress(figure, self.done, self.done)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _status_of(event: Mapping[str, Any], side: str) -> tuple[int, int] | None:
    """(pipeline, status) of an event's ``value_after``/``value_before``."""
    values = event.get(side)
    if not isinstance(values, list):
        return None
    for value in values:
        status = value.get("lead_status") if isinstance(value, Mapping) else None
        if isinstance(status, Mapping):
            pid, sid = _int(status.get("pipeline_id")), _int(status.get("id"))
            if pid is not None and sid is not None:
                return pid, sid
    return None


# -- the figures ----------------------------------------------------------------------------------


@dataclass
class _Lead:
    """What the history needs of one lead created in the window (or an open deal)."""

    pipeline: int
    code: str | None
    created: int


@dataclass
class _Seen:
    """What the scans leave for the history: per lead, the open tasks and first task."""

    open_tasks: dict[int, int] = field(default_factory=dict)
    overdue: set[int] = field(default_factory=set)
    first_task: dict[int, int] = field(default_factory=dict)
    #: leads created in the history window (deals and leads)
    recent: dict[int, _Lead] = field(default_factory=dict)
    #: the open deals: id → lead (for the time in stage)
    open_deals: dict[int, _Lead] = field(default_factory=dict)
    #: the blueprint's leads created in the speed-to-lead window
    new_leads: dict[int, int] = field(default_factory=dict)


def read_usage(
    client: UsageClient,
    view: PortalState,
    *,
    now: float,
    stale_days: int = 7,
    history_days: int = 90,
    history: bool = True,
    max_rows: int = MAX_ROWS,
    progress: Progress | None = None,
) -> Usage:
    """The usage figures of the account behind ``client`` whose set-up (``audit_view``) is
    ``view``."""
    usage = Usage(now=now, stale_days=stale_days, history_days=history_days)
    usage.no_counterpart = dict(NO_COUNTERPART)
    scan = _Scanner(client, usage, max_rows, progress)
    stages = _Stages.of(view)
    seen = _Seen()
    before = client.requests_sent
    _users(client, usage)
    _tasks(scan, usage, seen)
    _leads(scan, usage, stages, seen)
    usage.contacts_total = sum(1 for _ in scan.rows("/api/v4/contacts", "contacts", "contacts"))
    usage.companies_total = sum(1 for _ in scan.rows("/api/v4/companies", "companies", "companies"))
    if stages.lead_pipeline is None:
        _unsorted(client, usage)
    usage.requests = client.requests_sent - before
    if history:
        start = client.requests_sent
        usage.deal_history = _history(scan, usage, view, stages, seen)
        usage.history_requests = client.requests_sent - start
    return usage


def _users(client: UsageClient, usage: Usage) -> None:
    """Deactivated users (``rights.is_active`` false): a company has few, one page holds them."""
    try:
        for user in client.iter_pages("/api/v4/users", "users"):
            rights = user.get("rights")
            uid = _int(user.get("id"))
            if uid is not None and isinstance(rights, Mapping) and rights.get("is_active") is False:
                usage.inactive_users.add(uid)
    except (NotFound, Refused):
        usage.partial["inactive_users"] = "no_users_list"


def _tasks(scan: _Scanner, usage: Usage, seen: _Seen) -> None:
    """Every task once: the total, and per lead its open and overdue tasks and its first."""
    total = 0
    for task in scan.rows("/api/v4/tasks", "tasks", "activities"):
        total += 1
        if task.get("entity_type") != "leads":
            continue
        lead = _int(task.get("entity_id"))
        created = _int(task.get("created_at"))
        if lead is None:
            continue
        if created is not None:
            seen.first_task[lead] = min(seen.first_task.get(lead, created), created)
        if task.get("is_completed"):
            continue
        seen.open_tasks[lead] = seen.open_tasks.get(lead, 0) + 1
        till = _int(task.get("complete_till"))
        if till is not None and till < usage.now:
            seen.overdue.add(lead)
    usage.activities_total = total


def _leads(scan: _Scanner, usage: Usage, stages: _Stages, seen: _Seen) -> None:
    """Every amoCRM lead once: the blueprint's leads (the lead funnel) and deals (the rest)."""
    now = usage.now
    window = now - usage.history_days * 86400
    response_window = now - min(usage.history_days, 30) * 86400
    cutoff = now - usage.stale_days * 86400
    leads_total = deals_total = deals_open = 0
    open_tasks = overdue = 0
    for row in scan.rows("/api/v4/leads", "leads", "leads", {"with": "contacts"}):
        rid, pid, sid = (
            _int(row.get("id")),
            _int(row.get("pipeline_id")),
            _int(row.get("status_id")),
        )
        if rid is None or pid is None or sid is None:
            continue
        code = stages.code(pid, sid, _int(row.get("loss_reason_id")))
        if code is None:
            continue  # unsorted (a request not yet accepted), or an archived pipeline's
        created = _int(row.get("created_at")) or 0
        is_lead = pid == stages.lead_pipeline
        if created >= window:
            seen.recent[rid] = _Lead(pid, code, created)
        if created >= response_window and (is_lead or stages.lead_pipeline is None):
            seen.new_leads[rid] = created
        if is_lead:
            leads_total += 1
            usage.leads_by_status[code] = usage.leads_by_status.get(code, 0) + 1
            if code == stages.first_lead_stage and created < cutoff:
                usage.stale_leads.add(rid)
            continue
        if pid not in stages.deal_pipelines:
            continue
        deals_total += 1
        usage.deals_by_stage[(pid, code)] = usage.deals_by_stage.get((pid, code), 0) + 1
        if sid in (142, LOST):
            continue
        deals_open += 1
        open_tasks += seen.open_tasks.get(rid, 0)
        overdue += rid in seen.overdue
        _open_deal(usage, row, rid, pid, code, seen)
        seen.open_deals[rid] = _Lead(pid, code, created)
    if stages.lead_pipeline is not None:
        usage.leads_total = leads_total
        usage.leads_in_first_status = usage.leads_by_status.get(stages.first_lead_stage or "", 0)
    usage.deals_total, usage.deals_open = deals_total, deals_open
    usage.open_activities, usage.overdue_activities = open_tasks, overdue


def _open_deal(
    usage: Usage, row: Mapping[str, Any], rid: int, pid: int, code: str, seen: _Seen
) -> None:
    deals = usage.open_deals
    deals.walked += 1
    if not seen.open_tasks.get(rid):
        deals.without_open_activity.add(rid)
    if rid in seen.overdue:
        deals.with_overdue_activity.add(rid)
    embedded = row.get("_embedded")
    embedded = embedded if isinstance(embedded, Mapping) else {}
    if not embedded.get("contacts") and not embedded.get("companies"):
        deals.without_client.add(rid)
    owner = _int(row.get("responsible_user_id")) or 0
    deals.by_owner[owner] = deals.by_owner.get(owner, 0) + 1
    if owner in usage.inactive_users:
        deals.owned_by_inactive.add(rid)
    deals.by_stage[(pid, code)] = deals.by_stage.get((pid, code), 0) + 1


def _unsorted(client: UsageClient, usage: Usage) -> None:
    """No lead funnel: the requests through Неразобранное are the leads. Those still waiting
    (neither accepted nor declined) are the first stage; those older than ``stale_days``, stale."""
    cutoff = int(usage.now - usage.stale_days * 86400)
    try:
        every = client.get(SUMMARY)
        old = client.get(SUMMARY, {"filter": {"created_at": {"to": cutoff}}})
    except (NotFound, Refused):
        usage.partial["leads"] = "no_unsorted_summary"
        return
    if not isinstance(every, Mapping) or not isinstance(old, Mapping):
        usage.no_counterpart["stale_leads"] = "no_lead_funnel"
        return
    usage.leads_total = _int(every.get("total")) or 0
    usage.leads_in_first_status = _waiting(every)
    usage.stale_leads.count = _waiting(old)


def _waiting(summary: Mapping[str, Any]) -> int:
    total = _int(summary.get("total")) or 0
    sorted_ = (_int(summary.get("accepted")) or 0) + (_int(summary.get("declined")) or 0)
    return max(0, total - sorted_)


#: (when, order, pipeline after, status after, pipeline before, status before; 0 when unsaid)
Move = tuple[int, int, int, int, int, int]


def _history(
    scan: _Scanner, usage: Usage, view: PortalState, stages: _Stages, seen: _Seen
) -> History:
    """The window's moves (``lead_status_changed``) folded like Bitrix24's stage history."""
    start = int(usage.now - usage.history_days * 86400)
    flt = {"type": "lead_status_changed", "entity": "lead", "created_at": {"from": start}}
    moves: dict[int, list[Move]] = {}
    history = History()
    for index, event in enumerate(
        scan.rows("/api/v4/events", "events", "history", {"filter": flt})
    ):
        history.rows += 1
        rid, when = _int(event.get("entity_id")), _int(event.get("created_at"))
        after = _status_of(event, "value_after")
        if rid is None or when is None or after is None:
            continue
        before = _status_of(event, "value_before") or (0, 0)
        # newest first (an order the docs do not promise): sorting by (when, -index) puts the
        # moves of one lead in time order whichever way they came
        moves.setdefault(rid, []).append((when, -index, *after, *before))
    for rows in moves.values():
        rows.sort()
    _fold(history, stages, seen, moves, _positions(view))
    _in_stage(usage, seen, moves, stages, start)
    usage.lead_response = _response(seen, moves)
    return history


def _positions(view: PortalState) -> dict[tuple[int, str], int]:
    """Each deal stage's position on its pipeline's path: in-progress stages, then success."""
    out = {}
    for funnel in view.deal_funnels():
        path = [s for s in funnel.stages if s.semantics == "process"]
        path += [s for s in funnel.stages if s.semantics == "success"]
        pid = funnel.category_id or 0
        out.update({(pid, stage.status_id): index for index, stage in enumerate(path)})
    return out


def _fold(
    history: History,
    stages: _Stages,
    seen: _Seen,
    moves: dict[int, list[Move]],
    positions: dict[tuple[int, str], int],
) -> None:
    """Per deal, its creation (when in the window) and its moves in time order, as Bitrix24's
    stage history rows: a stay ends at the next row of the same pipeline; the deals created in
    the window count where they started, each stage they reached and their furthest one."""
    for rid in sorted(set(moves) | set(seen.recent)):
        rows = moves.get(rid, [])
        created = seen.recent.get(rid)
        steps: list[tuple[int, int, str | None]] = []
        if created is not None:
            if rows and rows[0][4]:
                steps.append((created.created, rows[0][4], stages.code(rows[0][4], rows[0][5])))
            else:
                steps.append((created.created, created.pipeline, created.code))
        steps += [(when, pid, stages.code(pid, sid)) for when, _o, pid, sid, _p, _s in rows]
        started = created is not None and steps[0][1] in stages.deal_pipelines
        previous: tuple[int, str, int] | None = None
        furthest: tuple[int, int] | None = None
        for when, pid, code in steps:
            if pid not in stages.deal_pipelines or code is None:
                previous = None
                continue
            if previous is not None and previous[0] == pid:
                minutes = max(0, (when - previous[2]) // 60)
                history.stays.setdefault((pid, previous[1]), []).append(minutes)
            previous = (pid, code, when)
            if not started:
                continue
            reached = history.reached.setdefault(pid, {})
            reached[code] = reached.get(code, 0) + 1
            position = positions.get((pid, code))
            if position is not None and position >= (furthest or (pid, -1))[1]:
                furthest = (pid, position)
        if started:
            first = steps[0][1]
            history.started[first] = history.started.get(first, 0) + 1
        if started and furthest is not None:
            counts = history.furthest.setdefault(furthest[0], {})
            counts[furthest[1]] = counts.get(furthest[1], 0) + 1


def _in_stage(
    usage: Usage, seen: _Seen, moves: dict[int, list[Move]], stages: _Stages, start: int
) -> None:
    """Minutes each open deal has stood in its stage: since the last move into it, else its
    creation in the window, else (no move in the window) at least since the window began."""
    for rid, lead in seen.open_deals.items():
        rows = moves.get(rid, [])
        entered = max(lead.created, start)
        if rows and (rows[-1][2], stages.code(rows[-1][2], rows[-1][3])) == (
            lead.pipeline,
            lead.code,
        ):
            entered = rows[-1][0]
        minutes = max(0, int((usage.now - entered) // 60))
        usage.open_deals.in_stage.append((rid, lead.pipeline, lead.code or "", minutes))


def _response(seen: _Seen, moves: dict[int, list[Move]]) -> list[int]:
    """Minutes from each new lead's creation to its first move or first task."""
    out = []
    for rid, created in seen.new_leads.items():
        firsts = [when for when, *_ in moves.get(rid, [])[:1]]
        if rid in seen.first_task:
            firsts.append(seen.first_task[rid])
        if firsts:
            out.append(max(0, (min(firsts) - created) // 60))
    return sorted(out)

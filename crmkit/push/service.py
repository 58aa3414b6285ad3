"""``crmkit push`` as a library call: preflight, read, plan, and — when asked — apply until the
portal holds the blueprint.

Applying goes in rounds. A round runs the plan's calls in batches; then the portal is read again
and a new plan made from what it now holds. An outcome that is unknown (a reply lost after the
portal ran the batch, a 500, a killed process) is therefore never repeated blindly: the next
plan simply no longer contains what did happen. The round whose fresh plan has no change left is
the verification: "the portal now equals the blueprint". Rounds are bounded, and a round that
changes nothing the plan asks for ends the apply with what is left reported.

Before the first write the portal's configuration is saved as a blueprint file (a backup in the
pull format, which can be pushed back); after the apply the record of what was applied is saved
(ids, ownership, the shape drift is measured against). Files go through the ``PushFiles`` the
caller passes in; the portal through the client; this module does neither itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmkit.blueprints.model import Blueprint
from crmkit.i18n import Lang
from crmkit.push.bitrix24.preflight import Capabilities, preflight
from crmkit.push.bitrix24.reader import read_portal
from crmkit.push.bitrix24.writer import Execution, count_items, execute
from crmkit.push.errors import PortalError, ReplyLost
from crmkit.push.plan import CHANGES, CountKey, Entry, Plan, plan_push, shape_of
from crmkit.push.pull import state_to_blueprint
from crmkit.push.record import Managed, Record
from crmkit.push.state import PortalState

#: rounds of apply at most (a clean push needs one; each lost reply may need another)
MAX_ROUNDS = 5


class PushFiles(Protocol):
    """Where the record and the backups of one portal live (the client folder)."""

    def load_record(self) -> Record: ...

    def save_record(self, record: Record) -> None: ...

    def save_backup(self, text: str) -> str: ...


@dataclass(frozen=True)
class Reading:
    state: PortalState
    counts: Mapping[CountKey, int]
    plan: Plan
    fingerprint: str


@dataclass
class PushOutcome:
    portal: str
    capabilities: Capabilities
    #: the plan as first made (what a plan-only run shows)
    plan: Plan
    fingerprint: str
    applied: bool = False
    #: the plan made from the portal after the last round (empty of changes when verified)
    final: Plan | None = None
    verified: bool = False
    rounds: int = 0
    #: address → what the portal answered, for calls that failed
    failures: dict[str, PortalError] = field(default_factory=dict)
    #: replies lost during the apply (each was followed by a fresh read, never a blind repeat)
    lost: int = 0
    requests: int = 0
    writes: int = 0
    backup: str | None = None

    @property
    def partial(self) -> bool:
        """Something was not done: a conflict, a failed call, or not verified after applying."""
        shown = self.final if self.final is not None else self.plan
        return bool(shown.conflicts or self.failures or (self.applied and not self.verified))


def fingerprint(state: PortalState, counts: Mapping[CountKey, int], record: Record) -> str:
    """What a plan was made from: the portal as read, the counts asked, the record used."""
    data = {
        "state": state.fingerprint(),
        "counts": sorted([list(k), v] for k, v in counts.items()),
        "record": record.to_json(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def read_and_plan(
    client: Any,
    bp: Blueprint,
    record: Record,
    *,
    lang: Lang,
    prune: bool,
    capabilities: Capabilities,
) -> Reading:
    """Read the portal and plan; a plan that needs item counts gets them in one more request."""
    state = read_portal(client, cards=bool(bp.field_groups))
    options = {"lang": lang, "record": record, "prune": prune, "admin": capabilities.admin}
    plan = plan_push(bp, state, **options)  # type: ignore[arg-type]
    counts: dict[CountKey, int] = {}
    if plan.needs:
        counts = count_items(client, plan.needs)
        plan = plan_push(bp, state, counts=counts, **options)  # type: ignore[arg-type]
    return Reading(state, counts, plan, fingerprint(state, counts, record))


@dataclass(frozen=True)
class Driver:
    """What the apply loop asks of a target CRM: the same loop (rounds, backup, record,
    verification) serves Bitrix24 and amoCRM (``crmkit.push.amocrm.apply``)."""

    preflight: Callable[[Any], Capabilities]
    #: (client, bp, record, *, lang, prune, capabilities) → Reading
    read_and_plan: Callable[..., Reading]
    #: (client, calls, *, progress, results) → an execution with ``results`` and ``failed()``
    execute: Callable[..., Any]
    new_execution: Callable[[], Any]
    #: what drift watches of an entry's object, as the portal holds it now
    shape_of: Callable[[Entry, PortalState], dict[str, Any]]
    #: whether an object the record keeps is still on the portal
    still_there: Callable[[Managed, PortalState], bool]


def bitrix24_driver() -> Driver:
    return Driver(
        preflight=preflight,
        read_and_plan=read_and_plan,
        execute=execute,
        new_execution=Execution,
        shape_of=shape_of,
        still_there=lambda known, state: _still_there(known, _present_ids(state)),
    )


def push(
    client: Any,
    bp: Blueprint,
    files: PushFiles,
    *,
    portal: str,
    lang: Lang,
    now: str,
    prune: bool = False,
    apply: bool = False,
    confirm: Callable[[Plan], bool] | None = None,
    expected: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    max_rounds: int = MAX_ROUNDS,
    driver: Driver | None = None,
) -> PushOutcome:
    """Plan ``bp`` against the portal behind ``client``; with ``apply``, make it so.

    ``expected`` is the fingerprint of a saved plan: if the portal (or the record) changed since
    it was made, nothing is written (``StalePlan``). ``confirm`` is asked before the first write
    and may say no. ``driver`` is the target's (default: Bitrix24)."""
    target = driver if driver is not None else bitrix24_driver()
    read_and_plan = target.read_and_plan
    before = client.requests_sent
    capabilities = target.preflight(client)
    if not capabilities.crm:
        raise NoCrmScope(portal)
    record = files.load_record()
    reading = read_and_plan(client, bp, record, lang=lang, prune=prune, capabilities=capabilities)
    outcome = PushOutcome(portal, capabilities, reading.plan, reading.fingerprint)
    if expected is not None and expected != reading.fingerprint:
        raise StalePlan(portal)
    if not apply or not reading.plan.calls:
        outcome.requests = client.requests_sent - before
        outcome.final = reading.plan if apply else None
        outcome.verified = apply and reading.plan.changes == 0
        outcome.applied = apply
        if apply:
            files.save_record(_record(record, reading, set(), portal, bp, now, target))
        return outcome
    if confirm is not None and not confirm(reading.plan):
        outcome.requests = client.requests_sent - before
        return outcome
    outcome.applied = True
    outcome.backup = files.save_backup(
        state_to_blueprint(reading.state, source=portal, lang=lang, now=0).toml()
    )
    attempted: set[str] = set()
    current = reading
    while True:
        outcome.rounds += 1
        plan = current.plan
        made_here = {e.address for e in plan.entries if e.created and e.action in CHANGES}
        attempted |= made_here
        # a kill from here on leaves objects only their names tell apart: mark them as ours
        files.save_record(
            Record(
                record.portal or portal,
                bp.id,
                record.applied_at,
                record.managed,
                tuple(sorted(attempted | set(record.pending))),
                lang=lang,
            )
        )
        labels = {c.label: e.address for e in plan.entries for c in e.calls}
        lost_before = outcome.lost
        execution = target.new_execution()
        try:
            target.execute(client, plan.calls, progress=progress, results=execution)
        except ReplyLost:
            # the batch may or may not have run: the fresh read below tells
            outcome.lost += 1
        outcome.writes += len(execution.results)
        for label, item in execution.failed().items():
            if item.error is not None:
                outcome.failures[labels.get(label, label)] = item.error
        previous = {(e.address, e.action) for e in plan.entries if e.action in CHANGES}
        current = read_and_plan(
            client, bp, record, lang=lang, prune=prune, capabilities=capabilities
        )
        remaining = {(e.address, e.action) for e in current.plan.entries if e.action in CHANGES}
        # a call reported failed whose change is now done only lost its reply
        still = {address for address, _action in remaining}
        outcome.failures = {a: e for a, e in outcome.failures.items() if a in still}
        if not remaining:
            outcome.verified = True
            break
        stuck = remaining == previous and outcome.lost == lost_before
        if stuck or outcome.rounds >= max_rounds:
            break
    outcome.final = current.plan
    outcome.requests = client.requests_sent - before
    files.save_record(_record(record, current, attempted, portal, bp, now, target))
    return outcome


def _record(
    old: Record,
    reading: Reading,
    attempted: set[str],
    portal: str,
    bp: Blueprint,
    now: str,
    target: Driver,
) -> Record:
    """The record after an apply: every object the blueprint manages, found on the portal."""
    managed: dict[str, Managed] = {}
    for entry in reading.plan.entries:
        if not entry.ids or entry.action in ("unmanaged", "manual", "delete"):
            continue
        before = old.get(entry.address)
        created = entry.address in attempted or (before is not None and before.created)
        managed[entry.address] = Managed(
            ids=tuple(sorted(entry.ids)),
            created=created,
            shape=tuple(sorted(target.shape_of(entry, reading.state).items())),
        )
    # what the blueprint no longer names but the portal still holds stays crmkit's (a later
    # --prune may delete it); what is gone from the portal is forgotten
    for address, known in old.managed.items():
        if address not in managed and target.still_there(known, reading.state):
            managed[address] = known
    return Record(
        portal=portal, blueprint=bp.id, applied_at=now, managed=managed, lang=reading.plan.lang
    )


def _present_ids(state: PortalState) -> set[tuple[str, Any]]:
    out: set[tuple[str, Any]] = set()
    for funnel in state.funnels:
        out.add(("category", (funnel.entity_type_id, funnel.category_id)))
        out.update(("stage", s.id) for s in funnel.stages)
    out.update(("field", f.id) for f in state.fields)
    out.update(("process", p.entity_type_id) for p in state.processes)
    return out


def _still_there(known: Managed, present: set[tuple[str, Any]]) -> bool:
    ids = dict(known.ids)
    if "status_id" in ids:
        return ("stage", ids.get("id")) in present
    if "field_name" in ids:
        return ("field", ids.get("id")) in present
    if "category_id" in ids:
        return ("category", (ids.get("entity_type_id"), ids.get("category_id"))) in present
    if "entity_type_id" in ids:
        return ("process", ids.get("entity_type_id")) in present
    return False


class NoCrmScope(PortalError):
    kind = "no_crm_scope"

    def __init__(self, portal: str) -> None:
        super().__init__(url=portal, method="scope")


class StalePlan(PortalError):
    kind = "stale"

    def __init__(self, portal: str) -> None:
        super().__init__(url=portal, method="push")

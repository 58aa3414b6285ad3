"""The push plan: a blueprint compared with a portal's state. Pure (no I/O, no clock).

Every entry has an address (``deal.deal_b2b_full.stage.NEEDS``, ``field.deal.UF_CRM_SCORE``),
an action and, for changes, the REST calls that make it:

- ``create`` / ``update`` (with before → after per attribute) / ``delete`` (only what crmkit made,
  empty, and not the last of its group; under ``--prune``, or the unused default stages of a
  pipeline crmkit creates in this very plan);
- ``unchanged``; ``unmanaged`` (on the portal, not in the blueprint: kept, listed);
- ``conflict``: cannot be done (a field of that name with another type, a stage whose semantics
  differ — both fixed at creation — a delete the portal would refuse, a right the webhook lacks);
- ``manual``: what REST cannot do (robots, fields required on a stage, access roles, card layouts
  the webhook may not set), with a stable id and the Bitrix24 menu path.

Matching survives the portal's code prefixes (``C3:``, ``DT180_5:``) and codes made in the UI:
first by the ids of the last apply (the record), then by code, then by name; a funnel's system
stages (its start, success and first failure stage) are taken over by role, and the stages a
portal makes by itself ("stock", see ``crmkit.push.bitrix24.defaults``) are reused in order,
never doubled. The blueprint's first deal pipeline is the portal's default one (id 0).

Calls refer to objects made earlier in the same apply through ``Ref`` (a value of an earlier
call's result); the writer turns them into ``$result[label][…]`` inside one batch, or into the
value itself once the earlier batch has answered.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from crmkit.blueprints.model import (
    Blueprint,
    CustomField,
    Pipeline,
    PipelineKind,
    Semantics,
    SmartProcess,
    Stage,
    bitrix_field_name,
)
from crmkit.i18n import Lang, Text, msg
from crmkit.push.bitrix24.defaults import STOCK, looks_stock
from crmkit.push.record import Record
from crmkit.push.state import (
    DEAL_TYPE,
    ENTITY_OWNERS,
    LEAD_TYPE,
    FieldState,
    FunnelState,
    PortalState,
    ProcessState,
    StageState,
)

_Found = TypeVar("_Found")

Action = Literal["create", "update", "unchanged", "delete", "conflict", "manual", "unmanaged"]
ACTIONS: tuple[Action, ...] = (
    "create",
    "update",
    "delete",
    "conflict",
    "manual",
    "unchanged",
    "unmanaged",
)
#: the actions that change the portal (``push --check`` fails on them)
CHANGES: frozenset[str] = frozenset({"create", "update", "delete"})
#: what marks a user field as crmkit's (only those are ever pruned)
OWNER_MARK = "crmkit"
#: what a count of items is asked for: a stage (ENTITY_ID, STATUS_ID) or a funnel (etid, id)
CountKey = tuple[str, str, str]

# -- values of a plan -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """The value at ``path`` in the result of call ``label`` of this apply."""

    label: str
    path: tuple[str | int, ...]


@dataclass(frozen=True)
class Concat:
    """A text made of plain parts and ``Ref`` values (``DEAL_STAGE_`` + a new pipeline's id)."""

    parts: tuple[str | Ref, ...]


Value = Any  # JSON-like, with Ref and Concat where a value is not known yet


@dataclass(frozen=True)
class Call:
    label: str
    method: str
    params: Mapping[str, Value]
    #: calls run by phase (creates before what refers to them, deletes last), then in order
    phase: int


@dataclass(frozen=True)
class Change:
    attribute: str
    before: Any
    after: Any


@dataclass(frozen=True)
class Entry:
    address: str
    kind: str
    action: Action
    changes: tuple[Change, ...] = ()
    calls: tuple[Call, ...] = ()
    #: a message key under ``push.note`` with its values (why a conflict, what to do by hand)
    note: str = ""
    values: tuple[tuple[str, str], ...] = ()
    #: the menu path and details of a manual step
    steps: tuple[str, ...] = ()
    #: what it is on the portal (``C3:PREPARATION``, ``pipeline 3``), when known
    portal: str = ""
    #: the portal ids of the object, when known (the record keeps them after an apply)
    ids: tuple[tuple[str, Any], ...] = ()
    #: whether crmkit makes (or made) this object
    created: bool = False

    def text(self, lang: Lang) -> str:
        return msg(f"push.note.{self.note}", lang, **dict(self.values)) if self.note else ""


@dataclass(frozen=True)
class Drift:
    """Something changed in the portal by hand since the last apply."""

    address: str
    attribute: str
    applied: Any
    now: Any


@dataclass(frozen=True)
class Plan:
    entries: tuple[Entry, ...]
    #: counts of items the plan could not decide without (a second reading answers them)
    needs: tuple[CountKey, ...] = ()
    drift: tuple[Drift, ...] = ()
    #: the portal state this plan was made from (a saved plan is stale when it changed)
    fingerprint: str = ""
    lang: Lang = "en"

    @property
    def calls(self) -> list[Call]:
        ordered = [c for e in self.entries for c in e.calls]
        return sorted(ordered, key=lambda c: c.phase)  # stable: plan order within a phase

    def count(self, action: str) -> int:
        return sum(1 for e in self.entries if e.action == action)

    @property
    def changes(self) -> int:
        return sum(1 for e in self.entries if e.action in CHANGES)

    @property
    def conflicts(self) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.action == "conflict")

    def summary(self) -> dict[str, int]:
        out: dict[str, int] = {action: self.count(action) for action in ACTIONS}
        out["calls"] = len(self.calls)
        out["drift"] = len(self.drift)
        return out

    def entry(self, address: str) -> Entry | None:
        return next((e for e in self.entries if e.address == address), None)


# -- phases of calls ------------------------------------------------------------------------------

PH_PROCESS, PH_FUNNEL, PH_LOOKUP = 0, 1, 2
PH_UPDATE_FINAL, PH_UPDATE, PH_ADD, PH_ADD_FAILURE = 3, 4, 5, 6
PH_FIELD, PH_CARD = 7, 8
PH_DELETE_STAGE, PH_DELETE_FIELD, PH_DELETE_FUNNEL, PH_DELETE_PROCESS = 9, 10, 11, 12

#: the flags a smart process made by crmkit gets (a process of a blueprint has stages, may have
#: several pipelines, relates to clients, and runs robots; BITRIX24.md §3.5: all default to N)
PROCESS_FLAGS = {
    "isCategoriesEnabled": "Y",
    "isStagesEnabled": "Y",
    "isClientEnabled": "Y",
    "isAutomationEnabled": "Y",
}


# -- the planner ----------------------------------------------------------------------------------

IdExpr = int | Ref


@dataclass
class _Place:
    """Where a funnel is, or will be: its entity type and category as numbers or references."""

    kind: PipelineKind
    entity_type_id: IdExpr
    category_id: IdExpr | None

    def entity_id(self) -> Value:
        etid, cid = self.entity_type_id, self.category_id
        if self.kind == "lead":
            return "STATUS"
        if self.kind == "deal":
            if isinstance(cid, int):
                return "DEAL_STAGE" if cid == 0 else f"DEAL_STAGE_{cid}"
            return _concat("DEAL_STAGE_", cid)
        return _concat("DYNAMIC_", etid, "_STAGE_", cid)

    def status_id(self, code: str) -> Value:
        etid, cid = self.entity_type_id, self.category_id
        if self.kind == "lead" or (self.kind == "deal" and cid == 0):
            return code
        if self.kind == "deal":
            return _concat("C", cid, ":", code)
        return _concat("DT", etid, "_", cid, ":", code)


def _concat(*parts: Any) -> Value:
    flat: list[str | Ref] = []
    for part in parts:
        if isinstance(part, Concat):
            flat.extend(part.parts)
        elif isinstance(part, Ref):
            flat.append(part)
        else:
            flat.append(str(part))
    if all(isinstance(p, str) for p in flat):
        return "".join(p for p in flat if isinstance(p, str))
    return Concat(tuple(flat))


@dataclass
class _Planner:
    bp: Blueprint
    state: PortalState
    lang: Lang
    record: Record
    counts: Mapping[CountKey, int]
    prune: bool
    admin: bool
    entries: list[Entry] = field(default_factory=list)
    needs: list[CountKey] = field(default_factory=list)
    #: pipeline code → where its funnel is (or will be), for the card layouts
    places: dict[str, _Place] = field(default_factory=dict)
    _labels: int = 0

    def label(self, stem: str) -> str:
        self._labels += 1
        return f"{stem}{self._labels}"

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def count(self, key: CountKey) -> int | None:
        if key in self.counts:
            return self.counts[key]
        if key not in self.needs:
            self.needs.append(key)
        return None

    def name(self, text: Any) -> str:
        return (text.get(self.lang) or "").strip()


def plan_push(
    bp: Blueprint,
    state: PortalState,
    *,
    lang: Lang,
    record: Record | None = None,
    counts: Mapping[CountKey, int] | None = None,
    prune: bool = False,
    admin: bool = True,
) -> Plan:
    """The plan that makes the portal of ``state`` hold ``bp``. Names go to the portal in
    ``lang`` (a portal keeps one name per stage and pipeline). ``counts`` answers the item
    counts a previous plan listed in ``needs``; ``admin`` is false for a webhook whose user may
    not manage smart processes and common card layouts."""
    planner = _Planner(bp, state, lang, record or Record(), counts or {}, prune, admin)
    processes = _plan_processes(planner)
    _plan_lead(planner)
    _plan_deals(planner)
    _plan_process_funnels(planner, processes)
    _plan_fields(planner, processes)
    _plan_cards(planner, processes)
    _plan_manual(planner)
    return Plan(
        entries=tuple(planner.entries),
        needs=tuple(planner.needs),
        drift=tuple(drift(planner.record, state)),
        fingerprint=state.fingerprint(),
        lang=lang,
    )


# -- funnels --------------------------------------------------------------------------------------


def _plan_lead(p: _Planner) -> None:
    pipe = next((x for x in p.bp.pipelines if x.kind == "lead"), None)
    if pipe is None:
        return
    address = f"lead.{pipe.code}"
    funnel = p.state.lead_funnel()
    if funnel is None:
        p.add(Entry(address, "funnel", "conflict", note="no_lead_funnel"))
        return
    p.add(Entry(address, "funnel", "unchanged", portal="STATUS"))
    _plan_stages(p, pipe, address, funnel, _Place("lead", LEAD_TYPE, None), owned=False)


def _match_funnel(
    p: _Planner, address: str, pipe: Pipeline, candidates: list[FunnelState]
) -> FunnelState | None:
    """By the ids the record keeps, then by name (any of its languages, case ignored)."""
    return _by_record_then_name(
        p, address, "category_id", candidates, lambda f: f.category_id, lambda f: f.name, pipe.name
    )


def _by_record_then_name(
    p: _Planner,
    address: str,
    id_key: str,
    candidates: Sequence[_Found],
    id_of: Callable[[_Found], int | None],
    name_of: Callable[[_Found], str],
    wanted: Text,
) -> _Found | None:
    return by_record_then_name(p.record, address, id_key, candidates, id_of, name_of, wanted)


def by_record_then_name(
    record: Record,
    address: str,
    id_key: str,
    candidates: Sequence[_Found],
    id_of: Callable[[_Found], int | None],
    name_of: Callable[[_Found], str],
    wanted: Text,
) -> _Found | None:
    """What on the portal is the blueprint's ``address``: the one whose id the record keeps,
    else the one named as the blueprint names it in any of its languages (case ignored). One
    rule for every target's planner."""
    known = record.get(address)
    if known is not None:
        found = next((c for c in candidates if id_of(c) == known.id(id_key)), None)
        if found is not None:
            return found
    names = {n.strip().casefold() for n in (wanted.ru, wanted.en, wanted.uk) if n.strip()}
    return next((c for c in candidates if name_of(c).strip().casefold() in names), None)


def _plan_deals(p: _Planner) -> None:
    pipes = [x for x in p.bp.pipelines if x.kind == "deal"]
    free = list(p.state.deal_funnels())
    for index, pipe in enumerate(pipes):
        address = f"deal.{pipe.code}"
        # the blueprint's first deal pipeline is the portal's default one (id 0)
        _plan_funnel(
            p, pipe, address, free, DEAL_TYPE, index == 0 and (lambda f: f.category_id == 0)
        )
    for funnel in free:
        _leftover_funnel(p, funnel, f"deal.#{funnel.category_id}")


def _plan_funnel(
    p: _Planner,
    pipe: Pipeline,
    address: str,
    free: list[FunnelState],
    etid: IdExpr,
    adopts: Callable[[FunnelState], bool] | Literal[False],
) -> None:
    """A pipeline onto the funnel it matches among ``free`` (taken from it), else the one it
    ``adopts`` (the default funnel, for the first pipeline), else a new funnel."""
    funnel = _match_funnel(p, address, pipe, free)
    if funnel is None and adopts:
        funnel = next((f for f in free if adopts(f)), None)
    if funnel is not None:
        free.remove(funnel)
        _existing_funnel(p, pipe, address, funnel, etid)
    else:
        _new_funnel(p, pipe, address, etid)


def _existing_funnel(
    p: _Planner, pipe: Pipeline, address: str, funnel: FunnelState, etid: IdExpr
) -> None:
    wanted = p.name(pipe.name)
    changes = (Change("name", funnel.name, wanted),) if wanted and wanted != funnel.name else ()
    calls: tuple[Call, ...] = ()
    if changes:
        calls = (
            Call(
                p.label("f"),
                "crm.category.update",
                {"entityTypeId": etid, "id": funnel.category_id, "fields": {"name": wanted}},
                PH_FUNNEL,
            ),
        )
    created = p.record.created(address)
    p.add(
        Entry(
            address,
            "funnel",
            "update" if changes else "unchanged",
            changes=changes,
            calls=calls,
            portal=f"category {funnel.category_id}",
            ids=(("category_id", funnel.category_id), ("entity_type_id", funnel.entity_type_id)),
            created=created,
        )
    )
    place = _Place(pipe.kind, funnel.entity_type_id, funnel.category_id)
    _plan_stages(p, pipe, address, funnel, place, owned=created)


def _new_funnel(
    p: _Planner, pipe: Pipeline, address: str, etid: IdExpr, after: tuple[Call, ...] = ()
) -> None:
    label = p.label("f")
    name = p.name(pipe.name) or pipe.code
    call = Call(
        label,
        "crm.category.add",
        {"entityTypeId": etid, "fields": {"name": name, "sort": _funnel_sort(p, pipe)}},
        PH_FUNNEL,
    )
    p.add(
        Entry(
            address,
            "funnel",
            "create",
            changes=(Change("name", None, name),),
            calls=(*after, call),
            created=True,
        )
    )
    place = _Place(pipe.kind, etid, Ref(label, ("category", "id")))
    _plan_stages(p, pipe, address, None, place, owned=True)


def _funnel_sort(p: _Planner, pipe: Pipeline) -> int:
    """Pipelines of one kind in blueprint order, after the portal's (sort default 500)."""
    same = [x for x in p.bp.pipelines if x.kind == pipe.kind and x.process == pipe.process]
    return 500 + 10 * same.index(pipe)


def _leftover_funnel(p: _Planner, funnel: FunnelState, address: str) -> None:
    """A funnel of the portal that the blueprint does not hold: kept, or pruned if crmkit made
    it and it is empty."""
    owned = next(
        (
            a
            for a, m in p.record.managed.items()
            if m.created
            and m.id("category_id") == funnel.category_id
            and m.id("entity_type_id") == funnel.entity_type_id
        ),
        None,
    )
    portal = f"category {funnel.category_id}"
    values = (("name", funnel.name),)
    if not (p.prune and owned is not None):
        p.add(Entry(address, "funnel", "unmanaged", portal=portal, values=values))
        return
    items = p.count(("funnel", str(funnel.entity_type_id), str(funnel.category_id)))
    if items is None:
        p.add(Entry(owned, "funnel", "unmanaged", portal=portal, values=values))
    elif items or funnel.is_default:
        note = "delete_default" if funnel.is_default else "delete_holds_items"
        p.add(
            Entry(
                owned,
                "funnel",
                "conflict",
                note=note,
                portal=portal,
                values=(("items", str(items)), ("name", funnel.name)),
            )
        )
    else:
        call = Call(
            p.label("d"),
            "crm.category.delete",
            {"entityTypeId": funnel.entity_type_id, "id": funnel.category_id},
            PH_DELETE_FUNNEL,
        )
        p.add(
            Entry(
                owned,
                "funnel",
                "delete",
                changes=(Change("name", funnel.name, None),),
                calls=(call,),
                portal=portal,
            )
        )


# -- stages ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Slot:
    """A portal stage a blueprint stage can land on: a real one, or one a new funnel will get."""

    code: str
    semantics: Semantics
    system: bool
    state: StageState | None  # None: a stock stage of a funnel made in this plan
    stock: bool

    @property
    def name(self) -> str:
        return self.state.name if self.state else ""


def _slots(p: _Planner, pipe: Pipeline, funnel: FunnelState | None) -> list[_Slot]:
    if funnel is None:
        return [_Slot(s.code, s.semantics, s.system, None, True) for s in STOCK[pipe.kind]]
    out = []
    for stage in funnel.stages:
        stock = looks_stock(pipe.kind, stage.code, stage.name) and not stage.system
        if stock:
            # a stock stage that holds items is the client's: counted before it is reused
            items = p.count(("stage", funnel.entity_id, stage.status_id))
            stock = items == 0
        out.append(_Slot(stage.code, stage.semantics, stage.system, stage, stock))
    return out


def _match_stages(
    p: _Planner, pipe: Pipeline, address: str, slots: list[_Slot]
) -> dict[str, _Slot]:
    """Blueprint stage code → the slot it takes, by record, code, name, role and stock order."""
    taken: dict[str, _Slot] = {}
    free = list(slots)

    def take(stage: Stage, slot: _Slot) -> None:
        taken[stage.code] = slot
        free.remove(slot)

    for stage in pipe.stages:  # the ids of the last apply
        known = p.record.get(f"{address}.stage.{stage.code}")
        if known is not None:
            slot = next((s for s in free if s.state and s.state.id == known.id("id")), None)
            if slot is not None:
                take(stage, slot)
    for stage in pipe.stages:  # the code
        if stage.code not in taken:
            slot = next((s for s in free if s.code == stage.code), None)
            if slot is not None:
                take(stage, slot)
    for stage in pipe.stages:  # the name, in either language
        if stage.code in taken:
            continue
        names = {
            n.strip().casefold() for n in (stage.name.ru, stage.name.en, stage.name.uk) if n.strip()
        }
        slot = next((s for s in free if s.state and s.name.strip().casefold() in names), None)
        if slot is not None:
            take(stage, slot)
    # the roles a funnel cannot do without: where new items land, the one success stage,
    # the first failure stage (system stages: never deleted, so they are used)
    for semantics in ("process", "success", "failure"):
        role = next((s for s in pipe.stages if s.semantics == semantics), None)
        if role is None or role.code in taken:
            continue
        slot = next(
            (s for s in free if s.semantics == semantics and (s.system or semantics == "success")),
            None,
        )
        if slot is not None:
            take(role, slot)
    for stage in pipe.stages:  # stock stages, reused in order, never doubled
        if stage.code in taken:
            continue
        slot = next((s for s in free if s.stock and s.semantics == stage.semantics), None)
        if slot is not None:
            take(stage, slot)
    return taken


def target_sorts(current: list[int | None]) -> list[int]:
    """Sorts for stages in this order: the known sorts that already increase are kept (the
    longest such run), the others placed between; when there is no room, 10, 20, 30, …"""
    n = len(current)
    known = [(i, s) for i, s in enumerate(current) if s is not None]
    # longest strictly increasing subsequence of the known sorts (n is small)
    best: list[list[int]] = []
    for i, (_, sort) in enumerate(known):
        chain = max((best[j] for j in range(i) if known[j][1] < sort), key=len, default=[])
        best.append([*chain, i])
    keep = max(best, key=len, default=[])
    result: list[int | None] = [None] * n
    for k in keep:
        index, sort = known[k]
        result[index] = sort
    anchors = [(-1, 0)] + [(i, s) for i, s in enumerate(result) if s is not None]
    anchors.append((n, None))  # type: ignore[arg-type]
    for (a, low), (b, high) in zip(anchors, anchors[1:], strict=False):
        gap = b - a - 1
        if gap <= 0:
            continue
        if high is None:
            values = [low + 10 * (k + 1) for k in range(gap)]
        else:
            room = high - low - 1
            if room < gap:
                return [10 * (i + 1) for i in range(n)]
            step = (high - low) / (gap + 1)
            values = [int(low + step * (k + 1)) for k in range(gap)]
            if len(set(values)) < gap or any(v <= low or v >= high for v in values):
                values = [low + k + 1 for k in range(gap)]
        for k, value in enumerate(values):
            result[a + 1 + k] = value
    out = [r for r in result if r is not None]
    if any(x >= y for x, y in zip(out, out[1:], strict=False)) or (out and out[0] < 1):
        return [10 * (i + 1) for i in range(n)]
    return out


def _plan_stages(
    p: _Planner,
    pipe: Pipeline,
    address: str,
    funnel: FunnelState | None,
    place: _Place,
    *,
    owned: bool,
) -> None:
    p.places[pipe.code] = place
    slots = _slots(p, pipe, funnel)
    taken = _match_stages(p, pipe, address, slots)
    conflicts = {
        s.code for s in pipe.stages if s.code in taken and taken[s.code].semantics != s.semantics
    }
    current = [
        taken[s.code].state.sort if s.code in taken and taken[s.code].state else None  # type: ignore[union-attr]
        for s in pipe.stages
    ]
    sorts = target_sorts(current)
    for stage, sort in zip(pipe.stages, sorts, strict=True):
        stage_address = f"{address}.stage.{stage.code}"
        slot = taken.get(stage.code)
        if stage.code in conflicts and slot is not None:
            p.add(
                Entry(
                    stage_address,
                    "stage",
                    "conflict",
                    note="semantics_fixed",
                    values=(
                        ("portal", slot.semantics),
                        ("blueprint", stage.semantics),
                        ("code", slot.code),
                    ),
                    portal=slot.state.status_id if slot.state else slot.code,
                )
            )
            continue
        if slot is None:
            p.add(_stage_create(p, stage, stage_address, place, sort))
        else:
            p.add(_stage_update(p, stage, stage_address, place, slot, sort))
    used = set(id(s) for s in taken.values())
    leftovers = [s for s in slots if id(s) not in used]
    _plan_leftover_stages(p, pipe, address, place, leftovers, slots, taken, owned, funnel)


def _stage_fields(p: _Planner, stage: Stage, sort: int) -> dict[str, Value]:
    return {
        "NAME": p.name(stage.name) or stage.code,
        "SORT": sort,
        "COLOR": stage.shown_color.upper(),
    }


def _stage_create(p: _Planner, stage: Stage, address: str, place: _Place, sort: int) -> Entry:
    fields = _stage_fields(p, stage, sort)
    semantics = {"success": "S", "failure": "F"}.get(stage.semantics, "")
    params = {
        "fields": {
            "ENTITY_ID": place.entity_id(),
            "STATUS_ID": stage.code,
            **fields,
            **({"SEMANTICS": semantics} if semantics else {}),
        }
    }
    phase = PH_ADD_FAILURE if stage.semantics == "failure" else PH_ADD
    changes = tuple(Change(k.lower(), None, v) for k, v in fields.items())
    return Entry(
        address,
        "stage",
        "create",
        changes=(Change("semantics", None, stage.semantics), *changes),
        calls=(Call(p.label("s"), "crm.status.add", params, phase),),
        created=True,
    )


def _stock_stage_lookup(p: _Planner, place: _Place, code: str) -> Call:
    """Finds, once the funnel exists, a stock stage of a funnel this plan makes (its id is not
    known before), by its code."""
    return Call(
        p.label("l"),
        "crm.status.list",
        {"filter": {"ENTITY_ID": place.entity_id(), "STATUS_ID": place.status_id(code)}},
        PH_LOOKUP,
    )


def _stage_update(
    p: _Planner, stage: Stage, address: str, place: _Place, slot: _Slot, sort: int
) -> Entry:
    wanted = _stage_fields(p, stage, sort)
    phase = PH_UPDATE if stage.semantics == "process" else PH_UPDATE_FINAL
    if slot.state is None:
        # a stock stage of a funnel made by this plan: found by its code once the funnel exists
        lookup = _stock_stage_lookup(p, place, slot.code)
        made: tuple[Call, ...] = (
            lookup,
            Call(
                p.label("s"),
                "crm.status.update",
                {"id": Ref(lookup.label, (0, "ID")), "fields": wanted},
                phase,
            ),
        )
        changes = tuple(Change(k.lower(), None, v) for k, v in wanted.items())
        return Entry(
            address, "stage", "update", changes=changes, calls=made, portal=slot.code, created=True
        )
    state = slot.state
    before = {"NAME": state.name, "SORT": state.sort, "COLOR": state.color.upper()}
    changed = {k: v for k, v in wanted.items() if before[k] != v}
    changes = tuple(Change(k.lower(), before[k], v) for k, v in changed.items())
    calls: tuple[Call, ...] = ()
    if changed:
        calls = (
            Call(p.label("s"), "crm.status.update", {"id": state.id, "fields": changed}, phase),
        )
    return Entry(
        address,
        "stage",
        "update" if changed else "unchanged",
        changes=changes,
        calls=calls,
        portal=state.status_id,
        ids=(("id", state.id), ("status_id", state.status_id)),
        created=p.record.created(address),
    )


def _plan_leftover_stages(
    p: _Planner,
    pipe: Pipeline,
    address: str,
    place: _Place,
    leftovers: list[_Slot],
    slots: list[_Slot],
    taken: dict[str, _Slot],
    owned: bool,
    funnel: FunnelState | None,
) -> None:
    """Portal stages the blueprint does not use: the unused stock stages of a funnel this plan
    makes are deleted; under --prune so are stages crmkit made before; the rest is kept."""
    remaining = {
        g: sum(1 for s in slots if s.semantics == g) for g in ("process", "success", "failure")
    }
    for slot in leftovers:
        portal = slot.state.status_id if slot.state else slot.code
        stage_address = f"{address}.stage.#{slot.code}"
        # deletable: the stock stages of a funnel crmkit makes (now, or in a run that was cut
        # off), and under --prune the stages crmkit made that the blueprint dropped
        deletable = (
            funnel is None
            or (owned and slot.stock)
            or (p.prune and _recorded_stage(p, address, slot))
        )
        if not deletable:
            p.add(
                Entry(
                    stage_address,
                    "stage",
                    "unmanaged",
                    portal=portal,
                    values=(("name", slot.name),),
                )
            )
            continue
        reason = ""
        items = 0
        if slot.system:
            reason = "delete_system"
        elif remaining[slot.semantics] <= 1:
            reason = "delete_last_of_group"
        elif slot.state is not None and funnel is not None:
            counted = p.count(("stage", funnel.entity_id, slot.state.status_id))
            if counted is None:
                p.add(Entry(stage_address, "stage", "unmanaged", portal=portal))
                continue
            items = counted
            if items:
                reason = "delete_holds_items"
        if reason:
            p.add(
                Entry(
                    stage_address,
                    "stage",
                    "conflict",
                    note=reason,
                    portal=portal,
                    values=(("name", slot.name or slot.code), ("items", str(items))),
                )
            )
            continue
        remaining[slot.semantics] -= 1
        if slot.state is not None:
            calls: tuple[Call, ...] = (
                Call(p.label("d"), "crm.status.delete", {"id": slot.state.id}, PH_DELETE_STAGE),
            )
        else:
            lookup = _stock_stage_lookup(p, place, slot.code)
            calls = (
                lookup,
                Call(
                    p.label("d"),
                    "crm.status.delete",
                    {"id": Ref(lookup.label, (0, "ID"))},
                    PH_DELETE_STAGE,
                ),
            )
        p.add(
            Entry(
                stage_address,
                "stage",
                "delete",
                calls=calls,
                portal=portal,
                changes=(Change("name", slot.name or slot.code, None),),
            )
        )


def _recorded_stage(p: _Planner, address: str, slot: _Slot) -> bool:
    if slot.state is None:
        return True
    prefix = f"{address}.stage."
    return any(
        m.created and a.startswith(prefix) and m.id("id") == slot.state.id
        for a, m in p.record.managed.items()
    )


# -- smart processes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Process:
    """A blueprint smart process and where it is on the portal (or will be)."""

    code: str
    state: ProcessState | None
    #: references into the result of crm.type.add when the process is made by this plan
    type_id: IdExpr | None
    entity_type_id: IdExpr | None
    default_category: IdExpr | None
    #: the calls that make it (the funnel lookup of a new process hangs on them)
    refused: bool = False


def _plan_processes(p: _Planner) -> dict[str, _Process]:
    out: dict[str, _Process] = {}
    free = list(p.state.processes)
    unreadable = "smart_processes" in p.state.unread or not p.admin
    for process in p.bp.smart_processes:
        address = f"process.{process.code}"
        if unreadable:
            p.add(
                Entry(
                    address,
                    "process",
                    "conflict",
                    note="needs_admin",
                    values=(("title", p.name(process.title)),),
                )
            )
            out[process.code] = _Process(process.code, None, None, None, None, refused=True)
            continue
        found = _match_process(p, address, process, free)
        if found is not None:
            free.remove(found)
            out[process.code] = _existing_process(p, process, address, found)
        else:
            out[process.code] = _new_process(p, process, address)
    if not unreadable:
        for process_state in free:
            p.add(
                Entry(
                    f"process.#{process_state.entity_type_id}",
                    "process",
                    "unmanaged",
                    portal=f"entityTypeId {process_state.entity_type_id}",
                    values=(("name", process_state.title),),
                )
            )
    return out


def _match_process(
    p: _Planner, address: str, process: SmartProcess, free: list[ProcessState]
) -> ProcessState | None:
    return _by_record_then_name(
        p,
        address,
        "entity_type_id",
        free,
        lambda s: s.entity_type_id,
        lambda s: s.title,
        process.title,
    )


def _existing_process(
    p: _Planner, process: SmartProcess, address: str, state: ProcessState
) -> _Process:
    wanted = p.name(process.title) or process.code
    changes = [Change("title", state.title, wanted)] if wanted != state.title else []
    flags = {k: v for k, v in PROCESS_FLAGS.items() if state.flag(k) != v}
    changes += [Change(k, state.flag(k), v) for k, v in flags.items()]
    calls: tuple[Call, ...] = ()
    if changes:
        fields: dict[str, Value] = dict(flags)
        if wanted != state.title:
            fields["title"] = wanted
        calls = (
            Call(p.label("t"), "crm.type.update", {"id": state.id, "fields": fields}, PH_PROCESS),
        )
    p.add(
        Entry(
            address,
            "process",
            "update" if changes else "unchanged",
            changes=tuple(changes),
            calls=calls,
            portal=f"entityTypeId {state.entity_type_id}",
            ids=(("id", state.id), ("entity_type_id", state.entity_type_id)),
            created=p.record.created(address),
        )
    )
    default = next((f for f in p.state.funnels_of(state.entity_type_id) if f.is_default), None)
    return _Process(
        process.code,
        state,
        state.id,
        state.entity_type_id,
        default.category_id if default is not None else None,
    )


def _new_process(p: _Planner, process: SmartProcess, address: str) -> _Process:
    made = p.label("t")
    lookup = p.label("l")
    title = p.name(process.title) or process.code
    calls = (
        Call(made, "crm.type.add", {"fields": {"title": title, **PROCESS_FLAGS}}, PH_PROCESS),
        # the default funnel the portal makes with the process (its stages are reused)
        Call(
            lookup,
            "crm.category.list",
            {"entityTypeId": Ref(made, ("type", "entityTypeId"))},
            PH_PROCESS,
        ),
    )
    changes = (
        Change("title", None, title),
        *(Change(k, None, v) for k, v in PROCESS_FLAGS.items()),
    )
    p.add(Entry(address, "process", "create", changes=changes, calls=calls, created=True))
    return _Process(
        process.code,
        None,
        Ref(made, ("type", "id")),
        Ref(made, ("type", "entityTypeId")),
        Ref(lookup, ("categories", 0, "id")),
    )


def _plan_process_funnels(p: _Planner, processes: dict[str, _Process]) -> None:
    for code, process in processes.items():
        pipes = [x for x in p.bp.pipelines if x.kind == "smart_process" and x.process == code]
        if process.refused:
            for pipe in pipes:
                p.add(
                    Entry(
                        f"smart_process.{pipe.code}",
                        "funnel",
                        "conflict",
                        note="needs_admin",
                        values=(("title", p.name(pipe.name)),),
                    )
                )
            continue
        etid = process.entity_type_id
        assert etid is not None
        free = list(p.state.funnels_of(etid)) if isinstance(etid, int) else []
        for index, pipe in enumerate(pipes):
            address = f"smart_process.{pipe.code}"
            if process.state is None:
                if index == 0:
                    # the funnel crm.type.add made comes with the stock stages: reuse them
                    name = p.name(pipe.name) or pipe.code
                    rename = Call(
                        p.label("f"),
                        "crm.category.update",
                        {
                            "entityTypeId": etid,
                            "id": process.default_category,
                            "fields": {"name": name},
                        },
                        PH_FUNNEL,
                    )
                    p.add(
                        Entry(
                            address,
                            "funnel",
                            "create",
                            changes=(Change("name", None, name),),
                            calls=(rename,),
                            created=True,
                        )
                    )
                    place = _Place("smart_process", etid, process.default_category)
                    _plan_stages(p, pipe, address, None, place, owned=True)
                else:
                    _new_funnel(p, pipe, address, etid)
                continue
            _plan_funnel(p, pipe, address, free, etid, index == 0 and (lambda f: f.is_default))
        for funnel in free:
            _leftover_funnel(p, funnel, f"process.{code}.#{funnel.category_id}")


# -- user fields ----------------------------------------------------------------------------------


def _owner_of(
    p: _Planner, entity: str, processes: dict[str, _Process]
) -> tuple[str, Value, _Process | None] | None:
    """(state owner key, field name prefix, the smart process) of a blueprint field entity."""
    if entity in ENTITY_OWNERS:
        return entity, "UF_CRM_", None
    process = processes.get(entity)
    if process is None or process.refused:
        return None
    owner = f"sp:{process.entity_type_id}" if isinstance(process.entity_type_id, int) else ""
    return owner, _concat("UF_CRM_", process.type_id, "_"), process


def _plan_fields(p: _Planner, processes: dict[str, _Process]) -> None:
    seen: set[int] = set()
    for f in p.bp.fields:
        resolved = _owner_of(p, f.entity, processes)
        if resolved is None:  # a field of a smart process the webhook may not manage
            p.add(
                Entry(
                    f"field.{f.entity}.{f.code.upper()}",
                    "field",
                    "conflict",
                    note="needs_admin",
                    values=(("title", f.entity),),
                )
            )
            continue
        owner, prefix, process = resolved
        name = bitrix_field_name(f.code) if process is None else _concat(prefix, f.code.upper())
        # a smart process's field by its code: its FIELD_NAME holds the process's id
        address = f"field.{f.entity}.{name if process is None else f.code.upper()}"
        if process is not None and "smart_process_fields" in p.state.unread:
            p.add(Entry(address, "field", "conflict", note="needs_userfieldconfig"))
            continue
        existing = _match_field(p, address, owner, name) if owner else None
        if existing is not None:
            seen.add(existing.id)
            p.add(_field_update(p, f, address, existing, process))
        else:
            p.add(_field_create(p, f, address, name, process))
    for state_field in p.state.fields:
        if state_field.id in seen:
            continue
        address = f"field.#{state_field.owner}.{state_field.field_name}"
        mine = state_field.xml_id == OWNER_MARK
        if p.prune and mine:
            method = (
                f"crm.{state_field.owner}.userfield.delete"
                if state_field.owner in ENTITY_OWNERS
                else "userfieldconfig.delete"
            )
            params: dict[str, Value] = {"id": state_field.id}
            if method == "userfieldconfig.delete":
                params["moduleId"] = "crm"
            p.add(
                Entry(
                    address,
                    "field",
                    "delete",
                    portal=state_field.field_name,
                    changes=(Change("field", state_field.field_name, None),),
                    calls=(Call(p.label("d"), method, params, PH_DELETE_FIELD),),
                )
            )
        else:
            p.add(
                Entry(
                    address,
                    "field",
                    "unmanaged",
                    portal=state_field.field_name,
                    values=(("name", state_field.label(p.lang) or state_field.field_name),),
                )
            )


def _match_field(p: _Planner, address: str, owner: str, name: Value) -> FieldState | None:
    candidates = p.state.fields_of(owner)
    known = p.record.get(address)
    if known is not None:
        found = next((s for s in candidates if s.id == known.id("id")), None)
        if found is not None:
            return found
    return next((s for s in candidates if s.field_name == name), None)


def _labels(f: CustomField) -> dict[str, str]:
    return {"ru": f.label.get("ru"), "en": f.label.get("en")}


def _helps(f: CustomField) -> dict[str, str]:
    return {"ru": f.help.get("ru"), "en": f.help.get("en")}


def _items(p: _Planner, f: CustomField) -> list[dict[str, Value]]:
    return [
        {
            "VALUE": p.name(item.value),
            "SORT": 10 * (index + 1),
            "DEF": item.default,
            **({"XML_ID": item.xml_id} if item.xml_id else {}),
        }
        for index, item in enumerate(f.items)
    ]


def _config_enum(items: Iterable[Mapping[str, Any]]) -> list[Value]:
    """Enum items in the legacy shape (``VALUE``, ``SORT``…) as userfieldconfig writes them."""
    return [
        {
            **({"id": i["ID"]} if "ID" in i else {}),
            "value": i["VALUE"],
            "sort": i["SORT"],
            "def": i["DEF"],
            **({"xmlId": i["XML_ID"]} if "XML_ID" in i else {}),
        }
        for i in items
    ]


def _field_create(
    p: _Planner, f: CustomField, address: str, name: Value, process: _Process | None
) -> Entry:
    labels, helps = _labels(f), _helps(f)
    items = _items(p, f) if f.type == "enumeration" else []
    if process is None:
        fields: dict[str, Value] = {
            "FIELD_NAME": name,
            "USER_TYPE_ID": f.type,
            "XML_ID": OWNER_MARK,
            "EDIT_FORM_LABEL": labels,
            "LIST_COLUMN_LABEL": labels,
            "LIST_FILTER_LABEL": labels,
            "MANDATORY": f.mandatory,
            "MULTIPLE": f.multiple,
            "SHOW_FILTER": True,
            "SHOW_IN_LIST": True,
        }
        if any(helps.values()):
            fields["HELP_MESSAGE"] = helps
        if items:
            fields["LIST"] = items
        call = Call(p.label("u"), f"crm.{f.entity}.userfield.add", {"fields": fields}, PH_FIELD)
    else:
        config: dict[str, Value] = {
            "entityId": _concat("CRM_", process.type_id),
            "fieldName": name,
            "userTypeId": f.type,
            "xmlId": OWNER_MARK,
            "editFormLabel": labels,
            "mandatory": f.mandatory,
            "multiple": f.multiple,
            "showFilter": True,
        }
        if any(helps.values()):
            config["helpMessage"] = helps
        if items:
            config["enum"] = _config_enum(items)
        call = Call(
            p.label("u"), "userfieldconfig.add", {"moduleId": "crm", "field": config}, PH_FIELD
        )
    changes = [Change("type", None, f.type), Change("label", None, labels)]
    if items:
        changes.append(Change("items", None, [i["VALUE"] for i in items]))
    return Entry(address, "field", "create", changes=tuple(changes), calls=(call,), created=True)


def _field_update(
    p: _Planner, f: CustomField, address: str, state: FieldState, process: _Process | None
) -> Entry:
    def entry(action: Action, **more: Any) -> Entry:
        return Entry(
            address,
            "field",
            action,
            portal=state.field_name,
            ids=(("id", state.id), ("field_name", state.field_name)),
            created=p.record.created(address),
            **more,
        )

    if state.type != f.type:
        return entry(
            "conflict",
            note="field_type_fixed",
            values=(("portal", state.type), ("blueprint", f.type)),
        )
    if state.multiple != f.multiple:
        return entry(
            "conflict",
            note="field_multiple_fixed",
            values=(("portal", str(state.multiple)), ("blueprint", str(f.multiple))),
        )
    labels, helps = _labels(f), _helps(f)
    changes: list[Change] = []
    before_labels = {"ru": state.label("ru"), "en": state.label("en")}
    if before_labels != labels:
        changes.append(Change("label", before_labels, labels))
    before_helps = {"ru": state.help("ru"), "en": state.help("en")}
    if before_helps != helps and any(helps.values()):
        changes.append(Change("help", before_helps, helps))
    if state.mandatory != f.mandatory:
        changes.append(Change("mandatory", state.mandatory, f.mandatory))
    list_items, item_changes = _item_changes(p, f, state)
    changes += item_changes
    if not changes:
        return entry("unchanged")
    if process is None:
        fields: dict[str, Value] = {
            "EDIT_FORM_LABEL": labels,
            "LIST_COLUMN_LABEL": labels,
            "LIST_FILTER_LABEL": labels,
            "MANDATORY": f.mandatory,
        }
        if any(helps.values()):
            fields["HELP_MESSAGE"] = helps
        if item_changes:
            fields["LIST"] = list_items
        call = Call(
            p.label("u"),
            f"crm.{f.entity}.userfield.update",
            {"id": state.id, "fields": fields},
            PH_FIELD,
        )
    else:
        config: dict[str, Value] = {"editFormLabel": labels, "mandatory": f.mandatory}
        if any(helps.values()):
            config["helpMessage"] = helps
        if item_changes:
            config["userTypeId"] = "enumeration"  # the method touches enum items only with it
            config["enum"] = _config_enum(list_items)
        call = Call(
            p.label("u"),
            "userfieldconfig.update",
            {"moduleId": "crm", "id": state.id, "field": config},
            PH_FIELD,
        )
    return entry("update", changes=tuple(changes), calls=(call,))


def _item_changes(
    p: _Planner, f: CustomField, state: FieldState
) -> tuple[list[dict[str, Value]], list[Change]]:
    """The LIST to send (existing items by ID, new ones without) and what changes; items the
    blueprint does not name are kept as they are."""
    if f.type != "enumeration":
        return [], []
    wanted = _items(p, f)
    free = list(state.items)
    out: list[dict[str, Value]] = []
    changes: list[Change] = []
    for index, item in enumerate(wanted):
        values = {v.strip().casefold() for v in (f.items[index].value.ru, f.items[index].value.en)}
        match = next((s for s in free if item.get("XML_ID") and s.xml_id == item["XML_ID"]), None)
        match = match or next((s for s in free if s.value.strip().casefold() in values), None)
        if match is None:
            out.append(item)
            changes.append(Change(f"item {item['VALUE']}", None, item["VALUE"]))
            continue
        free.remove(match)
        sent = {**item, "ID": match.id}
        if match.value != item["VALUE"]:
            changes.append(Change(f"item {match.value}", match.value, item["VALUE"]))
        if match.default != item["DEF"]:
            changes.append(Change(f"item {item['VALUE']} default", match.default, item["DEF"]))
        out.append(sent)
    order_now = [s.id for s in sorted(state.items, key=lambda s: s.sort) if s not in free]
    order_wanted = [i["ID"] for i in out if "ID" in i]
    if order_now != order_wanted and not changes:
        changes.append(Change("items order", order_now, order_wanted))
    return out, changes


# -- card layouts -------------------------------------------------------------------------------

#: entity type ids of the entities with one card (no funnels), and what ``extras`` names a funnel
_CARD_TYPES = {"lead": LEAD_TYPE, "deal": DEAL_TYPE, "contact": 3, "company": 4}


def _card_targets(
    p: _Planner, entity: str, processes: dict[str, _Process]
) -> list[tuple[str, str, _Place | None, IdExpr, dict[str, Value] | None]]:
    """(address, shown name, funnel, entity type, extras) of every card a group of ``entity``
    goes into: one per pipeline of the entity in the blueprint (contacts and companies: one)."""
    if entity in ("contact", "company"):
        return [(f"card.{entity}", entity, None, _CARD_TYPES[entity], None)]
    kind = {"lead": "lead", "deal": "deal"}.get(entity, "smart_process")
    out: list[tuple[str, str, _Place | None, IdExpr, dict[str, Value] | None]] = []
    for pipe in p.bp.pipelines:
        if pipe.kind != kind or (kind == "smart_process" and pipe.process != entity):
            continue
        place = p.places.get(pipe.code)
        if place is None:
            continue
        extras: dict[str, Value] | None
        if kind == "lead":
            extras = None
        elif kind == "deal":
            extras = {"dealCategoryId": place.category_id}
        else:
            extras = {"categoryId": place.category_id}
        out.append(
            (
                f"card.{pipe.code}",
                p.name(pipe.name) or pipe.code,
                place,
                place.entity_type_id,
                extras,
            )
        )
    if not out and kind == "deal":
        # a blueprint of fields only: their section goes into the cards of the portal's pipelines
        for funnel in p.state.deal_funnels():
            place = _Place("deal", DEAL_TYPE, funnel.category_id)
            extras = {"dealCategoryId": funnel.category_id}
            out.append((f"card.deal.#{funnel.category_id}", funnel.name, place, DEAL_TYPE, extras))
    return out


def _plan_cards(p: _Planner, processes: dict[str, _Process]) -> None:
    """Field groups become card sections of the common layout, merged into the one the portal
    keeps. A portal that keeps its default card (nothing saved: REST cannot read it, and setting
    one would replace all it shows) or a webhook that may not set common layouts gets the steps
    to do it by hand."""
    groups: dict[str, list[Any]] = {}
    for group in p.bp.field_groups:
        groups.setdefault(group.entity, []).append(group)
    for entity, entity_groups in groups.items():
        process = processes.get(entity)
        if process is not None and process.refused:
            continue
        sections = []
        for group in entity_groups:
            members = [f for f in p.bp.fields if f.entity == entity and f.group == group.code]
            if not members:
                continue
            elements = []
            for f in members:
                if process is None:
                    name: Value = bitrix_field_name(f.code)
                else:
                    name = _concat("UF_CRM_", process.type_id, "_", f.code.upper())
                elements.append((name, 1 if f.mandatory else 0))
            sections.append((f"crmkit_{group.code}", p.name(group.name) or group.code, elements))
        if not sections:
            continue
        for address, shown, place, etid, extras in _card_targets(p, entity, processes):
            _plan_card(p, address, shown, entity, place, etid, extras, sections)


def _plan_card(
    p: _Planner,
    address: str,
    shown: str,
    entity: str,
    place: _Place | None,
    etid: IdExpr,
    extras: dict[str, Value] | None,
    sections: list[tuple[str, str, list[tuple[Value, int]]]],
) -> None:
    category = place.category_id if place is not None else None
    state = None
    if isinstance(etid, int) and (category is None or isinstance(category, int)):
        state = p.state.card(etid, category)
    steps = tuple(
        msg(
            "push.manual.card",
            p.lang,
            card=shown,
            section=title,
            fields=", ".join(str(n) for n, _ in elements),
        )
        for _name, title, elements in sections
    )
    if not p.admin or "card_layouts" in p.state.unread:
        p.add(Entry(address, "card", "manual", note="manual_card_admin", steps=steps))
        return
    if state is None or state.sections is None:
        p.add(Entry(address, "card", "manual", note="manual_card_default", steps=steps))
        return
    ours = {name for name, _title, _elements in sections}
    moved = {str(n) for _name, _title, elements in sections for n, _flags in elements}
    data: list[dict[str, Value]] = []
    for section in state.sections:
        if section.name in ours:
            continue
        kept = [e for e in section.elements if e.name not in moved]
        data.append(_section_data(section.name, section.title, kept))
    for name, title, elements in sections:
        data.append(
            {
                "name": name,
                "title": title,
                "type": "section",
                "elements": [{"name": n, "optionFlags": flags} for n, flags in elements],
            }
        )
    before = [_section_data(s.name, s.title, list(s.elements)) for s in state.sections]
    if before == data:
        p.add(Entry(address, "card", "unchanged"))
        return
    params: dict[str, Value] = {"entityTypeId": etid, "scope": "C", "data": data}
    if extras is not None:
        params["extras"] = extras
    changes = tuple(
        Change(f"section {name}", None, f"{title}: " + ", ".join(str(n) for n, _ in elements))
        for name, title, elements in sections
    )
    call = Call(p.label("c"), "crm.item.details.configuration.set", params, PH_CARD)
    p.add(Entry(address, "card", "update", changes=changes, calls=(call,)))
    _ = entity


def _section_data(name: str, title: str, elements: list[Any]) -> dict[str, Value]:
    out = []
    for element in elements:
        item: dict[str, Value] = {"name": element.name, "optionFlags": element.flags}
        if element.options:
            item["options"] = json.loads(element.options)
        out.append(item)
    return {"name": name, "title": title, "type": "section", "elements": out}


# -- what REST cannot do ------------------------------------------------------------------------


def _plan_manual(p: _Planner) -> None:
    from crmkit.export.blueprint_doc import manual_checklist

    for item in manual_checklist(p.bp, p.lang):
        p.add(
            Entry(
                f"manual.{item['id']}",
                "manual",
                "manual",
                steps=(item["path"], *item["details"]),
                note="manual_" + item["id"].split(".", 1)[0],
            )
        )
    if p.bp.roles:
        names = ", ".join(r.name.get(p.lang) or r.code for r in p.bp.roles)
        p.add(
            Entry(
                "manual.access_roles",
                "manual",
                "manual",
                steps=(msg("push.manual.roles", p.lang, roles=names),),
                note="manual_roles",
            )
        )


# -- drift ----------------------------------------------------------------------------------------


def drift(record: Record, state: PortalState) -> Iterable[Drift]:
    """What changed in the portal since the last apply, object by object (found by its ids)."""
    stages = {s.id: s for f in state.funnels for s in f.stages}
    funnels = {(f.entity_type_id, f.category_id): f for f in state.funnels}
    fields = {f.id: f for f in state.fields}
    processes = {p.entity_type_id: p for p in state.processes}
    for address, managed in sorted(record.managed.items()):
        now: dict[str, Any] | None
        if ".stage." in address:
            stage = stages.get(managed.id("id"))
            now = None if stage is None else {"name": stage.name, "color": stage.color}
        elif address.startswith("field."):
            found = fields.get(managed.id("id"))
            now = None if found is None else {"label": found.label("ru") or found.label("en")}
        elif address.startswith("process."):
            proc = processes.get(managed.id("entity_type_id"))
            now = None if proc is None else {"title": proc.title}
        else:
            funnel = funnels.get((managed.id("entity_type_id"), managed.id("category_id")))
            now = None if funnel is None else {"name": funnel.name}
        if now is None:
            if managed.ids:
                yield Drift(address, "exists", True, False)
            continue
        for attribute, applied in managed.shape:
            if attribute in now and now[attribute] != applied:
                yield Drift(address, attribute, applied, now[attribute])


def shape_of(entry: Entry, state: PortalState) -> dict[str, Any]:
    """The attributes drift watches, as the portal holds them now (for the record)."""
    ids = dict(entry.ids)
    if entry.kind == "stage":
        stage = next((s for f in state.funnels for s in f.stages if s.id == ids.get("id")), None)
        return {} if stage is None else {"name": stage.name, "color": stage.color}
    if entry.kind == "field":
        found = next((f for f in state.fields if f.id == ids.get("id")), None)
        return {} if found is None else {"label": found.label("ru") or found.label("en")}
    if entry.kind == "process":
        proc = state.process(ids.get("entity_type_id", -1))
        return {} if proc is None else {"title": proc.title}
    if entry.kind == "funnel":
        funnel = next(
            (
                f
                for f in state.funnels
                if f.entity_type_id == ids.get("entity_type_id")
                and f.category_id == ids.get("category_id")
            ),
            None,
        )
        return {} if funnel is None else {"name": funnel.name}
    return {}


__all__ = [
    "ACTIONS",
    "CHANGES",
    "Call",
    "Change",
    "Concat",
    "Drift",
    "Entry",
    "Plan",
    "Ref",
    "plan_push",
    "target_sorts",
]

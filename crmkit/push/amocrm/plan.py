"""The push plan for an amoCRM account: a blueprint compared with the account's state. Pure.

The same ``Plan``/``Entry``/``Change``/``Call`` values as the Bitrix24 planner
(``crmkit.push.plan``), so the report, the record, the saved plan and the client document read
both alike; the mapping is amoCRM's own (seed 002, issue 15; facts in the amoCRM facts note):

- the blueprint's lead funnel becomes a pipeline of its own (amoCRM keeps leads and deals as one
  entity), named as the blueprint names it (the reader tells it apart by that name); every deal
  pipeline becomes a pipeline with its working stages as statuses, in order
  (crm_platform/leads_pipelines). A new account's main pipeline is the account's: left as it is;
- the success stage is the system status 142, named at creation (its name cannot be changed
  through the API afterwards: a different name is a manual step); the failure stages all close
  a lead as the system status 143 and become the account's loss reasons (one list for every
  pipeline, SDK ``Leads/LossReasons``), one per name;
- colours: amoCRM accepts only its fixed palette of 21 colours ("Доступные цвета статусов");
  each stage gets the nearest one (CIE76 distance in Lab) and the plan shows both;
- custom fields of leads and deals → the ``leads`` custom fields, of contacts and companies →
  theirs (crm_platform/custom-fields), with their enums; a stage's ``required_fields`` set the
  field's ``required_statuses`` from the next non-failure stage up to the success status (142),
  as Bitrix24's manual step asks for by hand;
- robots (amoCRM's Digital Pipeline), smart processes (amoCRM has none), card groups, roles,
  standard fields required on a stage and fields of a type amoCRM lacks are ``manual`` entries
  with the amoCRM menu path;
- the account's limits (50 pipelines, 100 statuses a pipeline including the three system ones)
  are checked: what would pass them is a conflict and is not sent;
- under ``prune``, what crmkit made (the record's ``created`` objects) and the blueprint dropped
  is deleted: statuses of a pipeline it still manages, a pipeline, custom fields. Never a status
  or a pipeline that holds leads (amoCRM moves a deleted status's leads to the first status and
  refuses to delete a pipeline with leads): that is a conflict saying so. Whether one holds
  leads is a count the plan asks for in ``needs`` (``("status", pipeline, status)`` or
  ``("pipeline", pipeline, "")``); ``crmkit.push.amocrm.apply`` answers it with one bounded list
  call each and plans again. Nothing crmkit did not make is ever deleted.

Matching: by the ids the record keeps, then by name in any of the blueprint's languages
(``_by_record_then_name``'s rule), fields by their code too. What the account holds beyond the
blueprint is ``unmanaged`` and kept. Calls name their REST route with ``{…}`` placeholders
filled from their params (``PATCH /api/v4/leads/pipelines/{pipeline_id}``); ``Ref`` values point
into an earlier call's reply (``crmkit.push.amocrm.writer`` resolves them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from crmkit.blueprints.model import Blueprint, CustomField, Pipeline, Stage, bitrix_field_name
from crmkit.i18n import Lang, Text, msg
from crmkit.push.amocrm.fields import ENTITY_PATHS, write_type
from crmkit.push.amocrm.reader import LOST, WON
from crmkit.push.plan import (
    Action,
    Call,
    Change,
    CountKey,
    Drift,
    Entry,
    Plan,
    Ref,
    by_record_then_name,
    target_sorts,
)
from crmkit.push.plan import drift as funnel_drift
from crmkit.push.record import Record
from crmkit.push.state import DEAL_TYPE, FieldState, FunnelState, PortalState, StageState

_Found = TypeVar("_Found")

#: the only colours a status may have (crm_platform/leads_pipelines, "Доступные цвета статусов")
PALETTE = (
    "#fffeb2", "#fffd7f", "#fff000", "#ffeab2", "#ffdc7f", "#ffce5a", "#ffdbdb",
    "#ffc8c8", "#ff8f92", "#d6eaff", "#c1e0ff", "#98cbff", "#ebffb1", "#deff81",
    "#87f2c0", "#f9deff", "#f3beff", "#ccc8f9", "#eb93ff", "#f2f3f4", "#e6e8ea",
)  # fmt: skip
#: crm_platform/leads_pipelines: at most 50 pipelines an account, 100 statuses a pipeline
#: (the unsorted, won and lost ones included)
MAX_PIPELINES = 50
MAX_STATUSES = 100
SYSTEM_STATUSES = 3
#: the sort of the unsorted status, which comes first in every pipeline
UNSORTED_SORT = 10

PIPELINES = "/api/v4/leads/pipelines"
LOSS_REASONS = "/api/v4/leads/loss_reasons"

# phases: what is referred to is made first; deletes last, a pipeline's statuses before it
PH_PIPELINE, PH_STATUS, PH_STATUS_UPDATE, PH_REASON, PH_FIELD = 1, 2, 3, 4, 5
PH_DELETE_STATUS, PH_DELETE_FIELD, PH_DELETE_PIPELINE = 6, 7, 8


# -- colours --------------------------------------------------------------------------------------


def _lab(color: str) -> tuple[float, float, float]:
    """sRGB ``#rrggbb`` → CIE L*a*b* (D65)."""

    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(int(color[i : i + 2], 16) / 255) for i in (1, 3, 5))
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116

    fx, fy, fz = f(x), f(y), f(z)
    return 116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)


def nearest_color(color: str) -> str:
    """The palette colour nearest to ``color`` as the eye sees it (CIE76 in Lab)."""
    wanted = color.strip().lower()
    if wanted in PALETTE:
        return wanted
    lab = _lab(wanted)
    return min(PALETTE, key=lambda c: sum((a - b) ** 2 for a, b in zip(_lab(c), lab, strict=True)))


# -- the planner ----------------------------------------------------------------------------------

IdExpr = int | Ref


@dataclass
class _Planner:
    bp: Blueprint
    state: PortalState
    lang: Lang
    record: Record
    prune: bool = False
    #: leads counted in a status or pipeline (a previous plan's ``needs``)
    counts: Mapping[CountKey, int] = field(default_factory=dict)
    needs: list[CountKey] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    #: (pipeline code, stage code) → (pipeline id, status id), known or to be made
    statuses: dict[tuple[str, str], tuple[IdExpr, IdExpr]] = field(default_factory=dict)
    #: pipeline codes the plan sets up (their required statuses are the blueprint's)
    managed_pipelines: dict[str, IdExpr] = field(default_factory=dict)
    free: list[FunnelState] = field(default_factory=list)
    _labels: int = 0

    def label(self, stem: str) -> str:
        self._labels += 1
        return f"{stem}{self._labels}"

    def add(self, entry: Entry) -> None:
        self.entries.append(entry)

    def count(self, key: CountKey) -> int | None:
        """The leads counted for ``key``; None (and asked for) while not counted yet."""
        if key in self.counts:
            return self.counts[key]
        if key not in self.needs:
            self.needs.append(key)
        return None

    def name(self, text: Text) -> str:
        return (text.get(self.lang) or "").strip()

    def manual(self, address: str, note: str, *steps: str, **values: str) -> None:
        self.add(
            Entry(
                address,
                "manual",
                "manual",
                note=f"amo.manual_{note}",
                values=tuple(values.items()),
                steps=steps,
            )
        )

    def say(self, key: str, **values: Any) -> str:
        return msg(f"push.amo.plan.{key}", self.lang, **values)


def plan_amocrm(
    bp: Blueprint,
    state: PortalState,
    *,
    lang: Lang,
    record: Record | None = None,
    prune: bool = False,
    counts: Mapping[CountKey, int] | None = None,
) -> Plan:
    """The plan that makes the amoCRM account of ``state`` hold ``bp``; names go to the account
    in ``lang``. With ``prune`` what crmkit made and the blueprint dropped is deleted, once
    ``counts`` (the plan's ``needs``, counted) say it holds no lead."""
    p = _Planner(bp, state, lang, record or Record(), prune, counts or {}, free=list(state.funnels))
    pipes = [x for x in bp.pipelines if x.kind in ("lead", "deal")]
    room = MAX_PIPELINES - len(state.funnels)
    for pipe in pipes:
        room -= _plan_pipeline(p, pipe, room)
    for funnel in p.free:
        _leftover_pipeline(p, funnel)
    _plan_loss_reasons(p, pipes)
    _plan_fields(p)
    _plan_manual(p, pipes)
    return Plan(
        entries=tuple(p.entries),
        needs=tuple(p.needs),
        drift=tuple(amo_drift(p.record, state)),
        fingerprint=state.fingerprint(),
        lang=lang,
    )


def _by_record_then_name(
    p: Any,
    address: str,
    id_key: str,
    candidates: Sequence[_Found],
    id_of: Callable[[_Found], int | None],
    name_of: Callable[[_Found], str],
    wanted: Text,
) -> _Found | None:
    """The Bitrix24 planner's rule (crmkit.push.plan.by_record_then_name) on this plan's record."""
    return by_record_then_name(p.record, address, id_key, candidates, id_of, name_of, wanted)


def _where(funnel: FunnelState) -> str:
    return f"pipeline {funnel.category_id}"


def _funnel_ids(pid: int) -> tuple[tuple[str, Any], ...]:
    # the shape the shared record and drift read a funnel by (the reader's category_id)
    return (("category_id", pid), ("entity_type_id", DEAL_TYPE))


# -- pipelines and statuses -----------------------------------------------------------------------


def _working(pipe: Pipeline) -> list[Stage]:
    return [s for s in pipe.stages if s.semantics == "process"]


def _plan_pipeline(p: _Planner, pipe: Pipeline, room: int) -> int:
    """A lead or deal pipeline onto the pipeline it matches, else a new one; the number of
    pipelines it adds to the account (0 or 1)."""
    address = f"{pipe.kind}.{pipe.code}"
    funnel = _by_record_then_name(
        p, address, "category_id", p.free, lambda f: f.category_id, lambda f: f.name, pipe.name
    )
    if funnel is not None:
        p.free.remove(funnel)
        _existing_pipeline(p, pipe, address, funnel)
        return 0
    if room <= 0:
        p.add(
            Entry(
                address,
                "funnel",
                "conflict",
                note="amo.limit_pipelines",
                values=(("name", p.name(pipe.name)), ("limit", str(MAX_PIPELINES))),
            )
        )
        return 0
    if SYSTEM_STATUSES + len(_working(pipe)) > MAX_STATUSES:
        _too_many_statuses(p, pipe, address, SYSTEM_STATUSES + len(_working(pipe)))
        return 0
    _new_pipeline(p, pipe, address)
    return 1


def _too_many_statuses(p: _Planner, pipe: Pipeline, address: str, count: int) -> None:
    values = (("name", p.name(pipe.name)), ("count", str(count)), ("limit", str(MAX_STATUSES)))
    p.add(Entry(address, "funnel", "conflict", note="amo.limit_statuses", values=values))


def _new_pipeline(p: _Planner, pipe: Pipeline, address: str) -> None:
    label = p.label("p")
    name = p.name(pipe.name) or pipe.code
    index = [x for x in p.bp.pipelines if x.kind in ("lead", "deal")].index(pipe)
    working = _working(pipe)
    sorts = target_sorts([UNSORTED_SORT, *([None] * len(working))])[1:]
    embedded: list[dict[str, Any]] = [
        {"name": p.name(s.name) or s.code, "sort": sort, "color": nearest_color(s.shown_color)}
        for s, sort in zip(working, sorts, strict=True)
    ]
    success = next(iter(pipe.stages_with("success")), None)
    if success is not None:
        embedded.append({"id": WON, "name": p.name(success.name) or success.code})
    params = {
        "name": name,
        "sort": 500 + 10 * index,
        "is_main": False,
        # requests coming in land in the lead funnel's unsorted column, not in the deals'
        "is_unsorted_on": pipe.kind == "lead",
        "_embedded": {"statuses": embedded},
    }
    call = Call(label, f"POST {PIPELINES}", params, PH_PIPELINE)
    p.add(Entry(address, "funnel", "create", (Change("name", None, name),), (call,), created=True))
    pid: IdExpr = Ref(label, ("id",))
    p.managed_pipelines[pipe.code] = pid
    for stage, status in zip(working, embedded[: len(working)], strict=True):
        ref = Ref(label, ("_embedded", "statuses", status["name"], "id"))
        p.statuses[(pipe.code, stage.code)] = (pid, ref)
        changes = _created_status_changes(stage, status)
        p.add(Entry(f"{address}.stage.{stage.code}", "stage", "create", changes, created=True))
    if success is not None:
        p.statuses[(pipe.code, success.code)] = (pid, WON)
        won = (Change("name", None, embedded[-1]["name"]),)
        p.add(Entry(f"{address}.stage.{success.code}", "stage", "create", won, created=True))


def _created_status_changes(stage: Stage, status: dict[str, Any]) -> tuple[Change, ...]:
    return (
        Change("name", None, status["name"]),
        Change("color", None, _shown(stage.shown_color, status["color"])),
        Change("sort", None, status["sort"]),
    )


def _shown(blueprint_color: str, palette_color: str) -> str:
    """Both colours, as the plan shows a mapped one: ``#39A8EF → #98cbff``."""
    wanted = blueprint_color.strip()
    return palette_color if wanted.lower() == palette_color else f"{wanted} → {palette_color}"


def _existing_pipeline(p: _Planner, pipe: Pipeline, address: str, funnel: FunnelState) -> None:
    pid = funnel.category_id or 0
    wanted = p.name(pipe.name)
    changes = (Change("name", funnel.name, wanted),) if wanted and wanted != funnel.name else ()
    calls: tuple[Call, ...] = ()
    if changes:
        route = f"PATCH {PIPELINES}/{{pipeline_id}}"
        calls = (Call(p.label("p"), route, {"pipeline_id": pid, "name": wanted}, PH_PIPELINE),)
    p.add(
        Entry(
            address,
            "funnel",
            "update" if changes else "unchanged",
            changes,
            calls,
            portal=_where(funnel),
            ids=_funnel_ids(pid),
            created=p.record.created(address),
        )
    )
    p.managed_pipelines[pipe.code] = pid
    _existing_statuses(p, pipe, address, funnel)
    _existing_success(p, pipe, address, funnel)


def _ordinary(funnel: FunnelState) -> list[StageState]:
    return [s for s in funnel.stages if not s.unsorted and s.id not in (WON, LOST)]


def _existing_statuses(p: _Planner, pipe: Pipeline, address: str, funnel: FunnelState) -> None:
    pid = funnel.category_id or 0
    free = _ordinary(funnel)
    working = _working(pipe)
    matched: list[StageState | None] = []
    for stage in working:
        found = _by_record_then_name(
            p, f"{address}.stage.{stage.code}", "id", free, lambda s: s.id, lambda s: s.name,
            stage.name,
        )  # fmt: skip
        if found is not None:
            free.remove(found)
        matched.append(found)
    new = sum(1 for m in matched if m is None)
    total = len(funnel.stages) + new
    if new and total > MAX_STATUSES:
        _too_many_statuses(p, pipe, f"{address}.stages", total)
        new_allowed = False
    else:
        new_allowed = True
    current = [m.sort if m is not None else None for m in matched]
    sorts = target_sorts([UNSORTED_SORT, *current])[1:]
    for stage, status, sort in zip(working, matched, sorts, strict=True):
        stage_address = f"{address}.stage.{stage.code}"
        if status is None:
            if new_allowed:
                _status_create(p, pipe, stage, stage_address, pid, sort)
        else:
            _status_update(p, pipe, stage, stage_address, status, pid, sort)
    for left in free:
        _leftover_status(p, address, pid, left)


def _status_create(
    p: _Planner, pipe: Pipeline, stage: Stage, address: str, pid: int, sort: int
) -> None:
    label = p.label("s")
    body = {
        "pipeline_id": pid,
        "name": p.name(stage.name) or stage.code,
        "sort": sort,
        "color": nearest_color(stage.shown_color),
    }
    call = Call(label, f"POST {PIPELINES}/{{pipeline_id}}/statuses", body, PH_STATUS)
    changes = _created_status_changes(stage, body)
    p.add(Entry(address, "stage", "create", changes, (call,), created=True))
    p.statuses[(pipe.code, stage.code)] = (pid, Ref(label, ("id",)))


def _status_update(
    p: _Planner,
    pipe: Pipeline,
    stage: Stage,
    address: str,
    status: StageState,
    pid: int,
    sort: int,
) -> None:
    now = {"name": status.name, "color": status.color.lower(), "sort": status.sort}
    # a colour the account already has is kept, even one outside today's palette (an older
    # account's, or a pulled file's): only a different colour is mapped to the palette
    same = stage.shown_color.strip().lower() == now["color"]
    wanted: dict[str, Any] = {
        "name": p.name(stage.name) or stage.code,
        "color": now["color"] if same else nearest_color(stage.shown_color),
        "sort": sort,
    }
    changed = {k: v for k, v in wanted.items() if v != now[k]}
    changes = tuple(
        Change(k, now[k], _shown(stage.shown_color, v) if k == "color" else v)
        for k, v in changed.items()
    )
    calls: tuple[Call, ...] = ()
    if changed:
        route = f"PATCH {PIPELINES}/{{pipeline_id}}/statuses/{{status_id}}"
        params = {"pipeline_id": pid, "status_id": status.id, **changed}
        calls = (Call(p.label("s"), route, params, PH_STATUS_UPDATE),)
    p.add(
        Entry(
            address,
            "stage",
            "update" if changed else "unchanged",
            changes,
            calls,
            portal=f"status {status.id}",
            ids=(("id", status.id), ("pipeline_id", pid), ("status_id", status.status_id)),
            created=p.record.created(address),
        )
    )
    p.statuses[(pipe.code, stage.code)] = (pid, status.id)


def _existing_success(p: _Planner, pipe: Pipeline, address: str, funnel: FunnelState) -> None:
    success = next(iter(pipe.stages_with("success")), None)
    won = next((s for s in funnel.stages if s.id == WON), None)
    if success is None or won is None:
        return
    pid = funnel.category_id or 0
    stage_address = f"{address}.stage.{success.code}"
    p.statuses[(pipe.code, success.code)] = (pid, WON)
    p.add(
        Entry(
            stage_address,
            "stage",
            "unchanged",
            portal=f"status {WON}",
            ids=(("id", WON), ("pipeline_id", pid), ("status_id", won.status_id)),
            created=p.record.created(stage_address),
        )
    )
    wanted = p.name(success.name)
    if wanted and wanted.casefold() != won.name.casefold():
        steps = (p.say("won_name_path", pipeline=funnel.name, now=won.name, wanted=wanted),)
        p.manual(f"manual.won.{pipe.code}", "won_name", *steps)


# -- loss reasons ---------------------------------------------------------------------------------


def _plan_loss_reasons(p: _Planner, pipes: list[Pipeline]) -> None:
    """Every failure stage's name as one of the account's loss reasons, each name once; a
    stage coded ``LOST`` is the lost status 143 itself, as pull writes it (not a reason)."""
    wanted: list[tuple[str, Stage]] = []
    seen: set[str] = set()
    for pipe in pipes:
        for stage in pipe.stages_with("failure"):
            if stage.code == "LOST":
                continue
            key = (p.name(stage.name) or stage.code).casefold()
            if key not in seen:
                seen.add(key)
                wanted.append((f"loss_reason.{pipe.code}.{stage.code}", stage))
    if not wanted:
        return
    if "loss_reasons" in p.state.unread:
        names = ", ".join(f"«{p.name(s.name)}»" for _a, s in wanted)
        p.manual("manual.loss_reasons", "loss_reasons", p.say("loss_reasons_path", reasons=names))
        return
    free = list(p.state.loss_reasons)
    top = max((r.sort for r in free), default=0)
    for index, (address, stage) in enumerate(wanted, start=1):
        found = _by_record_then_name(
            p, address, "loss_reason_id", free, lambda r: r.id, lambda r: r.name, stage.name
        )
        name = p.name(stage.name) or stage.code
        if found is None:
            body = {"name": name, "sort": top + 10 * index}
            call = Call(p.label("r"), f"POST {LOSS_REASONS}", body, PH_REASON)
            made = (Change("name", None, name),)
            p.add(Entry(address, "loss_reason", "create", made, (call,), created=True))
            continue
        free.remove(found)
        changes: tuple[Change, ...] = (
            (Change("name", found.name, name),) if found.name != name else ()
        )
        calls: tuple[Call, ...] = ()
        if changes:
            route = f"PATCH {LOSS_REASONS}/{{loss_reason_id}}"
            body = {"loss_reason_id": found.id, "name": name}
            calls = (Call(p.label("r"), route, body, PH_REASON),)
        p.add(
            Entry(
                address,
                "loss_reason",
                "update" if changes else "unchanged",
                changes,
                calls,
                portal=f"loss reason {found.id}",
                ids=(("loss_reason_id", found.id),),
                created=p.record.created(address),
            )
        )
    for left in free:
        p.add(
            Entry(
                f"loss_reason.#{left.id}",
                "loss_reason",
                "unmanaged",
                portal=f"loss reason {left.id}",
            )
        )


# -- custom fields --------------------------------------------------------------------------------

#: blueprint entity → the entity whose custom fields the reader reads it back as
_OWNERS = {"lead": "deal", "deal": "deal", "contact": "contact", "company": "company"}


def _required_targets(p: _Planner) -> dict[str, list[tuple[str, str]]]:
    """Custom field name → (pipeline, stage) of every status it is required to enter: for a
    field needed to leave a stage, the next stage that is not a failure and every one after it
    up to the success stage."""
    out: dict[str, list[tuple[str, str]]] = {}
    for pipe in p.bp.pipelines:
        if pipe.kind not in ("lead", "deal"):
            continue
        stages = pipe.stages
        success = next((i for i, s in enumerate(stages) if s.semantics == "success"), None)
        for position, stage in enumerate(stages):
            if not stage.required_fields or success is None or position >= success:
                continue
            later = [s.code for s in stages[position + 1 : success + 1] if s.semantics != "failure"]
            for name in stage.required_fields:
                found = _custom_field(p.bp, name, pipe.kind)
                if found is None or not _through_api(found):
                    continue
                targets = out.setdefault(found.field_name, [])
                fresh = [(pipe.code, code) for code in later if (pipe.code, code) not in targets]
                targets.extend(fresh)
    return out


def _custom_field(bp: Blueprint, name: str, entity: str) -> CustomField | None:
    wanted = bitrix_field_name(name)
    return bp.custom_field(wanted, entity) or bp.custom_field(wanted)


def _plan_fields(p: _Planner) -> None:
    required = _required_targets(p)
    taken: set[int] = set()
    for f in p.bp.fields:
        address = f"field.{f.entity}.{f.field_name}"
        kind = write_type(f.type, f.multiple)
        if f.entity not in _OWNERS:
            continue  # a smart process's field: part of that process's manual step
        if kind is None:
            label = p.name(f.label) or f.code
            path = p.say("field_type_path", field=label, type=f.type)
            p.manual(f"manual.{address}", "field_type", path)
            continue
        owner = _OWNERS[f.entity]
        candidates = [s for s in p.state.fields_of(owner) if s.id not in taken]
        found = _match_field(p, address, f, candidates)
        statuses = _required_statuses(p, required.get(f.field_name, []))
        if found is None:
            _field_create(p, f, address, kind, statuses)
        else:
            taken.add(found.id)
            _field_update(p, f, address, kind, found, statuses)
    for left in p.state.fields:
        if left.id not in taken:
            _leftover_field(p, left)


def _match_field(
    p: _Planner, address: str, f: CustomField, candidates: list[FieldState]
) -> FieldState | None:
    known = p.record.get(address)
    if known is not None:
        found = next((c for c in candidates if c.id == known.id("id")), None)
        if found is not None:
            return found
    code = f.code.upper()
    found = next((c for c in candidates if c.field_name == code), None)
    if found is not None:
        return found
    return _by_record_then_name(
        p, "", "id", candidates, lambda c: c.id, lambda c: _field_label(c), f.label
    )


def _field_label(state: FieldState) -> str:
    return state.labels[0][1] if state.labels else ""


def _required_statuses(p: _Planner, targets: list[tuple[str, str]]) -> list[dict[str, Any]]:
    out = []
    for key in targets:
        if key in p.statuses:
            pid, sid = p.statuses[key]
            out.append({"pipeline_id": pid, "status_id": sid})
    return out


def _enum_values(p: _Planner, f: CustomField) -> list[str]:
    return [p.name(item.value) for item in f.items if p.name(item.value)]


def _field_create(
    p: _Planner, f: CustomField, address: str, kind: str, statuses: list[dict[str, Any]]
) -> None:
    label = p.name(f.label) or f.code
    body: dict[str, Any] = {"name": label, "type": kind, "code": f.code.upper(), "sort": 500}
    changes = [Change("name", None, label), Change("type", None, kind)]
    if kind in ("select", "multiselect"):
        values = _enum_values(p, f)
        body["enums"] = [{"value": v, "sort": 10 * (i + 1)} for i, v in enumerate(values)]
        changes.append(Change("items", None, values))
    if statuses:
        body["required_statuses"] = statuses
        changes.append(Change("required_statuses", None, _status_names(p, statuses)))
    route = f"POST /api/v4/{ENTITY_PATHS[_OWNERS[f.entity]]}/custom_fields"
    call = Call(p.label("c"), route, body, PH_FIELD)
    p.add(Entry(address, "field", "create", tuple(changes), (call,), created=True))


def _status_names(p: _Planner, statuses: Iterable[dict[str, Any]]) -> list[str]:
    """Required statuses as the plan shows them: «pipeline: status»."""
    names: dict[tuple[Any, Any], str] = {}
    for pipe in p.bp.pipelines:
        for stage in pipe.stages:
            key = p.statuses.get((pipe.code, stage.code))
            if key is not None:
                names[key] = f"{p.name(pipe.name)}: {p.name(stage.name)}"
    out = []
    for s in statuses:
        key = (s["pipeline_id"], s["status_id"])
        out.append(names.get(key, f"{key[0]}:{key[1]}"))
    return out


def _field_update(
    p: _Planner,
    f: CustomField,
    address: str,
    kind: str,
    found: FieldState,
    statuses: list[dict[str, Any]],
) -> None:
    native = found.native_type or found.type
    ids = (("field_name", found.field_name), ("id", found.id))
    portal, created = f"field {found.id}", p.record.created(address)
    if native != kind and not (kind == "select" and native == "radiobutton"):
        values = (("portal", native), ("blueprint", kind))
        p.add(
            Entry(
                address,
                "field",
                "conflict",
                note="amo.field_type",
                values=values,
                portal=portal,
                ids=ids,
                created=created,
            )
        )
        return
    body: dict[str, Any] = {}
    changes: list[Change] = []
    label = p.name(f.label) or f.code
    if label != _field_label(found):
        body["name"] = label
        changes.append(Change("name", _field_label(found), label))
    if kind in ("select", "multiselect"):
        _enum_changes(p, f, found, body, changes)
    _required_changes(p, found, statuses, body, changes)
    calls: tuple[Call, ...] = ()
    if body:
        route = f"PATCH /api/v4/{ENTITY_PATHS[_OWNERS[f.entity]]}/custom_fields/{{field_id}}"
        calls = (Call(p.label("c"), route, {"field_id": found.id, **body}, PH_FIELD),)
    action: Action = "update" if body else "unchanged"
    p.add(Entry(address, "field", action, tuple(changes), calls, "", (), (), portal, ids, created))


def _enum_changes(
    p: _Planner, f: CustomField, found: FieldState, body: dict[str, Any], changes: list[Change]
) -> None:
    """Enums the field lacks are added, renamed ones renamed; the account's others are kept
    (amoCRM drops every enum a PATCH leaves out, so all are sent back with their ids)."""
    items = list(found.items)
    kept = [{"id": i.id, "value": i.value, "sort": i.sort} for i in items]
    added: list[str] = []
    top = max((i.sort for i in items), default=0)
    for item in f.items:
        value = p.name(item.value)
        names = {n.strip().casefold() for n in (item.value.ru, item.value.en, item.value.uk)}
        match = next((k for k in kept if str(k["value"]).strip().casefold() in names), None)
        if match is None:
            top += 10
            kept.append({"value": value, "sort": top})
            added.append(value)
        elif match["value"] != value:
            match["value"] = value
            added.append(value)
    if added:
        body["enums"] = kept
        changes.append(Change("items", [i.value for i in items], [k["value"] for k in kept]))


def _required_changes(
    p: _Planner,
    found: FieldState,
    statuses: list[dict[str, Any]],
    body: dict[str, Any],
    changes: list[Change],
) -> None:
    """The blueprint decides the required statuses of its own pipelines; those of the
    account's other pipelines are kept."""
    ours = {pid for pid in p.managed_pipelines.values() if isinstance(pid, int)}
    kept = [
        {"pipeline_id": pid, "status_id": sid}
        for pid, sid in found.required_statuses
        if pid not in ours
    ]
    wanted = kept + statuses
    now = [{"pipeline_id": pid, "status_id": sid} for pid, sid in found.required_statuses]

    def key(s: dict[str, Any]) -> tuple[str, str]:
        return (repr(s["pipeline_id"]), repr(s["status_id"]))

    if sorted(map(key, wanted)) != sorted(map(key, now)):
        body["required_statuses"] = wanted
        changes.append(Change("required_statuses", _status_names(p, now), _status_names(p, wanted)))


# -- what stays manual ----------------------------------------------------------------------------


def _plan_manual(p: _Planner, pipes: list[Pipeline]) -> None:
    from crmkit.export.blueprint_doc import _Names, describe_rule

    names = _Names(p.bp, p.lang)
    for pipe in pipes:
        p_name = p.name(pipe.name) or pipe.code
        for stage in pipe.stages:
            s_name = p.name(stage.name) or stage.code
            for index, rule in enumerate(stage.automation, start=1):
                path = p.say("robot_path", pipeline=p_name, stage=s_name)
                details = [describe_rule(rule, pipe, names)]
                if rule.text:
                    details.append(p.name(rule.text))
                p.manual(f"manual.robot.{pipe.code}.{stage.code}.{index}", "robot", path, *details)
            for name in stage.required_fields:
                found = _custom_field(p.bp, name, pipe.kind)
                if _through_api(found):
                    continue  # set through required_statuses
                label = p.name(found.label) if found is not None else name
                path = p.say("required_path", field=label, pipeline=p_name, stage=s_name)
                p.manual(f"manual.required.{pipe.code}.{stage.code}.{name}", "required", path)
    _manual_processes(p)
    for group in p.bp.field_groups:
        members = [p.name(f.label) or f.code for f in p.bp.fields if f.group == group.code]
        path = p.say("group_path", group=p.name(group.name), fields=", ".join(members))
        p.manual(f"manual.group.{group.entity}.{group.code}", "group", path)
    if p.bp.roles:
        roles = ", ".join(p.name(r.name) or r.code for r in p.bp.roles)
        p.manual("manual.access_roles", "roles", p.say("roles_path", roles=roles))


def _through_api(found: CustomField | None) -> bool:
    """Whether a field required on a stage is set as ``required_statuses`` (a custom field
    of leads or deals, of a type amoCRM has)."""
    return (
        found is not None
        and found.entity in ("lead", "deal")
        and write_type(found.type, found.multiple) is not None
    )


def _manual_processes(p: _Planner) -> None:
    """amoCRM has no smart processes: each becomes instructions for a pipeline of its own."""
    for process in p.bp.smart_processes:
        title = p.name(process.title) or process.code
        steps = [p.say("process_path", process=title)]
        for pipe in (x for x in p.bp.pipelines if x.process == process.code):
            stages = ", ".join(p.name(s.name) for s in pipe.stages if s.semantics == "process")
            steps.append(p.say("process_stages", pipeline=p.name(pipe.name), stages=stages))
        fields = [p.name(f.label) or f.code for f in p.bp.fields if f.entity == process.code]
        if fields:
            steps.append(p.say("process_fields", fields=", ".join(fields)))
        p.manual(f"manual.process.{process.code}", "process", *steps)


# -- what the blueprint dropped: kept, or pruned if crmkit made it ------------------------------


def _made_by_crmkit(p: _Planner, test: Callable[[str, dict[str, Any]], bool]) -> str | None:
    """The record's address of an object crmkit created that ``test`` (address, ids) picks."""
    return next(
        (a for a, m in sorted(p.record.managed.items()) if m.created and test(a, dict(m.ids))),
        None,
    )


def _holds_leads(p: _Planner, address: str, kind: str, key: CountKey, values: Any) -> bool | None:
    """Whether the status or pipeline of ``key`` holds leads: True adds the conflict that says
    so; None while not counted yet (the plan asks for the count and keeps the object)."""
    leads = p.count(key)
    if leads is None:
        return None
    if leads:
        p.add(Entry(address, kind, "conflict", note="amo.delete_holds_leads", values=values))
    return bool(leads)


def _leftover_pipeline(p: _Planner, funnel: FunnelState) -> None:
    pid = funnel.category_id
    portal = _where(funnel)
    owned = _made_by_crmkit(p, lambda a, ids: _is_funnel(a) and ids.get("category_id") == pid)
    if not p.prune or owned is None:
        p.add(Entry(f"deal.#{pid}", "funnel", "unmanaged", portal=portal))
        return
    values = (("name", funnel.name),)
    holds = _holds_leads(p, owned, "funnel", ("pipeline", str(pid), ""), values)
    if holds is None:
        p.add(Entry(owned, "funnel", "unmanaged", portal=portal))
    elif not holds:
        route = f"DELETE {PIPELINES}/{{pipeline_id}}"
        call = Call(p.label("d"), route, {"pipeline_id": pid}, PH_DELETE_PIPELINE)
        gone = (Change("name", funnel.name, None),)
        p.add(Entry(owned, "funnel", "delete", gone, (call,), portal=portal))


def _leftover_status(p: _Planner, address: str, pid: int, left: StageState) -> None:
    portal = f"status {left.id}"
    ids = (("id", left.id), ("pipeline_id", pid), ("status_id", left.status_id))
    prefix = f"{address}.stage."
    owned = _made_by_crmkit(
        p,
        lambda a, known: (
            a.startswith(prefix) and known.get("id") == left.id and known.get("pipeline_id") == pid
        ),
    )
    if not p.prune or owned is None:
        address = f"{prefix}#{left.id}"
        p.add(Entry(address, "stage", "unmanaged", portal=portal, ids=ids))
        return
    values = (("name", left.name),)
    holds = _holds_leads(p, owned, "stage", ("status", str(pid), str(left.id)), values)
    if holds is None:
        p.add(Entry(owned, "stage", "unmanaged", portal=portal))
    elif not holds:
        route = f"DELETE {PIPELINES}/{{pipeline_id}}/statuses/{{status_id}}"
        params = {"pipeline_id": pid, "status_id": left.id}
        call = Call(p.label("d"), route, params, PH_DELETE_STATUS)
        gone = (Change("name", left.name, None),)
        p.add(Entry(owned, "stage", "delete", gone, (call,), portal=portal))


def _leftover_field(p: _Planner, left: FieldState) -> None:
    """A custom field the blueprint does not name; pruned if crmkit made it (its values go with
    it, as with a Bitrix24 field crmkit made)."""
    portal = f"field {left.id}"
    owned = _made_by_crmkit(
        p,
        lambda a, ids: a.startswith("field.") and "field_name" in ids and ids.get("id") == left.id,
    )
    if not p.prune or owned is None or left.owner not in ENTITY_PATHS:
        p.add(Entry(f"field.{left.owner}.#{left.id}", "field", "unmanaged", portal=portal))
        return
    route = f"DELETE /api/v4/{ENTITY_PATHS[left.owner]}/custom_fields/{{field_id}}"
    call = Call(p.label("d"), route, {"field_id": left.id}, PH_DELETE_FIELD)
    gone = (Change("field", _field_label(left) or left.field_name, None),)
    p.add(Entry(owned, "field", "delete", gone, (call,), portal=portal))


# -- drift and the record's shape -----------------------------------------------------------------


def _status_of(state: PortalState, ids: dict[str, Any]) -> StageState | None:
    funnel = next((f for f in state.funnels if f.category_id == ids.get("pipeline_id")), None)
    if funnel is None:
        return None
    return next((s for s in funnel.stages if s.id == ids.get("id")), None)


def amo_shape_of(entry: Entry, state: PortalState) -> dict[str, Any]:
    """What drift watches of an entry's object, as the account holds it now (for the record):
    a status by its pipeline and id (142 and 143 have the same id in every pipeline)."""
    ids = dict(entry.ids)
    if entry.kind == "stage":
        status = _status_of(state, ids)
        return {} if status is None else {"name": status.name, "color": status.color}
    if entry.kind == "loss_reason":
        reason = next((r for r in state.loss_reasons if r.id == ids.get("loss_reason_id")), None)
        return {} if reason is None else {"name": reason.name}
    if entry.kind == "field":
        found = next((f for f in state.fields if f.id == ids.get("id")), None)
        return {} if found is None else {"label": _field_label(found)}
    if entry.kind == "funnel":
        funnel = next((f for f in state.funnels if f.category_id == ids.get("category_id")), None)
        return {} if funnel is None else {"name": funnel.name}
    return {}


def amo_drift(record: Record, state: PortalState) -> Iterable[Drift]:
    """What changed in the account by hand since the last apply, object by object."""
    funnels = Record(managed={a: m for a, m in record.managed.items() if _is_funnel(a)})
    yield from funnel_drift(funnels, state)
    for address, managed in sorted(record.managed.items()):
        ids = dict(managed.ids)
        now: dict[str, Any] | None
        if ".stage." in address:
            status = _status_of(state, ids)
            now = None if status is None else {"name": status.name, "color": status.color}
        elif address.startswith("loss_reason."):
            found = [r for r in state.loss_reasons if r.id == ids.get("loss_reason_id")]
            now = {"name": found[0].name} if found else None
        elif address.startswith("field."):
            fields = [f for f in state.fields if f.id == ids.get("id")]
            now = {"label": _field_label(fields[0])} if fields else None
        else:
            continue
        if now is None:
            yield Drift(address, "exists", True, False)
            continue
        for attribute, applied in managed.shape:
            if attribute in now and now[attribute] != applied:
                yield Drift(address, attribute, applied, now[attribute])


def _is_funnel(address: str) -> bool:
    return address.startswith(("lead.", "deal.")) and ".stage." not in address


def still_there(known: Any, state: PortalState) -> bool:
    """Whether an object the record keeps is still in the account (else it is forgotten)."""
    ids = dict(known.ids)
    if "loss_reason_id" in ids:
        return any(r.id == ids["loss_reason_id"] for r in state.loss_reasons)
    if "status_id" in ids:
        return _status_of(state, ids) is not None
    if "field_name" in ids:
        return any(f.id == ids.get("id") for f in state.fields)
    if "category_id" in ids:
        return any(f.category_id == ids["category_id"] for f in state.funnels)
    return False


__all__ = [
    "MAX_PIPELINES",
    "MAX_STATUSES",
    "PALETTE",
    "amo_drift",
    "amo_shape_of",
    "nearest_color",
    "plan_amocrm",
    "still_there",
]

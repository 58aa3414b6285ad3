"""The blueprint model: what a company's CRM set-up should be.

A blueprint holds roles, the entities used and why, pipelines with ordered stages, automation
rules per stage and custom fields per entity. Values only: loading, linting, rendering and
pushing live elsewhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal, TypeVar

from crmkit.i18n import Lang, Text

Semantics = Literal["process", "success", "failure"]
PipelineKind = Literal["lead", "deal", "smart_process"]
Trigger = Literal["on_enter", "after_delay", "on_overdue_activity"]
Action = Literal["create_task", "notify", "change_responsible", "move_stage"]

SEMANTICS: tuple[Semantics, ...] = ("process", "success", "failure")
PIPELINE_KINDS: tuple[PipelineKind, ...] = ("lead", "deal", "smart_process")
TRIGGERS: tuple[Trigger, ...] = ("on_enter", "after_delay", "on_overdue_activity")
ACTIONS: tuple[Action, ...] = ("create_task", "notify", "change_responsible", "move_stage")

#: The CRM entities a blueprint can use: the six main entities of Bitrix24 seed 003 lists (it
#: announces seven) and quotes, an entity of the Bitrix24 CRM the seeds do not count.
ENTITIES: tuple[str, ...] = ("lead", "contact", "company", "deal", "activity", "invoice", "quote")
#: Entities that carry custom fields through ``crm.<entity>.userfield.*``.
FIELD_ENTITIES: tuple[str, ...] = ("lead", "contact", "company", "deal")

_K = TypeVar("_K")
_V = TypeVar("_V")


def _first_by(pairs: list[tuple[_K, _V]]) -> dict[_K, _V]:
    """Key → the first value with it (as a scan from the start would find it)."""
    index: dict[_K, _V] = {}
    for key, value in pairs:
        index.setdefault(key, value)
    return index


#: Bitrix24 user field types (BITRIX24.md §3.3).
FIELD_TYPES: tuple[str, ...] = (
    "string",
    "integer",
    "double",
    "boolean",
    "datetime",
    "date",
    "money",
    "url",
    "address",
    "enumeration",
    "file",
    "employee",
    "crm_status",
    "iblock_section",
    "iblock_element",
    "crm",
)

DEFAULT_COLORS: dict[Semantics, str] = {
    "process": "#39A8EF",
    "success": "#7BD500",
    "failure": "#FF5752",
}


@dataclass(frozen=True)
class Role:
    code: str
    name: Text
    description: Text = Text()
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class EntityUse:
    code: str
    used: bool
    why: Text
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class SmartProcess:
    """An auxiliary process kept as a Bitrix24 smart process (``crm.type``)."""

    code: str
    title: Text
    description: Text = Text()
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class AutomationRule:
    """A robot on a stage: when it fires, what it does, for whom, and by when."""

    trigger: Trigger
    action: Action
    title: Text
    text: Text = Text()
    role: str | None = None
    delay_minutes: int | None = None
    deadline_minutes: int | None = None
    complete_on_leave: bool = True
    target_stage: str | None = None
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Stage:
    code: str
    name: Text
    semantics: Semantics
    description: Text = Text()
    color: str = ""
    max_minutes: int | None = None
    responsible: str | None = None
    #: fields an item needs to leave this stage forward (to a later stage or the success one).
    #: Bitrix24 asks for a field required on a stage when an item enters that stage, so these
    #: are marked required from the next stage up to the success stage; the failure stages stay
    #: free, so an item can be closed as lost without them
    required_fields: tuple[str, ...] = ()
    #: for failure stages: what the reason teaches the company (why it matters)
    lesson: Text = Text()
    automation: tuple[AutomationRule, ...] = ()
    where: str = field(default="", compare=False)

    @property
    def shown_color(self) -> str:
        return self.color or DEFAULT_COLORS[self.semantics]


@dataclass(frozen=True)
class Pipeline:
    code: str
    kind: PipelineKind
    name: Text
    stages: tuple[Stage, ...]
    description: Text = Text()
    #: the smart process this pipeline belongs to (kind ``smart_process`` only)
    process: str | None = None
    #: what kind of sale it serves, e.g. "tender" (the "price too high" rule reads it)
    tags: tuple[str, ...] = ()
    where: str = field(default="", compare=False)

    def stages_with(self, semantics: Semantics) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.semantics == semantics)

    def stage(self, code: str) -> Stage | None:
        return self._stages_by_code.get(code)

    # Lookups by code go through indexes built on first use (the model is frozen): linting or
    # rendering a blueprint asks once per stage, robot and required field, and a scan each
    # time made both grow with the square of the blueprint's size.
    @cached_property
    def _stages_by_code(self) -> dict[str, Stage]:
        return _first_by([(s.code, s) for s in self.stages])


@dataclass(frozen=True)
class FieldItem:
    value: Text
    xml_id: str = ""
    default: bool = False


@dataclass(frozen=True)
class FieldGroup:
    code: str
    entity: str
    name: Text
    description: Text = Text()
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class CustomField:
    """A user field of an entity. ``code`` is the part after ``UF_CRM_``."""

    entity: str
    code: str
    type: str
    label: Text
    help: Text = Text()
    items: tuple[FieldItem, ...] = ()
    mandatory: bool = False
    multiple: bool = False
    group: str | None = None
    where: str = field(default="", compare=False)

    @property
    def field_name(self) -> str:
        """The FIELD_NAME Bitrix24 stores (BITRIX24.md §3.3 prefix rules)."""
        return bitrix_field_name(self.code)


@dataclass(frozen=True)
class Blueprint:
    id: str
    name: Text
    description: Text = Text()
    roles: tuple[Role, ...] = ()
    entities: tuple[EntityUse, ...] = ()
    smart_processes: tuple[SmartProcess, ...] = ()
    pipelines: tuple[Pipeline, ...] = ()
    fields: tuple[CustomField, ...] = ()
    field_groups: tuple[FieldGroup, ...] = ()
    where: str = field(default="", compare=False)

    def role(self, code: str) -> Role | None:
        return self._index.roles.get(code)

    def pipeline(self, code: str) -> Pipeline | None:
        return next((p for p in self.pipelines if p.code == code), None)

    def smart_process(self, code: str | None) -> SmartProcess | None:
        return self._index.processes.get(code) if code is not None else None

    def fields_of(self, entity: str) -> tuple[CustomField, ...]:
        return self._index.fields_of.get(entity, ())

    def custom_field(self, field_name: str, entity: str | None = None) -> CustomField | None:
        """The first field Bitrix24 stores as ``field_name`` (``UF_CRM_…``), of ``entity`` when
        one is given."""
        if entity is None:
            return self._index.by_name.get(field_name)
        return self._index.by_name_entity.get((field_name, entity))

    def field_group(self, entity: str, code: str | None) -> FieldGroup | None:
        return self._index.groups.get((entity, code)) if code is not None else None

    @cached_property
    def _index(self) -> _BlueprintIndex:
        return _BlueprintIndex(self)

    def stage_count(self) -> int:
        return sum(len(p.stages) for p in self.pipelines)


class _BlueprintIndex:
    """A blueprint's entries by code, first one first (what ``next(...)`` over them found)."""

    def __init__(self, bp: Blueprint) -> None:
        self.roles = _first_by([(r.code, r) for r in bp.roles])
        self.processes = _first_by([(s.code, s) for s in bp.smart_processes])
        self.groups = _first_by([((g.entity, g.code), g) for g in bp.field_groups])
        named = [(f.field_name, f) for f in bp.fields]
        self.by_name = _first_by(named)
        self.by_name_entity = _first_by([((name, f.entity), f) for name, f in named])
        fields_of: dict[str, list[CustomField]] = {}
        for f in bp.fields:
            fields_of.setdefault(f.entity, []).append(f)
        self.fields_of = {entity: tuple(found) for entity, found in fields_of.items()}


def bitrix_field_name(code: str) -> str:
    """What ``crm.*.userfield.add`` makes of a FIELD_NAME: upper-cased, ``UF_CRM_`` ensured."""
    name = code.upper()
    if name.startswith("UF_CRM_"):
        return name
    if name.startswith("UF_"):
        return "UF_CRM_" + name[3:]
    return "UF_CRM_" + name


_DURATION = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?:in)?)?")


def parse_duration(text: str) -> int | None:
    """``"1d12h"`` → minutes; ``None`` when the text is not a duration."""
    match = _DURATION.fullmatch(text.strip().replace(" ", ""))
    if not match or not any(match.groups()):
        return None
    weeks, days, hours, minutes = (int(g) if g else 0 for g in match.groups())
    return ((weeks * 7 + days) * 24 + hours) * 60 + minutes


def _ru_plural(n: int, one: str, few: str, many: str) -> str:
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def format_duration(minutes: int, lang: Lang) -> str:
    """Minutes as a person says them: ``2 days``, ``3 h``, ``1 день 12 ч``."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts: list[str] = []
    if days:
        if lang == "ru":
            parts.append(f"{days} {_ru_plural(days, 'день', 'дня', 'дней')}")
        elif lang == "uk":
            parts.append(f"{days} {_ru_plural(days, 'день', 'дні', 'днів')}")
        else:
            parts.append(f"{days} day" + ("" if days == 1 else "s"))
    short = {"ru": ("ч", "мин"), "uk": ("год", "хв")}.get(lang, ("h", "min"))
    if hours:
        parts.append(f"{hours} {short[0]}")
    if mins or not parts:
        parts.append(f"{mins} {short[1]}")
    return " ".join(parts)


def format_duration_code(minutes: int) -> str:
    """Minutes back in the blueprint's own notation (``1d12h``)."""
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    out = (
        (f"{days}d" if days else "") + (f"{hours}h" if hours else "") + (f"{mins}m" if mins else "")
    )
    return out or "0m"

"""A portal's CRM set-up as values: what ``pull``, ``push`` and ``audit`` read. Pure.

One reader per target fills a ``PortalState`` (``crmkit.push.bitrix24.reader``); pure converters
turn it into a blueprint (``crmkit.push.pull``) or compare a blueprint with it
(``crmkit.push.plan``). Nothing here talks to a portal.

Bitrix24 facts kept in the shapes (BITRIX24.md §3): the lead funnel is ``crm.status`` entity
``STATUS``; deal pipelines are categories of entity type 2 whose stages live in ``DEAL_STAGE``
(the default pipeline, id 0) or ``DEAL_STAGE_<id>``; a smart process's funnels are categories of
its ``entityTypeId`` with stages in ``DYNAMIC_<etid>_STAGE_<id>``. Stage codes of every pipeline
but the default deal one carry a prefix (``C3:``, ``DT130_5:``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from crmkit.blueprints.model import PipelineKind, Semantics

LEAD_TYPE = 1
DEAL_TYPE = 2
#: user-field owners that are CRM entities (a smart process's fields are owned by "sp:<etid>")
ENTITY_OWNERS = ("lead", "contact", "company", "deal")

#: what a webhook could not read, so the state is partial there (keys of push.toml notes)
Unread = Literal[
    "smart_processes",  # crm.type.list needs a CRM administrator
    "smart_process_fields",  # userfieldconfig.* needs its scope
    "card_layouts",  # reading common card layouts needs an administrator
    "loss_reasons",  # amoCRM: the account's loss reasons could not be listed
]


def strip_prefix(status_id: str) -> str:
    """``C3:NEW`` → ``NEW``; ``DT177_87:MY`` → ``MY``."""
    return status_id.split(":", 1)[1] if ":" in status_id else status_id


def stage_entity_id(entity_type_id: int, category_id: int | None) -> str:
    """The ``crm.status`` ENTITY_ID holding a funnel's stages."""
    if entity_type_id == LEAD_TYPE:
        return "STATUS"
    if entity_type_id == DEAL_TYPE:
        return "DEAL_STAGE" if not category_id else f"DEAL_STAGE_{category_id}"
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id or 0}"


def stage_prefix(entity_type_id: int, category_id: int | None) -> str:
    """What the portal puts before a stage code in this funnel (``C3``, ``DT130_5``, or none)."""
    if entity_type_id == LEAD_TYPE:
        return ""
    if entity_type_id == DEAL_TYPE:
        return f"C{category_id}" if category_id else ""
    return f"DT{entity_type_id}_{category_id or 0}"


@dataclass(frozen=True)
class StageState:
    id: int
    #: the code as the portal stores it, prefix included
    status_id: str
    name: str
    sort: int
    color: str
    semantics: Semantics
    system: bool
    #: amoCRM's "unsorted" status (type 1): the CRM keeps it itself, no blueprint stage maps to
    #: it (always False on Bitrix24)
    unsorted: bool = False

    @property
    def code(self) -> str:
        return strip_prefix(self.status_id)


@dataclass(frozen=True)
class FunnelState:
    """The lead funnel, a deal pipeline or a smart-process funnel, with its stages in order."""

    kind: PipelineKind
    entity_type_id: int
    #: None for the Bitrix24 lead funnel (leads have one funnel and no categories); on amoCRM
    #: the pipeline's id, the lead funnel's too (it is a pipeline there)
    category_id: int | None
    name: str
    sort: int
    is_default: bool
    stages: tuple[StageState, ...]

    @property
    def entity_id(self) -> str:
        return stage_entity_id(self.entity_type_id, self.category_id)

    @property
    def prefix(self) -> str:
        return stage_prefix(self.entity_type_id, self.category_id)

    def prefixed(self, code: str) -> str:
        """The STATUS_ID the portal makes of ``code`` in this funnel."""
        return f"{self.prefix}:{code}" if self.prefix and ":" not in code else code

    def stage(self, code: str) -> StageState | None:
        return next((s for s in self.stages if s.code == code), None)


@dataclass(frozen=True)
class ProcessState:
    """A smart process (``crm.type``): two ids, a title and its feature flags."""

    id: int
    entity_type_id: int
    title: str
    #: the Y/N flags the portal answered (isCategoriesEnabled, isStagesEnabled, …)
    flags: tuple[tuple[str, str], ...] = ()

    def flag(self, name: str) -> str:
        return dict(self.flags).get(name, "N")

    @property
    def owner(self) -> str:
        """The owner key of this process's user fields."""
        return f"sp:{self.entity_type_id}"

    @property
    def field_prefix(self) -> str:
        """User fields of a smart process are named ``UF_CRM_<type id>_…`` (BITRIX24.md §3.4)."""
        return f"UF_CRM_{self.id}_"


@dataclass(frozen=True)
class EnumItemState:
    id: int
    value: str
    xml_id: str
    default: bool
    sort: int


@dataclass(frozen=True)
class FieldState:
    """A user field. ``owner`` is ``lead``/``contact``/``company``/``deal`` or ``sp:<etid>``."""

    id: int
    owner: str
    field_name: str
    type: str
    #: labels per portal language as read (``ru``/``en``); missing languages are absent
    labels: tuple[tuple[str, str], ...] = ()
    helps: tuple[tuple[str, str], ...] = ()
    mandatory: bool = False
    multiple: bool = False
    xml_id: str = ""
    sort: int = 100
    items: tuple[EnumItemState, ...] = ()
    #: amoCRM: (pipeline id, status id) of every status a lead may enter only with this field
    #: filled (``required_statuses``; Bitrix24's REST cannot read its counterpart: empty there)
    required_statuses: tuple[tuple[int, int], ...] = ()
    #: the target's own type name where ``type`` is its blueprint translation (amoCRM:
    #: ``textarea`` read as ``string``); empty when ``type`` is the portal's own name
    native_type: str = ""

    def label(self, lang: str) -> str:
        return dict(self.labels).get(lang, "")

    def help(self, lang: str) -> str:
        return dict(self.helps).get(lang, "")


@dataclass(frozen=True)
class CardElement:
    name: str
    #: 1: always shown
    flags: int = 0
    #: the element's options as the portal gave them (JSON), sent back unchanged
    options: str = ""


@dataclass(frozen=True)
class CardSection:
    name: str
    title: str
    elements: tuple[CardElement, ...]


@dataclass(frozen=True)
class CardState:
    """The common card layout of one funnel (``crm.item.details.configuration.get``, scope C);
    ``sections`` is None when the portal keeps its default layout (nothing saved)."""

    entity_type_id: int
    category_id: int | None
    sections: tuple[CardSection, ...] | None


@dataclass(frozen=True)
class LossReasonState:
    """An amoCRM loss reason: one list for the whole account, offered whenever a lead is
    closed as lost (status 143) in any pipeline."""

    id: int
    name: str
    sort: int = 0


#: fields added for a second target, with the value that means "not used": left out of the
#: fingerprint at that value, so a Bitrix24 state hashes as it did before they existed
_ADDED_DEFAULTS: dict[str, object] = {
    "unsorted": False,
    "required_statuses": [],
    "native_type": "",
    "loss_reasons": [],
    "target": "bitrix24",
}


def _without_added_defaults(data: object) -> object:
    if isinstance(data, dict):
        kept = {k: _without_added_defaults(v) for k, v in data.items()}
        return {
            k: v for k, v in kept.items() if not (k in _ADDED_DEFAULTS and v == _ADDED_DEFAULTS[k])
        }
    if isinstance(data, list | tuple):
        return [_without_added_defaults(v) for v in data]
    return data


@dataclass(frozen=True)
class PortalState:
    funnels: tuple[FunnelState, ...] = ()
    processes: tuple[ProcessState, ...] = ()
    fields: tuple[FieldState, ...] = ()
    cards: tuple[CardState, ...] = ()
    #: what this webhook could not read: the state is partial there
    unread: tuple[Unread, ...] = ()
    #: HTTP requests the reading took
    requests: int = field(default=0, compare=False)
    #: amoCRM's loss reasons (account-wide); Bitrix24 keeps its reasons as failure stages
    loss_reasons: tuple[LossReasonState, ...] = ()
    #: which CRM was read (``crmkit.push.target``)
    target: str = "bitrix24"

    def lead_funnel(self) -> FunnelState | None:
        return next((f for f in self.funnels if f.kind == "lead"), None)

    def deal_funnels(self) -> tuple[FunnelState, ...]:
        """Deal pipelines, the default one (id 0) first."""
        return tuple(f for f in self.funnels if f.kind == "deal")

    def funnels_of(self, entity_type_id: int) -> tuple[FunnelState, ...]:
        return tuple(f for f in self.funnels if f.entity_type_id == entity_type_id)

    def process(self, entity_type_id: int) -> ProcessState | None:
        return next((p for p in self.processes if p.entity_type_id == entity_type_id), None)

    def fields_of(self, owner: str) -> tuple[FieldState, ...]:
        return tuple(f for f in self.fields if f.owner == owner)

    def card(self, entity_type_id: int, category_id: int | None) -> CardState | None:
        return next(
            (
                c
                for c in self.cards
                if c.entity_type_id == entity_type_id and c.category_id == category_id
            ),
            None,
        )

    def fingerprint(self) -> str:
        """A hash of everything read (ids included): a saved plan is stale when it changes."""
        data = asdict(self)
        data.pop("requests", None)
        text = json.dumps(
            _without_added_defaults(data), sort_keys=True, ensure_ascii=False, default=str
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

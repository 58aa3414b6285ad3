"""Reading an amoCRM account's set-up into a ``PortalState``: the same shape the Bitrix24
reader fills, so pull, push and audit read both CRMs alike.

What is read (all HAL lists, 250 rows a page; a small account takes five requests):

- ``GET /api/v4/leads/pipelines``: the pipelines with their statuses embedded
  (crm_platform/leads_pipelines). Every pipeline has three system statuses: the unsorted one
  (``type`` 1), won (id 142) and lost (id 143); they become a stage flagged ``unsorted``, the
  success stage and the failure stage. Archived pipelines are left out (the account's people
  no longer see them).
- ``GET /api/v4/leads/loss_reasons``: the account's loss reasons (``_embedded[loss_reasons]``,
  each ``id``/``name``/``sort``; the route is the one a lead's ``_embedded[loss_reason]`` links
  to in crm_platform/leads-api, its shape as the amoCRM PHP SDK's LossReasons service reads
  it). An account that does not list them is noted in ``unread`` instead of failing the read.
- ``GET /api/v4/{leads,contacts,companies}/custom_fields`` (crm_platform/custom-fields): the
  custom fields with their ``enums`` and ``required_statuses``. Predefined fields (a contact's
  phone and e-mail: ``is_predefined``) are the CRM's own, like Bitrix24's standard fields, and
  are not read.

amoCRM does not separate leads from deals (seed 002): a blueprint's lead funnel is a pipeline of
its own there. A pulled account tells it apart by name: the pipeline called «Лиды», "Leads" or
«Ліди» (the lead funnel's name in the shipped library and what a push names it) is the lead
funnel (``kind`` ``lead``); every other pipeline is a deal pipeline. Statuses have no codes in
amoCRM, only ids and names: the reader gives each one a code of its name (transliterated, upper
case), ``WON``/``LOST`` for 142/143 and ``UNSORTED`` for the unsorted status; the id stays in
``StageState.id``.

The client is passed in (anything with ``iter_pages`` and ``requests_sent``), so this module
never sees the token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from crmkit.push.amocrm.fields import READ_TYPES
from crmkit.push.errors import NotFound, Refused
from crmkit.push.pull import names_language, slug, stage_code
from crmkit.push.state import (
    DEAL_TYPE,
    EnumItemState,
    FieldState,
    FunnelState,
    LossReasonState,
    PortalState,
    StageState,
    Unread,
)

WON, LOST = 142, 143
#: the names of a lead funnel (casefolded): the library's ru/en/uk name of the lead pipeline
LEAD_NAMES = frozenset({"лиды", "leads", "ліди"})
#: amoCRM entity path → the blueprint owner its fields are read as
FIELD_OWNERS = (("leads", "deal"), ("contacts", "contact"), ("companies", "company"))
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")


class AccountReader(Protocol):
    requests_sent: int

    def iter_pages(
        self, path: str, key: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Mapping[str, Any]]: ...


def read_account(client: AccountReader) -> PortalState:
    """Read the pipelines, loss reasons and custom fields of the account behind ``client``."""
    before = client.requests_sent
    unread: list[Unread] = []
    pipelines = [
        p
        for p in client.iter_pages("/api/v4/leads/pipelines", "pipelines")
        if not p.get("is_archive")
    ]
    try:
        reasons = list(client.iter_pages("/api/v4/leads/loss_reasons", "loss_reasons"))
    except (NotFound, Refused):
        reasons = []
        unread.append("loss_reasons")
    fields: list[FieldState] = []
    for path, owner in FIELD_OWNERS:
        rows = client.iter_pages(f"/api/v4/{path}/custom_fields", "custom_fields")
        fields.extend(_field(owner, row) for row in rows if not row.get("is_predefined"))
    return PortalState(
        funnels=_funnels(pipelines),
        fields=tuple(fields),
        unread=tuple(unread),
        requests=client.requests_sent - before,
        loss_reasons=tuple(
            sorted(
                (
                    LossReasonState(_int(r.get("id")), _name(r), _int(r.get("sort")))
                    for r in reasons
                ),
                key=lambda r: (r.sort, r.id),
            )
        ),
        target="amocrm",
    )


def is_lead_funnel_name(name: str) -> bool:
    return name.strip().casefold() in LEAD_NAMES


def _funnels(pipelines: list[Mapping[str, Any]]) -> tuple[FunnelState, ...]:
    ordered = sorted(pipelines, key=lambda p: (_int(p.get("sort")), _int(p.get("id"))))
    lead = next((p for p in ordered if is_lead_funnel_name(_name(p))), None)
    funnels = []
    for row in ordered:
        embedded = row.get("_embedded")
        statuses = embedded.get("statuses") if isinstance(embedded, Mapping) else None
        funnels.append(
            FunnelState(
                kind="lead" if row is lead else "deal",
                entity_type_id=DEAL_TYPE,
                category_id=_int(row.get("id")),
                name=_name(row),
                sort=_int(row.get("sort")),
                is_default=bool(row.get("is_main")),
                stages=_stages(statuses if isinstance(statuses, list) else []),
            )
        )
    # the lead funnel first, as the Bitrix24 reader lists it
    return tuple(sorted(funnels, key=lambda f: f.kind != "lead"))


def _stages(rows: list[Any]) -> tuple[StageState, ...]:
    ordered = sorted(
        (r for r in rows if isinstance(r, Mapping)),
        key=lambda r: (_int(r.get("sort")), _int(r.get("id"))),
    )
    taken: set[str] = set()
    out = []
    for row in ordered:
        sid = _int(row.get("id"))
        unsorted = _int(row.get("type")) == 1
        color = str(row.get("color") or "")
        out.append(
            StageState(
                id=sid,
                status_id=_status_code(sid, _name(row), unsorted, taken),
                name=_name(row),
                sort=_int(row.get("sort")),
                color=color.upper() if _COLOR.fullmatch(color) else "",
                semantics="success" if sid == WON else "failure" if sid == LOST else "process",
                system=sid in (WON, LOST) or unsorted or row.get("is_editable") is False,
                unsorted=unsorted,
            )
        )
    return tuple(out)


def _status_code(sid: int, name: str, unsorted: bool, taken: set[str]) -> str:
    """A code for a status, unique in its pipeline: ``WON``, ``LOST``, ``UNSORTED``, or its
    name's within 16 characters (``Первичный контакт`` → ``PERVICHNYY``), else ``S<id>``."""
    if sid == WON:
        wanted = "WON"
    elif sid == LOST:
        wanted = "LOST"
    elif unsorted:
        wanted = "UNSORTED"
    else:
        return stage_code(name, f"S{sid}", taken, sid)
    code = wanted if wanted not in taken else f"{wanted}_{sid}"
    taken.add(code)
    return code


def _field(owner: str, row: Mapping[str, Any]) -> FieldState:
    native = str(row.get("type") or "")
    kind, multiple = READ_TYPES.get(native, (native, False))
    name = _name(row)
    fid = _int(row.get("id"))
    code = str(row.get("code") or "").strip()
    lang = names_language([name], "ru")
    enums = _list(row.get("enums"))
    required = _list(row.get("required_statuses"))
    return FieldState(
        id=fid,
        owner=owner,
        # amoCRM's own code if the field has one (a push sets it), else one made of the name
        field_name=(code or slug(name).upper() or f"FIELD_{fid}").upper(),
        type=kind,
        labels=((lang, name),) if name else (),
        multiple=multiple,
        sort=_int(row.get("sort")),
        items=tuple(
            EnumItemState(
                id=_int(e.get("id")),
                value=str(e.get("value") or "").strip(),
                xml_id=str(e.get("code") or ""),
                default=False,
                sort=_int(e.get("sort")),
            )
            for e in sorted(
                (e for e in enums if isinstance(e, Mapping)),
                key=lambda e: (_int(e.get("sort")), _int(e.get("id"))),
            )
        ),
        required_statuses=tuple(
            (_int(r.get("pipeline_id")), _int(r.get("status_id")))
            for r in required
            if isinstance(r, Mapping)
        ),
        native_type=native if native != kind else "",
    )


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _name(row: Mapping[str, Any]) -> str:
    return str(row.get("name") or "").strip()


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0

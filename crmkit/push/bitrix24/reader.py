"""Reading a Bitrix24 portal's CRM set-up into a ``PortalState``: the one reader that ``pull``,
``push`` and ``audit`` share.

Every read is packed into ``batch`` requests, three in a row because each depends on the one
before:

1. deal pipelines, smart processes, lead stages, every stage dictionary, user fields (labels in
   ru and en);
2. the stages of every deal pipeline, the pipelines and fields of every smart process, the
   items of enumeration fields if the list did not carry them;
3. the stages of every smart-process pipeline.

A big portal needs more only when a list outgrows one page or a batch outgrows 50 commands.
What the webhook may not read is skipped and named in ``PortalState.unread`` instead of failing
the whole read: smart processes without a CRM administrator (``crm.type.list`` answers
ACCESS_DENIED), their fields without the ``userfieldconfig`` scope.

The client is passed in (anything with ``batch_many``/``iter_list``/``requests_sent``), so this
module never sees the webhook's secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from crmkit.blueprints.model import FIELD_ENTITIES, PipelineKind, Semantics
from crmkit.i18n import Lang
from crmkit.push.bitrix24.replies import BatchItem, BatchResult, int_or_none, rows_of
from crmkit.push.errors import Refused, ScopeMissing
from crmkit.push.state import (
    DEAL_TYPE,
    LEAD_TYPE,
    CardElement,
    CardSection,
    CardState,
    EnumItemState,
    FieldState,
    FunnelState,
    PortalState,
    ProcessState,
    StageState,
    Unread,
    stage_entity_id,
)

Commands = dict[str, tuple[str, dict[str, Any]]]

_SEMANTICS: dict[str, Semantics] = {"S": "success", "F": "failure"}
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
#: the flags of a smart process the state keeps (crm.type fields, BITRIX24.md §3.5)
_FLAGS = (
    "isCategoriesEnabled",
    "isStagesEnabled",
    "isClientEnabled",
    "isBeginCloseDatesEnabled",
    "isLinkWithProductsEnabled",
    "isAutomationEnabled",
    "isBizProcEnabled",
)


class PortalReader(Protocol):
    requests_sent: int

    def batch_many(self, commands: Commands, *, halt: bool = False) -> BatchResult: ...

    def iter_list(
        self, method: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> Iterator[Any]: ...


def _list_params(filter_: Mapping[str, Any]) -> dict[str, Any]:
    return {"filter": dict(filter_), "order": {"SORT": "ASC", "ID": "ASC"}}


def _rows(
    reader: PortalReader, item: BatchItem, params: Mapping[str, Any], key: str | None = None
) -> list[Any]:
    """The rows of one batched list call, plus further pages if the list did not fit in one."""
    if item.error is not None:
        raise item.error
    rows = rows_of(item.result, key)
    if item.next is not None:
        rows.extend(reader.iter_list(item.method, {**params, "start": item.next}, key=key))
    return [r for r in rows if isinstance(r, Mapping)]


def _stages(rows: list[Any]) -> tuple[StageState, ...]:
    ordered = sorted(
        (r for r in rows if isinstance(r, Mapping)),
        key=lambda r: (int_or_none(r.get("SORT")) or 0, int_or_none(r.get("ID")) or 0),
    )
    out = []
    for row in ordered:
        color = str(row.get("COLOR") or "")
        out.append(
            StageState(
                id=int_or_none(row.get("ID")) or 0,
                status_id=str(row.get("STATUS_ID") or ""),
                name=str(row.get("NAME") or "").strip(),
                sort=int_or_none(row.get("SORT")) or 0,
                color=color.upper() if _COLOR.fullmatch(color) else "",
                semantics=_SEMANTICS.get(str(row.get("SEMANTICS") or "").upper(), "process"),
                system=str(row.get("SYSTEM") or "N").upper() == "Y",
            )
        )
    return tuple(out)


def _label(row: Mapping[str, Any]) -> str:
    for key in ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _items(rows: list[Any] | None) -> tuple[EnumItemState, ...]:
    ordered = sorted(
        (r for r in rows or [] if isinstance(r, Mapping)),
        key=lambda r: (int_or_none(r.get("SORT")) or 0, int_or_none(r.get("ID")) or 0),
    )
    return tuple(
        EnumItemState(
            id=int_or_none(r.get("ID")) or 0,
            value=str(r.get("VALUE") or "").strip(),
            xml_id=str(r.get("XML_ID") or ""),
            default=str(r.get("DEF") or "N").upper() == "Y",
            sort=int_or_none(r.get("SORT")) or 0,
        )
        for r in ordered
    )


def _legacy_field(
    owner: str, by_lang: Mapping[Lang, Mapping[str, Any]], items: list[Any] | None
) -> FieldState:
    main = next(row for row in by_lang.values() if row)
    return FieldState(
        id=int_or_none(main.get("ID")) or 0,
        owner=owner,
        field_name=str(main.get("FIELD_NAME") or ""),
        type=str(main.get("USER_TYPE_ID") or ""),
        labels=tuple((lng, _label(row)) for lng, row in by_lang.items() if _label(row)),
        helps=tuple(
            (lng, str(row.get("HELP_MESSAGE") or "").strip())
            for lng, row in by_lang.items()
            if str(row.get("HELP_MESSAGE") or "").strip()
        ),
        mandatory=str(main.get("MANDATORY") or "N").upper() == "Y",
        multiple=str(main.get("MULTIPLE") or "N").upper() == "Y",
        xml_id=str(main.get("XML_ID") or ""),
        sort=int_or_none(main.get("SORT")) or 100,
        items=_items(items),
    )


def _config_field(owner: str, row: Mapping[str, Any]) -> FieldState:
    """A ``userfieldconfig.list`` row: camelCase, labels as language maps, ids as strings."""

    def lang_map(key: str) -> tuple[tuple[str, str], ...]:
        value = row.get(key)
        if isinstance(value, Mapping):
            return tuple(
                (lng, str(value.get(lng) or "").strip())
                for lng in PORTAL_LANGS
                if str(value.get(lng) or "").strip()
            )
        text = str(value or "").strip()
        return tuple((lng, text) for lng in PORTAL_LANGS) if text else ()

    items = [
        {
            "ID": i.get("id"),
            "SORT": i.get("sort"),
            "VALUE": i.get("value"),
            "XML_ID": i.get("xmlId"),
            "DEF": i.get("def"),
        }
        for i in row.get("enum") or []
        if isinstance(i, Mapping)
    ]
    return FieldState(
        id=int_or_none(row.get("id")) or 0,
        owner=owner,
        field_name=str(row.get("fieldName") or ""),
        type=str(row.get("userTypeId") or ""),
        labels=lang_map("editFormLabel") or lang_map("listColumnLabel"),
        helps=lang_map("helpMessage"),
        mandatory=str(row.get("mandatory") or "N").upper() == "Y",
        multiple=str(row.get("multiple") or "N").upper() == "Y",
        xml_id=str(row.get("xmlId") or ""),
        sort=int_or_none(row.get("sort")) or 100,
        items=_items(items),
    )


def _is_default(category: Mapping[str, Any]) -> bool:
    return str(category.get("isDefault") or "").upper() == "Y" or category.get("id") in (0, "0")


def _hidden_funnels(status_types: list[Mapping[str, Any]], etid: int) -> list[dict[str, Any]]:
    """The funnels of smart process ``etid`` as ``crm.status.entity.types`` names them, for a
    process whose categories are switched off (crm.category.list refuses it)."""
    found = []
    pattern = re.compile(rf"DYNAMIC_{etid}_STAGE_(\d+)")
    for row in status_types:
        match = pattern.fullmatch(str(row.get("ID") or ""))
        if match:
            found.append(
                {
                    "id": int(match.group(1)),
                    "name": "",
                    "sort": row.get("CATEGORY_SORT"),
                    "isDefault": "Y" if row.get("IS_DEFAULT_CATEGORY") else "N",
                }
            )
    return found


def _refused_access(item: BatchItem) -> bool:
    """crm.type.list answers a webhook that is not a CRM administrator with ACCESS_DENIED."""
    return isinstance(item.error, Refused) and item.error.error.upper() in (
        "ACCESS_DENIED",
        "ALLOWED_ONLY_INTRANET_USER",
    )


def _card_label(etid: int, extras: Mapping[str, int] | None) -> str:
    return f"card_{etid}" + (f"_{next(iter(extras.values()))}" if extras else "")


def _card_call(etid: int, extras: Mapping[str, int] | None) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"entityTypeId": etid, "scope": "C"}
    if extras:
        params["extras"] = dict(extras)
    return "crm.item.details.configuration.get", params


def _sections(result: Any) -> tuple[CardSection, ...] | None:
    """A saved layout, or None when the portal keeps its default card (``get`` → null)."""
    if not isinstance(result, list):
        return None
    out = []
    for section in result:
        if not isinstance(section, Mapping):
            continue
        elements = tuple(
            CardElement(
                str(e.get("name")),
                int_or_none(e.get("optionFlags")) or 0,
                json.dumps(e["options"], ensure_ascii=False, sort_keys=True)
                if isinstance(e.get("options"), Mapping)
                else "",
            )
            for e in section.get("elements") or []
            if isinstance(e, Mapping) and e.get("name")
        )
        name, title = str(section.get("name") or ""), str(section.get("title") or "")
        out.append(CardSection(name, title, elements))
    return tuple(out)


def read_portal(reader: PortalReader, *, cards: bool = False) -> PortalState:
    """Read the CRM set-up of the portal behind ``reader``; with ``cards``, the common card
    layouts of every funnel too (a push of field groups needs them, a pull does not).

    Three batched rounds, each built from what the one before found: (1) deal pipelines, smart
    processes, lead stages, user fields; (2) deal stages, smart-process pipelines and fields,
    card layouts, enum items a list left out; (3) smart-process stages and cards."""
    before = reader.requests_sent
    unread: list[Unread] = []
    rows = _read_first(reader, unread)
    deal_cats = _by_default_then_sort(rows["deal_cats"])
    types = rows["types"]
    legacy = _legacy_rows(rows)
    second = _Round(reader, _second_commands(deal_cats, types, legacy, cards))
    sp_cats = _smart_process_categories(reader, second, rows.get("status_types", []))
    third = _Round(reader, _third_commands(sp_cats, cards))

    funnels: list[FunnelState] = []
    if rows["lead_stages"]:
        funnels.append(
            FunnelState("lead", LEAD_TYPE, None, "", 0, True, _stages(rows["lead_stages"]))
        )
    funnels += [
        _funnel("deal", DEAL_TYPE, cat, second.rows(f"ds_{_cid(cat)}")) for cat in deal_cats
    ]
    processes: list[ProcessState] = []
    fields: list[FieldState] = []
    for sp in types:
        etid = int_or_none(sp.get("entityTypeId"))
        type_id = int_or_none(sp.get("id"))
        if etid is None or type_id is None:
            continue
        process = ProcessState(
            id=type_id,
            entity_type_id=etid,
            title=str(sp.get("title") or "").strip(),
            flags=tuple((k, str(sp.get(k) or "N").upper()) for k in _FLAGS),
        )
        processes.append(process)
        funnels += [
            _funnel("smart_process", etid, cat, third.rows(f"ss_{etid}_{_cid(cat)}"))
            for cat in sp_cats.get(etid, [])
        ]
        if isinstance(second.got[f"sf_{etid}"].error, ScopeMissing):
            _note(unread, "smart_process_fields")
            continue
        fields += [_config_field(process.owner, row) for row in second.rows(f"sf_{etid}", "fields")]
    fields += _legacy_fields(legacy, second)
    return PortalState(
        funnels=tuple(funnels),
        processes=tuple(processes),
        fields=tuple(fields),
        cards=tuple(_layouts((second, third), unread)),
        unread=tuple(unread),
        requests=reader.requests_sent - before,
    )


class _Round:
    """One round of reads: its commands and what they returned, all pages of a list."""

    def __init__(self, reader: PortalReader, commands: Commands) -> None:
        self.reader = reader
        self.commands = commands
        self.got = reader.batch_many(commands) if commands else BatchResult({}, requests=0)

    def rows(self, label: str, key: str | None = None) -> list[Any]:
        return _rows(self.reader, self.got[label], self.commands[label][1], key)


def _note(unread: list[Unread], what: Unread) -> None:
    if what not in unread:
        unread.append(what)


def _cid(category: Mapping[str, Any]) -> int:
    return int_or_none(category.get("id")) or 0


def _by_default_then_sort(categories: list[Any]) -> list[Mapping[str, Any]]:
    return sorted(
        categories,
        key=lambda c: (not _is_default(c), int_or_none(c.get("sort")) or 0, _cid(c)),
    )


def _funnel(
    kind: PipelineKind, etid: int, category: Mapping[str, Any], stages: list[Any]
) -> FunnelState:
    return FunnelState(
        kind=kind,
        entity_type_id=etid,
        category_id=_cid(category),
        name=str(category.get("name") or "").strip(),
        sort=int_or_none(category.get("sort")) or 0,
        is_default=_is_default(category),
        stages=_stages(stages),
    )


def _read_first(reader: PortalReader, unread: list[Unread]) -> dict[str, list[Any]]:
    """Round 1: deal pipelines, smart processes, lead stages, every stage dictionary and the
    user fields of each entity in both languages."""
    first: Commands = {
        "deal_cats": ("crm.category.list", {"entityTypeId": DEAL_TYPE}),
        "types": ("crm.type.list", {"order": {"id": "ASC"}}),
        "lead_stages": ("crm.status.list", _list_params({"ENTITY_ID": "STATUS"})),
        # every stage dictionary: finds the funnel of a smart process whose categories are
        # switched off (crm.category.list refuses it, yet its stages exist)
        "status_types": ("crm.status.entity.types", {}),
    }
    for entity in FIELD_ENTITIES:
        for lng in PORTAL_LANGS:
            first[f"uf_{entity}_{lng}"] = (
                f"crm.{entity}.userfield.list",
                {"filter": {"LANG": lng}, "order": {"SORT": "ASC", "ID": "ASC"}},
            )
    got = reader.batch_many(first)
    keys = {"deal_cats": "categories", "types": "types"}
    rows: dict[str, list[Any]] = {}
    for label, (_method, params) in first.items():
        item = got[label]
        if label == "status_types" and not item.ok:
            continue  # an older portal without it still reads (only that fallback is lost)
        if label == "types" and _refused_access(item):
            unread.append("smart_processes")
            rows[label] = []
            continue
        rows[label] = _rows(reader, item, params, keys.get(label))
    return rows


#: the languages crmkit reads a portal's labels in (its names are kept in one of them)
PORTAL_LANGS: tuple[Lang, ...] = ("ru", "en")

_LegacyRows = dict[str, list[dict[Lang, Mapping[str, Any]]]]


def _legacy_rows(rows: Mapping[str, list[Any]]) -> _LegacyRows:
    """The user fields of each entity, one entry per field with its row in each language."""
    legacy: _LegacyRows = {}
    for entity in FIELD_ENTITIES:
        by_id: dict[str, dict[Lang, Mapping[str, Any]]] = {}
        for lng in PORTAL_LANGS:
            for row in rows[f"uf_{entity}_{lng}"]:
                by_id.setdefault(str(row.get("ID")), {})[lng] = row
        legacy[entity] = list(by_id.values())
    return legacy


def _second_commands(
    deal_cats: list[Mapping[str, Any]], types: list[Any], legacy: _LegacyRows, cards: bool
) -> Commands:
    """Round 2: stages of deal pipelines, pipelines and fields of smart processes, card
    layouts, and the items of enumeration fields whose list came without them."""
    second: Commands = {}
    for cat in deal_cats:
        second[f"ds_{_cid(cat)}"] = (
            "crm.status.list",
            _list_params({"ENTITY_ID": stage_entity_id(DEAL_TYPE, _cid(cat))}),
        )
    for sp in types:
        etid = int_or_none(sp.get("entityTypeId"))
        if etid is not None and str(sp.get("isStagesEnabled", "Y")).upper() != "N":
            second[f"sc_{etid}"] = ("crm.category.list", {"entityTypeId": etid})
        type_id = int_or_none(sp.get("id"))
        if etid is not None and type_id is not None:
            # smart-process fields live in userfieldconfig under CRM_<type id>, not <etid>
            second[f"sf_{etid}"] = (
                "userfieldconfig.list",
                {
                    "moduleId": "crm",
                    "filter": {"entityId": f"CRM_{type_id}"},
                    "order": {"sort": "ASC", "id": "ASC"},
                },
            )
    # the common card layouts (read by anyone): lead, contact, company, every deal pipeline
    card_targets = [(LEAD_TYPE, None), (3, None), (4, None)] + [
        (DEAL_TYPE, {"dealCategoryId": _cid(c)}) for c in deal_cats
    ]
    for etid, extras in card_targets if cards else []:
        second[_card_label(etid, extras)] = _card_call(etid, extras)
    for entity, fields in legacy.items():
        for by_lang in fields:
            row = next(iter(by_lang.values()))
            if row.get("USER_TYPE_ID") == "enumeration" and not isinstance(row.get("LIST"), list):
                # the list usually carries the items; a portal that leaves them out is asked
                second[f"ue_{entity}_{row.get('ID')}"] = (
                    f"crm.{entity}.userfield.get",
                    {"id": row.get("ID")},
                )
    return second


def _smart_process_categories(
    reader: PortalReader, second: _Round, status_types: list[Any]
) -> dict[int, list[Mapping[str, Any]]]:
    """The funnels of each smart process, default first; for a process whose categories are
    switched off, the funnels its stage dictionaries name."""
    found: dict[int, list[Mapping[str, Any]]] = {}
    for label in (k for k in second.commands if k.startswith("sc_")):
        etid = int(label[3:])
        item = second.got[label]
        if item.error is not None and item.error.error == "ENTITY_TYPE_NOT_SUPPORTED":
            cats: list[Any] = _hidden_funnels(status_types, etid)
        else:
            cats = second.rows(label, "categories")
        found[etid] = _by_default_then_sort(cats)
    return found


def _third_commands(sp_cats: Mapping[int, list[Mapping[str, Any]]], cards: bool) -> Commands:
    """Round 3: stages (and card layouts) of every smart-process funnel."""
    third: Commands = {}
    for etid, cats in sp_cats.items():
        for cat in cats:
            cid = _cid(cat)
            third[f"ss_{etid}_{cid}"] = (
                "crm.status.list",
                _list_params({"ENTITY_ID": stage_entity_id(etid, cid)}),
            )
            if cards:
                third[_card_label(etid, {"categoryId": cid})] = _card_call(
                    etid, {"categoryId": cid}
                )
    return third


def _legacy_fields(legacy: _LegacyRows, second: _Round) -> list[FieldState]:
    fields = []
    for entity, rows in legacy.items():
        for by_lang in rows:
            row = next(iter(by_lang.values()))
            listed = row.get("LIST")
            label = f"ue_{entity}_{row.get('ID')}"
            if label in second.commands:
                item = second.got[label]
                listed = (
                    item.result.get("LIST") if item.ok and isinstance(item.result, Mapping) else []
                )
            fields.append(_legacy_field(entity, by_lang, rows_of(listed) if listed else None))
    return fields


def _layouts(rounds: tuple[_Round, ...], unread: list[Unread]) -> list[CardState]:
    layouts: list[CardState] = []
    for round_ in rounds:
        for label, (_method, params) in round_.commands.items():
            if not label.startswith("card_"):
                continue
            item = round_.got[label]
            if not item.ok:
                _note(unread, "card_layouts")
                continue
            extras = params.get("extras") or {}
            category = next(iter(extras.values()), None) if extras else None
            layouts.append(CardState(int(params["entityTypeId"]), category, _sections(item.result)))
    return layouts

"""``crmkit pull``: a portal's set-up read back into a blueprint.

Reads lead stages, deal pipelines and their stages, the user fields of leads, deals, contacts and
companies, and smart processes with their pipelines and stages. Every read is packed into
``batch`` requests, three in a row because each depends on the one before:

1. deal pipelines, smart processes, lead stages, user fields (labels in ru and en);
2. the stages of every deal pipeline, the pipelines of every smart process (and the items of
   enumeration fields if the list did not carry them);
3. the stages of every smart-process pipeline.

A big portal needs more only when a list outgrows one page or a batch outgrows 50 commands.

The portal keeps one name per stage and pipeline, in whatever language its people wrote it;
pull stores them under that language (Cyrillic → ru, Latin → en; ``lang`` breaks a tie) and
says so in the file's header. User-field labels do exist per language and are read in both.
What REST cannot show (robots, stage descriptions, responsibles, lessons) is left for the
consultant to write.

The reader is passed in (``Bitrix24Client`` or anything with ``batch_many``/``iter_list``), so
this module does no I/O of its own and never sees the webhook's secret.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from crmkit import __version__
from crmkit.blueprints.dump import dump_blueprint
from crmkit.blueprints.model import (
    ENTITIES,
    FIELD_ENTITIES,
    FIELD_TYPES,
    Blueprint,
    CustomField,
    FieldItem,
    Pipeline,
    Semantics,
    SmartProcess,
    Stage,
)
from crmkit.i18n import LANGS, Lang, Text, msg
from crmkit.push.bitrix24.replies import BatchItem, BatchResult, int_or_none, rows_of
from crmkit.push.errors import ScopeMissing

Commands = dict[str, tuple[str, dict[str, Any]]]

_SEMANTICS: dict[str, Semantics] = {"S": "success", "F": "failure"}
_COLOR = re.compile(r"#[0-9A-Fa-f]{6}")
_DEAL_ENTITY_TYPE = 2
_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")
#: the code of the lead funnel, as in the shipped library
LEAD_CODE = "leads"


class PortalReader(Protocol):
    requests_sent: int

    def batch_many(self, commands: Commands, *, halt: bool = False) -> BatchResult: ...

    def iter_list(
        self, method: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> Iterator[Any]: ...


@dataclass(frozen=True)
class SkippedField:
    entity: str
    code: str
    type: str


@dataclass(frozen=True)
class PullResult:
    blueprint: Blueprint
    #: the comment lines at the top of the written file
    header: tuple[str, ...]
    skipped: tuple[SkippedField, ...]
    #: HTTP requests the pull took
    requests: int
    source: str
    lang: Lang

    def toml(self) -> str:
        return dump_blueprint(self.blueprint, self.header)

    def json(self) -> str:
        data = {
            "source": self.source,
            "lang": self.lang,
            "requests": self.requests,
            "skipped": [vars(s) for s in self.skipped],
            "blueprint": tomllib.loads(self.toml()),
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# -- codes ----------------------------------------------------------------------------------------

_TRANSLIT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
}  # fmt: skip


def slug(text: str, limit: int = 40) -> str:
    """A code from a name: Cyrillic transliterated, lower case, ``[a-z0-9_]``, starts with a
    letter (``"Продажи юрлицам"`` → ``prodazhi_yurlitsam``). Empty when nothing usable is left."""
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    out = re.sub(r"[^a-z0-9]+", "_", out).strip("_")
    if out and not out[0].isalpha():
        out = "p_" + out
    return out[:limit].rstrip("_")


class _Codes:
    """Hands out unique codes: the wanted one, else with the portal id appended."""

    def __init__(self, *taken: str) -> None:
        self.taken = set(taken)

    def get(self, wanted: str, fallback: str) -> str:
        code = wanted or fallback
        if code in self.taken:
            code = f"{code}_{fallback.rsplit('_', 1)[-1]}" if wanted else fallback
        base, n = code, 2
        while code in self.taken:
            code, n = f"{base}_{n}", n + 1
        self.taken.add(code)
        return code


def strip_prefix(status_id: str) -> str:
    """``C3:NEW`` → ``NEW``; ``DT177_87:MY`` → ``MY``: the portal prefixes stage codes of every
    pipeline but the default one (BITRIX24.md §3.1); a blueprint's codes are unprefixed."""
    return status_id.split(":", 1)[1] if ":" in status_id else status_id


def deal_stage_entity(category_id: int) -> str:
    return "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"


def sp_stage_entity(entity_type_id: int, category_id: int) -> str:
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


# -- reading --------------------------------------------------------------------------------------


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
    return rows


def _text(value: Any, lang: Lang) -> Text:
    text = str(value or "").strip()
    if not text:
        return Text()
    return Text(ru=text) if lang == "ru" else Text(en=text)


def _stages(rows: list[Any], lang: Lang) -> tuple[Stage, ...]:
    ordered = sorted(
        (r for r in rows if isinstance(r, Mapping)),
        key=lambda r: (int_or_none(r.get("SORT")) or 0, int_or_none(r.get("ID")) or 0),
    )
    stages = []
    for row in ordered:
        code = strip_prefix(str(row.get("STATUS_ID") or ""))
        color = str(row.get("COLOR") or "")
        stages.append(
            Stage(
                code=code,
                name=_text(row.get("NAME"), lang) or Text(ru=code, en=code),
                semantics=_SEMANTICS.get(str(row.get("SEMANTICS") or "").upper(), "process"),
                color=color.upper() if _COLOR.fullmatch(color) else "",
            )
        )
    return tuple(stages)


def _label(row: Mapping[str, Any]) -> str:
    for key in ("EDIT_FORM_LABEL", "LIST_COLUMN_LABEL", "LIST_FILTER_LABEL"):
        value = row.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return ""


def _field(
    entity: str,
    by_lang: Mapping[Lang, Mapping[str, Any]],
    items_rows: list[Any] | None,
    lang: Lang,
    stored: Lang,
    prefix: str = "UF_CRM_",
) -> CustomField | SkippedField:
    main = by_lang[lang]
    name = str(main.get("FIELD_NAME") or "")
    code = name[len(prefix) :] if name.startswith(prefix) else name
    kind = str(main.get("USER_TYPE_ID") or "")
    if kind not in FIELD_TYPES:
        return SkippedField(entity, code, kind)
    labels = {lng: _label(row) for lng, row in by_lang.items()}
    helps = {lng: str(row.get("HELP_MESSAGE") or "").strip() for lng, row in by_lang.items()}
    label = Text(ru=labels.get("ru", ""), en=labels.get("en", "")) or Text(ru=code, en=code)
    items = []
    if kind == "enumeration":
        for row in sorted(
            (r for r in items_rows or [] if isinstance(r, Mapping)),
            key=lambda r: (int_or_none(r.get("SORT")) or 0, int_or_none(r.get("ID")) or 0),
        ):
            items.append(
                FieldItem(
                    value=_text(row.get("VALUE"), stored),
                    xml_id=str(row.get("XML_ID") or ""),
                    default=str(row.get("DEF") or "N").upper() == "Y",
                )
            )
    return CustomField(
        entity=entity,
        code=code,
        type=kind,
        label=label,
        help=Text(ru=helps.get("ru", ""), en=helps.get("en", "")),
        items=tuple(items),
        mandatory=str(main.get("MANDATORY") or "N").upper() == "Y",
        multiple=str(main.get("MULTIPLE") or "N").upper() == "Y",
    )


def _config_as_legacy(row: Mapping[str, Any]) -> dict[Lang, dict[str, Any]]:
    """A ``userfieldconfig.list`` row (camelCase, labels as language maps) in the shape of
    ``crm.<entity>.userfield.list`` rows read with ``filter[LANG]``, one per language."""

    def label(key: str, lng: Lang) -> str:
        value = row.get(key)
        return str(value.get(lng) or "") if isinstance(value, Mapping) else str(value or "")

    items = [
        {"ID": i.get("id"), "SORT": i.get("sort"), "VALUE": i.get("value"),
         "XML_ID": i.get("xmlId"), "DEF": i.get("def")}
        for i in row.get("enum") or []
        if isinstance(i, Mapping)
    ]  # fmt: skip
    return {
        lng: {
            "ID": row.get("id"),
            "FIELD_NAME": row.get("fieldName"),
            "USER_TYPE_ID": row.get("userTypeId"),
            "MANDATORY": row.get("mandatory"),
            "MULTIPLE": row.get("multiple"),
            "EDIT_FORM_LABEL": label("editFormLabel", lng),
            "LIST_COLUMN_LABEL": label("listColumnLabel", lng),
            "HELP_MESSAGE": label("helpMessage", lng),
            "LIST": items,
        }
        for lng in LANGS
    }


def pull_portal(reader: PortalReader, *, source: str, lang: Lang, now: float) -> PullResult:
    """Read the portal behind ``reader`` into a blueprint. ``source`` names the portal (its
    origin, never the webhook), ``now`` is the unix time written into the header."""
    before = reader.requests_sent
    other: Lang = "en" if lang == "ru" else "ru"

    # request 1: everything that needs no ids
    first: Commands = {
        "deal_cats": ("crm.category.list", {"entityTypeId": _DEAL_ENTITY_TYPE}),
        "types": ("crm.type.list", {"order": {"id": "ASC"}}),
        "lead_stages": ("crm.status.list", _list_params({"ENTITY_ID": "STATUS"})),
        # every stage dictionary: finds the funnel of a smart process whose categories are
        # switched off (crm.category.list refuses it, yet its stages exist)
        "status_types": ("crm.status.entity.types", {}),
    }
    for entity in FIELD_ENTITIES:
        for lng in LANGS:
            first[f"uf_{entity}_{lng}"] = (
                f"crm.{entity}.userfield.list",
                {"filter": {"LANG": lng}, "order": {"SORT": "ASC", "ID": "ASC"}},
            )
    got = reader.batch_many(first)
    # an older portal without crm.status.entity.types still pulls (only that fallback is lost)
    optional = {"status_types"}
    rows = {
        label: _rows(reader, got[label], cmd[1], _KEYS.get(label))
        for label, cmd in first.items()
        if label not in optional or got[label].ok
    }
    status_types = [r for r in rows.get("status_types", []) if isinstance(r, Mapping)]

    # the default pipeline (id 0) first, whatever its sort: lint and push read the first deal
    # pipeline as the portal's default one, whose stage codes carry no "C<id>:" prefix
    deal_cats = sorted(
        (c for c in rows["deal_cats"] if isinstance(c, Mapping)),
        key=lambda c: (
            not _is_default(c),
            int_or_none(c.get("sort")) or 0,
            int_or_none(c.get("id")) or 0,
        ),
    )
    types = [t for t in rows["types"] if isinstance(t, Mapping)]

    # request 2: stages of deal pipelines, pipelines of smart processes, enumeration items
    second: Commands = {}
    for cat in deal_cats:
        cid = int_or_none(cat.get("id")) or 0
        second[f"ds_{cid}"] = (
            "crm.status.list",
            _list_params({"ENTITY_ID": deal_stage_entity(cid)}),
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
    fields_by_entity: dict[str, list[dict[Lang, Mapping[str, Any]]]] = {}
    for entity in FIELD_ENTITIES:
        other_rows = {
            str(r.get("ID")): r for r in rows[f"uf_{entity}_{other}"] if isinstance(r, Mapping)
        }
        merged = []
        for row in rows[f"uf_{entity}_{lang}"]:
            if not isinstance(row, Mapping):
                continue
            merged.append({lang: row, other: other_rows.get(str(row.get("ID")), {})})
            if row.get("USER_TYPE_ID") == "enumeration" and not isinstance(row.get("LIST"), list):
                # the list usually carries the items; a portal that leaves them out is asked
                second[f"ue_{entity}_{row.get('ID')}"] = (
                    f"crm.{entity}.userfield.get",
                    {"id": row.get("ID")},
                )
        fields_by_entity[entity] = merged
    got2 = reader.batch_many(second) if second else BatchResult({}, requests=0)

    # request 3: stages of smart-process pipelines
    sp_cats: dict[int, list[Mapping[str, Any]]] = {}
    third: Commands = {}
    for label in (k for k in second if k.startswith("sc_")):
        etid = int(label[3:])
        item = got2[label]
        if item.error is not None and item.error.error == "ENTITY_TYPE_NOT_SUPPORTED":
            # pipelines switched off for this smart process: its stages sit in one hidden funnel
            cats = _hidden_funnels(status_types, etid)
        else:
            cats = _rows(reader, item, second[label][1], "categories")
        sp_cats[etid] = sorted(
            (c for c in cats if isinstance(c, Mapping)),
            key=lambda c: (int_or_none(c.get("sort")) or 0, int_or_none(c.get("id")) or 0),
        )
        for cat in sp_cats[etid]:
            cid = int_or_none(cat.get("id")) or 0
            third[f"ss_{etid}_{cid}"] = (
                "crm.status.list",
                _list_params({"ENTITY_ID": sp_stage_entity(etid, cid)}),
            )
    got3 = reader.batch_many(third) if third else BatchResult({}, requests=0)

    # -- what was read, before deciding the language of its names --
    deal_stage_rows = {
        int(label[3:]): _rows(reader, got2[label], cmd[1])
        for label, cmd in second.items()
        if label.startswith("ds_")
    }
    sp_stage_rows = {label: _rows(reader, got3[label], cmd[1]) for label, cmd in third.items()}
    items_of: dict[tuple[str, str], list[Any] | None] = {}
    for entity in FIELD_ENTITIES:
        for by_lang in fields_by_entity[entity]:
            row = by_lang[lang]
            listed = row.get("LIST")
            label = f"ue_{entity}_{row.get('ID')}"
            if label in second:
                item = got2[label]
                listed = (
                    item.result.get("LIST") if item.ok and isinstance(item.result, Mapping) else []
                )
            items_of[(entity, str(row.get("ID")))] = rows_of(listed) if listed else None
    names = [str(r.get("NAME") or "") for r in rows["lead_stages"] if isinstance(r, Mapping)]
    names += [str(c.get("name") or "") for c in deal_cats]
    names += [str(t.get("title") or "") for t in types]
    names += [str(c.get("name") or "") for cats in sp_cats.values() for c in cats]
    for group in (*deal_stage_rows.values(), *sp_stage_rows.values()):
        names += [str(r.get("NAME") or "") for r in group if isinstance(r, Mapping)]
    stored = names_language(names, lang)

    # -- building the blueprint --
    codes = _Codes(LEAD_CODE)
    pipelines: list[Pipeline] = []
    lead_stages = _stages(rows["lead_stages"], stored)
    if lead_stages:
        pipelines.append(
            Pipeline(
                code=LEAD_CODE,
                kind="lead",
                name=Text(
                    ru=msg("push.pull.lead_funnel", "ru"), en=msg("push.pull.lead_funnel", "en")
                ),
                stages=lead_stages,
            )
        )
    for cat in deal_cats:
        cid = int_or_none(cat.get("id")) or 0
        name = str(cat.get("name") or "").strip()
        pipelines.append(
            Pipeline(
                code=codes.get(slug(name), f"deal_{cid}"),
                kind="deal",
                name=_text(name, stored) or Text(ru=f"deal_{cid}", en=f"deal_{cid}"),
                stages=_stages(deal_stage_rows[cid], stored),
            )
        )
    processes: list[SmartProcess] = []
    types_read: list[Mapping[str, Any]] = []
    # a field's entity is a CRM entity or a process code: a process titled "Deal" must not
    # take the code ``deal``, or its fields would read as the deal's own
    sp_codes = _Codes(*ENTITIES)
    for sp in types:
        etid = int_or_none(sp.get("entityTypeId"))
        if etid is None:
            continue
        title = str(sp.get("title") or "").strip()
        sp_code = sp_codes.get(slug(title, 30), f"sp_{etid}")
        processes.append(
            SmartProcess(code=sp_code, title=_text(title, stored) or Text(ru=sp_code, en=sp_code))
        )
        types_read.append(sp)
        for cat in sp_cats.get(etid, []):
            cid = int_or_none(cat.get("id")) or 0
            stages = _stages(sp_stage_rows[f"ss_{etid}_{cid}"], stored)
            if not stages:
                continue
            name = str(cat.get("name") or "").strip()
            wanted = f"{sp_code}_{slug(name, 20)}" if slug(name, 20) else ""
            pipelines.append(
                Pipeline(
                    code=codes.get(wanted, f"{sp_code}_{cid}"),
                    kind="smart_process",
                    process=sp_code,
                    name=_text(name, stored)
                    or _text(title, stored)
                    or Text(ru=sp_code, en=sp_code),
                    stages=stages,
                )
            )
    fields: list[CustomField] = []
    skipped: list[SkippedField] = []
    unread: list[str] = []
    sp_fields: list[tuple[str, str, dict[Lang, dict[str, Any]]]] = []
    for sp, process in zip(types_read, processes, strict=True):
        label = f"sf_{sp.get('entityTypeId')}"
        if label not in second:
            continue
        item = got2[label]
        if isinstance(item.error, ScopeMissing):
            # a webhook without the userfieldconfig scope still reads everything else
            unread.append(process.code)
            continue
        prefix = f"UF_CRM_{sp.get('id')}_"
        for row in _rows(reader, item, second[label][1], "fields"):
            if isinstance(row, Mapping):
                sp_fields.append((process.code, prefix, _config_as_legacy(row)))
    for entity in FIELD_ENTITIES:
        for by_lang in fields_by_entity[entity]:
            items_rows = items_of[(entity, str(by_lang[lang].get("ID")))]
            made = _field(entity, by_lang, items_rows, lang, stored)
            if isinstance(made, SkippedField):
                skipped.append(made)
            else:
                fields.append(made)
    for process_code, prefix, config in sp_fields:
        made = _field(process_code, config, config[lang]["LIST"], lang, stored, prefix)
        if isinstance(made, SkippedField):
            skipped.append(made)
        else:
            fields.append(made)

    date = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    host = urlsplit(source).hostname or source
    blueprint = Blueprint(
        id=_blueprint_id(host),
        name=Text(ru=host, en=host),
        description=Text(
            ru=msg("push.pull.description", "ru", source=source, date=date),
            en=msg("push.pull.description", "en", source=source, date=date),
        ),
        smart_processes=tuple(processes),
        pipelines=tuple(pipelines),
        fields=tuple(fields),
    )
    missing: Lang = "en" if stored == "ru" else "ru"
    header = [
        msg("push.pull.header.made", lang, version=__version__, source=source, date=date),
        msg("push.pull.header.names", lang, stored=stored, other=missing),
        msg("push.pull.header.manual", lang),
        msg("push.pull.header.secret", lang),
    ]
    header += [
        msg("push.pull.skipped", lang, entity=s.entity, code=s.code, type=s.type) for s in skipped
    ]
    if unread:
        header.append(msg("push.pull.header.no_sp_fields", lang, processes=", ".join(unread)))
    return PullResult(
        blueprint=blueprint,
        header=tuple(header),
        skipped=tuple(skipped),
        requests=reader.requests_sent - before,
        source=source,
        lang=stored,
    )


def _is_default(category: Mapping[str, Any]) -> bool:
    return str(category.get("isDefault") or "").upper() == "Y" or category.get("id") in (0, "0")


def _hidden_funnels(status_types: list[Mapping[str, Any]], etid: int) -> list[dict[str, Any]]:
    """The funnels of smart process ``etid`` as ``crm.status.entity.types`` names them
    (``DYNAMIC_<etid>_STAGE_<category id>``), for a process whose categories are switched off.
    Nameless: such a funnel takes the process's title."""
    found = []
    pattern = re.compile(rf"DYNAMIC_{etid}_STAGE_(\d+)")
    for row in status_types:
        match = pattern.fullmatch(str(row.get("ID") or ""))
        if match:
            found.append({"id": int(match.group(1)), "name": "", "sort": row.get("CATEGORY_SORT")})
    return found


def names_language(names: list[str], fallback: Lang) -> Lang:
    """The language a portal's names are written in: Cyrillic → ru, Latin → en, by majority
    (Bitrix24 keeps one name per stage, in whatever language the portal's people wrote it)."""
    cyrillic = sum(1 for n in names if _CYRILLIC.search(n))
    latin = sum(1 for n in names if _LATIN.search(n) and not _CYRILLIC.search(n))
    if cyrillic == latin:
        return fallback
    return "ru" if cyrillic > latin else "en"


def _blueprint_id(host: str) -> str:
    """``acme.bitrix24.ru`` → ``acme``; an address (the sandbox) → ``portal``."""
    try:
        ipaddress.ip_address(host.strip("[]"))
        return "portal"
    except ValueError:
        pass
    return slug(host.split(".")[0]) or "portal"


#: list results wrapped in one key (the "new" CRM methods, BITRIX24.md §1.3)
_KEYS = {"deal_cats": "categories", "types": "types"}

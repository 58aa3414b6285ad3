"""Dictionaries and stages (``crm.status`` rows): which ENTITY_IDs exist, their code rules and
the default stage sets a new portal, pipeline or smart process starts with."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from crmkit.sandbox.store import Record, Store

LEAD = 1
DEAL = 2
CONTACT = 3
COMPANY = 4
#: entityTypeId → (legacy store kind, name used in messages)
LEGACY_KINDS: dict[int, str] = {LEAD: "lead", DEAL: "deal", CONTACT: "contact", COMPANY: "company"}


#: the languages a sandbox portal can speak (``crmkit sandbox --portal-lang``)
PORTAL_LANGS = ("en", "ru")


@dataclass(frozen=True)
class StageDef:
    code: str
    #: the name in each portal language
    names: tuple[tuple[str, str], ...]
    color: str
    #: "S" success, "F" failure, None in progress
    semantics: str | None = None
    system: bool = False
    #: EXTRA.SEMANTICS; APOLOGY is a failure stage shown as "apology"
    extra: str | None = None
    #: SORT of the stage (the default set goes 10, 20, …)
    sort: int = 0

    def name(self, lang: str) -> str:
        return dict(self.names).get(lang) or dict(self.names)["en"]


def _names(en: str, ru: str) -> tuple[tuple[str, str], ...]:
    return (("en", en), ("ru", ru))


# The stages a portal makes by itself, as the docs show them (BITRIX24.md §7.2; names of a Russian
# portal from the Russian docs, spelled as they are there — "Cчет на предоплату" begins with a
# Latin C). Leads: crm-lead-add.md and the real crm.status.list answer of
# how-to-get-stages-with-semantics.md (NEW, CONVERTED, JUNK: names, colours, sorts); IN_PROCESS
# and PROCESSED are shown by no example, so their colours and sorts are the sandbox's own.
LEAD_STAGES = (
    StageDef("NEW", _names("Not processed", "Не обработан"), "#00FFFF", None, True, sort=10),
    StageDef("IN_PROCESS", _names("In process", "В работе"), "#2FC6F6", sort=20),
    StageDef("PROCESSED", _names("Processed", "Обработан"), "#55D0E0", sort=30),
    StageDef("CONVERTED", _names("Converted", "Сконвертирован"), "#37B44A", "S", True, sort=50),
    StageDef(
        "JUNK", _names("Low-quality lead", "Некачественный лид"), "#F54819", "F", True, sort=60
    ),
)
DEAL_STAGES = (
    StageDef("NEW", _names("New", "Новая"), "#39A8EF", None, True, sort=10),
    StageDef(
        "PREPARATION", _names("Document preparation", "Подготовка документов"), "#2FC6F6", sort=20
    ),
    StageDef(
        "PREPAYMENT_INVOICE", _names("Prepayment invoice", "Cчет на предоплату"), "#55D0E0", sort=30
    ),
    StageDef("EXECUTING", _names("In progress", "В работе"), "#47E4C2", sort=40),
    StageDef("FINAL_INVOICE", _names("Final invoice", "Финальный счет"), "#FFA900", sort=50),
    StageDef("WON", _names("Deal successful", "Сделка успешна"), "#7BD500", "S", True, sort=60),
    StageDef("LOSE", _names("Deal failed", "Сделка провалена"), "#FF5752", "F", True, sort=70),
    StageDef(
        "APOLOGY", _names("Failure reason analysis", "Анализ причины провала"), "#FF5752", "F",
        False, "apology", sort=80,
    ),
)  # fmt: skip
#: a smart-process funnel's rows carry NAME_INIT on every stage and no EXTRA
SMART_STAGES = (
    StageDef("NEW", _names("Start", "Начало"), "#22B9FF", None, True, sort=10),
    StageDef("PREPARATION", _names("Preparation", "Подготовка"), "#88B9FF", sort=20),
    StageDef("CLIENT", _names("Approval", "Согласование"), "#10e5fc", sort=30),
    StageDef("SUCCESS", _names("Success", "Успех"), "#00ff00", "S", True, sort=40),
    StageDef("FAIL", _names("Failure", "Провал"), "#ff0000", "F", True, sort=50),
)
#: names of the default funnels: the default deal pipeline (crm-category-list.md) and the
#: first funnel of a smart process (crm-status-entity-types.md)
DEFAULT_FUNNEL_NAMES = {"en": "General", "ru": "Общая"}
#: the default deal pipeline's sort in the docs' example
DEFAULT_DEAL_SORT = 300


#: plain dropdowns of a fresh portal (ENTITY_ID → [(STATUS_ID, NAME)])
DROPDOWNS: dict[str, tuple[tuple[str, str], ...]] = {
    "SOURCE": (
        ("CALL", "Call"),
        ("EMAIL", "E-Mail"),
        ("WEB", "Website"),
        ("ADVERTISING", "Advertising"),
        ("PARTNER", "Existing client"),
        ("RECOMMENDATION", "By recommendation"),
        ("TRADE_SHOW", "Show/Exhibition"),
        ("WEBFORM", "CRM form"),
        ("CALLBACK", "Callback"),
        ("OTHER", "Other"),
    ),
    "CONTACT_TYPE": (
        ("CLIENT", "Clients"),
        ("SUPPLIER", "Suppliers"),
        ("PARTNER", "Partners"),
        ("OTHER", "Other"),
    ),
    "COMPANY_TYPE": (
        ("CUSTOMER", "Client"),
        ("SUPPLIER", "Supplier"),
        ("COMPETITOR", "Competitor"),
        ("PARTNER", "Partner"),
        ("OTHER", "Other"),
    ),
    "DEAL_TYPE": (
        ("SALE", "Sales"),
        ("COMPLEX", "Complex sale"),
        ("GOODS", "Merchandise sale"),
        ("SERVICES", "Service sale"),
        ("SERVICE", "After-sales service"),
    ),
    "INDUSTRY": (
        ("IT", "Information technology"),
        ("TELECOM", "Telecommunication"),
        ("MANUFACTURING", "Manufacturing"),
        ("BANKING", "Banking services"),
        ("CONSULTING", "Consulting"),
        ("RETAIL", "Retail"),
        ("OTHER", "Other"),
    ),
    "EMPLOYEES": (
        ("EMPLOYEES_1", "Fewer than 50"),
        ("EMPLOYEES_2", "50-250"),
        ("EMPLOYEES_3", "250-500"),
        ("EMPLOYEES_4", "Over 500"),
    ),
    "HONORIFIC": (
        ("HNR_EN_1", "Mr."),
        ("HNR_EN_2", "Mrs."),
        ("HNR_EN_3", "Ms."),
        ("HNR_EN_4", "Dr."),
    ),
}
DROPDOWN_NAMES = {
    "SOURCE": "Sources",
    "CONTACT_TYPE": "Contact type",
    "COMPANY_TYPE": "Company type",
    "DEAL_TYPE": "Deal type",
    "INDUSTRY": "Industry",
    "EMPLOYEES": "Employees",
    "HONORIFIC": "Salutations",
}

_DEAL_STAGE_N = re.compile(r"^DEAL_STAGE_(\d+)$")
_DYNAMIC = re.compile(r"^DYNAMIC_(\d+)_STAGE_(\d+)$")
#: STATUS_ID rules for the four strict dictionaries (BITRIX24.md §3.1)
STRICT_CHARSET = re.compile(r"^[A-Za-z0-9_\-]+$")


@dataclass(frozen=True)
class Dictionary:
    entity_id: str
    name: str
    #: the CRM object whose stages these are (None for plain dropdowns)
    entity_type_id: int | None = None
    category_id: int | None = None
    #: "C3" / "DT130_5"; codes are stored as "<prefix>:<code>"
    prefix: str = ""
    max_len: int = 50
    strict: bool = False

    @property
    def is_stage(self) -> bool:
        return self.entity_type_id is not None


def stage_entity_id(entity_type_id: int, category_id: int) -> str:
    if entity_type_id == LEAD:
        return "STATUS"
    if entity_type_id == DEAL:
        return "DEAL_STAGE" if category_id == 0 else f"DEAL_STAGE_{category_id}"
    return f"DYNAMIC_{entity_type_id}_STAGE_{category_id}"


def stage_prefix(entity_type_id: int, category_id: int) -> str:
    if entity_type_id == DEAL:
        return "" if category_id == 0 else f"C{category_id}"
    if entity_type_id in (LEAD, CONTACT, COMPANY):
        return ""
    return f"DT{entity_type_id}_{category_id}"


def find_category(store: Store, entity_type_id: int, category_id: int) -> Record | None:
    row = store.get("category", category_id)
    if row is None or row["entityTypeId"] != entity_type_id:
        return None
    return row


def smart_type(store: Store, entity_type_id: int) -> Record | None:
    found = store.find("type", entityTypeId=entity_type_id)
    return found[0] if found else None


def describe(store: Store, entity_id: str) -> Dictionary | None:
    """What an ENTITY_ID means on this portal, or None if it does not exist."""
    if entity_id == "STATUS":
        return Dictionary("STATUS", "Lead status", LEAD, None, "", 21, True)
    if entity_id == "DEAL_STAGE":
        return Dictionary("DEAL_STAGE", "Deal stage", DEAL, 0, "", 22, True)
    if entity_id in DROPDOWNS:
        return Dictionary(entity_id, DROPDOWN_NAMES[entity_id])
    match = _DEAL_STAGE_N.match(entity_id)
    if match:
        category_id = int(match.group(1))
        category = find_category(store, DEAL, category_id)
        if category is None:
            return None
        # the C<id>: prefix eats into the 22-character budget of a deal stage code
        return Dictionary(
            entity_id,
            f"Deal stages ({category['name']})",
            DEAL,
            category_id,
            f"C{category_id}",
            22,
            True,
        )
    match = _DYNAMIC.match(entity_id)
    if match:
        etid, category_id = int(match.group(1)), int(match.group(2))
        category = find_category(store, etid, category_id)
        kind = smart_type(store, etid)
        if category is None or kind is None:
            return None
        return Dictionary(
            entity_id,
            f"{kind['title']} stages ({category['name']})",
            etid,
            category_id,
            f"DT{etid}_{category_id}",
            50,
            False,
        )
    return None


def all_dictionaries(store: Store) -> list[Dictionary]:
    names = ["STATUS", *DROPDOWNS, "DEAL_STAGE"]
    names += [
        stage_entity_id(DEAL, c["id"])
        for c in store.scan("category")
        if c["entityTypeId"] == DEAL and c["id"] != 0
    ]
    for kind in store.scan("type"):
        names += [
            stage_entity_id(kind["entityTypeId"], c["id"])
            for c in store.find("category", entityTypeId=kind["entityTypeId"])
        ]
    found = [describe(store, name) for name in names]
    return [d for d in found if d is not None]


def add_status(
    store: Store,
    dictionary: Dictionary,
    code: str,
    name: str,
    sort: int,
    *,
    color: str | None = None,
    semantics: str | None = None,
    system: bool = False,
    extra: str | None = None,
    name_init: str | None = None,
) -> int:
    """Store one row; ``code`` must already carry the prefix."""
    rid = store.new_id("status")
    store.put(
        "status",
        rid,
        {
            "ID": rid,
            "ENTITY_ID": dictionary.entity_id,
            "STATUS_ID": code,
            "NAME": name,
            "NAME_INIT": (name if system else "") if name_init is None else name_init,
            "SORT": sort,
            "SYSTEM": "Y" if system else "N",
            "CATEGORY_ID": dictionary.category_id,
            "COLOR": color,
            "SEMANTICS": semantics,
            "EXTRA_SEMANTICS": extra,
        },
    )
    return rid


def prefixed(dictionary: Dictionary, code: str) -> str:
    """``NEW_X`` → ``C3:NEW_X`` in pipeline 3; a code already carrying the prefix is kept."""
    if not dictionary.prefix or code.startswith(dictionary.prefix + ":"):
        return code
    return f"{dictionary.prefix}:{code}"


def portal_lang(store: Store) -> str:
    return store.meta("portal_lang") or "en"


def create_default_stages(store: Store, dictionary: Dictionary, defs: tuple[StageDef, ...]) -> None:
    lang = portal_lang(store)
    smart = dictionary.entity_type_id not in (LEAD, DEAL)
    for stage in defs:
        name = stage.name(lang)
        add_status(
            store,
            dictionary,
            prefixed(dictionary, stage.code),
            name,
            stage.sort,
            color=stage.color,
            semantics=stage.semantics,
            system=stage.system,
            extra=stage.extra,
            name_init=name if (stage.system or smart) else "",
        )


def statuses_of(store: Store, entity_id: str) -> list[Record]:
    return sorted(store.find("status", ENTITY_ID=entity_id), key=lambda r: (r["SORT"], r["ID"]))


def semantic_letter(store: Store, entity_id: str, code: str) -> str:
    """P/S/F of a stage code (STAGE_SEMANTIC_ID of deals, STATUS_SEMANTIC_ID of leads)."""
    for row in statuses_of(store, entity_id):
        if row["STATUS_ID"] == code:
            return str(row["SEMANTICS"] or "P")
    return "P"


def items_in_stage(store: Store, dictionary: Dictionary, code: str) -> bool:
    """Whether any lead/deal/item still sits in the stage ``code``."""
    etid = dictionary.entity_type_id
    if etid == LEAD:
        return store.exists("lead", STATUS_ID=code)
    if etid == DEAL:
        return store.exists("deal", STAGE_ID=code)
    if etid is not None:
        return store.exists(f"item{etid}", stageId=code)
    return False


def default_category_record(
    entity_type_id: int, cid: int, name: str, sort: int, default: bool
) -> dict[str, Any]:
    """A category with its family's keys only (crm-category-add.md): deal pipelines but the
    default one add ``originId``/``originatorId``, smart-process funnels ``isSystem``/``code``."""
    record: dict[str, Any] = {
        "id": cid,
        "name": name,
        "sort": sort,
        "entityTypeId": entity_type_id,
        "isDefault": "Y" if default else "N",
    }
    if entity_type_id == DEAL and cid != 0:
        record.update(originId="", originatorId="")
    elif entity_type_id not in (DEAL, CONTACT, COMPANY):
        record.update(isSystem="N", code="")
    return record


def default_funnel_name(store: Store) -> str:
    return DEFAULT_FUNNEL_NAMES.get(portal_lang(store), DEFAULT_FUNNEL_NAMES["en"])


def bootstrap(store: Store, lang: str = "en") -> None:
    """A fresh portal in ``lang``: lead and deal stages, dropdowns, the default deal pipeline."""
    with store.transaction():
        store.set_meta("portal_lang", lang)
        lead = describe(store, "STATUS")
        deal = describe(store, "DEAL_STAGE")
        assert lead is not None and deal is not None
        create_default_stages(store, lead, LEAD_STAGES)
        for entity_id, rows in DROPDOWNS.items():
            dictionary = describe(store, entity_id)
            assert dictionary is not None
            for index, (code, name) in enumerate(rows):
                add_status(store, dictionary, code, name, (index + 1) * 10, system=True)
        store.put(
            "category",
            0,
            default_category_record(DEAL, 0, default_funnel_name(store), DEFAULT_DEAL_SORT, True),
        )
        create_default_stages(store, deal, DEAL_STAGES)
        store.set_meta("initialized", "1")

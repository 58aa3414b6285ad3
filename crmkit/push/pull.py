"""``crmkit pull``: a portal's set-up read back into a blueprint.

The portal is read by the target's reader into a ``PortalState`` (for Bitrix24:
``crmkit.push.bitrix24.reader``: lead stages, deal pipelines and their stages, the user fields of
leads, deals, contacts and companies, smart processes with their pipelines, stages and fields);
``state_to_blueprint`` turns that state into a blueprint, a pure step.

The portal keeps one name per stage and pipeline, in whatever language its people wrote it;
pull stores them under that language (Cyrillic → ru, Latin → en; ``lang`` breaks a tie) and
says so in the file's header. User-field labels do exist per language and are read in both.
What REST cannot show (robots, stage descriptions, responsibles, lessons) is left for the
consultant to write.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from crmkit import __version__
from crmkit.blueprints.dump import dump_blueprint
from crmkit.blueprints.model import (
    ENTITIES,
    FIELD_TYPES,
    Blueprint,
    CustomField,
    FieldItem,
    Pipeline,
    SmartProcess,
    Stage,
    bitrix_field_name,
)
from crmkit.i18n import Lang, Text, msg
from crmkit.push.state import ENTITY_OWNERS, FieldState, FunnelState, PortalState, StageState

_CYRILLIC = re.compile(r"[А-Яа-яЁё]")
_LATIN = re.compile(r"[A-Za-z]")
#: the code of the lead funnel, as in the shipped library
LEAD_CODE = "leads"


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
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}


def slug(text: str, limit: int = 40) -> str:
    """A code from a name: Cyrillic transliterated, lower case, ``[a-z0-9_]``, starts with a
    letter (``"Продажи юрлицам"`` → ``prodazhi_yurlitsam``). Empty when nothing usable is left."""
    out = "".join(_TRANSLIT.get(ch, ch) for ch in text.lower())
    out = re.sub(r"[^a-z0-9]+", "_", out).strip("_")
    if out and not out[0].isalpha():
        out = "p_" + out
    return out[:limit].rstrip("_")


#: the longest stage code every Bitrix24 pipeline accepts (lint BP009: 16 in a pipeline other
#: than the default one): codes made of amoCRM names keep to it, so a pulled file pushes anywhere
STAGE_CODE_LIMIT = 16


def stage_code(name: str, fallback: str, taken: set[str], suffix: object) -> str:
    """An upper-case stage code of ``name`` within ``STAGE_CODE_LIMIT``, cut at a word where one
    is near (``Первичный контакт`` → ``PERVICHNYY``), unique in ``taken`` (``…_<suffix>``
    on a clash); ``fallback`` when the name gives nothing."""
    wanted = slug(name).upper()
    if len(wanted) > STAGE_CODE_LIMIT:
        cut = wanted[: STAGE_CODE_LIMIT + 1].rfind("_")
        wanted = wanted[:cut] if cut >= 4 else wanted[:STAGE_CODE_LIMIT].rstrip("_")
    wanted = wanted or fallback
    if wanted in taken:
        tail = f"_{suffix}"
        wanted = wanted[: STAGE_CODE_LIMIT - len(tail)].rstrip("_") + tail
    taken.add(wanted)
    return wanted


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


def _text(value: str, lang: Lang) -> Text:
    text = value.strip()
    if not text:
        return Text()
    return Text(ru=text) if lang == "ru" else Text(en=text)


def _stages(stages: tuple[StageState, ...], lang: Lang) -> tuple[Stage, ...]:
    return tuple(
        Stage(
            code=s.code,
            name=_text(s.name, lang) or Text(ru=s.code, en=s.code),
            semantics=s.semantics,
            color=s.color,
        )
        for s in stages
    )


def _pipeline_stages(funnel: FunnelState, state: PortalState, stored: Lang) -> tuple[Stage, ...]:
    """A lead or deal funnel's stages as the blueprint writes them. On Bitrix24 just its stages;
    on amoCRM without the unsorted status (amoCRM keeps it itself), with the fields needed to
    leave a stage (``_required_fields``) as its ``required_fields``, and the account's loss
    reasons as failure stages after the funnel's own."""
    required, _unfit = _required_fields(state, funnel)
    stages = [
        replace(stage, required_fields=required.get(kept.id, ()))
        if kept.semantics == "process" and kept.id in required
        else stage
        for kept, stage in zip(
            [s for s in funnel.stages if not s.unsorted],
            _stages(tuple(s for s in funnel.stages if not s.unsorted), stored),
            strict=True,
        )
    ]
    taken = {stage.code for stage in stages}
    for reason in state.loss_reasons:
        code = stage_code(reason.name, f"LOSS_{reason.id}", taken, reason.id)
        stages.append(
            Stage(
                code=code,
                name=_text(reason.name, stored) or Text(ru=code, en=code),
                semantics="failure",
            )
        )
    return tuple(stages)


def _required_fields(
    state: PortalState, funnel: FunnelState
) -> tuple[dict[int, tuple[str, ...]], list[tuple[str, str, str]]]:
    """Where this funnel's required fields go in a blueprint, and what does not fit.

    A blueprint stage's ``required_fields`` are needed to LEAVE it forward; a push makes each
    field required (``required_statuses``: required to enter) on every later status that is not
    a failure, up to won (142). Read back the other way: a field required on a contiguous run
    of those statuses from S to won is a required field of the stage just before S. Returns
    status id → field names, and (field, pipeline, statuses) for every field whose statuses
    are no such run (a gap, the lost status, or from the first working status on): the file's
    header says those."""
    chain = [s for s in funnel.stages if not s.unsorted and s.semantics != "failure"]
    ids = [s.id for s in chain]
    found: dict[int, list[str]] = {}
    unfit: list[tuple[str, str, str]] = []
    for field_state in state.fields:
        if field_state.type not in FIELD_TYPES:
            continue
        wanted = {sid for pid, sid in field_state.required_statuses if pid == funnel.category_id}
        if not wanted:
            continue
        start = next((i for i in range(1, len(ids)) if set(ids[i:]) == wanted), None)
        if start is not None:
            name = bitrix_field_name(field_state.field_name)
            found.setdefault(ids[start - 1], []).append(name)
            continue
        names = {s.id: s.name for s in funnel.stages}
        shown = ", ".join(f"«{names.get(sid, sid)}»" for sid in sorted(wanted, key=_order(funnel)))
        unfit.append((field_state.label(_label_lang(field_state)), funnel.name, shown))
    return {k: tuple(v) for k, v in found.items()}, unfit


def _order(funnel: FunnelState) -> Any:
    position = {s.id: i for i, s in enumerate(funnel.stages)}
    return lambda sid: position.get(sid, len(position))


def _required_unfit(state: PortalState) -> list[tuple[str, str, str]]:
    """(field, pipeline, statuses) of required fields a blueprint cannot say, every funnel."""
    out: list[tuple[str, str, str]] = []
    for funnel in state.funnels:
        out += _required_fields(state, funnel)[1]
    return out


def _label_lang(field_state: FieldState) -> str:
    return field_state.labels[0][0] if field_state.labels else "ru"


def _field(
    owner_code: str, state: FieldState, stored: Lang, prefix: str
) -> CustomField | SkippedField:
    name = state.field_name
    code = name[len(prefix) :] if name.startswith(prefix) else name
    if state.type not in FIELD_TYPES:
        return SkippedField(owner_code, code, state.type)
    label = Text(ru=state.label("ru"), en=state.label("en")) or Text(ru=code, en=code)
    items = tuple(
        FieldItem(value=_text(i.value, stored), xml_id=i.xml_id, default=i.default)
        for i in state.items
    )
    return CustomField(
        entity=owner_code,
        code=code,
        type=state.type,
        label=label,
        help=Text(ru=state.help("ru"), en=state.help("en")),
        items=items if state.type == "enumeration" else (),
        mandatory=state.mandatory,
        multiple=state.multiple,
    )


def pull_portal(reader: Any, *, source: str, lang: Lang, now: float) -> PullResult:
    """Read the Bitrix24 portal behind ``reader`` into a blueprint. ``source`` names the portal
    (its origin, never the webhook), ``now`` is the unix time written into the header."""
    from crmkit.push.bitrix24.reader import read_portal

    return state_to_blueprint(read_portal(reader), source=source, lang=lang, now=now)


def state_to_blueprint(state: PortalState, *, source: str, lang: Lang, now: float) -> PullResult:
    """A blueprint of what ``state`` holds. Pure."""
    names = [s.name for f in state.funnels for s in f.stages]
    names += [f.name for f in state.funnels]
    names += [p.title for p in state.processes]
    stored = names_language(names, lang)
    codes = _Codes(LEAD_CODE)
    pipelines = _crm_pipelines(state, stored, codes)
    processes, process_pipelines, owner_codes = _smart_processes(state, stored, codes)
    fields, skipped = _fields(state, stored, owner_codes)
    date = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M UTC")
    day = datetime.fromtimestamp(now, UTC).date().isoformat()
    # the blueprint is what a client document shows: named for what it is, not by the host
    # (a sandbox's is 127.0.0.1) nor by the tool; the host is in the file's header comment
    blueprint = Blueprint(
        id=_blueprint_id(urlsplit_host(source)),
        name=Text(**{code: msg("push.pull.portal_name", code) for code in ("ru", "en", "uk")}),
        description=Text(
            **{
                code: msg("push.pull.portal_description", code, date=day)
                for code in ("ru", "en", "uk")
            }
        ),
        smart_processes=tuple(processes),
        pipelines=tuple(pipelines + process_pipelines),
        fields=tuple(fields),
    )
    return PullResult(
        blueprint=blueprint,
        header=tuple(_header(state, source, lang, stored, date, skipped, processes)),
        skipped=tuple(skipped),
        requests=state.requests,
        source=source,
        lang=stored,
    )


def _crm_pipelines(state: PortalState, stored: Lang, codes: _Codes) -> list[Pipeline]:
    """The lead funnel and the deal pipelines."""
    pipelines: list[Pipeline] = []
    lead = state.lead_funnel()
    if lead is not None and lead.stages:
        pipelines.append(
            Pipeline(
                code=LEAD_CODE,
                kind="lead",
                # Bitrix24's lead funnel has no name; amoCRM's is a pipeline with its own
                name=_text(lead.name, stored)
                or Text(
                    ru=msg("push.pull.lead_funnel", "ru"), en=msg("push.pull.lead_funnel", "en")
                ),
                stages=_pipeline_stages(lead, state, stored),
            )
        )
    for funnel in state.deal_funnels():
        cid = funnel.category_id or 0
        pipelines.append(
            Pipeline(
                code=codes.get(slug(funnel.name), f"deal_{cid}"),
                kind="deal",
                name=_text(funnel.name, stored) or Text(ru=f"deal_{cid}", en=f"deal_{cid}"),
                stages=_pipeline_stages(funnel, state, stored),
            )
        )
    return pipelines


def _smart_processes(
    state: PortalState, stored: Lang, codes: _Codes
) -> tuple[list[SmartProcess], list[Pipeline], dict[str, tuple[str, str]]]:
    """The smart processes, their pipelines, and each field owner's (code, field prefix)."""
    processes: list[SmartProcess] = []
    pipelines: list[Pipeline] = []
    # a field's entity is a CRM entity or a process code: a process titled "Deal" must not
    # take the code ``deal``, or its fields would read as the deal's own
    sp_codes = _Codes(*ENTITIES)
    owner_codes: dict[str, tuple[str, str]] = {e: (e, "UF_CRM_") for e in ENTITY_OWNERS}
    for process in state.processes:
        sp_code = sp_codes.get(slug(process.title, 30), f"sp_{process.entity_type_id}")
        owner_codes[process.owner] = (sp_code, process.field_prefix)
        processes.append(
            SmartProcess(
                code=sp_code, title=_text(process.title, stored) or Text(ru=sp_code, en=sp_code)
            )
        )
        for funnel in state.funnels_of(process.entity_type_id):
            cid = funnel.category_id or 0
            stages = _stages(funnel.stages, stored)
            if not stages:
                continue
            wanted = f"{sp_code}_{slug(funnel.name, 20)}" if slug(funnel.name, 20) else ""
            pipelines.append(
                Pipeline(
                    code=codes.get(wanted, f"{sp_code}_{cid}"),
                    kind="smart_process",
                    process=sp_code,
                    name=_text(funnel.name, stored)
                    or _text(process.title, stored)
                    or Text(ru=sp_code, en=sp_code),
                    stages=stages,
                )
            )
    return processes, pipelines, owner_codes


def _fields(
    state: PortalState, stored: Lang, owner_codes: dict[str, tuple[str, str]]
) -> tuple[list[CustomField], list[SkippedField]]:
    fields: list[CustomField] = []
    skipped: list[SkippedField] = []
    # CRM entities' fields first, then the smart processes', as the file lists entities
    ordered = sorted(state.fields, key=lambda f: f.owner.startswith("sp:"))
    for field_state in ordered:
        if field_state.owner not in owner_codes:
            continue
        owner_code, prefix = owner_codes[field_state.owner]
        made = _field(owner_code, field_state, stored, prefix)
        if isinstance(made, SkippedField):
            skipped.append(made)
        else:
            fields.append(made)
    return fields, skipped


def _header(
    state: PortalState,
    source: str,
    lang: Lang,
    stored: Lang,
    date: str,
    skipped: list[SkippedField],
    processes: list[SmartProcess],
) -> list[str]:
    """The file's header comment: where and when it was read, what REST could not read."""
    missing: Lang = "en" if stored == "ru" else "ru"
    amo = state.target == "amocrm"
    header = [
        msg("push.pull.header.made", lang, version=__version__, source=source, date=date),
        msg("push.pull.header.names", lang, stored=stored, other=missing),
        msg("push.pull.header.manual", lang),
        msg("push.pull.header.amo.secret" if amo else "push.pull.header.secret", lang),
    ]
    if amo:
        header.append(msg("push.pull.header.amo.mapping", lang))
        header += [
            msg("push.pull.header.amo.required.unfit", lang, field=f, pipeline=p, statuses=st)
            for f, p, st in _required_unfit(state)
        ]
    if "loss_reasons" in state.unread:
        header.append(msg("push.pull.header.amo.no_loss_reasons", lang))
    header += [
        msg("push.pull.skipped", lang, entity=s.entity, code=s.code, type=s.type) for s in skipped
    ]
    if "smart_process_fields" in state.unread:
        unread = ", ".join(p.code for p in processes)
        header.append(msg("push.pull.header.no_sp_fields", lang, processes=unread))
    if "smart_processes" in state.unread:
        header.append(msg("push.pull.header.no_sp", lang))
    return header


def urlsplit_host(source: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(source).hostname or source


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

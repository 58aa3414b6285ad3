"""A blueprint for the client's next level, composed from the shipped library and the answers.

What goes in (``plan_blueprint``, pure):
- always: the roles, the entity set and the lead funnel, plus one deal pipeline chosen by the
  client's profile: B2C → retail; B2B selling wholesale → wholesale; otherwise B2B (full);
- level 3 and up: separate funnels for marketing and repeat sales (the level-4 criterion: new vs
  repeat), the second audience's pipeline when the client sells both to companies and
  individuals or both retail and wholesale, and the deal scoring fields;
- level 4 and up: the reanimation funnel, an auxiliary process (delivery / fulfilment) and the
  "no answer" escalation (the level-5 criteria).

``compose`` merges the library blueprints into one self-contained ``Blueprint`` (roles, entities,
processes, pipelines, field groups and fields, each kept once, first one wins), and
``tailor_from_assessment`` does the whole job from an answers file or a scored assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from crmkit.assess.model import MAX_LEVEL, Questionnaire
from crmkit.assess.scoring import Assessment
from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint, Pipeline
from crmkit.errors import InputError
from crmkit.i18n import Lang, Text


@dataclass(frozen=True)
class Part:
    """One library blueprint in the composition, and why it is there."""

    id: str
    why: Text


def _profile(tags: Iterable[str]) -> tuple[bool, bool, bool, bool]:
    tags = set(tags)
    b2b, b2c = "b2b" in tags, "b2c" in tags
    if not (b2b or b2c):
        b2b = True  # unknown: companies are the safer default (the full pipeline)
    return b2b, b2c, "retail" in tags, "wholesale" in tags


def plan_blueprint(level: int, tags: Iterable[str]) -> list[Part]:
    """The library blueprints for a company at ``level`` with the profile ``tags``. Pure."""
    b2b, b2c, retail, wholesale = _profile(tags)
    parts = [
        Part(
            "roles",
            Text(
                ru="роли: кто принимает лиды, продаёт, контролирует",
                en="roles: who takes leads, sells, controls",
            ),
        ),
        Part(
            "entities",
            Text(
                ru="набор сущностей: лиды, контакты, компании, сделки, дела",
                en="the entity set: leads, contacts, companies, deals, activities",
            ),
        ),
        Part(
            "lead-funnel",
            Text(
                ru="воронка лидов: каждая заявка разбирается",
                en="the lead funnel: every request gets processed",
            ),
        ),
    ]
    if b2c and not b2b:
        main = Part("deal-retail", Text(ru="клиенты — частные лица", en="clients are individuals"))
    elif wholesale and not retail:
        main = Part("deal-wholesale", Text(ru="продажи оптом", en="wholesale sales"))
    else:
        main = Part("deal-b2b-full", Text(ru="клиенты — компании", en="clients are companies"))
    parts.append(main)
    if level >= 3:
        extra: list[Part] = []
        if b2b and b2c and main.id != "deal-retail":
            extra.append(
                Part(
                    "deal-retail",
                    Text(ru="есть и частные клиенты", en="there are individual clients too"),
                )
            )
        if retail and wholesale:
            for pid in ("deal-retail", "deal-wholesale"):
                extra.append(
                    Part(
                        pid,
                        Text(
                            ru="продажи и в розницу, и оптом", en="both retail and wholesale sales"
                        ),
                    )
                )
        parts += extra
        parts += [
            Part(
                "deal-marketing",
                Text(
                    ru="уровень 4: отдельная воронка маркетинга",
                    en="level 4: a separate marketing funnel",
                ),
            ),
            Part(
                "deal-repeat",
                Text(
                    ru="уровень 4: новые и повторные продажи раздельно",
                    en="level 4: new and repeat sales kept apart",
                ),
            ),
            Part(
                "fields-scoring",
                Text(
                    ru="скоринг сделок для контроля показателей",
                    en="deal scoring for controlling the KPIs",
                ),
            ),
        ]
    if level >= 4:
        parts += [
            Part(
                "deal-reanimation",
                Text(ru="уровень 5: воронка реанимации", en="level 5: a reanimation funnel"),
            ),
            Part(
                "process-delivery",
                Text(
                    ru="уровень 5: вспомогательный процесс (исполнение)",
                    en="level 5: an auxiliary process (fulfilment)",
                ),
            ),
            Part(
                "escalation-no-answer",
                Text(
                    ru="уровень 5: эскалация, если клиент не отвечает",
                    en="level 5: escalation when a client does not answer",
                ),
            ),
        ]
    escalation = next((p for p in parts if p.id == "escalation-no-answer"), None)
    if escalation is not None:
        # the escalation blueprint is the lead funnel plus the "no answer" stages; Bitrix24 has
        # one lead funnel, so it takes the plain funnel's place instead of being dropped later
        parts = [escalation if p.id == "lead-funnel" else p for p in parts]
    seen: set[str] = set()
    unique = []
    for part in parts:
        if part.id not in seen:
            seen.add(part.id)
            unique.append(part)
    return unique


T = TypeVar("T")


def _first_by(items: Iterable[T], key: str) -> list[T]:
    out: list[T] = []
    seen: set[object] = set()
    for item in items:
        value = getattr(item, key)
        if value not in seen:
            seen.add(value)
            out.append(item)
    return out


def compose(
    blueprint_id: str, name: Text, description: Text, blueprints: Sequence[Blueprint]
) -> Blueprint:
    """One self-contained blueprint from several: every part kept once, the first one wins.

    Bitrix24 has exactly one lead funnel, so only the first lead pipeline is kept.
    """
    pipelines: list[Pipeline] = []
    codes: set[str] = set()
    has_lead = False
    for blueprint in blueprints:
        for pipeline in blueprint.pipelines:
            if pipeline.code in codes or (pipeline.kind == "lead" and has_lead):
                continue
            codes.add(pipeline.code)
            has_lead = has_lead or pipeline.kind == "lead"
            pipelines.append(pipeline)
    fields = []
    field_keys: set[tuple[str, str]] = set()
    for blueprint in blueprints:
        for custom in blueprint.fields:
            if (custom.entity, custom.code) not in field_keys:
                field_keys.add((custom.entity, custom.code))
                fields.append(custom)
    return Blueprint(
        id=blueprint_id,
        name=name,
        description=description,
        roles=tuple(_first_by((r for b in blueprints for r in b.roles), "code")),
        entities=tuple(_first_by((e for b in blueprints for e in b.entities), "code")),
        smart_processes=tuple(
            _first_by((s for b in blueprints for s in b.smart_processes), "code")
        ),
        pipelines=tuple(pipelines),
        fields=tuple(fields),
        field_groups=tuple(_first_by((g for b in blueprints for g in b.field_groups), "code")),
    )


def _describe(level: int, parts: Sequence[Part], lang_texts: bool = True) -> Text:
    target = min(level + 1, MAX_LEVEL)
    ru = [f"Схема для компании уровня {level}: что нужно для уровня {target}. Состав:"]
    en = [f"A blueprint for a company at level {level}: what level {target} needs. Made of:"]
    for part in parts:
        ru.append(f"{part.id} — {part.why.ru};")
        en.append(f"{part.id}: {part.why.en};")
    return Text(ru=" ".join(ru).rstrip(";") + ".", en=" ".join(en).rstrip(";") + ".")


def tailor(assessment: Assessment, library: Library) -> Blueprint:
    """The next-level blueprint for a scored assessment (reads the library's files)."""
    level = assessment.level
    parts = plan_blueprint(level, assessment.tags)
    missing = [p.id for p in parts if library.find(p.id) is None]
    if missing:
        raise InputError(
            f"the blueprint library has no {', '.join(missing)}; see `crmkit blueprint list`"
        )
    loaded = [library.load(part.id) for part in parts]
    target = min(level + 1, MAX_LEVEL)
    return compose(
        f"tailored-level-{target}",
        Text(
            ru=f"Схема CRM: переход на уровень {target}",
            en=f"CRM blueprint: moving to level {target}",
        ),
        _describe(level, parts),
        loaded,
    )


def tailor_from_assessment(
    source: Path | Assessment,
    library: Library,
    lang: Lang = "en",
    questionnaire: Questionnaire | None = None,
) -> Blueprint:
    """A blueprint for the client's next level, from an answers file or a scored assessment.

    ``source`` is an answers file (read against ``questionnaire``, the shipped one by default;
    every question must be answered) or an ``Assessment`` from ``crmkit.assess.scoring.score``.
    Raises ``InputError`` (exit 2) for a bad or incomplete answers file. ``lang`` is the language
    of the error messages. Write the result with ``crmkit.blueprints.dump.dump_blueprint``.
    """
    if isinstance(source, Assessment):
        return tailor(source, library)
    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.model import missing
    from crmkit.assess.scoring import score
    from crmkit.i18n import msg

    questionnaire = questionnaire or load_questionnaire()
    answers = read_answers(source, questionnaire).answers
    todo = missing(questionnaire, answers)
    if todo:
        raise InputError(
            msg("assess.missing", lang, count=len(todo), ids=", ".join(todo)), where=str(source)
        )
    return tailor(score(questionnaire, answers), library)

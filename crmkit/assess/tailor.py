"""A blueprint for the client's next level, composed from the shipped library and the answers.

What goes in (``plan_blueprint``, pure):
- always: the roles, the entity set and the lead funnel, plus one deal pipeline chosen by the
  client's profile: B2C → retail; B2B selling wholesale → wholesale; otherwise B2B (full);
- level 3 and up: separate funnels for marketing and repeat sales (the level-4 criterion: new vs
  repeat), the second audience's pipeline when the client sells both to companies and
  individuals or both retail and wholesale, a second copy of the main pipeline for services when
  the client sells both products and services (seed 002: products and services in separate
  pipelines where their processes differ), and the deal scoring fields;
- level 4 and up: the reanimation funnel and an auxiliary process (the level-5 criteria): the
  delivery and installation of goods, for a client who sells products (or did not say); and the
  "no answer" escalation, a consultant's addition (no level asks for it).

The description says what it cannot build: products that need special attention go into a
funnel of their own (seed 002), and a client who sells services only describes the fulfilment of
its services as an auxiliary process of its own.

``compose`` merges the library blueprints into one self-contained ``Blueprint`` (roles, entities,
processes, pipelines, field groups and fields, each kept once, first one wins), and
``tailor_from_assessment`` does the whole job from an answers file or a scored assessment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TypeVar

from crmkit.assess.model import MAX_LEVEL, Questionnaire
from crmkit.assess.scoring import Assessment
from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint, Pipeline
from crmkit.errors import InputError
from crmkit.i18n import Lang, Text, run_msg


@dataclass(frozen=True)
class Part:
    """One library blueprint in the composition, and why it is there."""

    id: str
    why: Text
    #: "services": the blueprint's deal pipelines copied as a pipeline of their own for services
    variant: str = ""


def _profile(tags: Iterable[str]) -> tuple[bool, bool, bool, bool]:
    tags = set(tags)
    b2b, b2c = "b2b" in tags, "b2c" in tags
    if not (b2b or b2c):
        b2b = True  # unknown: companies are the safer default (the full pipeline)
    return b2b, b2c, "retail" in tags, "wholesale" in tags


def plan_blueprint(level: int, tags: Iterable[str]) -> list[Part]:
    """The library blueprints for a company at ``level`` with the profile ``tags``. Pure."""
    tags = set(tags)
    b2b, b2c, retail, wholesale = _profile(tags)
    products, services = "products" in tags, "services" in tags
    parts = [
        Part(
            "roles",
            Text(
                ru="кто принимает лиды, кто продаёт, кто контролирует",
                en="who takes leads, who sells, who controls",
                uk="хто приймає ліди, хто продає, хто контролює",
            ),
        ),
        Part(
            "entities",
            Text(
                ru="лиды, контакты, компании, сделки, дела",
                en="leads, contacts, companies, deals, activities",
                uk="ліди, контакти, компанії, угоди, справи",
            ),
        ),
        Part(
            "lead-funnel",
            Text(
                ru="каждая заявка разбирается",
                en="every request gets processed",
                uk="кожну заявку опрацьовують",
            ),
        ),
    ]
    if b2c and not b2b:
        main = Part(
            "deal-retail",
            Text(
                ru="клиенты — частные лица",
                en="clients are individuals",
                uk="клієнти — приватні особи",
            ),
        )
    elif wholesale and not retail:
        main = Part(
            "deal-wholesale", Text(ru="продажи оптом", en="wholesale sales", uk="продажі оптом")
        )
    else:
        main = Part(
            "deal-b2b-full",
            Text(ru="клиенты — компании", en="clients are companies", uk="клієнти — компанії"),
        )
    parts.append(main)
    if level >= 3:
        extra: list[Part] = []
        if b2b and b2c and main.id != "deal-retail":
            extra.append(
                Part(
                    "deal-retail",
                    Text(
                        ru="есть и частные клиенты",
                        en="there are individual clients too",
                        uk="є й приватні клієнти",
                    ),
                )
            )
        if retail and wholesale:
            for pid in ("deal-retail", "deal-wholesale"):
                extra.append(
                    Part(
                        pid,
                        Text(
                            ru="продажи и в розницу, и оптом",
                            en="both retail and wholesale sales",
                            uk="продажі і в роздріб, і оптом",
                        ),
                    )
                )
        if products and services:
            extra.append(
                Part(
                    main.id,
                    Text(
                        ru="товары и услуги — в разных воронках, если процессы их продажи "
                        "заметно различаются",
                        en="products and services in separate pipelines where selling them differs",
                        uk="товари й послуги — у різних воронках, якщо процеси їхнього продажу "
                        "помітно відрізняються",
                    ),
                    variant="services",
                )
            )
        parts += extra
        parts += [
            Part(
                "deal-marketing",
                Text(
                    ru="уровень 4: отдельная воронка маркетинга",
                    en="level 4: a separate marketing funnel",
                    uk="рівень 4: окрема воронка маркетингу",
                ),
            ),
            Part(
                "deal-repeat",
                Text(
                    ru="уровень 4: новые и повторные продажи раздельно",
                    en="level 4: new and repeat sales kept apart",
                    uk="рівень 4: нові й повторні продажі окремо",
                ),
            ),
            Part(
                "fields-scoring",
                Text(
                    ru="скоринг сделок для контроля показателей",
                    en="deal scoring for controlling the KPIs",
                    uk="скоринг угод для контролю показників",
                ),
            ),
        ]
    if level >= 4:
        parts.append(
            Part(
                "deal-reanimation",
                Text(
                    ru="уровень 5: воронка реанимации",
                    en="level 5: a reanimation funnel",
                    uk="рівень 5: воронка реанімації",
                ),
            )
        )
        if products or not services:
            # a services-only client has no goods to deliver: its fulfilment is its own process
            parts.append(
                Part(
                    "process-delivery",
                    Text(
                        ru="уровень 5: вспомогательный процесс — доставка и монтаж товаров",
                        en="level 5: an auxiliary process, the delivery and installation of goods",
                        uk="рівень 5: допоміжний процес — доставка й монтаж товарів",
                    ),
                )
            )
        parts.append(
            Part(
                "escalation-no-answer",
                Text(
                    ru="заметка консультанта, не критерий уровня: эскалация недозвонов",
                    en="a consultant's note, not a level criterion: the no-answer escalation",
                    uk="нотатка консультанта, не критерій рівня: ескалація недодзвонів",
                ),
            )
        )
    escalation = next((p for p in parts if p.id == "escalation-no-answer"), None)
    if escalation is not None:
        # the escalation blueprint is the lead funnel plus the "no answer" stages; Bitrix24 has
        # one lead funnel, so it takes the plain funnel's place instead of being dropped later
        parts = [escalation if p.id == "lead-funnel" else p for p in parts]
    seen: set[tuple[str, str]] = set()
    unique = []
    for part in parts:
        if (part.id, part.variant) not in seen:
            seen.add((part.id, part.variant))
            unique.append(part)
    return unique


def services_copy(blueprint: Blueprint) -> Blueprint:
    """The deal pipelines of ``blueprint`` once more, for services: the same stages to start
    from, under their own codes and names (seed 002: when selling products and services differs,
    they go to separate pipelines; the consultant adapts the stages to the services)."""
    pipelines = tuple(
        replace(
            p,
            code=f"{p.code}_services",
            name=Text(
                ru=f"{p.name.ru} — услуги" if p.name.ru else "",
                en=f"{p.name.en}: services" if p.name.en else "",
                uk=f"{p.name.uk} — послуги" if p.name.uk else "",
            ),
            description=Text(
                ru=" ".join(x for x in (p.description.ru, _SERVICES.ru) if x),
                en=" ".join(x for x in (p.description.en, _SERVICES.en) if x),
                uk=" ".join(x for x in (p.description.uk, _SERVICES.uk) if x),
            ),
        )
        for p in blueprint.pipelines
        if p.kind == "deal"
    )
    return replace(blueprint, pipelines=pipelines)


_SERVICES = Text(
    ru="Эта воронка — для услуг: продажи товаров и услуг ведут в разных воронках, если их процессы "
    "заметно различаются. Поправьте стадии под то, как продаются ваши услуги, или удалите воронку, "
    "если процесс тот же, что у товаров.",
    en="This pipeline is for services: products and services are sold in separate pipelines "
    "when their processes differ markedly. Adapt the stages to how your services are sold, or "
    "delete the pipeline if the process is the same as for products.",
    uk="Ця воронка — для послуг: продажі товарів і послуг ведуть у різних воронках, якщо їхні "
    "процеси помітно відрізняються. Виправте стадії під те, як продаються ваші послуги, або "
    "видаліть воронку, якщо процес той самий, що й для товарів.",
)


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


def _describe(
    level: int,
    parts: Sequence[Part],
    names: Sequence[Text] = (),
    tags: Iterable[str] = (),
) -> Text:
    """What the blueprint is made of and why, by the parts' names (``names``, in the order of
    ``parts``; the library ids when none are given), and what it leaves to the consultant."""
    target = min(level + 1, MAX_LEVEL)
    tags = set(tags)
    ru = [f"Схема для компании уровня {level}: что нужно для уровня {target}. Состав:"]
    en = [f"A blueprint for a company at level {level}: what level {target} needs. Made of:"]
    uk = [f"Схема для компанії рівня {level}: що потрібно для рівня {target}. Склад:"]
    for index, part in enumerate(parts):
        name = names[index] if index < len(names) else Text(part.id, part.id, part.id)
        if part.variant == "services":
            name = Text(f"{name.ru} — услуги", f"{name.en}: services", f"{name.uk} — послуги")
        ru.append(f"{name.ru or part.id} — {part.why.ru};")
        en.append(f"{name.en or part.id} — {part.why.en};")
        uk.append(f"{name.uk or name.ru or part.id} — {part.why.uk or part.why.ru};")
    notes: list[Text] = []
    if "products" in tags:
        notes.append(
            Text(
                ru="Товары, которым нужно особое внимание, вынесите в отдельную воронку.",
                en="Put the products that need special attention into a pipeline of their own.",
                uk="Товари, яким потрібна особлива увага, винесіть в окрему воронку.",
            )
        )
    if "services" in tags and "products" not in tags and level >= 4:
        notes.append(
            Text(
                ru="Исполнение услуг — вспомогательный процесс уровня 5: опишите его отдельной "
                "воронкой со своими стадиями, сроками и ответственными.",
                en="Fulfilling the services is an auxiliary process of level 5: describe it as a "
                "pipeline of its own, with its stages, deadlines and responsibles.",
                uk="Виконання послуг — допоміжний процес рівня 5: опишіть його окремою воронкою "
                "з власними стадіями, строками та відповідальними.",
            )
        )

    def close(items: list[str], lang: str) -> str:
        text = " ".join(items).rstrip(";") + "."
        return " ".join([text, *(getattr(n, lang) for n in notes)])

    return Text(ru=close(ru, "ru"), en=close(en, "en"), uk=close(uk, "uk"))


def tailor(assessment: Assessment, library: Library) -> Blueprint:
    """The next-level blueprint for a scored assessment (reads the library's files)."""
    level = assessment.level
    parts = plan_blueprint(level, assessment.tags)
    missing = [p.id for p in parts if library.find(p.id) is None]
    if missing:
        raise InputError(run_msg("load.blueprint.library_lacks", names=", ".join(missing)))
    loaded = [library.load(part.id) for part in parts]
    names = [bp.name for bp in loaded]
    loaded = [
        services_copy(bp) if part.variant == "services" else bp
        for part, bp in zip(parts, loaded, strict=True)
    ]
    target = min(level + 1, MAX_LEVEL)
    return compose(
        f"tailored-level-{target}",
        Text(
            ru=f"Схема CRM: переход на уровень {target}",
            en=f"CRM blueprint: moving to level {target}",
            uk=f"Схема CRM: перехід на рівень {target}",
        ),
        _describe(level, parts, names, assessment.tags),
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

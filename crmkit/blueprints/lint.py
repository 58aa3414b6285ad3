"""Lint: rules that say what is wrong with a blueprint and why it matters.

The rules' severities, messages (ru/en) and thresholds are data (``rules.toml``); this module holds
the checks. Pure: a blueprint in, findings out.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from typing import Literal

from crmkit.blueprints.model import (
    ENTITIES,
    FIELD_ENTITIES,
    Blueprint,
    Pipeline,
    Stage,
    bitrix_field_name,
)
from crmkit.i18n import LANGS, Lang, Text, msg

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

#: Standard fields a stage may require without defining them (Bitrix24 field ids).
STANDARD_FIELDS = frozenset(
    {
        "TITLE",
        "NAME",
        "LAST_NAME",
        "SECOND_NAME",
        "PHONE",
        "EMAIL",
        "WEB",
        "IM",
        "ADDRESS",
        "COMPANY_TITLE",
        "COMPANY_ID",
        "CONTACT_ID",
        "CONTACT_IDS",
        "POST",
        "SOURCE_ID",
        "SOURCE_DESCRIPTION",
        "OPPORTUNITY",
        "CURRENCY_ID",
        "COMMENTS",
        "ASSIGNED_BY_ID",
        "BEGINDATE",
        "CLOSEDATE",
        "TYPE_ID",
        "PRODUCTS",
        "REQUISITES",
        "BANK_DETAILS",
        "INDUSTRY",
        "EMPLOYEES",
        "REVENUE",
        "QUOTE_ID",
        "INVOICE",
        "PROBABILITY",
        "OBSERVER",
    }
)

#: The stages a new deal pipeline gets from Bitrix24 itself (BITRIX24.md §3.2), as C<id>:CODE
PORTAL_DEAL_STAGES = frozenset(
    {
        "NEW",
        "PREPARATION",
        "PREPAYMENT_INVOICE",
        "EXECUTING",
        "FINAL_INVOICE",
        "WON",
        "LOSE",
        "APOLOGY",
    }
)

_STAGE_CHARS = re.compile(r"[A-Za-z0-9_-]+")
#: Bitrix24's stage order: in progress, then the success stage, then failure stages
_ORDER = {"process": 0, "success": 1, "failure": 2}
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_FIELD_CHARS = re.compile(r"[A-Z0-9_]+")


@dataclass(frozen=True)
class Rule:
    id: str
    severity: Severity
    title: str
    message: Text


@dataclass(frozen=True)
class LintSettings:
    max_stages: int = 12
    max_pipeline_stage_code: int = 16
    other_reason_words: tuple[str, ...] = ()
    price_reason_patterns: tuple[str, ...] = ()
    tender_tags: tuple[str, ...] = ()
    disabled: frozenset[str] = frozenset()
    rules: dict[str, Rule] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: Severity
    title: str
    message: str
    path: str
    where: str = ""

    def to_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "title": self.title,
            "message": self.message,
            "path": self.path,
            "where": self.where,
        }


@cache
def _rules_data() -> dict[str, object]:
    raw = resources.files("crmkit.blueprints").joinpath("rules.toml").read_text(encoding="utf-8")
    return tomllib.loads(raw)


def default_settings() -> LintSettings:
    data = _rules_data()
    settings = data["settings"]
    assert isinstance(settings, dict)
    rules: dict[str, Rule] = {}
    raw_rules = data["rules"]
    assert isinstance(raw_rules, dict)
    for rule_id, body in raw_rules.items():
        rules[rule_id] = Rule(
            id=rule_id,
            severity=body["severity"],
            title=body["title"],
            message=Text(
                ru=body["message"]["ru"],
                en=body["message"]["en"],
                uk=body["message"].get("uk", ""),
            ),
        )
    return LintSettings(
        max_stages=int(settings["max_stages"]),
        max_pipeline_stage_code=int(settings["max_pipeline_stage_code"]),
        other_reason_words=tuple(settings["other_reason_words"]),
        price_reason_patterns=tuple(settings["price_reason_patterns"]),
        tender_tags=tuple(settings["tender_tags"]),
        rules=rules,
    )


class _Linter:
    def __init__(self, blueprint: Blueprint, settings: LintSettings, lang: Lang) -> None:
        self.bp = blueprint
        self.settings = settings
        self.lang = lang
        self.findings: list[Finding] = []
        self.processes = {s.code for s in blueprint.smart_processes}
        #: the first deal pipeline is the portal's default one (category 0)
        self.default_deal = next((p for p in blueprint.pipelines if p.kind == "deal"), None)

    def t(self, key: str, **values: object) -> str:
        return msg(f"lint.{key}", self.lang, **values)

    def report(self, rule_id: str, path: str, where: str, **values: object) -> None:
        if rule_id in self.settings.disabled:
            return
        rule = self.settings.rules[rule_id]
        self.findings.append(
            Finding(
                rule=rule_id,
                severity=rule.severity,
                title=rule.title,
                message=rule.message.get(self.lang).format(**values),
                path=path,
                where=where,
            )
        )

    # -- paths ---------------------------------------------------------------------------------
    @staticmethod
    def p_path(pipeline: Pipeline) -> str:
        return f"pipelines[{pipeline.code}]"

    def s_path(self, pipeline: Pipeline, stage: Stage) -> str:
        return f"{self.p_path(pipeline)}.stages[{stage.code}]"

    def name(self, text: Text, fallback: str) -> str:
        return text.get(self.lang) or fallback

    # -- rules ---------------------------------------------------------------------------------
    def run(self) -> list[Finding]:
        self.duplicates()
        lead_funnels = [p for p in self.bp.pipelines if p.kind == "lead"]
        if len(lead_funnels) > 1:
            self.report(
                "BP008",
                self.p_path(lead_funnels[1]),
                lead_funnels[1].where,
                count=len(lead_funnels),
            )
        for pipeline in self.bp.pipelines:
            self.pipeline(pipeline)
        self.fields()
        self.entities()
        self.translations()
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self.findings, key=lambda f: order[f.severity])

    def duplicates(self) -> None:
        def dup(kind: str, codes: Iterator[tuple[str, str, str]]) -> None:
            counts: Counter[str] = Counter()
            for code, path, where in codes:
                counts[code] += 1
                if counts[code] == 2:
                    self.report("BP013", path, where, what=self.t(f"what.{kind}"), code=code)

        dup("role", ((r.code, f"roles[{r.code}]", r.where) for r in self.bp.roles))
        dup("pipeline", ((p.code, self.p_path(p), p.where) for p in self.bp.pipelines))
        dup(
            "process",
            ((s.code, f"smart_processes[{s.code}]", s.where) for s in self.bp.smart_processes),
        )
        dup(
            "field",
            (
                # Bitrix24 upper-cases codes and ensures UF_CRM_: "score" and "UF_CRM_SCORE" clash
                (f"{f.entity}.{f.field_name}", f"fields[{f.entity}.{f.code}]", f.where)
                for f in self.bp.fields
            ),
        )
        for pipeline in self.bp.pipelines:
            dup("stage", ((s.code, self.s_path(pipeline, s), s.where) for s in pipeline.stages))

    def pipeline(self, pipeline: Pipeline) -> None:
        p_name = self.name(pipeline.name, pipeline.code)
        p_path = self.p_path(pipeline)
        successes = pipeline.stages_with("success")
        if len(successes) != 1:
            self.report("BP001", p_path, pipeline.where, pipeline=p_name, count=len(successes))
        failures = pipeline.stages_with("failure")
        if not failures:
            self.report("BP002", p_path, pipeline.where, pipeline=p_name)
        process_count = len(pipeline.stages_with("process"))
        if process_count > self.settings.max_stages:
            self.report(
                "BP007",
                p_path,
                pipeline.where,
                pipeline=p_name,
                count=process_count,
                limit=self.settings.max_stages,
            )
        if (
            pipeline.kind == "smart_process"
            and pipeline.process
            and pipeline.process not in self.processes
        ):
            self.report("BP016", p_path, pipeline.where, pipeline=p_name, code=pipeline.process)

        highest = 0
        stage_codes = {s.code for s in pipeline.stages}
        tender = any(tag.casefold() in self.settings.tender_tags for tag in pipeline.tags)
        for index, stage in enumerate(pipeline.stages):
            s_name = self.name(stage.name, stage.code)
            s_path = self.s_path(pipeline, stage)
            values = {"pipeline": p_name, "stage": s_name}
            rank = _ORDER[stage.semantics]
            if rank < highest:
                self.report("BP014", s_path, stage.where, **values)
            highest = max(highest, rank)
            self.stage_code(pipeline, stage, index, process_count)
            if not stage.description:
                self.report("BP005", s_path, stage.where, **values)
            if stage.responsible is None:
                if stage.semantics == "process":
                    self.report("BP006", s_path, stage.where, **values)
            elif self.bp.role(stage.responsible) is None:
                self.report(
                    "BP015", s_path + ".responsible", stage.where, role=stage.responsible, **values
                )
            if stage.semantics == "process" and stage.max_minutes is None:
                stuck = self.t(f"stuck.{pipeline.kind}")
                self.report("BP024", s_path, stage.where, stuck=stuck, **values)
            if stage.semantics == "failure":
                self.failure_reason(pipeline, stage, tender)
            if stage.semantics != "process" and stage.required_fields:
                self.report(
                    "BP026",
                    s_path + ".required_fields",
                    stage.where,
                    fields=", ".join(stage.required_fields),
                    **values,
                )
            for required in stage.required_fields:
                if not self.field_known(required, pipeline):
                    self.report(
                        "BP019", s_path + ".required_fields", stage.where, field=required, **values
                    )
            for number, rule in enumerate(stage.automation):
                r_path = f"{s_path}.automation[{number}]"
                r_name = self.name(rule.title, f"#{number + 1}")
                if rule.role and self.bp.role(rule.role) is None:
                    self.report(
                        "BP011", r_path + ".role", rule.where, name=r_name, role=rule.role, **values
                    )
                if rule.target_stage and rule.target_stage not in stage_codes:
                    self.report(
                        "BP012",
                        r_path + ".target_stage",
                        rule.where,
                        name=r_name,
                        code=rule.target_stage,
                        **values,
                    )
                if rule.action in ("create_task", "notify", "change_responsible") and not rule.role:
                    self.report(
                        "BP025",
                        r_path,
                        rule.where,
                        name=r_name,
                        problem=self.t("problem.automation_no_role"),
                        **values,
                    )

    def failure_reason(self, pipeline: Pipeline, stage: Stage, tender: bool) -> None:
        p_name = self.name(pipeline.name, pipeline.code)
        s_path = self.s_path(pipeline, stage)
        names = [
            " ".join(n.casefold().split())
            for n in (stage.name.ru, stage.name.en, stage.name.uk)
            if n
        ]
        shown = self.name(stage.name, stage.code)
        if any(self.is_other(n) for n in names):
            self.report("BP003", s_path, stage.where, name=shown, pipeline=p_name)
        if not tender and any(
            re.search(pattern, n) for n in names for pattern in self.settings.price_reason_patterns
        ):
            self.report("BP004", s_path, stage.where, name=shown, pipeline=p_name)
        if not stage.lesson:
            self.report("BP021", s_path, stage.where, name=shown, pipeline=p_name)

    def is_other(self, name: str) -> bool:
        """ "Другое (указать в комментарии)", "Other:", "Прочее." are all "Other"."""
        bare = _PARENTHESES.sub(" ", name)
        bare = re.split(r"[:;,.!?—–-]", bare, maxsplit=1)[0]
        return " ".join(bare.split()) in self.settings.other_reason_words

    def stage_code(self, pipeline: Pipeline, stage: Stage, index: int, process_count: int) -> None:
        code = stage.code
        p_name = self.name(pipeline.name, pipeline.code)
        s_path = self.s_path(pipeline, stage) + ".code"
        problem = None
        if not _STAGE_CHARS.fullmatch(code):
            bad = sorted({ch for ch in code if not _STAGE_CHARS.fullmatch(ch)})
            problem = self.t("problem.stage_chars", chars=" ".join(bad))
        elif pipeline.kind == "lead" and len(code) > 21:
            problem = self.t("problem.too_long", limit=21, count=len(code))
        elif pipeline.kind == "deal" and self.is_default_deal(pipeline) and len(code) > 22:
            problem = self.t("problem.too_long", limit=22, count=len(code))
        elif (
            pipeline.kind == "deal"
            and not self.is_default_deal(pipeline)
            and len(code) > self.settings.max_pipeline_stage_code
            # the stages Bitrix24 itself creates in every new pipeline fit, whatever their length
            and code not in PORTAL_DEAL_STAGES
        ):
            problem = self.t(
                "problem.deal_code_long",
                limit=self.settings.max_pipeline_stage_code,
                count=len(code),
            )
        elif pipeline.kind == "smart_process" and len(code) > 30:
            problem = self.t("problem.too_long", limit=30, count=len(code))
        if problem:
            self.report("BP009", s_path, stage.where, code=code, pipeline=p_name, problem=problem)

    def is_default_deal(self, pipeline: Pipeline) -> bool:
        """The first deal pipeline of a blueprint is the portal's default one (category 0), whose
        stage codes carry no "C<id>:" prefix (push maps it so)."""
        return self.default_deal is pipeline

    def field_known(self, name: str, pipeline: Pipeline) -> bool:
        """A standard field, or a custom field of the entity the pipeline moves."""
        upper = name.upper()
        if upper in STANDARD_FIELDS:
            return True
        entity = pipeline.process if pipeline.kind == "smart_process" else pipeline.kind
        if entity is None:
            return False
        return self.bp.custom_field(bitrix_field_name(upper), entity) is not None

    def fields(self) -> None:
        processes = self.processes
        groups = {(g.entity, g.code) for g in self.bp.field_groups}
        for f in self.bp.fields:
            path = f"fields[{f.entity}.{f.code}]"
            full = f.field_name
            problem = None
            # isascii first: Python's upper() turns "straße" into "STRASSE"
            if not f.code.isascii() or not _FIELD_CHARS.fullmatch(f.code.upper()):
                bad = sorted({ch for ch in f.code if not _FIELD_CHARS.fullmatch(ch.upper())})
                problem = self.t("problem.field_chars", chars=" ".join(bad))
            elif f.entity in processes and len(f.code) > 39:
                problem = self.t("problem.process_field_long", count=len(f.code))
            elif len(full) > 50:
                problem = self.t("problem.field_long", name=full, count=len(full))
            if problem:
                self.report(
                    "BP010", path + ".code", f.where, code=f.code, entity=f.entity, problem=problem
                )
            if f.entity not in FIELD_ENTITIES and f.entity not in processes:
                self.report(
                    "BP017",
                    path + ".entity",
                    f.where,
                    code=f.code,
                    problem=self.t(
                        "problem.field_entity", entity=f.entity, known=", ".join(FIELD_ENTITIES)
                    ),
                )
            if f.group and (f.entity, f.group) not in groups:
                self.report(
                    "BP017",
                    path + ".group",
                    f.where,
                    code=f.code,
                    problem=self.t("problem.field_group", group=f.group),
                )
            if f.type == "enumeration" and not f.items:
                self.report("BP018", path + ".items", f.where, code=f.code)
            if f.type != "enumeration" and f.items:
                self.report(
                    "BP017",
                    path + ".items",
                    f.where,
                    code=f.code,
                    problem=self.t("problem.items_not_list", type=f.type),
                )
            xml_ids = Counter(item.xml_id for item in f.items if item.xml_id)
            for xml_id in sorted(x for x, count in xml_ids.items() if count > 1):
                self.report(
                    "BP017",
                    path + ".items",
                    f.where,
                    code=f.code,
                    problem=self.t("problem.item_xml_id", xml_id=xml_id),
                )
            if any(not (item.value.ru.strip() or item.value.en.strip()) for item in f.items):
                self.report(
                    "BP017",
                    path + ".items",
                    f.where,
                    code=f.code,
                    problem=self.t("problem.item_empty"),
                )
            if f.type == "boolean" and f.multiple:
                self.report("BP020", path + ".multiple", f.where, code=f.code)

    def entities(self) -> None:
        used = {e.code for e in self.bp.entities if e.used}
        for entity in self.bp.entities:
            if entity.code not in ENTITIES:
                self.report(
                    "BP017",
                    f"entities[{entity.code}]",
                    entity.where,
                    code=entity.code,
                    problem=self.t("problem.entity", entity=entity.code, known=", ".join(ENTITIES)),
                )
        if "deal" in used and not ({"contact", "company"} & used):
            self.report("BP023", "entities", self.bp.where)

    def translations(self) -> None:
        texts: list[tuple[Text, str, str, str]] = []
        for pipeline in self.bp.pipelines:
            texts.append(
                (pipeline.name, pipeline.code, self.p_path(pipeline) + ".name", pipeline.where)
            )
            for stage in pipeline.stages:
                path = self.s_path(pipeline, stage)
                texts.append((stage.name, stage.code, path + ".name", stage.where))
                texts.append((stage.description, stage.code, path + ".description", stage.where))
        # Russian and English always; Ukrainian once the blueprint has a Ukrainian text of its
        # own somewhere (one string for every language does not count)
        speaks_uk = any(t.uk and not t.uk == t.ru == t.en for t, *_ in texts)
        langs = [lang for lang in LANGS if lang != "uk" or speaks_uk]
        for text, what, path, where in texts:
            for lang in langs:
                if text and not getattr(text, lang):
                    self.report("BP022", path, where, what=what, lang=lang)


def lint(
    blueprint: Blueprint, settings: LintSettings | None = None, lang: Lang = "en"
) -> list[Finding]:
    """All findings for ``blueprint``, errors first."""
    return _Linter(blueprint, settings or default_settings(), lang).run()


def with_overrides(
    settings: LintSettings, *, max_stages: int | None = None, disabled: tuple[str, ...] = ()
) -> LintSettings:
    return replace(
        settings,
        max_stages=settings.max_stages if max_stages is None else max_stages,
        disabled=settings.disabled | frozenset(disabled),
    )


def summary(findings: list[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {severity: counts.get(severity, 0) for severity in SEVERITIES}

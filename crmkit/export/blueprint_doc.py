"""Client documentation for a blueprint: Markdown and self-contained HTML.

``blueprint_view`` turns the model into display strings (pure); the Markdown template lays them
out; HTML is the same Markdown with the funnel drawn as inline SVG instead of Mermaid.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from crmkit.blueprints.model import (
    ENTITIES,
    AutomationRule,
    Blueprint,
    CustomField,
    Pipeline,
    Stage,
    bitrix_field_name,
    format_duration,
)
from crmkit.export.frame import DocumentMeta
from crmkit.export.funnel import funnel_mermaid, funnel_svg
from crmkit.export.html import HtmlDocument
from crmkit.export.markdown import framed_markdown, html_values, md_escape, render_template
from crmkit.i18n import Lang, Text, has_msg, msg

#: Where a funnel figure goes in the rendered Markdown; a fresh random token per render, so no
#: text from a blueprint can imitate it (escaped text could not anyway, but the token is the
#: guarantee)
_FIGURE_PREFIX = "@@crmkit-figure-"


def _t(key: str, lang: Lang, **values: object) -> str:
    return msg(f"doc.{key}", lang, **values)


@dataclass(frozen=True)
class _Names:
    """Display names of roles, stages and pipelines, for automation sentences."""

    blueprint: Blueprint
    lang: Lang

    def role(self, code: str | None) -> str:
        if code is None:
            return ""
        role = self.blueprint.role(code)
        return role.name.get(self.lang) if role and role.name else code

    def stage(self, pipeline: Pipeline, code: str | None) -> str:
        stage = pipeline.stage(code) if code else None
        return stage.name.get(self.lang) if stage and stage.name else (code or "")

    def process(self, code: str | None) -> str:
        process = self.blueprint.smart_process(code)
        return process.title.get(self.lang) if process else (code or "")


def describe_rule(rule: AutomationRule, pipeline: Pipeline, names: _Names) -> str:
    """One sentence: when the robot runs, what it does, for whom, by when."""
    lang = names.lang
    if rule.trigger == "after_delay" and rule.delay_minutes is not None:
        when = _t("auto.after_delay", lang, delay=format_duration(rule.delay_minutes, lang))
    else:
        when = _t(f"auto.{rule.trigger}", lang)
    title = rule.title.get(lang)
    what = _t(
        f"auto.{rule.action}", lang, title=title, target=names.stage(pipeline, rule.target_stage)
    )
    parts = [f"{when.capitalize()}: {what}"]
    if rule.role:
        parts.append(_t("auto.for_role", lang, role=names.role(rule.role)))
    if rule.deadline_minutes is not None:
        parts.append(
            _t("auto.deadline", lang, deadline=format_duration(rule.deadline_minutes, lang))
        )
    if rule.action == "create_task" and rule.complete_on_leave:
        parts.append(_t("auto.closes", lang))
    return ", ".join(parts) + "."


def _kind(pipeline: Pipeline, names: _Names) -> str:
    if pipeline.kind == "smart_process":
        return _t("kind_smart_process", names.lang, process=names.process(pipeline.process))
    return _t(f"kind_{pipeline.kind}", names.lang)


def _kind_short(pipeline: Pipeline, names: _Names) -> str:
    """The kind for the contents: the smart process's name only when it differs from the
    pipeline's ("Delivery (smart process "Delivery")" says it twice)."""
    if pipeline.kind == "smart_process" and names.process(pipeline.process) == (
        pipeline.name.get(names.lang) or pipeline.code
    ):
        return _t("kind_smart_process_short", names.lang)
    return _kind(pipeline, names)


def _stage_view(number: int, stage: Stage, pipeline: Pipeline, names: _Names) -> dict[str, Any]:
    lang = names.lang
    description = stage.description.get(lang)
    if stage.required_fields:
        labels = [
            _field_label(names.blueprint, f, lang, pipeline, with_code=False)
            for f in stage.required_fields
        ]
        required = _t("required", lang, fields=", ".join(labels))
        description = f"{description} {required}".strip()
    return {
        "number": number,
        "name": stage.name.get(lang) or stage.code,
        "description": description,
        "who": names.role(stage.responsible),
        "how_long": format_duration(stage.max_minutes, lang) if stage.max_minutes else "",
        "automation": " ".join(describe_rule(r, pipeline, names) for r in stage.automation),
    }


def _field_type(type_: str, lang: Lang) -> str:
    """A field's type as the client reads it («деньги», "money"): the Bitrix24 type id is for
    the blueprint file, not the document."""
    key = f"doc.field_type.{type_}"
    return msg(key, lang) if has_msg(key) else type_


def blueprint_view(bp: Blueprint, lang: Lang) -> dict[str, Any]:
    names = _Names(bp, lang)
    pipelines = []
    for pipeline in bp.pipelines:
        stages = [
            _stage_view(i + 1, stage, pipeline, names) for i, stage in enumerate(pipeline.stages)
        ]
        success = pipeline.stages_with("success")
        pipelines.append(
            {
                "name": pipeline.name.get(lang) or pipeline.code,
                "kind": _kind(pipeline, names),
                "kind_short": _kind_short(pipeline, names),
                "description": pipeline.description.get(lang),
                "stages": stages,
                "success": "; ".join(s.name.get(lang) or s.code for s in success),
                "failures": [
                    {"name": s.name.get(lang) or s.code, "lesson": s.lesson.get(lang)}
                    for s in pipeline.stages_with("failure")
                ],
            }
        )
    return {
        "name": bp.name.get(lang) or bp.id,
        "description": bp.description.get(lang),
        "roles": [
            {"name": r.name.get(lang) or r.code, "description": r.description.get(lang)}
            for r in bp.roles
        ],
        "entities": [
            {
                "name": _entity_name(e.code, lang),
                "used": _t("yes" if e.used else "no", lang),
                "why": e.why.get(lang),
            }
            for e in bp.entities
        ],
        "smart_processes": [
            {"title": s.title.get(lang) or s.code, "description": s.description.get(lang)}
            for s in bp.smart_processes
        ],
        "pipelines": pipelines,
        "fields": _fields_view(bp, lang, names),
    }


def _entity_name(code: str, lang: Lang) -> str:
    key = f"doc.entity_name.{code}"
    try:
        return msg(key, lang)
    except KeyError:
        return code


def _fields_view(bp: Blueprint, lang: Lang, names: _Names) -> list[dict[str, Any]]:
    present = {f.entity for f in bp.fields}
    processes = [p.code for p in bp.smart_processes]
    entities = [e for e in ENTITIES if e in present] + [p for p in processes if p in present]
    entities += sorted(present - set(entities))
    out = []
    for entity in entities:
        title_entity = (
            names.process(entity)
            if bp.smart_process(entity) is not None
            else _entity_name(entity, lang)
        )
        groups: list[dict[str, Any]] = []
        by_group: dict[str | None, list[dict[str, str]]] = {}
        for f in bp.fields_of(entity):
            flags = [_t("mandatory", lang)] if f.mandatory else []
            if f.multiple:
                flags.append(_t("multiple", lang))
            by_group.setdefault(f.group, []).append(
                {
                    "label": f.label.get(lang) or f.code,
                    "code": _shown_field_name(f, processes),
                    "type": _field_type(f.type, lang),
                    "flags": ", ".join(flags),
                    "items": "; ".join(i.value.get(lang) for i in f.items),
                    "help": f.help.get(lang),
                }
            )
        for code, fields in by_group.items():
            group = bp.field_group(entity, code)
            groups.append(
                {
                    "title": _t("group", lang, name=group.name.get(lang) if group else code)
                    if code
                    else "",
                    "description": group.description.get(lang) if group else "",
                    "fields": fields,
                }
            )
        out.append({"title": _t("fields_of", lang, entity=title_entity), "groups": groups})
    return out


def _shown_field_name(field: CustomField, processes: list[str]) -> str:
    """Smart-process fields get no automatic prefix: Bitrix24 wants UF_CRM_<type id>_<code>."""
    if field.entity in processes:
        return f"UF_CRM_<id>_{field.code.upper()}"
    return field.field_name


def manual_checklist(bp: Blueprint, lang: Lang) -> list[dict[str, Any]]:
    """What REST cannot set: robots on stages and stage-required fields, with menu paths."""
    names = _Names(bp, lang)
    items: list[dict[str, Any]] = []
    for pipeline in bp.pipelines:
        p_name = pipeline.name.get(lang) or pipeline.code
        later = (
            _later_stages(pipeline, lang) if any(s.required_fields for s in pipeline.stages) else []
        )
        for position, stage in enumerate(pipeline.stages):
            s_name = stage.name.get(lang) or stage.code
            for index, rule in enumerate(stage.automation, start=1):
                robot = _t(f"robot.{rule.action}", lang)
                path = _t(
                    f"robot.path_{pipeline.kind}",
                    lang,
                    stage=s_name,
                    pipeline=p_name,
                    process=names.process(pipeline.process),
                    robot=robot,
                )
                details = [describe_rule(rule, pipeline, names)]
                if rule.text:
                    details.append(rule.text.get(lang))
                items.append(
                    {
                        "number": len(items) + 1,
                        # stable: a push plan lists it under this id until it is done
                        "id": f"robot.{pipeline.code}.{stage.code}.{index}",
                        "path": path,
                        "details": details,
                    }
                )
            # a field needed to leave the stage: Bitrix24 asks for a field required on a stage
            # when an item enters it, so it is ticked from the next stage up to the success one
            # (not on the failure stages: an item is closed as lost without it)
            for required in stage.required_fields:
                entity = {"lead": "lead", "deal": "deal"}.get(pipeline.kind, pipeline.process or "")
                items.append(
                    {
                        "number": len(items) + 1,
                        "id": f"required.{pipeline.code}.{stage.code}.{required}",
                        "path": _t(
                            "robot.required_path",
                            lang,
                            field=_field_label(bp, required, lang, pipeline),
                            entity=_entity_name(entity, lang),
                            stage=s_name,
                            stages=later[position],
                            pipeline=p_name,
                        ),
                        "details": [],
                    }
                )
    return items


def _later_stages(pipeline: Pipeline, lang: Lang) -> list[str]:
    """For each stage, the stages to tick for a field needed to leave it: the next one that is
    not a failure and every one after it up to the success stage (one pass from the end)."""
    stages = pipeline.stages
    success = next((i for i, s in enumerate(stages) if s.semantics == "success"), None)
    out = [""] * len(stages)
    following: int | None = None  # the next stage after position that is not a failure
    for position in range(len(stages) - 1, -1, -1):
        first = following if following is not None else position  # final: nothing after it
        last = success if success is not None and success > first else first
        name = [stages[i].name.get(lang) or stages[i].code for i in (first, last)]
        out[position] = (
            _t("robot.required_one", lang, stage=name[0])
            if first == last
            else _t("robot.required_range", lang, first=name[0], last=name[1])
        )
        if stages[position].semantics != "failure":
            following = position
    return out


def _field_label(
    bp: Blueprint,
    name: str,
    lang: Lang,
    pipeline: Pipeline | None = None,
    *,
    with_code: bool = True,
) -> str:
    """A field as the client knows it: its label (and code), or a standard field's name."""
    wanted = bitrix_field_name(name)
    entity = None
    if pipeline is not None:
        entity = pipeline.process if pipeline.kind == "smart_process" else pipeline.kind
    field = bp.custom_field(wanted, entity) or bp.custom_field(wanted)
    if field is not None:
        label = field.label.get(lang) or field.field_name
        return f"{label} ({field.field_name})" if with_code else label
    key = f"doc.standard_field.{name.upper()}"
    return msg(key, lang) if has_msg(key) else name


def _labels(lang: Lang) -> dict[str, str]:
    keys = [
        "roles",
        "role",
        "entities",
        "entity",
        "used",
        "why",
        "pipelines",
        "pipelines_note",
        "stages",
        "stage",
        "what_happens",
        "who",
        "how_long",
        "automation",
        "success",
        "failure_reasons",
        "reason",
        "lesson",
        "description",
        "fields",
        "field",
        "code",
        "type",
        "flags",
        "items",
        "smart_processes",
        "checklist",
        "checklist_intro",
        "checklist_empty",
        "checklist_stages_path",
    ]
    return {key: _t(key, lang) for key in keys}


def _render(bp: Blueprint, lang: Lang, figure: Any) -> str:
    return render_template(
        "blueprint.md.j2",
        bp=blueprint_view(bp, lang),
        t=_labels(lang),
        checklist=manual_checklist(bp, lang),
        figure=figure,
    )


def summary_markdown(bp: Blueprint, lang: Lang) -> str:
    """The answer on page one: what the blueprint sets up, pipeline by pipeline."""
    names = _Names(bp, lang)
    intro = md_escape(bp.description.get(lang)) if bp.description.get(lang) else ""
    bullets = []
    for pipeline in bp.pipelines:
        figures = _t(
            "blueprint.summary_pipeline",
            lang,
            stages=len(pipeline.stages_with("process")),
            failures=len(pipeline.stages_with("failure")),
            rules=sum(len(s.automation) for s in pipeline.stages),
        )
        name = md_escape(pipeline.name.get(lang) or pipeline.code)
        bullets.append(f"- **{name}** ({md_escape(_kind_short(pipeline, names))}): {figures}")
    after = []
    if bp.fields:
        after.append(md_escape(_t("blueprint.summary_fields", lang, count=len(bp.fields))))
    manual = len(manual_checklist(bp, lang))
    if manual:
        after.append(md_escape(_t("blueprint.summary_manual", lang, count=manual)))
    return "\n\n".join(x for x in [intro, "\n".join(bullets), *after] if x)


def blueprint_markdown(bp: Blueprint, lang: Lang, meta: DocumentMeta | None = None) -> str:
    text = _render(bp, lang, lambda index: funnel_mermaid(bp.pipelines[index], lang))
    return framed_markdown(text, meta or DocumentMeta(), summary_markdown(bp, lang), lang)


def blueprint_html(bp: Blueprint, lang: Lang, meta: DocumentMeta | None = None) -> str:
    return blueprint_document(bp, lang, meta).render()


def blueprint_document(bp: Blueprint, lang: Lang, meta: DocumentMeta | None = None) -> HtmlDocument:
    """The blueprint in the document frame (``render`` it, or put it in the combined report)."""
    with html_values():
        return _blueprint_document(bp, lang, meta or DocumentMeta())


def _blueprint_document(bp: Blueprint, lang: Lang, meta: DocumentMeta) -> HtmlDocument:
    import secrets

    token = f"{_FIGURE_PREFIX}{secrets.token_hex(8)}:"
    text = _render(bp, lang, lambda index: f"{token}{index}@@")
    doc = HtmlDocument(
        title=bp.name.get(lang) or bp.id, lang=lang, kind=_t("blueprint.kind", lang), meta=meta
    )
    doc.summarize(summary_markdown(bp, lang))
    chunk: list[str] = []
    for line in text.splitlines():
        if line.startswith(token) and line.endswith("@@"):
            doc.markdown("\n".join(chunk))
            chunk = []
            index = int(line[len(token) : -2])
            pipeline = bp.pipelines[index]
            doc.figure(funnel_svg(pipeline, lang, f"p{index}"), caption=_t("diagram", lang))
        else:
            chunk.append(line)
    doc.markdown("\n".join(chunk))
    return doc


__all__ = [
    "blueprint_document",
    "blueprint_html",
    "blueprint_markdown",
    "blueprint_view",
    "manual_checklist",
    "Text",
]

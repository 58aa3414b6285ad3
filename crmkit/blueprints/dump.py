"""A blueprint back to TOML, laid out the way a person writes it.

``tomli_w`` escapes the values; the layout (texts as inline ``{ru, en}`` tables, one
``[[pipelines.stages]]`` block per stage) is ours so that pulled and tailored blueprints read like
the shipped ones. ``load(dump(b)) == b`` is tested.
"""

from __future__ import annotations

from collections.abc import Iterable

import tomli_w

from crmkit.blueprints.model import (
    AutomationRule,
    Blueprint,
    CustomField,
    Pipeline,
    Stage,
    format_duration_code,
)
from crmkit.i18n import Text


def _value(value: object) -> str:
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def _text(text: Text) -> str:
    parts = [
        f"{lang} = {_value(getattr(text, lang))}"
        for lang in ("ru", "en", "uk")
        if getattr(text, lang)
    ]
    return "{" + ", ".join(parts) + "}" if parts else '""'


class _Out:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def header(self, name: str, array: bool = True) -> None:
        if self.lines:
            self.lines.append("")
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def key(self, key: str, value: object) -> None:
        self.lines.append(f"{key} = {_value(value)}")

    def text(self, key: str, text: Text, always: bool = False) -> None:
        if text or always:
            self.lines.append(f"{key} = {_text(text)}")


def _automation(out: _Out, rule: AutomationRule) -> None:
    out.header("pipelines.stages.automation")
    out.key("trigger", rule.trigger)
    out.key("action", rule.action)
    if rule.role:
        out.key("role", rule.role)
    if rule.delay_minutes is not None:
        out.key("delay", format_duration_code(rule.delay_minutes))
    if rule.deadline_minutes is not None:
        out.key("deadline", format_duration_code(rule.deadline_minutes))
    if not rule.complete_on_leave:
        out.key("complete_on_leave", False)
    if rule.target_stage:
        out.key("target_stage", rule.target_stage)
    out.text("title", rule.title, always=True)
    out.text("text", rule.text)


def _stage(out: _Out, stage: Stage) -> None:
    out.header("pipelines.stages")
    out.key("code", stage.code)
    out.text("name", stage.name, always=True)
    if stage.semantics != "process":
        out.key("semantics", stage.semantics)
    if stage.color:
        out.key("color", stage.color)
    if stage.max_minutes is not None:
        out.key("max_time", format_duration_code(stage.max_minutes))
    if stage.responsible:
        out.key("responsible", stage.responsible)
    if stage.required_fields:
        out.key("required_fields", list(stage.required_fields))
    out.text("description", stage.description)
    out.text("lesson", stage.lesson)
    for rule in stage.automation:
        _automation(out, rule)


def _pipeline(out: _Out, pipeline: Pipeline) -> None:
    out.header("pipelines")
    out.key("code", pipeline.code)
    out.key("kind", pipeline.kind)
    if pipeline.process:
        out.key("process", pipeline.process)
    if pipeline.tags:
        out.key("tags", list(pipeline.tags))
    out.text("name", pipeline.name, always=True)
    out.text("description", pipeline.description)
    for stage in pipeline.stages:
        _stage(out, stage)


def _field(out: _Out, field: CustomField) -> None:
    out.header("fields")
    out.key("entity", field.entity)
    out.key("code", field.code)
    out.key("type", field.type)
    out.text("label", field.label, always=True)
    if field.mandatory:
        out.key("mandatory", True)
    if field.multiple:
        out.key("multiple", True)
    if field.group:
        out.key("group", field.group)
    out.text("help", field.help)
    for item in field.items:
        out.header("fields.items")
        out.text("value", item.value, always=True)
        if item.xml_id:
            out.key("xml_id", item.xml_id)
        if item.default:
            out.key("default", True)


def dump_blueprint(blueprint: Blueprint, comment: Iterable[str] = ()) -> str:
    out = _Out()
    out.lines.extend(f"# {line}" if line else "#" for line in comment)
    out.header("blueprint", array=False)
    out.key("id", blueprint.id)
    out.text("name", blueprint.name, always=True)
    out.text("description", blueprint.description)
    for role in blueprint.roles:
        out.header("roles")
        out.key("code", role.code)
        out.text("name", role.name, always=True)
        out.text("description", role.description)
    for entity in blueprint.entities:
        out.header("entities")
        out.key("code", entity.code)
        if not entity.used:
            out.key("used", False)
        out.text("why", entity.why, always=True)
    for process in blueprint.smart_processes:
        out.header("smart_processes")
        out.key("code", process.code)
        out.text("title", process.title, always=True)
        out.text("description", process.description)
    for pipeline in blueprint.pipelines:
        _pipeline(out, pipeline)
    for group in blueprint.field_groups:
        out.header("field_groups")
        out.key("code", group.code)
        out.key("entity", group.entity)
        out.text("name", group.name, always=True)
        out.text("description", group.description)
    for field in blueprint.fields:
        _field(out, field)
    return "\n".join(out.lines) + "\n"

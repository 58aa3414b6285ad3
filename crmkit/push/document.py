"""The push plan as a client document: what will be (or was) set up on the portal, in the
words of the blueprint (pipeline, stage and field names, not addresses), what stays manual and
what changed on the portal by hand. Pure: a plan and its blueprint in, a framed document out.

``crmkit push`` saves it as ``reports/push-plan.html`` in the client folder, where
``crmkit render .`` takes it into the combined report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmkit.blueprints.model import Blueprint
from crmkit.export.frame import DocumentMeta
from crmkit.export.markdown import md_cell, md_escape
from crmkit.i18n import Lang, has_msg, msg
from crmkit.push.plan import CHANGES, Entry, Plan

if TYPE_CHECKING:
    from crmkit.export.html import HtmlDocument

#: the order of the actions in the document's table
_AUTOMATIC = ("create", "update", "delete")


def _text(key: str, lang: Lang, target: str = "bitrix24", **values: Any) -> str:
    """A text of the document; amoCRM's own words (account, status, loss reason) where it has
    them (``push.doc.amo.*``), else the shared one."""
    own = f"push.doc.amo.{key}"
    if target == "amocrm" and has_msg(own):
        return msg(own, lang, **values)
    return msg(f"push.doc.{key}", lang, **values)


_t = _text


@dataclass(frozen=True)
class PushView:
    """What was done, if anything: the plan alone, or the plan that was applied."""

    plan: Plan
    blueprint: Blueprint
    applied: bool = False
    verified: bool = False
    #: the CRM the plan is for (``bitrix24`` | ``amocrm``): its words for its things
    target: str = "bitrix24"


def entry_name(entry: Entry, bp: Blueprint, lang: Lang, target: str = "bitrix24") -> str:
    """What an entry is, in the blueprint's words: «Воронка «Опт» → стадия «Счёт выставлен»»
    (on amoCRM «этап», and a failure stage is the account's «Причина отказа»)."""
    parts = entry.address.split(".")
    pipelines = {p.code: p for p in bp.pipelines}
    if parts[0] == "loss_reason" and len(parts) > 2:
        pipeline = pipelines.get(parts[1])
        stage = next((s for s in pipeline.stages if s.code == parts[2]), None) if pipeline else None
        name = (stage.name.get(lang) if stage else "") or parts[2]
        return _t("loss_reason", lang, target, name=name)
    if parts[0] in ("lead", "deal", "smart_process") and len(parts) > 1:
        pipeline = pipelines.get(parts[1])
        name = (pipeline.name.get(lang) if pipeline else "") or parts[1]
        shown = _t("pipeline", lang, target, name=name)
        if len(parts) > 3 and parts[2] == "stage":
            code = parts[3].lstrip("#")
            stage = next((s for s in pipeline.stages if s.code == code), None) if pipeline else None
            stage_name = (stage.name.get(lang) if stage else "") or code
            shown += " → " + _t("stage", lang, target, name=stage_name)
        return shown
    if parts[0] == "field" and len(parts) > 2:
        field = next(
            (f for f in bp.fields if f.entity == parts[1] and parts[2].endswith(f.code.upper())),
            None,
        )
        label = (field.label.get(lang) if field else "") or parts[2]
        return _t("field", lang, target, name=label)
    if parts[0] == "process" and len(parts) > 1:
        process = next((s for s in bp.smart_processes if s.code == parts[1]), None)
        title = (process.title.get(lang) if process else "") or parts[1]
        return _t("process", lang, target, name=title)
    return _t(f"kinds.{entry.kind}", lang, target) if entry.kind in _KINDS else entry.address


_KINDS = ("funnel", "stage", "field", "process", "card", "loss_reason")


def _attribute(name: str, lang: Lang, target: str = "bitrix24") -> str:
    for key in (f"push.doc.amo.attr.{name}" if target == "amocrm" else "", f"push.doc.attr.{name}"):
        if key and has_msg(key):
            return msg(key, lang)
    return name


def _details(entry: Entry, lang: Lang, target: str = "bitrix24") -> str:
    """The changes of an entry: «название: «Новая» → «Новый лид»»."""
    shown = []
    for change in entry.changes:
        if change.attribute in _UNSHOWN:
            continue
        attribute = _attribute(change.attribute, lang, target)
        before, after = (
            _shown(change.attribute, change.before, lang),
            _shown(change.attribute, change.after, lang),
        )
        if entry.action == "create":
            shown.append(f"{attribute}: {after}")
        elif entry.action == "delete":
            shown.append(f"{attribute}: {before}")
        else:
            shown.append(f"{attribute}: {before} → {after}")
    return "; ".join(shown)


#: what a client need not read: the order of stages is the table's, the field id the portal's
_UNSHOWN = frozenset({"sort", "field", "entity_id", "status_id"})
#: attribute → message key prefix of its values' names
_VALUE_NAMES = {"semantics": "push.doc.semantics", "type": "doc.field_type"}


def _shown(attribute: str, value: Any, lang: Lang) -> str:
    prefix = _VALUE_NAMES.get(attribute)
    if prefix and isinstance(value, str) and has_msg(f"{prefix}.{value}"):
        return msg(f"{prefix}.{value}", lang)
    return _value(value)


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dict):
        return " / ".join(str(v) for v in value.values() if v) or "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "✓" if value else "—"
    return f"«{value}»" if isinstance(value, str) else str(value)


def summary_markdown(view: PushView, lang: Lang) -> str:
    plan = view.plan

    def _t(key: str, lang: Lang, **values: Any) -> str:
        return _text(key, lang, view.target, **values)

    counts = plan.summary()
    if view.applied:
        head = _t(
            "summary_applied",
            lang,
            create=counts["create"],
            update=counts["update"],
            delete=counts["delete"],
        )
        head += " " + _t("verified" if view.verified else "not_verified", lang)
    elif plan.changes:
        head = _t(
            "summary_plan",
            lang,
            create=counts["create"],
            update=counts["update"],
            delete=counts["delete"],
        )
    else:
        head = _t("summary_nothing", lang)
    lines = [f"**{md_escape(head)}**"]
    if counts["conflict"]:
        lines.append(md_escape(_t("summary_conflicts", lang, count=counts["conflict"])))
    if counts["manual"]:
        lines.append(md_escape(_t("summary_manual", lang, count=counts["manual"])))
    if counts["drift"]:
        lines.append(md_escape(_t("summary_drift", lang, count=counts["drift"])))
    return "\n\n".join(lines)


def body_markdown(view: PushView, lang: Lang) -> str:
    plan, bp, target = view.plan, view.blueprint, view.target

    def _t(key: str, lang: Lang, **values: Any) -> str:
        return _text(key, lang, target, **values)

    out = [f"# {md_escape(_t('title_applied' if view.applied else 'title', lang))}", ""]
    automatic = [e for action in _AUTOMATIC for e in plan.entries if e.action == action]
    acted = "done" if view.applied else "act"  # «Создано» once applied, «Создать» in a plan
    if automatic:
        out += [
            f"## {md_escape(_t('automatic', lang))}",
            "",
            md_escape(_t("automatic_note", lang)),
            "",
        ]
        out += [
            f"| {md_cell(_t('action', lang))} | {md_cell(_t('what', lang))} | "
            f"{md_cell(_t('details', lang))} |",
            "| --- | --- | --- |",
        ]
        out += [
            f"| {md_cell(_t(f'{acted}.{e.action}', lang))} | "
            f"{md_cell(entry_name(e, bp, lang, target))} | {md_cell(_details(e, lang, target))} |"
            for e in automatic
        ]
        out.append("")
    conflicts = [e for e in plan.entries if e.action == "conflict"]
    if conflicts:
        out += [f"## {md_escape(_t('conflicts', lang))}", ""]
        out += [
            f"- **{md_escape(entry_name(e, bp, lang, target))}** — {md_escape(e.text(lang))}"
            for e in conflicts
        ]
        out.append("")
    manual = [e for e in plan.entries if e.action == "manual"]
    if manual:
        out += [f"## {md_escape(_t('manual', lang))}", "", md_escape(_t("manual_note", lang)), ""]
        for number, entry in enumerate(manual, 1):
            what = entry.text(lang) or entry_name(entry, bp, lang, target)
            out.append(f"{number}. ☐ {md_escape(what)}")
            indent = " " * (len(str(number)) + 2)
            out += [f"{indent}- {md_escape(step)}" for step in entry.steps]
        out.append("")
    if plan.drift:
        out += [f"## {md_escape(_t('drift', lang))}", ""]
        out += [
            f"| {md_cell(_t('what', lang))} | {md_cell(_t('applied_value', lang))} | "
            f"{md_cell(_t('now_value', lang))} |",
            "| --- | --- | --- |",
        ]
        for d in plan.drift:
            name = entry_name(Entry(d.address, "", "update"), bp, lang, target)
            what = f"{md_cell(name)} ({md_cell(_attribute(d.attribute, lang, target))})"
            out.append(f"| {what} | {md_cell(_value(d.applied))} | {md_cell(_value(d.now))} |")
        out.append("")
    if not automatic and not conflicts and not manual and not plan.drift:
        out.append(md_escape(_t("empty", lang)))
    return "\n".join(out) + "\n"


def push_markdown(view: PushView, lang: Lang, meta: DocumentMeta | None = None) -> str:
    from crmkit.export.markdown import framed_markdown

    return framed_markdown(
        body_markdown(view, lang), meta or DocumentMeta(), summary_markdown(view, lang), lang
    )


def push_document(view: PushView, lang: Lang, meta: DocumentMeta | None = None) -> HtmlDocument:
    from crmkit.export.html import HtmlDocument
    from crmkit.export.markdown import html_values

    with html_values():
        title = _t("title_applied" if view.applied else "title", lang, view.target)
        kind = _t("kind", lang, view.target)
        doc = HtmlDocument(title, lang, kind=kind, meta=meta or DocumentMeta())
        doc.summarize(summary_markdown(view, lang))
        doc.markdown(body_markdown(view, lang))
    return doc


__all__ = ["CHANGES", "PushView", "entry_name", "push_document", "push_markdown"]

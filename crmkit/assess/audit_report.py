"""The audit as a person reads it: text for the terminal, Markdown, and self-contained HTML with
inline SVG charts (the level "team says / data says", the health of open deals' activities, a
conversion funnel and the time in stage per pipeline). Pure: an ``Audit`` in, text out."""

from __future__ import annotations

import statistics
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from crmkit.assess.audit import (
    Audit,
    Finding,
    conversion_steps,
    evidence_text,
    robots_note,
    side_by_side,
)
from crmkit.blueprints.library import Library
from crmkit.export.frame import DocumentMeta
from crmkit.export.svg import hbar_chart
from crmkit.i18n import Lang, msg
from crmkit.numbers import integer, number, percent
from crmkit.push.bitrix24.webhook import is_loopback

if TYPE_CHECKING:
    from crmkit.export.html import HtmlDocument

_SIGN = {"action": "✗", "review": "!", "ok": "✓", "unknown": "?", "not_applicable": "–"}
_FIGURE = "@@FIGURE:"


def _t(key: str, lang: Lang, **values: Any) -> str:
    return msg(f"audit.report.{key}", lang, **values)


def _value(f: Finding, lang: Lang) -> str:
    if f.value is None:
        return _t(f"status.{f.status}", lang)
    if f.rule.unit == "share":
        return percent(f.value, lang, 1)
    if f.rule.unit == "minutes":
        return _duration(f.value, lang)
    return number(f.value, lang, 2, trim=True)


def _number(value: float, lang: Lang) -> str:
    return number(value, lang, 1, trim=True)


def _duration(minutes: float, lang: Lang) -> str:
    if minutes < 120:
        return _t("minutes", lang, n=_number(round(minutes), lang))
    if minutes < 48 * 60:
        return _t("hours", lang, n=_number(round(minutes / 60, 1), lang))
    return _t("days", lang, n=_number(round(minutes / 1440, 1), lang))


def _threshold(f: Finding, lang: Lang) -> str:
    rule = f.rule

    def shown(x: float) -> str:
        if rule.unit == "share":
            return percent(x, lang, 1, trim=True)
        return _duration(x, lang) if rule.unit == "minutes" else number(x, lang, 2, trim=True)

    key = "threshold_lower" if rule.better == "lower" else "threshold_higher"
    return _t(key, lang, ok=shown(rule.ok), review=shown(rule.review))


def _of(f: Finding, lang: Lang) -> str:
    if f.denominator is None or f.rule.unit != "share":
        return ""
    part = round((f.value or 0) * f.denominator)
    return _t("of", lang, part=part, whole=f.denominator)


def _next_steps(result: Audit, lang: Lang) -> list[str]:
    library = Library.default()
    names: dict[str, str] = {}
    for finding in result.costliest(3):
        for bp_id in finding.rule.fix:
            if bp_id not in names and library.find(bp_id) is not None:
                names[bp_id] = library.load(bp_id).name.get(lang)
    return [_t("next_step", lang, name=name) for name in names.values()]


def _dimension_name(dim: str, lang: Lang) -> str:
    key = f"audit.dimension.{dim}"
    return msg(key, lang)


def view(result: Audit, *, for_client: bool = False) -> dict[str, Any]:
    """What every format shows. ``for_client``: a document a client reads, where a portal on
    this machine (the sandbox) is named as a test portal and its records are not linked (the
    links would work on the consultant's computer only)."""
    lang = result.lang
    local = for_client and is_loopback(urlsplit(result.portal).hostname or "")
    usage = result.usage
    when = datetime.fromtimestamp(result.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
    says = side_by_side(result) if result.says else {}
    dims = []
    for d in result.dimensions:
        data = "—" if d.level is None else str(d.level)
        if d.level is None and d.id != "automation":
            data = _t("no_ceiling", lang)
        elif d.level is not None:
            data = f"≤ {d.level}"
        evidence = "; ".join(evidence_text(k, v, lang) for k, v in d.evidence)
        row = says.get(d.id)
        said = "" if row is None else str(row["says"]) + (" ≠" if row["disagree"] else "")
        dims.append(
            {"name": _dimension_name(d.id, lang), "data": data, "evidence": evidence, "says": said}
        )
    findings = []
    for f in sorted(result.findings, key=lambda f: (STATUS_ORDER[f.status], f.rule.id)):
        findings.append(
            {
                "status": f"{_SIGN[f.status]} {_t(f'status.{f.status}', lang)}",
                "title": f.rule.title.get(lang),
                "value": _value(f, lang),
                "of": _of(f, lang),
                "threshold": _threshold(f, lang),
                "why": f.rule.why.get(lang),
                "samples": [
                    {"id": rid, "url": None if local else result.link(f.sample_kind, rid)}
                    for rid in f.samples
                ],
            }
        )
    level = "—" if result.level is None else str(result.level)
    level_line = _t("level_line", lang, level=level)
    if result.says_level is not None:
        level_line += " " + _t("says_line", lang, level=result.says_level)
    partial = ""
    if usage.partial:
        what = ", ".join(sorted(usage.partial))
        amo = result.state.target == "amocrm"
        partial = (
            msg("audit.amo.partial", lang, what=what) if amo else _t("partial", lang, what=what)
        )
    return {
        "title": _t("title", lang),
        "subtitle": (
            _t("subtitle_test", lang, when=when)
            if local
            else _t("subtitle", lang, portal=result.portal, when=when)
        ),
        "level_line": level_line,
        "partial": partial,
        "no_counterpart": _no_counterpart(result),
        "costliest": [
            {
                "title": f.rule.title.get(lang),
                "value": _value(f, lang),
                "of": _of(f, lang),
                "why": f.rule.why.get(lang),
            }
            for f in result.costliest(3)
        ],
        "next": _next_steps(result, lang),
        "says": bool(says),
        "dimensions": dims,
        "findings": findings,
        "pipelines": _pipelines(result),
        "configuration": _configuration_lines(result),
        "robots": robots_note(result),
        "declared": list(result.declared_robots),
    }


def _no_counterpart(result: Audit) -> str:
    """One line naming the findings the target has no counterpart for, each with its reason
    (amoCRM: a lead has no expected close date, …); empty when there are none."""
    lang, wanted = result.lang, result.usage.no_counterpart
    items = [
        msg(
            "audit.amo.item",
            lang,
            title=f.rule.title.get(lang),
            reason=msg(f"audit.amo.reason.{wanted[f.rule.key]}", lang),
        )
        for f in result.findings
        if f.rule.key in wanted
    ]
    return msg("audit.amo.no_counterpart", lang, items="; ".join(items)) if items else ""


STATUS_ORDER = {"action": 0, "review": 1, "unknown": 2, "ok": 3, "not_applicable": 4}


def _pipelines(result: Audit) -> list[dict[str, Any]]:
    lang = result.lang
    usage = result.usage
    history = usage.deal_history
    out = []
    for funnel in result.state.deal_funnels():
        cid = funnel.category_id or 0
        steps = []
        for step in conversion_steps(funnel, history):
            stays = history.stays.get((cid, step["stage"]), []) if history else []
            rate = step["conversion"]
            steps.append(
                {
                    "name": step["name"],
                    "open": usage.open_deals.by_stage.get((cid, step["stage"]), 0),
                    "entered": step["entered"] if history else "—",
                    "conversion": "—" if rate is None or not history else f"{rate * 100:.0f} %",
                    "stay": _duration(statistics.median(stays), lang) if stays else "—",
                    "stay_minutes": statistics.median(stays) if stays else 0,
                    "rate": rate if history else None,
                }
            )
        out.append({"name": funnel.name or str(cid), "steps": steps})
    return out


def _configuration_lines(result: Audit) -> list[str]:
    lang = result.lang
    state = result.state
    lines = []
    for funnel in state.funnels:
        kind = msg(f"blueprint.kind.{funnel.kind}", lang)
        name = funnel.name or msg("push.pull.lead_funnel", lang)
        lines.append(_t("config_pipeline", lang, kind=kind, name=name, stages=len(funnel.stages)))
    mandatory = [f.field_name for f in state.fields if f.mandatory]
    lines.append(
        _t("config_fields", lang, count=len(state.fields), mandatory=", ".join(mandatory) or "—")
    )
    if state.processes:
        lines.append(
            _t("config_processes", lang, names=", ".join(p.title for p in state.processes))
        )
    return lines


# -- text -----------------------------------------------------------------------------------------


def to_text(result: Audit) -> str:
    v = view(result)
    lang = result.lang
    out = [v["title"], v["subtitle"], "", v["level_line"]]
    if v["partial"]:
        out.append(v["partial"])
    if v["no_counterpart"]:
        out.append(v["no_counterpart"])
    if v["costliest"]:
        out += ["", _t("costliest", lang)]
        out += [
            f"  {i}. {c['title']}: {c['value']}" + (f" ({c['of']})" if c["of"] else "")
            for i, c in enumerate(v["costliest"], 1)
        ]
    if v["next"]:
        out += ["", _t("next", lang)] + [f"  - {step}" for step in v["next"]]
    out += ["", _t("level", lang)]
    for d in v["dimensions"]:
        said = f"{_t('says', lang)}: {d['says']}; " if d["says"] else ""
        shows = d["evidence"] if d["data"] == "—" else f"{d['data']} — {d['evidence']}"
        out.append(f"  {d['name']}: {said}{_t('data_says', lang)}: {shows}")
    out += ["", _t("findings", lang)]
    for f in v["findings"]:
        value = f["value"] + (f" ({f['of']})" if f["of"] else "")
        out.append(f"  {f['status']:<22} {f['title']}: {value}  [{f['threshold']}]")
        if f["samples"]:
            out.append("      " + ", ".join(s["url"] for s in f["samples"][:3]))
    out += ["", v["robots"]]
    usage = result.usage
    out.append(_t("requests", lang, core=result.requests, history=usage.history_requests))
    return "\n".join(out) + "\n"


# -- Markdown and HTML ----------------------------------------------------------------------------


def _labels(lang: Lang) -> dict[str, str]:
    keys = (
        "summary",
        "costliest",
        "next",
        "level",
        "dimension",
        "says",
        "data_says",
        "evidence",
        "level_note",
        "findings",
        "finding",
        "value",
        "threshold",
        "examples",
        "activity",
        "funnels",
        "stage",
        "open",
        "entered",
        "conversion",
        "median_stay",
        "configuration",
        "declared",
    )
    return {k: _t(k, lang) for k in keys}


def _render(result: Audit) -> str:
    from crmkit.export.markdown import render_template

    return render_template("audit.md.j2", v=view(result, for_client=True), t=_labels(result.lang))


def summary_markdown(result: Audit) -> str:
    """The answer on page one: the level the data shows, the three costliest findings, the
    next steps."""
    from crmkit.export.markdown import md_escape as e

    v, lang = view(result, for_client=True), result.lang
    lines = [f"*{e(v['subtitle'])}*", f"**{e(v['level_line'])}**"]
    if v["partial"]:
        lines.append(f"> {e(v['partial'])}")
    if v["no_counterpart"]:
        lines.append(f"> {e(v['no_counterpart'])}")
    if v["costliest"]:
        items = [
            f"{i}. **{e(f['title'])}** — {e(f['value'])}"
            + (f" ({e(f['of'])})" if f["of"] else "")
            + f". {e(f['why'])}"
            for i, f in enumerate(v["costliest"], 1)
        ]
        lines.append(e(_t("costliest", lang)) + "\n\n" + "\n".join(items))
    if v["next"]:
        lines.append(e(_t("next", lang)) + "\n\n" + "\n".join(f"- {e(s)}" for s in v["next"]))
    return "\n\n".join(lines)


def to_markdown(result: Audit, meta: DocumentMeta | None = None) -> str:
    from crmkit.export.markdown import framed_markdown

    body = "\n".join(line for line in _render(result).splitlines() if not line.startswith(_FIGURE))
    return framed_markdown(
        body + "\n", meta or DocumentMeta(), summary_markdown(result), result.lang
    )


def to_html(result: Audit, meta: DocumentMeta | None = None) -> str:
    return audit_document(result, meta).render()


def audit_document(result: Audit, meta: DocumentMeta | None = None) -> HtmlDocument:
    """The audit in the document frame (``render`` it, or put it in the combined report)."""
    from crmkit.export.html import HtmlDocument
    from crmkit.export.markdown import html_values

    lang = result.lang
    with html_values():
        text = _render(result)
        doc = HtmlDocument(
            _t("title", lang), lang, kind=_t("doc.kind", lang), meta=meta or DocumentMeta()
        )
        doc.summarize(summary_markdown(result))
        chunk: list[str] = []
        pipelines = _pipelines(result)
        for line in text.splitlines():
            if not line.startswith(_FIGURE):
                chunk.append(line)
                continue
            doc.markdown("\n".join(chunk))
            chunk = []
            name = line[len(_FIGURE) : -2]
            svg = _figure(result, name, pipelines)
            if svg:
                doc.figure(svg, _t(f"figure.{name.split('-')[0]}", lang))
        doc.markdown("\n".join(chunk))
        return doc


def _figure(result: Audit, name: str, pipelines: list[dict[str, Any]]) -> str:
    from crmkit.assess.audit_charts import findings_chart, pipeline_chart

    lang = result.lang
    if name == "level":
        return level_chart(result)
    if name == "findings":
        return findings_chart(result)
    if name == "activity":
        deals = result.usage.open_deals
        walked = deals.walked
        if not walked:
            return ""
        rows: list[tuple[str, float]] = [
            (_t("bar.with_activity", lang), walked - deals.without_open_activity.count),
            (_t("bar.without_activity", lang), deals.without_open_activity.count),
            (_t("bar.overdue", lang), deals.with_overdue_activity.count),
            (_t("bar.without_client", lang), deals.without_client.count),
            (_t("bar.past_close", lang), deals.past_close_date.count),
        ]
        return hbar_chart(
            rows,
            walked,
            _t("figure.activity", lang),
            color="#1f6f8b",
            format_value=lambda v: integer(v, lang),
        )
    if name.startswith("funnel-"):
        index = int(name.split("-")[1])
        return pipeline_chart(result, pipelines[index]) if index < len(pipelines) else ""
    return ""


def level_chart(result: Audit) -> str:
    """Per dimension: the ceiling the data allows (a solid bar; faint to 5 where the data sets
    none) beside the team's level (an outlined bar), the level the data supports as a line, the
    dimensions that set it marked."""
    from crmkit.export.level_chart import LevelLabels, LevelRow, level_profile_svg

    lang = result.lang
    says = side_by_side(result) if result.says else {}
    dims = [d for d in result.dimensions if d.id != "automation"]
    if not dims:
        return ""
    rows = []
    for d in dims:
        shown = _t("no_ceiling", lang) if d.level is None else f"≤ {d.level}"
        said = says.get(d.id)
        holds = d.level is not None and d.level == result.level and d.level < 5
        second = None if said is None else int(said["says"])
        rows.append(LevelRow(_dimension_name(d.id, lang), d.level, shown, holds, second))
    labels = LevelLabels(
        title=_t("figure.level", lang),
        company=""
        if result.level is None
        else msg("chart.audit.company", lang, level=result.level),
        holds=msg("chart.audit.holds", lang),
        first=_t("data_says", lang),
        second=_t("says", lang),
    )
    return level_profile_svg(rows, result.level, labels)

"""The audit's charts, for a person who would rather look than read: each finding's figure against
its thresholds, and per deal pipeline the funnel of deals stage by stage with what went on and
the usual stay. Pure: an ``Audit`` in, SVG text out; figures in the reader's language."""

from __future__ import annotations

from typing import Any

from crmkit.assess.audit import Audit, Finding
from crmkit.assess.audit_report import STATUS_ORDER, _duration
from crmkit.export.svg import (
    esc,
    readable_ink,
    svg_open,
    text_lines,
    text_width,
    wrap_text,
)
from crmkit.i18n import Lang, msg
from crmkit.numbers import integer, number, percent

_WIDTH = 760
_FONT = 13
_SMALL = 12
_LINE = 16
MUTED_INK = "#46525f"
#: the zones of a threshold, light enough for dark text, and the bars drawn over them
_ZONE = {"ok": "#d6ecd6", "review": "#fbe3b0", "action": "#f6cdc7"}
_BAR = {"ok": "#2e6b30", "review": "#8a5300", "action": "#a3321a"}
_SIGN = {"ok": "✓", "review": "!", "action": "✗"}


def _t(key: str, lang: Lang, **values: Any) -> str:
    return msg(f"chart.audit.{key}", lang, **values)


def _status(status: str, lang: Lang) -> str:
    return msg(f"audit.report.status.{status}", lang)


def _figure(value: float, unit: str, lang: Lang) -> str:
    if unit == "share":
        # whole percents, but a small share keeps its tenth (3,2 %, not 3 %; 5 %, not 5,0 %)
        tenths = round(value * 1000)
        return percent(value, lang, 1 if tenths % 10 and value < 0.1 else 0)
    if unit == "minutes":
        return _duration(value, lang)
    return number(value, lang, 1, trim=True)


# -- findings against their thresholds ------------------------------------------------------------


def _scale(f: Finding) -> float:
    """The end of a finding's own scale: past its value and both thresholds, with room."""
    rule = f.rule
    top = max(f.value or 0, rule.ok, rule.review) * 1.25
    if rule.unit == "share":
        top = min(max(top, 0.05), 1.0)
    return top or 1.0


#: the share of the track a zone takes at least, so that "OK is exactly 0" still shows green
_NARROWEST = 0.03


def _zones(f: Finding) -> list[tuple[str, float, float]]:
    """The zones along the track, as (status, start, end) in shares of it; a zone that is a
    single point (OK only at 0) gets a sliver, the next zone starting after it."""
    rule, top = f.rule, _scale(f)
    if rule.better == "lower":
        edges = [("ok", rule.ok), ("review", rule.review), ("action", top)]
    else:
        edges = [("action", rule.review), ("review", rule.ok), ("ok", top)]
    zones = []
    start = 0.0
    for index, (status, edge) in enumerate(edges):
        end = min(edge, top) / top
        if index == 0 and status == "ok":
            end = max(end, _NARROWEST)
        if end > start:
            zones.append((status, start, end))
            start = end
    return zones


def _threshold(f: Finding, lang: Lang) -> str:
    key = "ok_below" if f.rule.better == "lower" else "ok_above"
    return _t(key, lang, ok=_figure(f.rule.ok, f.rule.unit, lang))


def _finding_row(f: Finding, y: float, lang: Lang) -> tuple[list[str], float]:
    x0, length, value_x = 270, 320, 604
    title = f.rule.title.get(lang)
    lines = wrap_text(title, 250, _FONT)
    height = max(40.0, len(lines) * _LINE + 14)
    middle = y + height / 2
    parts = [text_lines(10, y + (height - len(lines) * _LINE) / 2 + 12, lines, size=_FONT)]
    for zone, start, end in _zones(f):
        parts.append(
            f'<rect x="{x0 + start * length:.1f}" y="{middle - 9:.1f}" '
            f'width="{(end - start) * length:.1f}" height="18" fill="{_ZONE[zone]}"/>'
        )
    share = min((f.value or 0) / _scale(f), 1.0)
    shown = _figure(f.value or 0, f.rule.unit, lang)
    parts.append(
        f'<rect x="{x0}" y="{middle - 4:.1f}" width="{max(share * length, 2):.1f}" height="8" '
        f'fill="{_BAR[f.status]}"><title>{esc(title)}: {esc(shown)}</title></rect>'
    )
    parts.append(
        text_lines(value_x, middle - 2, [f"{_SIGN[f.status]} {shown}"], size=_FONT, bold=True)
    )
    parts.append(text_lines(value_x, middle + 13, [_threshold(f, lang)], size=11, fill=MUTED_INK))
    return parts, height


def _legend(y: float, items: list[tuple[str, str]]) -> list[str]:
    parts, x = [], 10.0
    for fill, text in items:
        parts.append(f'<rect x="{x:.1f}" y="{y - 10}" width="16" height="12" fill="{fill}"/>')
        parts.append(text_lines(x + 22, y, [text], size=_SMALL, fill=MUTED_INK))
        x += 22 + text_width(text, _SMALL) + 24
    return parts


def findings_chart(result: Audit) -> str:
    """Every measured finding as a bar over its zones (OK, review, action), worst first and,
    among equals, costliest first; the status said by a sign and a word too, not colour only."""
    lang = result.lang
    measured = [f for f in result.findings if f.value is not None and f.status in _ZONE]
    if not measured:
        return ""
    measured.sort(key=lambda f: (STATUS_ORDER[f.status], -f.weight, f.rule.id))
    parts: list[str] = []
    y = 8.0
    for f in measured:
        row, height = _finding_row(f, y, lang)
        parts += row
        y += height
    legend = [(_ZONE[s], _status(s, lang)) for s in ("ok", "review", "action")]
    parts += _legend(y + 24, legend)
    bad = [f.rule.title.get(lang) for f in measured if f.status == "action"]
    label = _t("findings", lang)
    if bad:
        label += f"; {_status('action', lang)}: {', '.join(bad)}"
    head = [svg_open(_WIDTH, y + 36, label), f"<title>{esc(label)}</title>"]
    return "".join(head + parts) + "</svg>"


# -- a pipeline's funnel --------------------------------------------------------------------------

_NAME_W = 180
_FUNNEL_X, _FUNNEL_W = 196, 290
_GO_X = _FUNNEL_X + _FUNNEL_W + 12
_STAY_X, _STAY_W = 578, 80


def _header(lang: Lang, counted: str) -> tuple[list[str], float]:
    columns = [
        (_FUNNEL_X + _FUNNEL_W / 2, _FUNNEL_W, "middle", counted),
        (_GO_X, _STAY_X - _GO_X - 8, "start", msg("audit.report.conversion", lang)),
        (_STAY_X, _WIDTH - _STAY_X - 4, "start", msg("audit.report.median_stay", lang)),
    ]
    wrapped = [(x, anchor, wrap_text(text, w, _SMALL, bold=True)) for x, w, anchor, text in columns]
    height = max(len(lines) for _x, _a, lines in wrapped) * 15 + 10
    parts = [
        text_lines(x, 16, lines, size=_SMALL, line_height=15, fill=MUTED_INK, anchor=a, bold=True)
        for x, a, lines in wrapped
    ]
    return parts, height


def _stage_row(
    step: dict[str, Any], y: float, counts: tuple[float, float], lang: Lang, last: bool
) -> tuple[list[str], float]:
    value, most = counts
    lines = wrap_text(str(step["name"]), _NAME_W - 8, _FONT)
    height = max(32.0, len(lines) * _LINE + 12)
    middle = y + height / 2
    parts = [text_lines(8, y + (height - len(lines) * _LINE) / 2 + 12, lines, size=_FONT)]
    figure = integer(value, lang)
    width = max(
        _FUNNEL_W * (value / most if most else 0), text_width(figure, _FONT, bold=True) + 16
    )
    paint = readable_ink("#2e7d32" if last else "#2067b0")
    x = _FUNNEL_X + (_FUNNEL_W - width) / 2
    parts.append(
        f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{width:.1f}" height="{height - 8:g}" rx="3" '
        f'fill="{paint.fill}"><title>{esc(step["name"])}: {esc(figure)}</title></rect>'
    )
    parts.append(
        text_lines(
            x + width / 2, middle + 4.5, [figure], fill=paint.ink, anchor="middle", bold=True
        )
    )
    rate = step.get("rate")
    if rate is not None:
        parts.append(text_lines(_GO_X, middle + 4.5, [f"→ {percent(rate, lang)}"]))
    return parts, height


def _stay(step: dict[str, Any], middle: float, longest: float, lang: Lang) -> list[str]:
    minutes = step["stay_minutes"]
    if not minutes:
        return []
    width = max(_STAY_W * minutes / longest, 2)
    text = _duration(minutes, lang)
    return [
        f'<rect x="{_STAY_X}" y="{middle - 5:.1f}" width="{width:.1f}" height="10" rx="2" '
        f'fill="#8b5a1f"><title>{esc(text)}</title></rect>',
        text_lines(_STAY_X + _STAY_W + 8, middle + 4.5, [text], size=_SMALL),
    ]


def pipeline_chart(result: Audit, pipeline: dict[str, Any]) -> str:
    """Deals stage by stage as a funnel (how many entered in the period; without the stage
    history, how many are open there now), the share that went on, and the usual stay."""
    lang = result.lang
    steps = pipeline["steps"]
    history = any(isinstance(s["entered"], int) for s in steps)
    values = [float(s["entered"] if history else s["open"]) for s in steps]
    if not steps or max(values, default=0) <= 0:
        return ""
    counted = msg("audit.report.entered" if history else "audit.report.open", lang)
    parts, y = _header(lang, counted)
    longest = max((s["stay_minutes"] for s in steps), default=0)
    for index, (step, value) in enumerate(zip(steps, values, strict=True)):
        row, height = _stage_row(step, y, (value, max(values)), lang, index == len(steps) - 1)
        parts += row
        if longest:
            parts += _stay(step, y + height / 2, longest, lang)
        y += height
    label = f"{pipeline['name']}: {counted}"
    head = [svg_open(_WIDTH, y + 8, label), f"<title>{esc(label)}</title>"]
    return "".join(head + parts) + "</svg>"

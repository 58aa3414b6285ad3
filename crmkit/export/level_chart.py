"""Levels 0–5 by dimension, with the company's level as a line across them: the maturity profile
of the assessment, and the audit's "the data says / the team says".

The dimensions that hold the company at its level are marked three ways, so that colour is never
the only sign: their bar's colour, a triangle before their name, and their name in bold; a legend
under the chart says what the triangle means.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmkit.export.svg import DARK_INK, esc, svg_open, text_lines, text_width, wrap_text

MAX_LEVEL = 5
_NAME_X = 22
_NAME_WIDTH = 232
_X0 = 264
_SCALE = 68
_VALUE_X = _X0 + MAX_LEVEL * _SCALE + 10
_TOP = 30
_FONT = 13
_LINE = 16
_SMALL = 12

BAR = "#2067b0"
HOLDS = "#b23c17"
SECOND = "#5b6b7c"
GRID = "#d8dee4"
MUTED_INK = "#46525f"


@dataclass(frozen=True)
class LevelRow:
    """One dimension: its name, its level (None: no level, drawn as a faint full bar), the text
    shown beside the bar, and whether it holds the company at its level. ``second`` is a level
    drawn as an outlined bar under the first (the team's answer beside the data)."""

    name: str
    level: int | None
    shown: str
    holds: bool = False
    second: int | None = None


@dataclass(frozen=True)
class LevelLabels:
    """The chart's words, in the reader's language."""

    title: str
    #: «уровень компании: 3», drawn over the line (empty: no line)
    company: str
    #: what the triangle means («держит уровень компании»)
    holds: str
    #: what the solid and the outlined bars are (empty: one kind of bar, no legend for them)
    first: str = ""
    second: str = ""


def _row_height(row: LevelRow) -> tuple[list[str], float]:
    lines = wrap_text(row.name, _NAME_WIDTH, _FONT, bold=row.holds)
    return lines, max(30.0, len(lines) * _LINE + 12)


def _bar(x: float, y: float, level: int | None, height: float, fill: str, tip: str) -> str:
    if level is None:
        width, extra = MAX_LEVEL * _SCALE, ' fill-opacity="0.25"'
    else:
        # a level 0 bar keeps a sliver, so that the row does not look empty or missing
        width, extra = max(level * _SCALE, 3), ""
    return (
        f'<rect x="{x}" y="{y:.1f}" width="{width}" height="{height}" rx="2" fill="{fill}"{extra}>'
        f"<title>{esc(tip)}</title></rect>"
    )


def _marker(y: float) -> str:
    """The triangle before a holding dimension's name (a shape, not a glyph: every font has it)."""
    return f'<path d="M 6 {y - 9:.1f} L 15 {y - 4.5:.1f} L 6 {y:.1f} z" fill="{HOLDS}"/>'


def _grid(bottom: float) -> list[str]:
    parts = []
    for level in range(MAX_LEVEL + 1):
        x = _X0 + level * _SCALE
        parts.append(f'<line x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{bottom}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{x}" y="{bottom + 14}" font-size="{_SMALL}" text-anchor="middle" '
            f'fill="{MUTED_INK}">{level}</text>'
        )
    return parts


def _company_line(level: int, text: str, bottom: float, width: float) -> list[str]:
    x = _X0 + level * _SCALE
    # the label is centred over the line, but kept inside the drawing at either end
    half = text_width(text, _SMALL, bold=True) / 2
    label_x = min(max(x, half + 4), width - half - 4)
    return [
        f'<line x1="{x}" y1="{_TOP - 6}" x2="{x}" y2="{bottom}" stroke="{DARK_INK}" '
        'stroke-width="2" stroke-dasharray="5 3"/>',
        text_lines(label_x, _TOP - 12, [text], size=_SMALL, anchor="middle", bold=True),
    ]


def _swatch(kind: str, x: float, y: float) -> str:
    if kind == "first":
        return f'<rect x="{x:.1f}" y="{y - 10}" width="16" height="10" fill="{BAR}"/>'
    if kind == "second":
        return (
            f'<rect x="{x:.1f}" y="{y - 10}" width="16" height="10" fill="#ffffff" '
            f'stroke="{SECOND}" stroke-width="1.5"/>'
        )
    return f'<path d="M {x + 3:.1f} {y - 10} l 9 4.5 l -9 4.5 z" fill="{HOLDS}"/>'


def _legend_items(labels: LevelLabels, any_holds: bool, any_second: bool) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if any_second and labels.first and labels.second:
        items += [("first", labels.first), ("second", labels.second)]
    if any_holds:
        items.append(("holds", labels.holds))
    return items


def _legend_end(labels: LevelLabels, any_holds: bool, any_second: bool) -> float:
    items = _legend_items(labels, any_holds, any_second)
    return _NAME_X + sum(22 + text_width(text, _SMALL) + 24 for _kind, text in items)


def _legend(y: float, labels: LevelLabels, any_holds: bool, any_second: bool) -> list[str]:
    parts = []
    x = float(_NAME_X)
    for kind, text in _legend_items(labels, any_holds, any_second):
        parts.append(_swatch(kind, x, y))
        parts.append(text_lines(x + 22, y, [text], size=_SMALL, fill=MUTED_INK))
        x += 22 + text_width(text, _SMALL) + 24
    return parts


def level_profile_svg(rows: list[LevelRow], company: int | None, labels: LevelLabels) -> str:
    """The chart: a bar per dimension on a 0–5 scale with ticks, names wrapped (never cut), the
    company's level as a dashed line, the holding dimensions marked; role="img" with a label and a
    title that say the same in words."""
    body: list[str] = []
    y = float(_TOP)
    for row in rows:
        lines, height = _row_height(row)
        baseline = y + (height - len(lines) * _LINE) / 2 + 12
        if row.holds:
            body.append(_marker(baseline))
        body.append(text_lines(_NAME_X, baseline, lines, size=_FONT, bold=row.holds))
        middle = y + height / 2
        fill = HOLDS if row.holds else BAR
        tip = f"{row.name}: {row.shown}"
        if row.second is None:
            body.append(_bar(_X0, middle - 7, row.level, 14, fill, tip))
        else:
            body.append(_bar(_X0, middle - 11, row.level, 10, fill, tip))
            body.append(
                f'<rect x="{_X0}" y="{middle + 1:.1f}" width="{max(row.second * _SCALE, 3)}" '
                f'height="10" rx="2" fill="#ffffff" stroke="{SECOND}" stroke-width="1.5">'
                f"<title>{esc(row.name)}: {row.second}</title></rect>"
            )
        body.append(text_lines(_VALUE_X, middle + 4.5, [row.shown], size=_FONT))
        y += height
    bottom = y + 4
    any_holds = any(r.holds for r in rows)
    any_second = any(r.second is not None for r in rows)
    legend_y = bottom + 36
    height = legend_y + 10 if (any_holds or any_second) else bottom + 24
    summary = labels.title
    if company is not None and labels.company:
        summary += f"; {labels.company}"
    holding = [r.name for r in rows if r.holds]
    if holding:
        summary += f"; {labels.holds}: {', '.join(holding)}"
    # as wide as the widest text beside a bar (and the legend) needs, no wider: on a phone the
    # drawing is scaled to the screen, and every unused pixel makes its text smaller
    width = max(
        [_VALUE_X + text_width(r.shown, _FONT) + 8 for r in rows]
        + [_legend_end(labels, any_holds, any_second) + 8, _X0 + MAX_LEVEL * _SCALE + 40]
    )
    parts = [svg_open(round(width), height, summary), f"<title>{esc(summary)}</title>"]
    parts += _grid(bottom)
    parts += body
    if company is not None and labels.company:
        parts += _company_line(company, labels.company, bottom, round(width))
    parts += _legend(legend_y, labels, any_holds, any_second)
    parts.append("</svg>")
    return "".join(parts)

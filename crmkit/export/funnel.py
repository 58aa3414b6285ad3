"""A pipeline drawn as a funnel: in-progress stages narrowing downwards, final stages beside.

Two drawings of the same thing: inline SVG for HTML, a Mermaid flowchart for Markdown (most
Markdown viewers, GitHub's among them, draw Mermaid; inline SVG they strip).
"""

from __future__ import annotations

from crmkit.blueprints.model import Pipeline, Stage, format_duration
from crmkit.export.svg import (
    esc,
    keep_together,
    longest_word,
    readable_ink,
    svg_open,
    text_lines,
    wrap_text,
)
from crmkit.i18n import Lang

_BAR = 34
_GAP = 6
_LEFT = 500
_RIGHT_X = 530
_WIDTH = 800
_FONT = 13
_LINE = 16
#: text keeps this far from a bar's edges
_PAD = 10


def _label(stage: Stage, lang: Lang) -> str:
    return stage.name.get(lang) or stage.code


def _process_label(index: int, stage: Stage, lang: Lang) -> str:
    """«3. Коммерческое предложение · ≤ 5 дней»: the dot stays with the name's last word and the
    duration stays whole, so a wrapped label breaks between the two, not inside either."""
    label = f"{index + 1}. {_label(stage, lang)}"
    if stage.max_minutes is None:
        return label
    return f"{label}\u00a0· {keep_together('≤ ' + format_duration(stage.max_minutes, lang))}"


def _box(
    x: float, y: float, width: float, label: str, color: str, title: str, center: bool
) -> tuple[str, float]:
    """A stage: a coloured bar with its whole label wrapped inside; (SVG, the bar's height)."""
    lines = wrap_text(label, width - 2 * _PAD, _FONT)
    height = max(_BAR, len(lines) * _LINE + 18)
    paint = readable_ink(color)
    baseline = y + (height - len(lines) * _LINE) / 2 + 12
    text_x = x + width / 2 if center else x + _PAD
    text = text_lines(
        text_x,
        baseline,
        lines,
        size=_FONT,
        line_height=_LINE,
        fill=paint.ink,
        anchor="middle" if center else "start",
    )
    return (
        f"<g><title>{esc(title)}</title>"
        f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:g}" rx="4" '
        f'fill="{paint.fill}"/>{text}</g>',
        height,
    )


def _bar_width(index: int, count: int, label: str) -> float:
    """Widths shrink linearly from 100% to 45% of the left column (the funnel), but never below
    the label's longest word."""
    share = 1.0 if count == 1 else 1.0 - 0.55 * index / (count - 1)
    return min(_LEFT, max(_LEFT * share, longest_word(label, _FONT) + 2 * _PAD))


def funnel_svg(pipeline: Pipeline, lang: Lang, figure_id: str = "f") -> str:
    """The funnel as SVG; ``figure_id`` keeps ids unique when a page holds several. Every label
    is whole: wrapped at spaces onto as many lines as it needs, the bar growing to hold them."""
    process = pipeline.stages_with("process")
    success = pipeline.stages_with("success")
    failure = pipeline.stages_with("failure")
    shapes: list[str] = []
    y = 10.0
    neck: tuple[float, float] | None = None
    for index, stage in enumerate(process):
        label = _process_label(index, stage, lang)
        width = _bar_width(index, len(process), label)
        x = (_LEFT - width) / 2
        shape, height = _box(x, y, width, label, stage.shown_color, _label(stage, lang), True)
        shapes.append(shape)
        neck = (x + width + 4, y + height / 2)
        y += height + _GAP
    left_bottom = y
    y = 10.0
    target: float | None = None
    for mark, stages in (("✓", success), ("✗", failure)):
        if mark == "✗" and stages and success:
            y += _GAP
        for stage in stages:
            width = _WIDTH - _RIGHT_X - 4
            name = _label(stage, lang)
            shape, height = _box(
                _RIGHT_X, y, width, f"{mark} {name}", stage.shown_color, name, False
            )
            shapes.append(shape)
            if target is None and mark == "✓":
                target = y + height / 2
            y += height + _GAP
    height = max(left_bottom, y, 10 + _BAR + _GAP) + 10 - _GAP
    title = pipeline.name.get(lang) or pipeline.code
    parts = [svg_open(_WIDTH, height, title), f"<title>{esc(title)}</title>", *shapes]
    if neck is not None and target is not None:
        # an arrow from the funnel's neck to the success stage
        marker = f"arrow-{esc(figure_id)}"
        parts.append(
            f'<path d="M {neck[0]:.1f} {neck[1]:.1f} L {_RIGHT_X - 12} {target:.1f}" '
            f'stroke="#9aa8b6" stroke-width="2" fill="none" marker-end="url(#{marker})"/>'
            f'<defs><marker id="{marker}" markerWidth="8" markerHeight="8" refX="6" refY="4" '
            'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#9aa8b6"/></marker></defs>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _mermaid_text(text: str) -> str:
    # Mermaid labels are quoted; quotes and brackets inside use its entity codes, and any line
    # break (\r, \n, U+2028…) would end the block
    return (
        " ".join(text.split())
        .replace("#", "#35;")
        .replace('"', "#quot;")
        .replace("<", "#lt;")
        .replace(">", "#gt;")
        .replace("`", "#96;")
    )


def funnel_mermaid(pipeline: Pipeline, lang: Lang) -> str:
    lines = ["```mermaid", "flowchart LR"]
    for index, stage in enumerate(pipeline.stages):
        lines.append(f'    s{index}["{_mermaid_text(_label(stage, lang))}"]')
    process = [i for i, stage in enumerate(pipeline.stages) if stage.semantics == "process"]
    for first, second in zip(process, process[1:], strict=False):
        lines.append(f"    s{first} --> s{second}")
    if process:
        last = process[-1]
        for index, stage in enumerate(pipeline.stages):
            if stage.semantics == "success":
                lines.append(f"    s{last} ==> s{index}")
            elif stage.semantics == "failure":
                lines.append(f"    s{last} -.-> s{index}")
    for index, stage in enumerate(pipeline.stages):
        paint = readable_ink(stage.shown_color)
        lines.append(f"    style s{index} fill:{paint.fill},color:{paint.ink}")
    lines.append("```")
    return "\n".join(lines)

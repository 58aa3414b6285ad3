"""A pipeline drawn as a funnel: in-progress stages narrowing downwards, final stages beside.

Two drawings of the same thing: inline SVG for HTML, a Mermaid flowchart for Markdown (most
Markdown viewers, GitHub's among them, draw Mermaid; inline SVG they strip).
"""

from __future__ import annotations

from crmkit.blueprints.model import Pipeline, Stage, format_duration
from crmkit.export.svg import esc, svg_open
from crmkit.i18n import Lang

_BAR = 34
_GAP = 6
_LEFT = 500
_RIGHT_X = 530
_WIDTH = 800


def _ink(color: str) -> str:
    """Dark or light text, whichever reads better on ``color``."""
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return "#1d2733" if luminance > 150 else "#ffffff"


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _label(stage: Stage, lang: Lang) -> str:
    return stage.name.get(lang) or stage.code


def funnel_svg(pipeline: Pipeline, lang: Lang, figure_id: str = "f") -> str:
    """The funnel as SVG; ``figure_id`` keeps ids unique when a page holds several."""
    process = pipeline.stages_with("process")
    success = pipeline.stages_with("success")
    failure = pipeline.stages_with("failure")
    left_rows = max(len(process), 1)
    right_rows = len(success) + len(failure) + (1 if failure else 0)
    height = max(left_rows, right_rows) * (_BAR + _GAP) + 20
    title = pipeline.name.get(lang) or pipeline.code
    parts = [svg_open(_WIDTH, height, title), f"<title>{esc(title)}</title>"]
    count = len(process)
    for index, stage in enumerate(process):
        # widths shrink linearly from 100% to 45% of the left column: the funnel
        share = 1.0 if count == 1 else 1.0 - 0.55 * index / (count - 1)
        width = _LEFT * share
        x = (_LEFT - width) / 2
        y = 10 + index * (_BAR + _GAP)
        color = stage.shown_color
        label = f"{index + 1}. {_label(stage, lang)}"
        if stage.max_minutes is not None:
            label += f" · ≤ {format_duration(stage.max_minutes, lang)}"
        limit = max(12, int(width / 7.2))
        parts.append(
            f"<g><title>{esc(_label(stage, lang))}</title>"
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{_BAR}" rx="4" '
            f'fill="{esc(color)}"/>'
            f'<text x="{_LEFT / 2:.1f}" y="{y + _BAR * 0.62:.1f}" font-size="13" '
            'text-anchor="middle" '
            f'fill="{_ink(color)}">{esc(_short(label, limit))}</text></g>'
        )
    y = 10
    for stage in success:
        parts.append(_final_box(stage, y, lang, "✓"))
        y += _BAR + _GAP
    if failure:
        y += _GAP
        for stage in failure:
            parts.append(_final_box(stage, y, lang, "✗"))
            y += _BAR + _GAP
    if process and success:
        # an arrow from the funnel's neck to the success stage
        neck_y = 10 + (count - 1) * (_BAR + _GAP) + _BAR / 2
        neck_width = _LEFT * (1.0 if count == 1 else 0.45)
        start_x = (_LEFT + neck_width) / 2 + 4
        target_y = 10 + _BAR / 2
        marker = f"arrow-{esc(figure_id)}"
        parts.append(
            f'<path d="M {start_x:.1f} {neck_y:.1f} L {_RIGHT_X - 12} {target_y:.1f}" '
            f'stroke="#9aa8b6" stroke-width="2" fill="none" marker-end="url(#{marker})"/>'
            f'<defs><marker id="{marker}" markerWidth="8" markerHeight="8" refX="6" refY="4" '
            'orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#9aa8b6"/></marker></defs>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _final_box(stage: Stage, y: float, lang: Lang, mark: str) -> str:
    color = stage.shown_color
    label = f"{mark} {_label(stage, lang)}"
    return (
        f"<g><title>{esc(_label(stage, lang))}</title>"
        f'<rect x="{_RIGHT_X}" y="{y}" width="{_WIDTH - _RIGHT_X - 4}" height="{_BAR}" rx="4" '
        f'fill="{esc(color)}"/>'
        f'<text x="{_RIGHT_X + 10}" y="{y + _BAR * 0.62:.1f}" font-size="13" fill="{_ink(color)}">'
        f"{esc(_short(label, 34))}</text></g>"
    )


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
        color = stage.shown_color
        lines.append(f"    style s{index} fill:{color},color:{_ink(color)}")
    lines.append("```")
    return "\n".join(lines)

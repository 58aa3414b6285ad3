"""Small SVG drawings (funnels, bar charts, profiles) with every text escaped."""

from __future__ import annotations

#: the five characters XML gives a meaning, in one pass (``xml.sax.saxutils.escape`` would do
#: the same, but importing it loads ``urllib.request`` and with it ``ssl``, ``email``, ``http``)
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"})


def esc(text: object) -> str:
    """Text for an SVG/XML text node or attribute."""
    return str(text).translate(_ESCAPES)


def svg_open(width: float, height: float, label: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:g}" height="{height:g}" '
        f'viewBox="0 0 {width:g} {height:g}" role="img" aria-label="{esc(label)}" '
        'font-family="Segoe UI, Roboto, Arial, sans-serif">'
    )


def hbar_chart(
    rows: list[tuple[str, float]],
    maximum: float,
    label: str,
    *,
    width: int = 640,
    row_height: int = 26,
    label_width: int = 220,
    color: str = "#2067b0",
    value_format: str = "{:g}",
) -> str:
    """A horizontal bar chart: one bar per (name, value), scaled to ``maximum``."""
    height = row_height * len(rows) + 10
    bar_space = width - label_width - 60
    parts = [svg_open(width, height, label)]
    for index, (name, value) in enumerate(rows):
        y = 5 + index * row_height
        length = 0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * bar_space
        parts.append(
            f'<text x="{label_width - 8}" y="{y + row_height * 0.65:.1f}" font-size="13" '
            f'text-anchor="end" fill="#1d2733">{esc(name)}</text>'
            f'<rect x="{label_width}" y="{y + 4}" width="{bar_space}" height="{row_height - 8}" '
            f'fill="#eef2f6" rx="3"/>'
            f'<rect x="{label_width}" y="{y + 4}" width="{length:.1f}" height="{row_height - 8}" '
            f'fill="{esc(color)}" rx="3"/>'
            f'<text x="{label_width + bar_space + 8}" y="{y + row_height * 0.65:.1f}" '
            f'font-size="13" fill="#1d2733">{esc(value_format.format(value))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)

"""Small SVG drawings (funnels, bar charts, profiles) with every text escaped."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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
    format_value: Callable[[float], str] | None = None,
) -> str:
    """A horizontal bar chart: one bar per (name, value), scaled to ``maximum``. A name too long
    for ``label_width`` is wrapped at spaces and its row grows (never cut, never past the left
    edge); ``format_value`` writes a figure in the reader's language (``crmkit.numbers``)."""
    shown = format_value or value_format.format
    bar_space = width - label_width - 60
    parts: list[str] = []
    y = 5.0
    for name, value in rows:
        lines = wrap_text(name, label_width - 16, 13)
        row = max(row_height, len(lines) * 16 + 10)
        length = 0 if maximum <= 0 else max(0.0, min(1.0, value / maximum)) * bar_space
        bar_y = y + (row - row_height) / 2 + 4
        baseline = y + row * 0.65 if len(lines) == 1 else y + (row - len(lines) * 16) / 2 + 12
        name_text = (
            f'<text x="{label_width - 8}" y="{baseline:.1f}" font-size="13" '
            f'text-anchor="end" fill="{DARK_INK}">{esc(name)}</text>'
            if len(lines) == 1
            else text_lines(label_width - 8, baseline, lines, anchor="end")
        )
        parts.append(
            name_text + f'<rect x="{label_width}" y="{bar_y:g}" width="{bar_space}" '
            f'height="{row_height - 8}" fill="#eef2f6" rx="3"/>'
            f'<rect x="{label_width}" y="{bar_y:g}" width="{length:.1f}" height="{row_height - 8}" '
            f'fill="{esc(color)}" rx="3"/>'
            f'<text x="{label_width + bar_space + 8}" y="{y + row * 0.65:.1f}" '
            f'font-size="13" fill="{DARK_INK}">{esc(shown(value))}</text>'
        )
        y += row
    parts.append("</svg>")
    return svg_open(width, round(y + 5), label) + "".join(parts)


# -- charts: text measure, wrapping and contrast ---------------------------------------------------
# Shared by every chart. Widths are estimated, never measured (a page is drawn offline, in any
# browser, with whichever of the fonts it has): each class of glyph gets the widest advance seen
# among Arial/Liberation Sans and DejaVu Sans (the widest common fallback), so a line the estimate
# lets into a box fits it in either.

DARK_INK = "#1d2733"
LIGHT_INK = "#ffffff"
PAGE = "#ffffff"
#: WCAG 2.x level AA: normal text, and large text (24 px, or 18.66 px bold)
AA_NORMAL = 4.5
AA_LARGE = 3.0
#: bold glyphs are up to this much wider than regular ones in the same fonts
_BOLD = 1.2

_EM_CLASSES = {
    0.2: "\u202f",
    0.34: " \u00a0',.:;/|iIjl’·іїІЇ",
    0.42: "!ftr()-[]",
    0.56: '"cszэєзJ–',
    0.66: "abdeghknopquvxyабвгґеёийклнопрстухчьяэ«»0123456789",
    0.74: "дцъ",
    0.82: "ABCDEFGHKLNOPQRSTUVXYZАБВГДЕЁЗИЙКЛНОПРСТУХЦЧЬЭЯЄҐ",
    1.0: "mwмжшщыюфMW%—",
    1.12: "ЖШЩЮЫФЪ№",
}
_EM = {char: em for em, chars in _EM_CLASSES.items() for char in chars}
#: anything else (signs such as ≤ ✓ ✗, letters of other scripts): as wide as a capital M
_EM_OTHER = 1.0


def text_width(text: str, size: float, *, bold: bool = False) -> float:
    """The width ``text`` takes at ``size`` px, estimated on the wide side."""
    width = sum(_EM.get(char, _EM_OTHER) for char in text) * size
    return width * _BOLD if bold else width


def wrap_text(text: str, width: float, size: float, *, bold: bool = False) -> list[str]:
    """``text`` in lines no wider than ``width``, broken at spaces only: never inside a word
    and never cut (a word wider than ``width`` gets a line of its own; the caller sizes boxes by
    ``longest_word``). No-break spaces (U+00A0, U+202F) keep what they join on one line."""
    lines: list[str] = []
    for word in text.split(" "):
        if not word:
            continue
        candidate = f"{lines[-1]} {word}" if lines else word
        if lines and text_width(candidate, size, bold=bold) <= width:
            lines[-1] = candidate
        else:
            lines.append(word)
    return lines or [""]


def longest_word(text: str, size: float, *, bold: bool = False) -> float:
    """The width of the widest word of ``text``: the narrowest box it can be wrapped into."""
    return max((text_width(w, size, bold=bold) for w in text.split(" ")), default=0.0)


def keep_together(text: str) -> str:
    """``text`` with its spaces made no-break, so that wrapping keeps it on one line."""
    return text.replace(" ", "\u00a0")


def text_lines(
    x: float,
    y: float,
    lines: list[str],
    *,
    size: float = 13,
    line_height: float = 16,
    fill: str = DARK_INK,
    anchor: str = "start",
    bold: bool = False,
) -> str:
    """One ``<text>`` whose lines are ``<tspan>``s; ``y`` is the first line's baseline."""
    weight = ' font-weight="bold"' if bold else ""
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else line_height:g}">{esc(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size:g}" text-anchor="{anchor}" '
        f'fill="{fill}"{weight}>{spans}</text>'
    )


def _rgb(color: str) -> tuple[int, int, int]:
    digits = color.strip().lstrip("#")
    if len(digits) == 3:
        digits = "".join(d * 2 for d in digits)
    if len(digits) != 6:
        raise ValueError(f"not a #rrggbb colour: {color!r}")
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02x}" for c in rgb)


def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb`` (0 black … 1 white)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (linear(c) for c in _rgb(color))
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two colours, 1 … 21."""
    a, b = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def _mix(color: str, toward: str, share: float) -> str:
    mixed = zip(_rgb(color), _rgb(toward), strict=True)
    return _hex(tuple(c + (t - c) * share for c, t in mixed))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Paint:
    """A shape's fill and the colour of text on it."""

    fill: str
    ink: str


def readable_ink(fill: str, minimum: float = AA_NORMAL) -> Paint:
    """The ink (dark or white) with the higher contrast on ``fill``; where neither reaches
    ``minimum`` (mid-tones such as #e57373), the fill is lightened under dark ink or darkened
    under white, in small steps, until it does. Bitrix24's own colours mostly pass as they are."""
    dark, light = contrast_ratio(fill, DARK_INK), contrast_ratio(fill, LIGHT_INK)
    ink, toward = (DARK_INK, "#ffffff") if dark >= light else (LIGHT_INK, "#000000")
    shown = _hex(_rgb(fill))
    step = 0
    while contrast_ratio(shown, ink) < minimum and step < 20:
        step += 1
        shown = _mix(fill, toward, step * 0.05)
    return Paint(shown, ink)


# -- selection charts: stacked contribution bars and a score heatmap (crmkit/select/report.py) --

#: segment colours of stacked bars, in order (cycled past the last); white gaps part them
SEGMENT_COLORS = (
    "#2f6db5",
    "#e08a2c",
    "#3a9a5b",
    "#c4473d",
    "#7b5ea7",
    "#8c6a4f",
    "#d070a8",
    "#6f7b86",
    "#a9a23a",
    "#2aa5b8",
    "#1f4e79",
    "#b35a1f",
)
#: the heatmap's colour at each whole point of a 1–5 scale (between them: mixed linearly)
SCORE_STOPS = ("#d9534f", "#f0ad4e", "#f7e08a", "#9fd18b", "#3c9a5f")


def stacked_bars(
    rows: list[tuple[str, list[float], str]],
    legend: list[str],
    maximum: float,
    label: str,
    *,
    width: int = 760,
) -> str:
    """One horizontal bar per (name, segment values, total as shown), the segments in the
    order of ``legend`` (one colour each), scaled to ``maximum``; the total after the bar and
    a legend of swatches under the bars. Every segment carries a ``<title>``."""
    size, row_h, gap = 13, 28, 1.0
    label_w = min(220.0, max([text_width(n, size) for n, _, _ in rows] + [60.0]) + 12)
    total_w = max([text_width(t, size, bold=True) for _, _, t in rows] + [30.0]) + 12
    bar_w = width - label_w - total_w
    legend_rows = _legend_rows(legend, width - 8, 12)
    height = 8 + row_h * len(rows) + 10 + 20 * len(legend_rows) + 6
    parts = [svg_open(width, height, label)]
    for index, (name, values, total) in enumerate(rows):
        y = 8 + index * row_h
        parts.append(text_lines(label_w - 8, y + row_h * 0.62, [name], size=size, anchor="end"))
        x = label_w
        for k, value in enumerate(values):
            length = 0.0 if maximum <= 0 else max(0.0, value) / maximum * bar_w
            color = SEGMENT_COLORS[k % len(SEGMENT_COLORS)]
            shown = max(0.0, length - gap)
            parts.append(
                f'<rect class="seg" x="{x:.1f}" y="{y + 4}" width="{shown:.1f}" '
                f'height="{row_h - 8}" fill="{color}"><title>{esc(name)}: '
                f"{esc(legend[k] if k < len(legend) else '')}</title></rect>"
            )
            x += length
        parts.append(
            text_lines(x + 8, y + row_h * 0.62, [total], size=size, bold=True, anchor="start")
        )
    y = 8 + row_h * len(rows) + 10
    for line in legend_rows:
        x = 4.0
        for k, name in line:
            color = SEGMENT_COLORS[k % len(SEGMENT_COLORS)]
            parts.append(
                f'<rect class="swatch" x="{x:.1f}" y="{y:.1f}" width="12" height="12" '
                f'fill="{color}"/>' + text_lines(x + 17, y + 10.5, [name], size=12)
            )
            x += 17 + text_width(name, 12) + 14
        y += 20
    parts.append("</svg>")
    return "".join(parts)


def _legend_rows(names: list[str], width: float, size: float) -> list[list[tuple[int, str]]]:
    """The legend's entries (index, name) flowed into lines no wider than ``width``."""
    lines: list[list[tuple[int, str]]] = [[]]
    used = 0.0
    for k, name in enumerate(names):
        entry = 17 + text_width(name, size) + 14
        if lines[-1] and used + entry > width:
            lines.append([])
            used = 0.0
        lines[-1].append((k, name))
        used += entry
    return [line for line in lines if line]


def score_color(score: float, low: float = 1.0, high: float = 5.0) -> str:
    """The heatmap's fill of ``score`` on the ``low``–``high`` scale (``SCORE_STOPS``)."""
    share = 0.0 if high <= low else (min(high, max(low, score)) - low) / (high - low)
    position = share * (len(SCORE_STOPS) - 1)
    index = min(int(position), len(SCORE_STOPS) - 2)
    return _mix(SCORE_STOPS[index], SCORE_STOPS[index + 1], position - index)


def heatmap(
    rows: list[str],
    columns: list[str],
    cells: list[list[tuple[float, str] | None]],
    label: str,
    *,
    width: int = 760,
) -> str:
    """A table of coloured cells: one row per ``rows`` name, one column per ``columns`` name;
    each cell (value, text) is filled by ``score_color`` and its text drawn in the ink that
    reaches WCAG AA (4.5:1) on it (``readable_ink``; the fill is adjusted if need be)."""
    size, line_h = 13, 16
    label_w = min(280.0, max([longest_word(r, size) for r in rows] + [80.0]) + 16)
    cell_w = max(64.0, min(130.0, (width - label_w) / max(1, len(columns))))
    heads = [wrap_text(c, cell_w - 8, 12, bold=True) for c in columns]
    head_h = 8.0 + line_h * max((len(h) for h in heads), default=1)
    labels = [wrap_text(r, label_w - 12, size) for r in rows]
    row_hs = [max(28.0, 10.0 + line_h * len(lines)) for lines in labels]
    total_w = label_w + cell_w * len(columns) + 4
    height = head_h + sum(row_hs) + 8
    parts = [svg_open(total_w, height, label)]
    for j, lines in enumerate(heads):
        x = label_w + cell_w * (j + 0.5)
        parts.append(text_lines(x, 14, lines, size=12, bold=True, anchor="middle"))
    y = head_h
    for i, lines in enumerate(labels):
        h = row_hs[i]
        first = y + h / 2 - (len(lines) - 1) * line_h / 2 + 4.5
        parts.append(text_lines(label_w - 10, first, lines, size=size, anchor="end"))
        for j, cell in enumerate(cells[i]):
            x = label_w + cell_w * j
            if cell is None:
                continue
            value, shown = cell
            paint = readable_ink(score_color(value))
            parts.append(
                f'<rect class="cell" x="{x + 1:.1f}" y="{y + 1:.1f}" width="{cell_w - 2:.1f}" '
                f'height="{h - 2:.1f}" fill="{paint.fill}"><title>{esc(rows[i])}, '
                f"{esc(columns[j])}: {esc(shown)}</title></rect>"
                f'<text class="cell-text" x="{x + cell_w / 2:.1f}" y="{y + h / 2 + 4.5:.1f}" '
                f'font-size="{size}" font-weight="bold" text-anchor="middle" '
                f'fill="{paint.ink}">{esc(shown)}</text>'
            )
        y += h
    parts.append("</svg>")
    return "".join(parts)

"""Text for a terminal: tables and prose that fit 100 columns, wrapped at word boundaries.

The text reports (``--format text``) are read in a terminal; a line longer than the terminal
wraps mid-word and a table's columns fall apart. Tables share the width among their columns
(a column never narrower than its header's longest word) and wrap each cell; prose lines wrap
with their indentation kept.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Any

WIDTH = 100
_GAP = "  "


def wrap(line: str, width: int = WIDTH) -> list[str]:
    """One line as lines of at most ``width`` characters (a word longer than that stays whole).

    A ``crmkit …`` command in the line is never split: it goes on a line of its own, whole, so
    it can be copied and pasted."""
    if len(line) <= width:
        return [line]
    command = line.find("crmkit ")
    if command > 0 and line[command - 1] in " :`«\"'":
        head = line[:command].rstrip()
        indent = " " * (len(line) - len(line.lstrip(" ")))
        return [*wrap(head, width), indent + "  " + line[command:]]
    body = line.lstrip(" ")
    indent = " " * (len(line) - len(body))
    # a bullet or a numbered item continues under its text, not under its mark
    mark = ""
    for prefix in ("- ", "• ", "! ", "* "):
        if body.startswith(prefix):
            mark = prefix
            break
    return textwrap.wrap(
        body,
        width=width,
        initial_indent=indent,
        subsequent_indent=indent + " " * len(mark) if mark else indent + "  ",
        break_long_words=False,
        break_on_hyphens=False,
    ) or [line]


def fit(text: str, width: int = WIDTH) -> str:
    """Every line of ``text`` wrapped to ``width`` (tables must be built with ``table``)."""
    lines = []
    for line in text.split("\n"):
        lines += wrap(line, width)
    return "\n".join(lines)


def _widths(natural: list[int], least: list[int], width: int) -> list[int]:
    """Column widths summing to at most ``width`` (gaps excluded): the widest shrink first."""
    widths = list(natural)
    while sum(widths) > width:
        widest = max(range(len(widths)), key=lambda i: widths[i] - least[i])
        if widths[widest] <= least[widest]:
            break  # cannot shrink further: the table is as narrow as its words allow
        widths[widest] -= 1
    return widths


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = WIDTH) -> list[str]:
    """A plain table: a header line, a dashed line, then the rows; cells wrap inside columns."""
    columns = len(headers)
    natural = [len(h) for h in headers]
    least = [max((len(w) for w in h.split()), default=1) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            natural[i] = max(natural[i], len(cell))
            least[i] = max(least[i], min(12, max((len(w) for w in cell.split()), default=1)))
    widths = _widths(natural, least, width - len(_GAP) * (columns - 1))

    def lines_of(cells: Sequence[str]) -> list[str]:
        wrapped = [
            textwrap.wrap(c, widths[i], break_long_words=True, break_on_hyphens=False) or [""]
            for i, c in enumerate(cells)
        ]
        height = max(len(w) for w in wrapped)
        out = []
        for n in range(height):
            parts = [(w[n] if n < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped)]
            out.append(_GAP.join(parts).rstrip())
        return out

    out = lines_of(headers)
    out.append(_GAP.join("-" * w for w in widths))
    for row in rows:
        out += lines_of(row)
    return out


def without_english_answer(question: Any) -> Any:
    """questionary draws a checkbox's answer as "done (3 selections)" in its last frame before
    erasing it; a terminal that cannot erase (or a slow one) shows that English. The answer's
    tokens are left out, and the answer line is written by the caller in the run's language."""
    from prompt_toolkit.formatted_text import to_formatted_text
    from prompt_toolkit.layout.controls import FormattedTextControl

    for window in question.application.layout.find_all_windows():
        control = window.content
        if isinstance(control, FormattedTextControl) and callable(control.text):
            drawn = control.text

            def without_answer(drawn: Any = drawn) -> Any:
                return [t for t in to_formatted_text(drawn()) if t[0] != "class:answer"]

            control.text = without_answer
    return question

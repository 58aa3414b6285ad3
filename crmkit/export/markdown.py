"""Markdown helpers shared by every report: escaping and the jinja2 environment.

A value from data reaches a Markdown document escaped (``md_escape``). An HTML document is made
from the same templates, but its values do not go through the Markdown parser at all: inside
``html_values()`` the filters leave a short placeholder and keep the value, already escaped for
HTML, and ``fill_values`` puts it back into the rendered HTML. So the parser's work depends on
the template, not on the data: a megabyte of ``*_[]<>`` in a description costs a copy, not
seconds and hundreds of megabytes of tokens.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any

#: the values of the HTML document being made (None: making Markdown)
_VALUES: ContextVar[list[str] | None] = ContextVar("crmkit_html_values", default=None)
# private-use characters: no meaning to Markdown, and never left in a value (see _flat)
_OPEN, _CLOSE = "\ue000", "\ue001"
_HOLE = re.compile(f"{_OPEN}(\\d+){_CLOSE}")


@contextmanager
def html_values() -> Iterator[None]:
    """Within this block the Markdown filters make placeholders for an HTML document."""
    token = _VALUES.set([])
    try:
        yield
    finally:
        _VALUES.reset(token)


def fill_values(rendered: str) -> str:
    """Rendered HTML with the placeholders of ``html_values`` replaced by their values."""
    values = _VALUES.get()
    if values is None:
        return rendered
    return _HOLE.sub(lambda m: values[int(m.group(1))], rendered)


#: runs of whitespace that become one space — but not the no-break spaces (U+00A0, and U+202F
#: between thousands and before «%»: crmkit.numbers), which keep a figure on one line
_SPACES = re.compile(r"[^\S\u00a0\u202f]+")


def _flat(text: object) -> str:
    return _SPACES.sub(" ", str(text).replace(_OPEN, "").replace(_CLOSE, "")).strip(" ")


def _hole(flat: str) -> str | None:
    """A placeholder for ``flat`` when an HTML document is being made, else None."""
    values = _VALUES.get()
    if values is None:
        return None
    if not flat:
        return ""
    # what markdown-it's own escaping does to text: &, <, > and "
    values.append(html.escape(flat, quote=False).replace('"', "&quot;"))
    return f"{_OPEN}{len(values) - 1}{_CLOSE}"


_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
# what would start a block at the beginning of a line: a list item, a setext underline, a rule
_BLOCK_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([-=])(?=[\s=-]|$)")


def md_escape(text: object) -> str:
    """Text from data made inert for Markdown (and, in HTML, markdown-it escapes it again).

    Line breaks become spaces: a line of "---" or "1." inside a description must not turn
    into a heading or a list in the client's document.
    """
    flat = _flat(text)
    hole = _hole(flat)
    if hole is not None:
        return hole
    escaped = _SPECIAL.sub(r"\\\1", flat)
    return _BLOCK_START.sub(
        lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", escaped
    )


def md_code(text: object) -> str:
    """Text for inside a code span in a table: no backticks, pipes escaped for the table."""
    flat = _flat(text)
    hole = _hole(flat)
    if hole is not None:
        return hole
    return flat.replace("`", "'").replace("|", "\\|")


def md_cell(text: object) -> str:
    """A table cell: escaped, on one line."""
    return md_escape(text)


@cache
def environment() -> Any:
    """The jinja2 environment of crmkit's Markdown templates (package ``crmkit.export``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("crmkit.export", "templates"),
        autoescape=False,  # Markdown, not HTML: values are escaped with the md filters
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["md"] = md_escape
    env.filters["cell"] = md_cell
    env.filters["code"] = md_code
    return env


def render_template(name: str, **context: Any) -> str:
    text: str = environment().get_template(name).render(**context)
    # at most one blank line in a row, one newline at the end
    return drop_empty_columns(re.sub(r"\n{3,}", "\n\n", text).strip() + "\n")


#: a cell boundary of a Markdown table row: a pipe not escaped by a backslash
_CELL_EDGE = re.compile(r"(?<!\\)\|")
#: what an empty cell holds
_EMPTY_CELLS = frozenset({"", "—", "-"})


def _cells(row: str) -> list[str]:
    return [cell.strip() for cell in _CELL_EDGE.split(row.strip())[1:-1]]


def drop_empty_columns(text: str) -> str:
    """Every table without the columns no row fills (a pulled portal's stages have no «Кто» and
    no «Сколько»): on paper and on a phone an empty column only takes width."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        if not (
            lines[index].startswith("|")
            and index + 1 < len(lines)
            and lines[index + 1].startswith("| ---")
        ):
            out.append(lines[index])
            index += 1
            continue
        end = index + 2
        while end < len(lines) and lines[end].startswith("|"):
            end += 1
        out.extend(_without_empty(lines[index:end]))
        index = end
    return "\n".join(out)


def _without_empty(table: list[str]) -> list[str]:
    rows = [_cells(row) for row in table]
    width = len(rows[0])
    if len(rows) < 3 or any(len(row) != width for row in rows):
        return table
    keep = [c for c in range(width) if any(row[c] not in _EMPTY_CELLS for row in rows[2:])]
    if len(keep) == width or not keep:
        return table
    return ["| " + " | ".join(row[c] for c in keep) + " |" for row in rows]


def framed_markdown(
    document: str, meta: Any, summary: str, lang: Any, *, appendix: str = ""
) -> str:
    """The Markdown of a document in the one frame: its title, the cover's facts on one line,
    the answer on page one («Главное»), the body, an appendix for the implementer, the footer.

    ``meta`` is a ``crmkit.export.frame.DocumentMeta``; ``summary`` and ``appendix`` are
    Markdown.
    """
    from crmkit.export.frame import cover_facts
    from crmkit.i18n import msg

    title, _, body = document.partition("\n")
    cover = " · ".join(
        f"**{md_escape(name)}:** {md_escape(value)}" for name, value in cover_facts(meta, lang)
    )
    parts = [title, cover]
    if summary.strip():
        parts.append(f"## {md_escape(msg('doc.frame.summary', lang))}\n\n{summary.strip()}")
    parts.append(body.strip())
    if appendix.strip():
        parts.append(f"## {md_escape(msg('doc.frame.appendix', lang))}\n\n{appendix.strip()}")
    return "\n\n".join(p for p in parts if p) + "\n"

"""Markdown helpers shared by every report: escaping and the jinja2 environment."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~&])")
# what would start a block at the beginning of a line: a list item, a setext underline, a rule
_BLOCK_START = re.compile(r"^(\d+)([.)])(?=\s|$)|^([-=])(?=[\s=-]|$)")


def md_escape(text: object) -> str:
    """Text from data made inert for Markdown (and, in HTML, markdown-it escapes it again).

    Line breaks become spaces: a line of "---" or "1." inside a description must not turn
    into a heading or a list in the client's document.
    """
    flat = " ".join(str(text).split())
    escaped = _SPECIAL.sub(r"\\\1", flat)
    return _BLOCK_START.sub(
        lambda m: f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}", escaped
    )


def md_code(text: object) -> str:
    """Text for inside a code span in a table: no backticks, pipes escaped for the table."""
    return " ".join(str(text).split()).replace("`", "'").replace("|", "\\|")


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
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

"""Markdown helpers shared by every report: escaping and the jinja2 environment."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md_escape(text: object) -> str:
    """Text from data made inert for Markdown (and, in HTML, markdown-it escapes it again)."""
    return _SPECIAL.sub(r"\\\1", str(text))


def md_cell(text: object) -> str:
    """A table cell: escaped, on one line."""
    return md_escape(" ".join(str(text).split()))


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
    return env


def render_template(name: str, **context: Any) -> str:
    text: str = environment().get_template(name).render(**context)
    # at most one blank line in a row, one newline at the end
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"

"""Self-contained HTML: Markdown rendered by markdown-it-py, inline CSS, no JavaScript.

Raw HTML in Markdown is disabled, so any text from a blueprint or an answers file is shown as
text. Drawings (SVG made by ``crmkit.export.svg``, whose texts are escaped there) are spliced in
as separate blocks, never through Markdown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from importlib import resources


def page_css() -> str:
    """The stylesheet inlined into every page (screen and print)."""
    return resources.files("crmkit.export").joinpath("page.css").read_text(encoding="utf-8")


def markdown_to_html(text: str) -> str:
    """Markdown (CommonMark + tables + strikethrough) to an HTML fragment; raw HTML is escaped."""
    from markdown_it import MarkdownIt

    from crmkit.export.markdown import fill_values

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    rendered: str = md.render(text)
    return fill_values(rendered)


@dataclass
class HtmlDocument:
    """A page built from Markdown blocks and trusted SVG figures."""

    title: str
    lang: str = "en"
    blocks: list[str] = field(default_factory=list)
    footer: str = ""

    def markdown(self, text: str) -> HtmlDocument:
        self.blocks.append(markdown_to_html(text))
        return self

    def figure(self, svg: str, caption: str = "") -> HtmlDocument:
        """Add an SVG made by ``crmkit.export.svg`` (its texts are escaped there)."""
        cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        self.blocks.append(f'<div class="figure">{svg}{cap}</div>\n')
        return self

    def render(self) -> str:
        foot = f"<footer>{html.escape(self.footer)}</footer>\n" if self.footer else ""
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{html.escape(self.lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{html.escape(self.title)}</title>\n<style>\n{page_css()}</style>\n</head>\n<body>\n"
            + "".join(self.blocks)
            + foot
            + "</body>\n</html>\n"
        )

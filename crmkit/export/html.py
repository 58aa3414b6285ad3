"""Self-contained HTML: Markdown rendered by markdown-it-py, inline CSS, no JavaScript.

Raw HTML in Markdown is disabled, so any text from a blueprint or an answers file is shown as
text. Drawings (SVG made by ``crmkit.export.svg``, whose texts are escaped there) are spliced in
as separate blocks, never through Markdown.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

CSS = """
:root { --ink:#1d2733; --muted:#5b6b7c; --line:#d5dde6; --accent:#2067b0; --bg:#ffffff; }
* { box-sizing: border-box; }
body { font-family: "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  background: var(--bg); margin: 0 auto; max-width: 1100px; padding: 32px 40px; line-height: 1.5;
  font-size: 15px; }
h1 { font-size: 28px; margin: 0 0 8px; color: var(--accent); }
h2 { font-size: 22px; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--line); }
h3 { font-size: 18px; margin: 24px 0 8px; }
h4 { font-size: 15px; margin: 18px 0 6px; }
p, ul, ol { margin: 8px 0; }
table { border-collapse: collapse; width: 100%; margin: 12px 0 20px; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: 6px 8px; vertical-align: top; text-align: left; }
th { background: #f1f5f9; }
tr:nth-child(even) td { background: #fafcfe; }
code { background: #f1f5f9; padding: 1px 4px; border-radius: 3px; font-size: 90%; }
blockquote { border-left: 4px solid var(--accent); margin: 12px 0; padding: 4px 14px; color: var(--muted); }
.figure { margin: 16px 0 24px; overflow-x: auto; }
.figure svg { max-width: 100%; height: auto; }
figcaption, .figure figcaption { color: var(--muted); font-size: 12px; margin-top: 4px; }
footer { margin-top: 40px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  h2 { page-break-after: avoid; }
  table, .figure { page-break-inside: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def markdown_to_html(text: str) -> str:
    """Markdown (CommonMark + tables + strikethrough) to an HTML fragment; raw HTML is escaped."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable(["table", "strikethrough"])
    rendered: str = md.render(text)
    return rendered


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
            f"<title>{html.escape(self.title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
            + "".join(self.blocks)
            + foot
            + "</body>\n</html>\n"
        )

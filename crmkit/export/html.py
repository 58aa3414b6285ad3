"""Self-contained HTML: Markdown rendered by markdown-it-py, inline CSS, no JavaScript.

Raw HTML in Markdown is disabled, so any text from a blueprint or an answers file is shown as
text. Drawings (SVG made by ``crmkit.export.svg``, whose texts are escaped there) are spliced in
as separate blocks, never through Markdown.

Every document has the same frame: a cover (what the document is, its title, the client, the
consultant, the date, the version, a logo), the answer on page one («Главное»), a linked table of
contents, the body, one footer — and, printed, A4 pages numbered in their margin.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from importlib import resources

from crmkit.export.frame import DocumentMeta, cover_facts, long_date
from crmkit.i18n import Lang, msg


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
    return _wrap_tables(fill_values(rendered))


def _wrap_tables(fragment: str) -> str:
    """Each table in a box of its own, which scrolls sideways on a phone instead of the page."""
    fragment = fragment.replace("<table>", '<div class="table"><table>')
    return fragment.replace("</table>", "</table></div>")


_H1 = re.compile(r"^\s*<h1>(.*?)</h1>\s*", re.S)
_HEADING = re.compile(r"<h([2-5])>(.*?)</h\1>", re.S)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Section:
    """A heading of the body, for the table of contents."""

    anchor: str
    title: str  # HTML (escaped text, maybe <code>)
    level: int


@dataclass
class HtmlDocument:
    """A page built from Markdown blocks and trusted SVG figures, in the one document frame.

    ``kind`` says what the document is («Оценка зрелости CRM»); ``summary`` blocks are the answer
    on page one. ``render`` makes the standalone page; ``crmkit.export.combined`` puts several
    documents into one report.
    """

    title: str
    lang: str = "en"
    blocks: list[str] = field(default_factory=list)
    footer: str = ""
    kind: str = ""
    meta: DocumentMeta = field(default_factory=DocumentMeta)
    summary: list[str] = field(default_factory=list)
    #: what only the implementer needs (library ids may be named here, nowhere else)
    appendix: list[str] = field(default_factory=list)

    # -- building ---------------------------------------------------------------------------
    def markdown(self, text: str) -> HtmlDocument:
        fragment = markdown_to_html(text)
        if not self.blocks:
            # the cover holds the title: the Markdown's own first heading would repeat it
            fragment = _H1.sub("", fragment, count=1)
        self.blocks.append(fragment)
        return self

    def figure(self, svg: str, caption: str = "") -> HtmlDocument:
        """Add an SVG made by ``crmkit.export.svg`` (its texts are escaped there)."""
        self.blocks.append(figure_html(svg, caption))
        return self

    def summarize(self, text: str, *figures: str) -> HtmlDocument:
        """The answer on page one: Markdown, then figures (SVG) under it."""
        self.summary.append(markdown_to_html(text))
        self.summary.extend(figure_html(svg) for svg in figures)
        return self

    def for_implementer(self, text: str) -> HtmlDocument:
        """Markdown for the appendix «Приложение для внедренца» at the end."""
        if text.strip():
            self.appendix.append(markdown_to_html(text))
        return self

    # -- rendering --------------------------------------------------------------------------
    @property
    def language(self) -> Lang:
        return self.lang if self.lang in ("ru", "en", "uk") else "en"  # type: ignore[return-value]

    def body(self, prefix: str = "s", shift: int = 0) -> tuple[str, list[Section]]:
        """The body's HTML (and the appendix) with an anchor on every heading, and its
        sections."""
        body, sections = number_headings("".join(self.blocks), prefix, shift)
        if self.appendix:
            anchor = f"{prefix}-appendix"
            title = html.escape(msg("doc.frame.appendix", self.language))
            level = 2 + shift
            inner, more = number_headings("".join(self.appendix), anchor, shift + 1)
            body += (
                f'<section class="appendix" id="{anchor}-box"><h{level} id="{anchor}">{title}'
                f"</h{level}>{inner}</section>\n"
            )
            sections += [Section(anchor, title, level), *more]
        return body, sections

    def render(self) -> str:
        lang = self.language
        body, sections = self.body()
        sections = [s for s in sections if s.level <= 3]
        summary = summary_html(self.summary, lang)
        contents = toc_html(
            (
                [Section("summary", html.escape(msg("doc.frame.summary", lang)), 2)]
                if summary
                else []
            )
            + sections,
            lang,
        )
        return page_html(
            self.title,
            lang,
            self.meta,
            cover_html(self.meta, self.kind, self.title, lang)
            + summary
            + contents
            + f'<div class="doc-body">\n{body}</div>\n',
            footer_text(self.meta, self.kind or self.title, lang, self.footer),
        )


def figure_html(svg: str, caption: str = "") -> str:
    cap = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="figure">{svg}{cap}</figure>\n'


def number_headings(fragment: str, prefix: str, shift: int = 0) -> tuple[str, list[Section]]:
    """Give each ``<h2>``–``<h5>`` an anchor (``prefix-1``, …), moving them ``shift`` levels
    down (a document inside the combined report); every heading is a section."""
    sections: list[Section] = []

    def anchor(match: re.Match[str]) -> str:
        level = min(int(match.group(1)) + shift, 6)
        name = f"{prefix}-{len(sections) + 1}"
        sections.append(Section(name, match.group(2).strip(), level))
        return f'<h{level} id="{name}">{match.group(2)}</h{level}>'

    return _HEADING.sub(anchor, fragment), sections


def cover_html(meta: DocumentMeta, kind: str, title: str, lang: Lang) -> str:
    facts = "".join(
        f"<div><dt>{html.escape(name)}</dt><dd>{html.escape(value)}</dd></div>"
        for name, value in cover_facts(meta, lang)
    )
    alt = html.escape(msg("doc.frame.logo", lang))
    logo = f'<img class="logo" src="{html.escape(meta.logo)}" alt="{alt}">' if meta.logo else ""
    kind_line = f'<p class="kind">{html.escape(kind)}</p>' if kind and kind != title else ""
    return (
        f'<header class="cover">{logo}{kind_line}<h1>{html.escape(title)}</h1>'
        + (f'<dl class="facts">{facts}</dl>' if facts else "")
        + "</header>\n"
    )


def summary_html(blocks: list[str], lang: Lang, anchor: str = "summary") -> str:
    if not blocks:
        return ""
    heading = html.escape(msg("doc.frame.summary", lang))
    return (
        f'<section class="summary" id="{anchor}"><h2>{heading}</h2>'
        + "".join(blocks)
        + "</section>\n"
    )


def toc_html(sections: list[Section], lang: Lang) -> str:
    """The linked table of contents; nested one level (a section's subsections)."""
    if len(sections) < 2:
        return ""
    top = min(s.level for s in sections)
    items: list[str] = []
    open_sub = False
    for section in sections:
        link = f'<a href="#{section.anchor}">{_TAG.sub("", section.title)}</a>'
        if section.level == top:
            if open_sub:
                items.append("</ol></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not open_sub:
                items.append("<ol>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    items.append("</ol></li>" if open_sub else "</li>")
    heading = html.escape(msg("doc.contents", lang))
    listed = "".join(items)
    return f'<nav class="toc" aria-label="{heading}"><h2>{heading}</h2><ol>{listed}</ol></nav>\n'


def footer_text(meta: DocumentMeta, what: str, lang: Lang, extra: str = "") -> str:
    """One footer for all documents: the client, the document, its version and date."""
    parts = [meta.client, what]
    if meta.version:
        parts.append(msg("doc.frame.footer_version", lang, version=meta.version))
    if meta.date:
        parts.append(long_date(meta.date, lang))
    if extra:
        parts.append(extra)
    return " · ".join(p for p in parts if p)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the printed page's margin)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
    return f'"{escaped}"'


def page_html(title: str, lang: Lang, meta: DocumentMeta, content: str, footer: str) -> str:
    pages = msg("doc.frame.page", lang)
    margin = (
        "@page { @bottom-left { content: " + _css_string(footer) + "; }"
        " @bottom-right { content: "
        + _css_string(pages)
        + ' " " counter(page) " / " counter(pages); } }\n'
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{html.escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{page_css()}{margin}</style>\n</head>\n"
        f"<body>\n<main>\n{content}</main>\n"
        f'<footer class="page-footer">{html.escape(footer)}</footer>\n'
        "</body>\n</html>\n"
    )

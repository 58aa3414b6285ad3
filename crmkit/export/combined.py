"""``crmkit render DIR``: the client folder as one self-contained report.

The parts, in the order a client reads them: the maturity assessment, the audit of the live
portal, the portal's current set-up, the CRM selection, the blueprints, the push plan. Files of
the folder are rendered afresh (``assessment.toml``, ``selection.toml``, ``blueprint.toml``,
``portal.toml`` and any other blueprint); what cannot be re-derived from a file — the audit and
the push plan, measured on a live portal — is taken from the framed pages their commands saved
in ``reports/`` (``audit.html``, ``push-plan.html``).

Every part keeps its summary (gathered on page one under the part's name), its sections (in one
table of contents) and its figures; ids are prefixed per part, so two funnels never share one.
"""

from __future__ import annotations

import datetime
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from crmkit.blueprints.library import Library
from crmkit.errors import InputError
from crmkit.export.frame import CLIENT_FILE, DocumentMeta, client_meta
from crmkit.export.html import (
    HtmlDocument,
    Section,
    cover_html,
    footer_text,
    number_headings,
    page_html,
    toc_html,
)
from crmkit.i18n import Lang, msg, run_msg

#: saved framed pages of what only a live portal shows, by their part
SAVED_PAGES = {"audit": "reports/audit.html", "push": "reports/push-plan.html"}
#: the order of the parts
ORDER = ("assessment", "audit", "portal", "selection", "blueprint", "push")


class EmptyFolder(InputError):
    """The folder holds none of the documents a combined report is made of."""


@dataclass(frozen=True)
class Part:
    key: str
    kind: str
    title: str
    #: HTML blocks of the part's summary
    summary: str
    #: the part's body (headings from h2 down, ids free)
    body: str


def render_folder(
    folder: Path,
    lang: Lang,
    *,
    library: Library,
    meta: DocumentMeta | None = None,
    today: datetime.date | None = None,
) -> str:
    """The combined report of the client folder ``folder`` (its ``client.toml`` for the cover
    unless ``meta`` is given)."""
    meta = (meta or client_meta(folder)).with_defaults(today=today or datetime.date.today())
    parts = list(folder_parts(folder, lang, library, meta))
    if not parts:
        raise EmptyFolder(run_msg("load.other.empty_folder"), where=str(folder))
    return combine(parts, meta, lang)


def folder_parts(folder: Path, lang: Lang, library: Library, meta: DocumentMeta) -> list[Part]:
    from crmkit.export.documents import load_file
    from crmkit.files import is_file, read_text

    found: list[tuple[int, str, Part]] = []
    for path in sorted(folder.glob("*.toml")):
        if path.name == CLIENT_FILE:
            continue
        kind, loaded = load_file(path, lang, library)
        key = "portal" if kind == "blueprint" and path.stem == "portal" else kind
        first = "0" if path.stem == key else "1"  # blueprint.toml before other blueprints
        found.append(
            (ORDER.index(key), first + path.name, from_document(key, loaded.document(meta)))
        )
    for key, name in SAVED_PAGES.items():
        page = folder / name
        if is_file(page):
            found.append((ORDER.index(key), name, from_page(key, read_text(page), str(page))))
    return [part for _, _, part in sorted(found, key=lambda item: item[:2])]


def from_document(key: str, document: HtmlDocument) -> Part:
    body, _ = document.body()
    return Part(key, document.kind, document.title, "".join(document.summary), body)


_COVER_TITLE = re.compile(r'<header class="cover">.*?<h1>(.*?)</h1>', re.S)
_COVER_KIND = re.compile(r'<header class="cover">.*?<p class="kind">(.*?)</p>', re.S)
_SUMMARY = re.compile(r'<section class="summary" id="summary"><h2>.*?</h2>(.*?)</section>\n', re.S)
_BODY = re.compile(r'<div class="doc-body">\n(.*)</div>\n</main>', re.S)


def from_page(key: str, page: str, where: str) -> Part:
    """A part from a page crmkit saved in the document frame (the audit, the push plan)."""
    body = _BODY.search(page)
    title = _COVER_TITLE.search(page)
    if body is None or title is None:
        raise InputError(run_msg("load.other.not_framed"), where=where)
    kind = _COVER_KIND.search(page)
    summary = _SUMMARY.search(page)
    return Part(
        key,
        html.unescape(kind.group(1)) if kind else "",
        html.unescape(title.group(1)),
        summary.group(1) if summary else "",
        body.group(1),
    )


_HEADING_ID = re.compile(r'<h([2-6]) id="[^"]*">')
_ID = re.compile(r'\bid="([^"]+)"')


def _own_ids(fragment: str, prefix: str) -> str:
    """Every id of ``fragment`` (an SVG's gradient, a section) and the references to it,
    prefixed: parts drawn alike on one page must not share ids."""
    ids = set(_ID.findall(fragment))
    if not ids:
        return fragment

    def rename(match: re.Match[str]) -> str:
        name = match.group(2)
        return f"{match.group(1)}{prefix}-{name}" if name in ids else match.group(0)

    fragment = re.sub(r'(\bid=")([^"]+)(?=")', rename, fragment)
    fragment = re.sub(r"(url\(#)([^)]+)(?=\))", rename, fragment)
    return re.sub(r'(href="#)([^"]+)(?=")', rename, fragment)


def combine(parts: Iterable[Part], meta: DocumentMeta, lang: Lang) -> str:
    """One page of the parts: the cover, every part's summary, the contents, the parts."""
    parts = list(parts)
    title = msg("doc.combined.title", lang)
    summaries: list[str] = []
    sections: list[Section] = [Section("summary", html.escape(msg("doc.frame.summary", lang)), 2)]
    bodies: list[str] = []
    for index, part in enumerate(parts, 1):
        anchor = f"p{index}"
        heading = html.escape(part.title)
        if part.summary:
            summaries.append(
                f'<h3><a href="#{anchor}">{heading}</a></h3>{_own_ids(part.summary, f"{anchor}s")}'
            )
        body = _HEADING_ID.sub(r"<h\1>", part.body)
        body, inner = number_headings(_own_ids(body, anchor), anchor, shift=1)
        sections.append(Section(anchor, heading, 2))
        sections.extend(s for s in inner if s.level == 3)
        bodies.append(
            f'<section class="part" id="{anchor}-box"><h2 id="{anchor}">{heading}</h2>'
            f"{body}</section>\n"
        )
    summary = (
        f'<section class="summary" id="summary"><h2>{html.escape(msg("doc.frame.summary", lang))}'
        f"</h2>{''.join(summaries)}</section>\n"
    )
    content = (
        cover_html(meta, msg("doc.combined.kind", lang), title, lang)
        + summary
        + toc_html(sections, lang)
        + '<div class="doc-body">\n'
        + "".join(bodies)
        + "</div>\n"
    )
    return page_html(title, lang, meta, content, footer_text(meta, title, lang))

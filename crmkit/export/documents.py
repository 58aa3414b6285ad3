"""``crmkit render``: which kind of document a file is, and its rendering in the one frame.

A file is recognised by its top-level tables: a blueprint has ``[blueprint]`` or ``[[pipelines]]``;
other kinds register a detector and a loader in ``KINDS``. A loader reads the file once and
gives both renderings: the framed HTML document (which the combined report also takes) and
Markdown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.blueprints.loader import load_document
from crmkit.errors import InputError
from crmkit.export.frame import DocumentMeta
from crmkit.export.html import HtmlDocument
from crmkit.export.markdown import framed_markdown
from crmkit.files import TomlDocument, read_toml
from crmkit.i18n import Lang, run_msg


@dataclass(frozen=True)
class Loaded:
    """A document read from its file, ready to render either way."""

    document: Callable[[DocumentMeta], HtmlDocument]
    markdown: Callable[[DocumentMeta], str]
    #: whom the document itself names as the client (a selection's company), for the cover
    client: str = ""


Loader = Callable[[TomlDocument, Path, Lang, Library], Loaded]


def _load_blueprint(doc: TomlDocument, path: Path, lang: Lang, library: Library) -> Loaded:
    from crmkit.export.blueprint_doc import blueprint_document, blueprint_markdown

    blueprint = load_document(doc, path, library.resolver())
    return Loaded(
        lambda meta: blueprint_document(blueprint, lang, meta),
        lambda meta: blueprint_markdown(blueprint, lang, meta),
    )


def _load_assessment(doc: TomlDocument, path: Path, lang: Lang, library: Library) -> Loaded:
    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.model import missing, relevant
    from crmkit.assess.report import assessment_document, to_markdown
    from crmkit.assess.scoring import score
    from crmkit.i18n import msg

    questionnaire = load_questionnaire(None)
    answers = dict(read_answers(path, questionnaire).answers)
    todo = missing(questionnaire, answers)
    if todo:
        raise InputError(
            msg("assess.missing", lang, count=len(todo), ids=", ".join(todo)), where=str(path)
        )
    assessment = score(questionnaire, relevant(questionnaire, answers))
    return Loaded(
        lambda meta: assessment_document(questionnaire, assessment, lang, meta),
        lambda meta: to_markdown(questionnaire, assessment, lang, meta=meta),
    )


def _load_selection(doc: TomlDocument, path: Path, lang: Lang, library: Library) -> Loaded:
    from crmkit.select import report
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library as problem_library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import read_selection

    catalog = load_catalog(None)
    problems = problem_library()
    selection = read_selection(doc, catalog, problems)
    result = run_selection(selection, catalog, problems)
    return Loaded(
        lambda meta: report.selection_document(result, lang, meta),
        # the selection's Markdown opens with its own summary: the frame adds the cover
        lambda meta: framed_markdown(report.render_markdown(result, lang), meta, "", lang),
    )


def _is_selection(data: dict[str, Any]) -> bool:
    return bool({"problems", "deployment", "criteria", "scores", "shortlist"} & set(data))


@dataclass(frozen=True)
class Kind:
    name: str
    detect: Callable[[dict[str, Any]], bool]
    load: Loader


KINDS: list[Kind] = [
    Kind("blueprint", lambda data: "blueprint" in data or "pipelines" in data, _load_blueprint),
    Kind("assessment", lambda data: "answers" in data, _load_assessment),
    Kind("selection", _is_selection, _load_selection),
]


def kind_of_data(data: dict[str, Any]) -> Kind | None:
    return next((kind for kind in KINDS if kind.detect(data)), None)


def load_file(path: Path, lang: Lang, library: Library) -> tuple[str, Loaded]:
    """(the kind of document, the document read from ``path``)."""
    doc = read_toml(path)
    kind = kind_of_data(doc.data)
    if kind is None:
        names = ", ".join(k.name for k in KINDS)
        raise InputError(run_msg("load.other.not_renderable", names=names), where=str(path))
    return kind.name, kind.load(doc, path, lang, library)


def render_file(
    path: Path, fmt: str, lang: Lang, library: Library, meta: DocumentMeta | None = None
) -> tuple[str, str]:
    """(the kind of document, its rendering)."""
    name, loaded = load_file(path, lang, library)
    meta = (meta or DocumentMeta()).with_defaults(client=loaded.client)
    if fmt == "html":
        return name, loaded.document(meta).render()
    return name, loaded.markdown(meta)


def render_library_blueprint(
    blueprint_id: str, fmt: str, lang: Lang, library: Library, meta: DocumentMeta | None = None
) -> str:
    """A library blueprint by id (``lead-funnel``), as ``crmkit blueprint lint`` takes one."""
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown

    blueprint = library.load(blueprint_id)
    if fmt == "html":
        return blueprint_html(blueprint, lang, meta)
    return blueprint_markdown(blueprint, lang, meta)

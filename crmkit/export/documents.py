"""``crmkit render``: which kind of document a file is, and its rendering.

A file is recognised by its top-level tables: a blueprint has ``[blueprint]`` or ``[[pipelines]]``;
other kinds register a detector and a renderer in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.blueprints.loader import load_document
from crmkit.errors import InputError
from crmkit.files import TomlDocument, read_toml
from crmkit.i18n import Lang, run_msg

Renderer = Callable[[TomlDocument, Path, str, Lang, Library], str]


def _render_blueprint(doc: TomlDocument, path: Path, fmt: str, lang: Lang, library: Library) -> str:
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown

    blueprint = load_document(doc, path, library.resolver())
    return blueprint_html(blueprint, lang) if fmt == "html" else blueprint_markdown(blueprint, lang)


def _render_assessment(
    doc: TomlDocument, path: Path, fmt: str, lang: Lang, library: Library
) -> str:
    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.model import missing, relevant
    from crmkit.assess.report import to_html, to_markdown
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
    if fmt == "html":
        return to_html(questionnaire, assessment, lang, answers_file=path.name)
    return to_markdown(questionnaire, assessment, lang, answers_file=path.name)


def _render_selection(doc: TomlDocument, path: Path, fmt: str, lang: Lang, library: Library) -> str:
    from crmkit.select import report
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library as problem_library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import read_selection

    catalog = load_catalog(None)
    problems = problem_library()
    result = run_selection(read_selection(doc, catalog, problems), catalog, problems)
    return (
        report.render_html(result, lang) if fmt == "html" else report.render_markdown(result, lang)
    )


def _is_selection(data: dict[str, Any]) -> bool:
    return bool({"problems", "deployment", "criteria", "scores", "shortlist"} & set(data))


@dataclass(frozen=True)
class Kind:
    name: str
    detect: Callable[[dict[str, Any]], bool]
    render: Renderer


KINDS: list[Kind] = [
    Kind(
        "blueprint",
        lambda data: "blueprint" in data or "pipelines" in data,
        _render_blueprint,
    ),
    Kind("assessment", lambda data: "answers" in data, _render_assessment),
    Kind("selection", _is_selection, _render_selection),
]


def render_file(path: Path, fmt: str, lang: Lang, library: Library) -> tuple[str, str]:
    """(the kind of document, its rendering)."""
    doc = read_toml(path)
    for kind in KINDS:
        if kind.detect(doc.data):
            return kind.name, kind.render(doc, path, fmt, lang, library)
    names = ", ".join(k.name for k in KINDS)
    raise InputError(run_msg("load.other.not_renderable", names=names), where=str(path))


def render_library_blueprint(blueprint_id: str, fmt: str, lang: Lang, library: Library) -> str:
    """A library blueprint by id (``lead-funnel``), as ``crmkit blueprint lint`` takes one."""
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown

    blueprint = library.load(blueprint_id)
    return blueprint_html(blueprint, lang) if fmt == "html" else blueprint_markdown(blueprint, lang)

"""Answers files, and the file side of the assessment: reading questionnaires and answers.

An answers file is TOML (DESIGN.md): ``[answers]`` with ``question_id = "choice_id"`` (a list for
a multi-choice question; ``"dont_know"`` for "don't know"). crmkit writes a header too::

    [assessment]
    crmkit_version = "0.1.0"
    questionnaire = "crmkit-maturity"
    questionnaire_version = 1
    date = "2025-03-01"
    lang = "ru"

so that a file written for an older questionnaire is recognised and migrated with the
questionnaire's ``[[migrations]]``, and an interrupted interview resumes in the language it was
asked in (``lang``, when ``--lang`` is not given). A file without the header is read as written
for the current version. ``parse_answers`` and ``dump_answers`` are pure; ``read_answers``,
``write_answers`` and ``load_questionnaire`` are the file adapter.
"""

from __future__ import annotations

import datetime as _dt
import functools
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import tomli_w

from crmkit.assess.model import (
    DONT_KNOW,
    Migration,
    Questionnaire,
    escaped,
    parse_questionnaire,
    skipped,
)
from crmkit.files import TomlDocument, parse_toml, read_toml, write_text
from crmkit.i18n import LANGS, Lang, msg, run_msg
from crmkit.schema import Node, Problems, root, type_name

HEADER = "assessment"
SHIPPED = "questionnaire.toml"


@dataclass(frozen=True)
class AnswersFile:
    """The answers of one file, already migrated to the questionnaire's current version."""

    answers: dict[str, tuple[str, ...]]
    source: str = ""
    crmkit_version: str | None = None
    questionnaire_id: str | None = None
    questionnaire_version: int | None = None
    date: str | None = None
    #: the questionnaire version the file was written for, when it was migrated
    migrated_from: int | None = None
    #: answers the migration dropped (questions that no longer exist)
    dropped: tuple[str, ...] = field(default=())
    #: the language the answers were given in (an interrupted interview resumes in it)
    lang: Lang | None = None


# -- questionnaires ---------------------------------------------------------------------------
def load_questionnaire(path: Path | None = None) -> Questionnaire:
    """The shipped questionnaire, or a consultant's own file."""
    if path is not None:
        return parse_questionnaire(read_toml(path))
    return _shipped_questionnaire()


@functools.cache
def _shipped_questionnaire() -> Questionnaire:
    # Parsed once per process: it is read-only package data and the result is frozen.
    text = resources.files("crmkit.assess").joinpath(SHIPPED).read_text(encoding="utf-8")
    return parse_questionnaire(parse_toml(text, f"crmkit/assess/{SHIPPED}"))


# -- reading answers (pure) -------------------------------------------------------------------
def _header(
    node: Node, questionnaire: Questionnaire
) -> tuple[str | None, str | None, int | None, str | None, Lang | None]:
    crmkit_version = node.str("crmkit_version")
    q_id = node.str("questionnaire")
    if q_id is not None and q_id != questionnaire.id:
        problem = run_msg(
            "load.answers.other_questionnaire", found=escaped(q_id), expected=questionnaire.id
        )
        node.error(problem, "questionnaire")
    version = node.int("questionnaire_version", minimum=0)
    if version is not None and version > questionnaire.version:
        problem = run_msg("load.answers.newer", version=version, current=questionnaire.version)
        node.error(problem, "questionnaire_version")
    raw_date = node.raw("date")
    date: str | None = None
    if isinstance(raw_date, str | _dt.date):
        date = raw_date.isoformat() if isinstance(raw_date, _dt.date) else raw_date
    elif raw_date is not None:
        node.error(run_msg("load.answers.date"), "date")
    lang = node.str("lang", choices=LANGS)
    node.done()
    return crmkit_version, q_id, version, date, lang  # type: ignore[return-value]


def _migration_steps(
    questionnaire: Questionnaire, version: int | None, node: Node | None
) -> list[Migration] | None:
    """The migrations from ``version`` to the current one, in order; None when one is missing."""
    steps: list[Migration] = []
    if version is None or version >= questionnaire.version:
        return steps
    for step in range(version, questionnaire.version):
        migration = next((m for m in questionnaire.migrations if m.from_version == step), None)
        if migration is None:
            if node is not None:
                problem = run_msg("load.answers.no_migration", step=step, next=step + 1)
                node.error(problem, "questionnaire_version")
            return None
        steps.append(migration)
    return steps


def _migrate(key: str, value: Any, steps: list[Migration]) -> tuple[str | None, Any]:
    """An answer carried through the migrations: its new key (None: dropped) and value."""
    for step in steps:
        if key in step.drop_questions:
            return None, value
        key = dict(step.rename_questions).get(key, key)
        renames = {old: new for (question, old), new in step.rename_choices if question == key}
        if isinstance(value, str):
            value = renames.get(value, value)
        elif isinstance(value, list):
            value = [renames.get(v, v) if isinstance(v, str) else v for v in value]
    return key, value


def parse_answers(doc: TomlDocument, questionnaire: Questionnaire) -> AnswersFile:
    """Answers from a parsed TOML document, checked against the questionnaire.

    Raises ``LoadError`` naming file:line and key: an unknown question, an unknown choice, a
    value of the wrong type, an unknown key.
    """
    problems = Problems()
    top = root(doc.data, doc.source, problems)
    header = top.table(HEADER)
    crmkit_version = q_id = date = None
    version: int | None = None
    lang: Lang | None = None
    if header is not None:
        crmkit_version, q_id, version, date, lang = _header(header, questionnaire)
    steps = _migration_steps(questionnaire, version, header)
    table = top.table("answers", required=True)
    top.done()
    answers: dict[str, tuple[str, ...]] = {}
    dropped: list[str] = []
    from crmkit.kinds import expect_kind

    expect_kind(doc.data, "assessment", doc.source.name)
    if table is not None and steps is not None:
        for key in list(table.value):
            new_key, value = _migrate(key, table.raw(key), steps)
            if new_key is None:
                dropped.append(key)
                continue
            question = questionnaire.question(new_key)
            if question is None:
                table.error(run_msg("load.answers.unknown_question", id=escaped(key)), key)
                continue
            values: list[str]
            if isinstance(value, str):
                values = [value]
            elif isinstance(value, list) and question.kind == "multi":
                if not all(isinstance(v, str) for v in value):
                    table.error(run_msg("load.answers.choice_ids"), key)
                    continue
                values = list(value)
            else:
                wanted = "one_or_more" if question.kind == "multi" else "one"
                table.error(run_msg(f"load.answers.{wanted}", got=type_name(value)), key)
                continue
            valid = True
            for choice_id in values:
                if choice_id != DONT_KNOW and question.choice(choice_id) is None:
                    options = ", ".join([*question.choice_ids, DONT_KNOW])
                    problem = run_msg(
                        "load.answers.not_a_choice",
                        choice=escaped(choice_id),
                        question=new_key,
                        choices=options,
                    )
                    table.error(problem, key)
                    valid = False
            if DONT_KNOW in values and len(values) > 1:
                table.error(run_msg("load.answers.dont_know_alone", dont_know=DONT_KNOW), key)
                valid = False
            if len(set(values)) != len(values):
                table.error(run_msg("load.answers.twice"), key)
                valid = False
            if valid:
                answers[new_key] = tuple(values)
        table.done()
    problems.raise_if_any()
    return AnswersFile(
        answers=answers,
        source=doc.source.name,
        crmkit_version=crmkit_version,
        questionnaire_id=q_id,
        questionnaire_version=version,
        date=date,
        migrated_from=version if version is not None and version < questionnaire.version else None,
        dropped=tuple(dropped),
        lang=lang,
    )


# -- writing answers (pure) -------------------------------------------------------------------
def _value(value: object) -> str:
    return tomli_w.dumps({"v": value}).strip()[len("v = ") :]


def dump_answers(
    questionnaire: Questionnaire,
    answers: dict[str, tuple[str, ...]],
    *,
    date: str,
    crmkit_version: str,
    lang: Lang = "en",
) -> str:
    """The answers as TOML with the header; each answer is preceded by its question as a comment."""
    lines = [
        "# " + msg("saved.answers_title", lang),
        "# " + msg("saved.answers_replay", lang),
        "# " + msg("saved.answers_dont_know", lang, dont_know=DONT_KNOW),
        "",
        f"[{HEADER}]",
        f"crmkit_version = {_value(crmkit_version)}",
        f"questionnaire = {_value(questionnaire.id)}",
        f"questionnaire_version = {questionnaire.version}",
        f"date = {_value(date)}",
        f"lang = {_value(lang)}",
        "",
        "[answers]",
    ]
    for question in questionnaire.questions:
        if question.id not in answers:
            continue
        chosen = answers[question.id]
        shown = [
            (question.choice(c).text.get(lang) if question.choice(c) else c)  # type: ignore[union-attr]
            for c in chosen
        ]
        comment = " ".join(question.text.get(lang).split())
        answer = "; ".join(" ".join(s.split()) for s in shown) or "—"
        if skipped(question, answers, questionnaire):
            answer += " " + msg("assess.implied_comment", lang)
        lines.append(f"# {comment} → {answer}")
        value: object = list(chosen) if question.kind == "multi" else chosen[0]
        lines.append(f"{question.id} = {_value(value)}")
    return "\n".join(lines) + "\n"


# -- the file adapter -------------------------------------------------------------------------
def read_answers(path: Path, questionnaire: Questionnaire) -> AnswersFile:
    return parse_answers(read_toml(path), questionnaire)


def write_answers(
    path: Path,
    questionnaire: Questionnaire,
    answers: dict[str, tuple[str, ...]],
    *,
    date: str,
    crmkit_version: str,
    lang: Lang = "en",
) -> None:
    text = dump_answers(questionnaire, answers, date=date, crmkit_version=crmkit_version, lang=lang)
    write_text(path, text)

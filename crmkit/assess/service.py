"""One assessment run, without click: read, ask what is missing, save, score.

``run_assessment`` is what ``crmkit assess`` calls. The interview itself is injected (``ask``), so
this module never imports questionary; the CLI passes ``crmkit.assess.prompt.interview``.
Everything is read and checked before anything is written: bad input writes nothing.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.assess.answers import AnswersFile, load_questionnaire, read_answers, write_answers
from crmkit.assess.model import InterviewInterrupted, Questionnaire, missing, relevant
from crmkit.assess.scoring import Assessment, score
from crmkit.errors import InputError, Interrupted
from crmkit.i18n import Lang, msg

#: (questionnaire, answers so far, language) → complete answers; raises InterviewInterrupted
Ask = Callable[[Questionnaire, dict[str, tuple[str, ...]], Lang], dict[str, tuple[str, ...]]]

DEFAULT_SAVE = "assessment.toml"


@dataclass(frozen=True)
class AssessRequest:
    lang: Lang
    date: str
    crmkit_version: str
    cwd: Path
    answers_path: Path | None = None
    questionnaire_path: Path | None = None
    save_path: Path | None = None
    #: a person can answer questions (stdin is a terminal)
    interactive: bool = False
    #: --lang was given; otherwise an interrupted interview resumes in its file's language
    lang_explicit: bool = False


@dataclass
class AssessOutcome:
    questionnaire: Questionnaire
    assessment: Assessment
    answers: dict[str, tuple[str, ...]]
    #: where the answers are now kept (the file to pass to `blueprint new --from-assessment`)
    answers_file: Path | None = None
    saved: Path | None = None
    #: remarks for the person at the terminal (migration, saved files)
    notes: list[str] = field(default_factory=list)
    #: the language of the run: the request's, or the resumed answers file's
    lang: Lang = "en"
    #: questions were asked in the terminal
    asked: bool = False


def _default_save(cwd: Path) -> Path:
    candidate = cwd / DEFAULT_SAVE
    index = 1
    while candidate.exists():
        candidate = cwd / f"assessment-{index}.toml"
        index += 1
    return candidate


def resume_command(request: AssessRequest, answers_file: Path) -> str:
    """The command that continues an interrupted interview, exactly as it can be pasted."""
    words = ["crmkit", "assess", "--answers", str(answers_file)]
    if request.questionnaire_path is not None:
        words += ["--questionnaire", str(request.questionnaire_path)]
    return shlex.join(words)


def run_assessment(request: AssessRequest, ask: Ask | None = None) -> AssessOutcome:
    """Read the questionnaire and answers, ask for what is missing, save, and score."""
    lang = request.lang
    questionnaire = load_questionnaire(request.questionnaire_path)
    notes: list[str] = []
    loaded: AnswersFile | None = None
    answers: dict[str, tuple[str, ...]] = {}
    if request.answers_path is not None:
        loaded = read_answers(request.answers_path, questionnaire)
        answers = dict(loaded.answers)
        resuming = request.interactive and ask is not None and missing(questionnaire, answers)
        if resuming and loaded.lang is not None and not request.lang_explicit:
            lang = loaded.lang  # an interrupted interview goes on in the language it began in
        if loaded.migrated_from is not None:
            notes.append(
                msg(
                    "assess.migrated",
                    lang,
                    path=request.answers_path,
                    old=loaded.migrated_from,
                    new=questionnaire.version,
                )
            )
        if loaded.dropped:
            notes.append(msg("assess.dropped", lang, ids=", ".join(loaded.dropped)))

    todo = missing(questionnaire, answers)
    asked = False
    save_to: Path | None = request.save_path
    if todo:
        if not request.interactive or ask is None:
            raise InputError(
                msg("assess.missing", lang, count=len(todo), ids=", ".join(todo)),
                where=str(request.answers_path) if request.answers_path else None,
            )
        save_to = request.save_path or request.answers_path or _default_save(request.cwd)
        try:
            answers = ask(questionnaire, answers, lang)
        except InterviewInterrupted as stop:
            if not stop.answers:
                raise Interrupted(msg("assess.interrupted_nothing", lang)) from None
            write_answers(
                save_to,
                questionnaire,
                _known(questionnaire, stop.answers),
                date=request.date,
                crmkit_version=request.crmkit_version,
                lang=lang,
            )
            command = resume_command(request, save_to)
            raise Interrupted(
                msg("assess.saved_partial", lang, path=save_to, command=command)
            ) from None
        asked = True
        still = missing(questionnaire, answers)
        if still:  # the interview must not return early; this is a bug, not bad input
            raise RuntimeError(f"the interview left questions unanswered: {still}")

    answers = relevant(questionnaire, answers)
    assessment = score(questionnaire, answers)
    saved: Path | None = None
    if save_to is not None and (asked or request.save_path is not None):
        write_answers(
            save_to,
            questionnaire,
            answers,
            date=request.date,
            crmkit_version=request.crmkit_version,
            lang=lang,
        )
        saved = save_to
        notes.append(msg("assess.saved", lang, path=save_to))
    return AssessOutcome(
        questionnaire=questionnaire,
        assessment=assessment,
        answers=answers,
        answers_file=saved or request.answers_path,
        saved=saved,
        notes=notes,
        lang=lang,
        asked=asked,
    )


def _known(
    questionnaire: Questionnaire, answers: dict[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    """Every answer given so far to a question of the questionnaire (nothing is lost)."""
    return {k: v for k, v in answers.items() if questionnaire.question(k) is not None}

"""The questionnaire: levels, dimensions, questions and the level each choice evidences.

Values and the pure reader only: ``parse_questionnaire`` turns an already parsed TOML document
into a ``Questionnaire`` and names ``file:line`` and the key of every problem. Reading the file
is ``crmkit.assess.answers.load_questionnaire``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from crmkit.i18n import Text, run_msg
from crmkit.schema import Node, Problems, root

Kind = Literal["single", "multi"]
KINDS: tuple[Kind, ...] = ("single", "multi")
READINESS: tuple[str, ...] = ("for", "against")
MAX_LEVEL = 5
LEVELS = tuple(range(MAX_LEVEL + 1))

#: The answer "don't know": allowed for every question, scored as the question's lowest level
#: among the choices that fit the company (``Question.lowest_level_for``).
DONT_KNOW = "dont_know"
#: The tag of answers that say the company has no CRM yet (the readiness check applies).
NO_CRM = "no_crm"

#: Answers: question id → the chosen choice ids (one for a single-choice question).
Answers = Mapping[str, tuple[str, ...]]

if TYPE_CHECKING:
    from crmkit.files import TomlDocument

_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escaped(value: object) -> str:
    """A value from a file for a one-line message (control characters escaped); the message
    quotes it in its language's quotes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(value))


@dataclass(frozen=True)
class Choice:
    id: str
    text: Text
    #: the maturity level this answer evidences, or None when it does not count
    level: int | None = None
    #: what to do to get to this answer (a step in the action list)
    action: Text = Text()
    #: library blueprint ids crmkit can generate for that step
    generates: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    readiness: str | None = None
    reason: Text = Text()
    where: str = field(default="", compare=False)


@dataclass(frozen=True)
class Question:
    id: str
    dimension: str
    kind: Kind
    text: Text
    choices: tuple[Choice, ...]
    help: Text = Text()
    #: ask only when some chosen answer carries this tag
    only_if: str | None = None
    #: do not ask when an answer to another question (one without this ``skip_if``) carries
    #: this tag; the answer is then the question's choice carrying the tag (``implied_choice``)
    skip_if: str | None = None
    where: str = field(default="", compare=False)

    def choice(self, choice_id: str) -> Choice | None:
        return next((c for c in self.choices if c.id == choice_id), None)

    @property
    def choice_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.choices)

    @property
    def implied_choice(self) -> Choice | None:
        """The answer recorded when the question is skipped: the choice carrying ``skip_if``."""
        if self.skip_if is None:
            return None
        return next((c for c in self.choices if self.skip_if in c.tags), None)

    @property
    def scored(self) -> bool:
        return any(c.level is not None for c in self.choices)

    @property
    def lowest_level(self) -> int | None:
        levels = [c.level for c in self.choices if c.level is not None]
        return min(levels) if levels else None

    def lowest_level_for(self, has_crm: bool) -> int | None:
        """The lowest level among the choices that fit the company.

        A company known to have a CRM does not fit the "no CRM" choices (tagged ``no_crm``);
        when no other choice counts, this is ``lowest_level``.
        """
        levels = [
            c.level
            for c in self.choices
            if c.level is not None and not (has_crm and NO_CRM in c.tags)
        ]
        return min(levels) if levels else self.lowest_level

    def lowest_choice_at_least(self, level: int) -> Choice | None:
        """The choice of the smallest level that is at least ``level`` (first one on a tie)."""
        best: Choice | None = None
        for choice in self.choices:
            if (
                choice.level is not None
                and choice.level >= level
                and (best is None or choice.level < (best.level or 0))
            ):
                best = choice
        return best


@dataclass(frozen=True)
class Dimension:
    id: str
    name: Text


@dataclass(frozen=True)
class LevelInfo:
    level: int
    name: Text
    summary: Text = Text()


@dataclass(frozen=True)
class Migration:
    """How to read answers written for ``from_version`` with version ``from_version + 1``."""

    from_version: int
    rename_questions: tuple[tuple[str, str], ...] = ()
    #: ((question id after renaming, old choice id), new choice id)
    rename_choices: tuple[tuple[tuple[str, str], str], ...] = ()
    drop_questions: tuple[str, ...] = ()


@dataclass(frozen=True)
class Questionnaire:
    id: str
    version: int
    title: Text
    levels: tuple[LevelInfo, ...]
    dimensions: tuple[Dimension, ...]
    questions: tuple[Question, ...]
    migrations: tuple[Migration, ...] = ()
    source: str = field(default="", compare=False)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def dimension(self, dimension_id: str) -> Dimension | None:
        return next((d for d in self.dimensions if d.id == dimension_id), None)

    def questions_of(self, dimension_id: str) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.dimension == dimension_id)

    def level_info(self, level: int) -> LevelInfo:
        found = next((info for info in self.levels if info.level == level), None)
        return found or LevelInfo(
            level, Text(ru=f"Уровень {level}", en=f"Level {level}", uk=f"Рівень {level}")
        )

    def sections(self) -> tuple[Dimension, ...]:
        """The dimensions that have questions, in order (the sections of the interview)."""
        return tuple(d for d in self.dimensions if self.questions_of(d.id))

    def scored_dimensions(self) -> tuple[Dimension, ...]:
        return tuple(d for d in self.dimensions if any(q.scored for q in self.questions_of(d.id)))


# -- answers (pure helpers) -----------------------------------------------------------------
def tags_of(questionnaire: Questionnaire, answers: Answers) -> frozenset[str]:
    """The tags carried by the chosen answers."""
    tags: set[str] = set()
    for question in questionnaire.questions:
        for choice_id in answers.get(question.id, ()):
            choice = question.choice(choice_id)
            if choice is not None:
                tags.update(choice.tags)
    return frozenset(tags)


def skipped(question: Question, answers: Answers, questionnaire: Questionnaire) -> bool:
    """Whether the answers already say what ``question`` would: its ``skip_if`` tag is carried
    by an answer to a question that is not skipped by that tag itself (e.g. "no CRM" said once,
    where data lives, makes "No CRM" the answer to every question about how the CRM is used)."""
    tag = question.skip_if
    if tag is None:
        return False
    for other in questionnaire.questions:
        if other.skip_if == tag:
            continue
        for choice_id in answers.get(other.id, ()):
            choice = other.choice(choice_id)
            if choice is not None and tag in choice.tags:
                return True
    return False


def applies(question: Question, answers: Answers, questionnaire: Questionnaire) -> bool:
    """Whether ``question`` concerns the company, given the answers so far (its ``only_if``)."""
    if question.only_if is None:
        return True
    return question.only_if in tags_of(questionnaire, answers)


def is_asked(question: Question, answers: Answers, questionnaire: Questionnaire) -> bool:
    """Whether ``question`` is asked, given the answers so far: it applies (``only_if``) and
    the answers do not already say what it would (``skip_if``)."""
    return applies(question, answers, questionnaire) and not skipped(
        question, answers, questionnaire
    )


def asked(questionnaire: Questionnaire, answers: Answers) -> tuple[Question, ...]:
    """The questions asked given the answers so far, in order (what "[question N of M]" counts)."""
    return tuple(q for q in questionnaire.questions if is_asked(q, answers, questionnaire))


def asked_when(questionnaire: Questionnaire, tags: frozenset[str]) -> tuple[Question, ...]:
    """The questions asked when the answers carry exactly ``tags`` (the counts of the intro and of
    `crmkit assess questions`: with no tag, and with ``no_crm``)."""
    return tuple(
        q
        for q in questionnaire.questions
        if (q.only_if is None or q.only_if in tags) and (q.skip_if is None or q.skip_if not in tags)
    )


def question_counts(questionnaire: Questionnaire) -> tuple[int, int]:
    """How many questions are asked: with a CRM (no answer says ``no_crm``), and without one.
    The interview's intro, its "[question N of M]" and `crmkit assess questions` show these."""
    return (
        len(asked_when(questionnaire, frozenset())),
        len(asked_when(questionnaire, frozenset({NO_CRM}))),
    )


def implied(questionnaire: Questionnaire, answers: Answers) -> dict[str, tuple[str, ...]]:
    """The answers of the questions skipped by ``skip_if``: each its choice carrying the tag."""
    found: dict[str, tuple[str, ...]] = {}
    for question in questionnaire.questions:
        choice = question.implied_choice
        if (
            choice is not None
            and applies(question, answers, questionnaire)
            and skipped(question, answers, questionnaire)
        ):
            found[question.id] = (choice.id,)
    return found


def missing(questionnaire: Questionnaire, answers: Answers) -> list[str]:
    """The ids of the questions asked that have no answer, in questionnaire order."""
    return [
        q.id
        for q in questionnaire.questions
        if q.id not in answers and is_asked(q, answers, questionnaire)
    ]


def relevant(questionnaire: Questionnaire, answers: Answers) -> dict[str, tuple[str, ...]]:
    """The answers to questions that apply (an answer to a question that does not is dropped);
    a question skipped by ``skip_if`` without an answer gets its implied one, so the result is
    the same as answering it with that choice."""
    filled = implied(questionnaire, answers)
    result: dict[str, tuple[str, ...]] = {}
    for q in questionnaire.questions:
        if not applies(q, answers, questionnaire):
            continue
        if q.id in answers:
            result[q.id] = tuple(answers[q.id])
        elif q.id in filled:
            result[q.id] = filled[q.id]
    return result


# -- reading ----------------------------------------------------------------------------------
def _ids(node: Node, key: str, what: str, seen: set[str]) -> str:
    value = node.str(key, required=True, pattern=_ID, hint_key="schema.hint.id") or ""
    if value and value in seen:
        node.error(run_msg(f"load.questionnaire.duplicate_{what}", id=escaped(value)), key)
    seen.add(value)
    return value


def _read_choice(node: Node, seen: set[str], kind: str) -> Choice:
    choice_id = _ids(node, "id", "choice", seen)
    if choice_id == DONT_KNOW:
        node.error(run_msg("load.questionnaire.reserved", id=DONT_KNOW), "id")
    choice = Choice(
        id=choice_id,
        text=node.text("text", required=True),
        level=node.int("level", minimum=0, maximum=MAX_LEVEL),
        action=node.text("action"),
        generates=tuple(node.str_list("generates")),
        tags=tuple(node.str_list("tags")),
        readiness=node.str("readiness", choices=READINESS),
        reason=node.text("reason"),
        where=node.where,
    )
    node.done()
    return choice


def _read_question(node: Node, dimensions: set[str], seen: set[str]) -> Question:
    question_id = _ids(node, "id", "question", seen)
    dimension = node.str("dimension", required=True) or ""
    if dimension and dimension not in dimensions:
        known = ", ".join(sorted(dimensions))
        problem = run_msg(
            "load.questionnaire.unknown_dimension", id=escaped(dimension), known=known
        )
        node.error(problem, "dimension")
    kind = node.str("kind", default="single", choices=KINDS) or "single"
    choice_ids: set[str] = set()
    choices = tuple(
        _read_choice(n, choice_ids, kind) for n in node.tables("choices", required=True)
    )
    if node.has("choices") and len(choices) < (2 if kind == "single" else 1):
        node.error(run_msg("load.questionnaire.two_choices"), "choices")
    question = Question(
        id=question_id,
        dimension=dimension,
        kind=kind,  # type: ignore[arg-type]
        text=node.text("text", required=True),
        help=node.text("help"),
        only_if=node.str("only_if"),
        skip_if=node.str("skip_if"),
        choices=choices,
        where=node.where,
    )
    node.done()
    return question


def _read_migration(node: Node, version: int) -> Migration:
    start = node.int("from_version", required=True, minimum=0) or 0
    if start >= version:
        node.error(run_msg("load.questionnaire.from_version", version=version), "from_version")
    renames: list[tuple[str, str]] = []
    table = node.table("rename_questions")
    if table is not None:
        for old in list(table.value):
            new = table.str(old)
            if new:
                renames.append((old, new))
        table.done()
    choice_renames: list[tuple[tuple[str, str], str]] = []
    table = node.table("rename_choices")
    if table is not None:
        for old in list(table.value):
            new = table.str(old)
            if "." not in old:
                table.error(run_msg("load.questionnaire.rename_key"), old)
            elif new:
                question_id, choice_id = old.split(".", 1)
                choice_renames.append(((question_id, choice_id), new))
        table.done()
    migration = Migration(
        from_version=start,
        rename_questions=tuple(renames),
        rename_choices=tuple(choice_renames),
        drop_questions=tuple(node.str_list("drop_questions")),
    )
    node.done()
    return migration


def parse_questionnaire(doc: TomlDocument) -> Questionnaire:
    """A questionnaire from a parsed TOML document; raises ``LoadError`` naming file:line:key."""
    problems = Problems()
    top = root(doc.data, doc.source, problems)
    header = top.table("questionnaire", required=True)
    q_id, version, title = "questionnaire", 1, Text()
    if header is not None:
        q_id = header.str("id", required=True, pattern=_ID, hint_key="schema.hint.id") or q_id
        version = header.int("version", required=True, minimum=1) or 1
        title = header.text("title", required=True)
        header.done()

    levels: list[LevelInfo] = []
    for node in top.tables("levels"):
        level = node.int("level", required=True, minimum=0, maximum=MAX_LEVEL)
        if level is not None and any(info.level == level for info in levels):
            node.error(run_msg("load.questionnaire.level_twice", level=level), "level")
        levels.append(
            LevelInfo(
                level=level if level is not None else 0,
                name=node.text("name", required=True),
                summary=node.text("summary"),
            )
        )
        node.done()

    dimensions: list[Dimension] = []
    dimension_ids: set[str] = set()
    for node in top.tables("dimensions", required=True):
        dimension_id = _ids(node, "id", "dimension", dimension_ids)
        dimensions.append(Dimension(id=dimension_id, name=node.text("name", required=True)))
        node.done()

    question_ids: set[str] = set()
    questions = tuple(
        _read_question(n, dimension_ids, question_ids)
        for n in top.tables("questions", required=True)
    )
    migrations = tuple(_read_migration(n, version) for n in top.tables("migrations"))
    top.done()

    all_tags = {tag for q in questions for c in q.choices for tag in c.tags}
    for index, question in enumerate(questions):
        if question.only_if and question.only_if not in all_tags:
            problems.add(
                doc.source,
                ("questions", index, "only_if"),
                run_msg("load.questionnaire.no_tag", tag=escaped(question.only_if)),
            )
    for index, question in enumerate(questions):
        tag = question.skip_if
        if tag is None:
            continue
        carrying = [c.id for c in question.choices if tag in c.tags]
        if len(carrying) != 1:
            problems.add(
                doc.source,
                ("questions", index, "skip_if"),
                run_msg("load.questionnaire.skip_choice", tag=escaped(tag), found=len(carrying)),
            )
        elif not any(
            tag in c.tags for other in questions if other.skip_if != tag for c in other.choices
        ):
            problems.add(
                doc.source,
                ("questions", index, "skip_if"),
                run_msg("load.questionnaire.skip_never", tag=escaped(tag)),
            )
    problems.raise_if_any()
    return Questionnaire(
        id=q_id,
        version=version,
        title=title,
        levels=tuple(sorted(levels, key=lambda info: info.level)),
        dimensions=tuple(dimensions),
        questions=questions,
        migrations=migrations,
        source=doc.source.name,
    )


def choice_levels(questionnaire: Questionnaire) -> Iterable[int]:
    """Every level some choice evidences (for checks that levels 0..5 are reachable)."""
    for question in questionnaire.questions:
        for choice in question.choices:
            if choice.level is not None:
                yield choice.level


class InterviewInterrupted(Exception):
    """The person stopped the interview (Ctrl-C); ``answers`` holds every answer given so far."""

    def __init__(self, answers: dict[str, tuple[str, ...]]) -> None:
        super().__init__("interrupted")
        self.answers = answers

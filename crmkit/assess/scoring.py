"""Scoring under the staged model of DOMAIN.md §1. Pure: answers in, an ``Assessment`` out.

A company is at level N when it meets all of level N's criteria, so the level is the highest N
such that every scored answer evidences at least N (the lowest evidenced level). A dimension's
level is the lowest level among its answers. "Don't know" counts as the question's lowest level
among the choices that fit the company (conservatively: a company with a CRM is not put at a
"no CRM" choice) and is listed in the result. A multi-choice answer evidences the highest level
among its chosen choices.
"""

from __future__ import annotations

from dataclasses import dataclass

from crmkit.assess.model import (
    DONT_KNOW,
    MAX_LEVEL,
    NO_CRM,
    Answers,
    Question,
    Questionnaire,
    relevant,
    tags_of,
)
from crmkit.assess.readiness import Readiness, check_readiness
from crmkit.i18n import Text


@dataclass(frozen=True)
class ScoredAnswer:
    question: str
    dimension: str
    choices: tuple[str, ...]
    level: int | None
    dont_know: bool = False


@dataclass(frozen=True)
class Action:
    """One step towards ``target``: move ``question`` to the answer ``choice``."""

    target: int
    question: str
    dimension: str
    choice: str
    text: Text
    #: library blueprint ids crmkit can generate for this step
    generates: tuple[str, ...] = ()


@dataclass(frozen=True)
class Assessment:
    questionnaire_id: str
    questionnaire_version: int
    level: int
    #: dimension id → level, in questionnaire order (dimensions with scored questions only)
    dimensions: dict[str, int]
    answers: tuple[ScoredAnswer, ...]
    #: the answers that keep the company from the next level (empty at level 5)
    held_back_by: tuple[ScoredAnswer, ...]
    #: steps to the next level and on to 5, most urgent first
    actions: tuple[Action, ...]
    #: questions answered "don't know" (scored at their lowest level)
    dont_know: tuple[str, ...]
    tags: frozenset[str]
    readiness: Readiness

    def actions_for(self, target: int) -> tuple[Action, ...]:
        return tuple(a for a in self.actions if a.target == target)


def answer_level(question: Question, chosen: tuple[str, ...], has_crm: bool = False) -> int | None:
    """The level an answer evidences (None when the question does not count).

    "Don't know" (or nothing chosen) counts as the lowest level among the choices that fit the
    company: one known to have a CRM (``has_crm``) is not put at a "no CRM" choice.
    """
    if not question.scored:
        return None
    if DONT_KNOW in chosen:
        return question.lowest_level_for(has_crm)
    levels = [
        c.level
        for c in (question.choice(i) for i in chosen)
        if c is not None and c.level is not None
    ]
    if not levels:
        # nothing chosen (or only choices that do not count): the lowest level, conservatively
        return question.lowest_level_for(has_crm)
    return max(levels)


def _actions(questionnaire: Questionnaire, scored: list[ScoredAnswer], level: int) -> list[Action]:
    reached = {a.question: a.level if a.level is not None else 0 for a in scored}
    actions: list[Action] = []
    for target in range(level + 1, MAX_LEVEL + 1):
        for answer in scored:
            if reached[answer.question] >= target:
                continue
            question = questionnaire.question(answer.question)
            choice = question.lowest_choice_at_least(target) if question else None
            if question is None or choice is None or choice.level is None:
                continue
            reached[answer.question] = choice.level
            if choice.action:
                actions.append(
                    Action(
                        target=target,
                        question=question.id,
                        dimension=question.dimension,
                        choice=choice.id,
                        text=choice.action,
                        generates=choice.generates,
                    )
                )
    return actions


def _has_crm(questionnaire: Questionnaire, answers: Answers, tags: frozenset[str]) -> bool:
    """The answers say the company has a CRM: none is a "no CRM" answer, and some scored
    question has a real answer (all "don't know" says nothing)."""
    if NO_CRM in tags:
        return False
    for question in questionnaire.questions:
        if not question.scored:
            continue
        for choice_id in answers.get(question.id, ()):
            choice = question.choice(choice_id)
            if choice is not None and choice.level is not None:
                return True
    return False


def score(questionnaire: Questionnaire, answers: Answers) -> Assessment:
    """Score complete answers (see ``crmkit.assess.model.missing``)."""
    applied = relevant(questionnaire, answers)
    tags = tags_of(questionnaire, applied)
    has_crm = _has_crm(questionnaire, applied, tags)
    all_answers: list[ScoredAnswer] = []
    for question in questionnaire.questions:
        if question.id not in applied:
            continue
        chosen = applied[question.id]
        all_answers.append(
            ScoredAnswer(
                question=question.id,
                dimension=question.dimension,
                choices=chosen,
                level=answer_level(question, chosen, has_crm),
                dont_know=DONT_KNOW in chosen,
            )
        )
    scored = [a for a in all_answers if a.level is not None]
    level = min((a.level for a in scored if a.level is not None), default=0)
    dimensions: dict[str, int] = {}
    for dimension in questionnaire.scored_dimensions():
        levels = [a.level for a in scored if a.dimension == dimension.id and a.level is not None]
        if levels:
            dimensions[dimension.id] = min(levels)
    held = tuple(a for a in scored if level < MAX_LEVEL and a.level == level)
    return Assessment(
        questionnaire_id=questionnaire.id,
        questionnaire_version=questionnaire.version,
        level=level,
        dimensions=dimensions,
        answers=tuple(all_answers),
        held_back_by=held,
        actions=tuple(_actions(questionnaire, scored, level)),
        dont_know=tuple(a.question for a in all_answers if a.dont_know),
        tags=tags,
        readiness=check_readiness(questionnaire, applied),
    )

"""The interview in a terminal: the only module of the assessment that imports questionary.

Questions are asked section by section (the questionnaire's dimensions) with the progress shown;
every question offers "don't know" and "back"; at the end of each section a review screen lists
the section's answers and lets the person pick one to change. Questions already answered (an
answers file being resumed) are not asked again, but are shown on the review screen. Ctrl-C
raises ``InterviewInterrupted`` carrying every answer given so far, so the caller can save them.

``unsafe_ask`` is used throughout: plain ``ask()`` turns Ctrl-C into ``None``, which would then
flow into scoring as an answer.
"""

from __future__ import annotations

from typing import Any

from crmkit.assess.model import (
    DONT_KNOW,
    InterviewInterrupted,
    Question,
    Questionnaire,
    is_asked,
)
from crmkit.i18n import Lang, msg

_BACK = "__back__"
_CONTINUE = "__continue__"

Answers = dict[str, tuple[str, ...]]


def _answer_text(question: Question, chosen: tuple[str, ...], lang: Lang) -> str:
    texts = []
    for choice_id in chosen:
        if choice_id == DONT_KNOW:
            texts.append(msg("assess.dont_know", lang))
        else:
            choice = question.choice(choice_id)
            texts.append(choice.text.get(lang) if choice else choice_id)
    return "; ".join(texts) or "—"


class _Interview:
    def __init__(self, questionnaire: Questionnaire, answers: Answers, lang: Lang) -> None:
        import questionary

        self.q = questionary
        self.questionnaire = questionnaire
        self.answers: Answers = dict(answers)
        self.preset = set(answers)
        self.lang = lang
        self.order = list(questionnaire.questions)
        self.sections = [s.id for s in questionnaire.sections()]

    # -- one question ---------------------------------------------------------------------------
    def _title(self, question: Question) -> str:
        # numbered among the questions that apply now (readiness ones only without a CRM), so
        # the count matches the intro and grows if an answer brings more questions in
        applicable = [
            q for q in self.order if is_asked(q, self.answers, self.questionnaire) or q is question
        ]
        index = applicable.index(question) + 1
        progress = msg("assess.progress", self.lang, index=index, total=len(applicable))
        return f"[{progress}] {question.text.get(self.lang)}"

    def ask(self, question: Question, can_go_back: bool) -> tuple[str, ...] | None:
        """The answer, or None when the person chose "back"."""
        lang = self.lang
        if question.help:
            self.q.print("  " + question.help.get(lang), style="italic fg:ansibrightblack")
        current = self.answers.get(question.id, ())
        choices: list[Any] = [self.q.Choice(c.text.get(lang), value=c.id) for c in question.choices]
        choices.append(self.q.Choice(msg("assess.dont_know", lang), value=DONT_KNOW))
        if can_go_back:
            choices.append(self.q.Choice(msg("assess.back", lang), value=_BACK))
        if question.kind == "single":
            default = current[0] if current else None
            value = self.q.select(
                self._title(question),
                choices=choices,
                default=default,
                use_shortcuts=len(choices) <= 36,
            ).unsafe_ask()
            return None if value == _BACK else (str(value),)
        for choice in choices:
            choice.checked = choice.value in current

        def valid(picked: list[str]) -> bool | str:
            if DONT_KNOW in picked and len(picked) > 1 and _BACK not in picked:
                return msg("assess.dont_know", lang) + " ≠ …"
            return True

        picked = self.q.checkbox(
            self._title(question),
            choices=choices,
            validate=valid,
            instruction=msg("assess.multi_hint", lang),
        ).unsafe_ask()
        if _BACK in picked:
            return None
        return tuple(str(p) for p in picked)

    # -- a section's review screen ------------------------------------------------------------
    def review(self, section: str) -> None:
        lang = self.lang
        name = self.questionnaire.dimension(section)
        title = name.name.get(lang) if name else section
        while True:
            shown = [
                q
                for q in self.questionnaire.questions_of(section)
                if q.id in self.answers and is_asked(q, self.answers, self.questionnaire)
            ]
            if not shown:
                return
            self.q.print("")
            self.q.print(msg("assess.review_title", lang, name=title), style="bold")
            for index, question in enumerate(shown, 1):
                answer = _answer_text(question, self.answers[question.id], lang)
                self.q.print(f"  {index}. {question.text.get(lang)}")
                self.q.print(f"     → {answer}", style="fg:ansigreen")
            choices = [self.q.Choice(msg("assess.review_continue", lang), value=_CONTINUE)]
            choices += [
                self.q.Choice(f"{i}. {q.text.get(lang)}", value=q.id)
                for i, q in enumerate(shown, 1)
            ]
            picked = self.q.select(
                msg("assess.review_pick", lang), choices=choices, use_shortcuts=len(choices) <= 36
            ).unsafe_ask()
            if picked == _CONTINUE:
                return
            edited = self.questionnaire.question(str(picked))
            if edited is not None:
                changed = self.ask(edited, can_go_back=False)
                if changed is not None:
                    self.answers[edited.id] = changed

    # -- the whole interview ------------------------------------------------------------------
    def _askable(self, index: int) -> bool:
        question = self.order[index]
        return question.id not in self.preset and is_asked(
            question, self.answers, self.questionnaire
        )

    def _previous(self, index: int) -> int | None:
        for earlier in range(index - 1, -1, -1):
            if self._askable(earlier):
                return earlier
        return None

    def run(self) -> Answers:
        lang = self.lang
        todo = sum(1 for i in range(len(self.order)) if self._askable(i))
        self.q.print(msg("assess.intro", lang, count=todo), style="bold")
        index = 0
        announced: str | None = None
        asked_in: set[str] = set()
        while index < len(self.order):
            question = self.order[index]
            if self._askable(index):
                if announced != question.dimension:
                    announced = question.dimension
                    position = self.sections.index(question.dimension) + 1
                    dimension = self.questionnaire.dimension(question.dimension)
                    self.q.print("")
                    self.q.print(
                        msg(
                            "assess.section",
                            lang,
                            index=position,
                            total=len(self.sections),
                            name=dimension.name.get(lang) if dimension else question.dimension,
                        ),
                        style="bold fg:ansicyan",
                    )
                previous = self._previous(index)
                answer = self.ask(question, can_go_back=previous is not None)
                if answer is None and previous is not None:
                    index = previous
                    continue
                if answer is not None:
                    self.answers[question.id] = answer
                    asked_in.add(question.dimension)
            last_of_section = (
                index + 1 == len(self.order)
                or self.order[index + 1].dimension != question.dimension
            )
            if last_of_section and question.dimension in asked_in:
                self.review(question.dimension)
                asked_in.discard(question.dimension)
            index += 1
        # drop answers to questions that no longer apply (e.g. readiness once a CRM is chosen)
        return {
            q.id: self.answers[q.id]
            for q in self.questionnaire.questions
            if q.id in self.answers and is_asked(q, self.answers, self.questionnaire)
        }


def interview(questionnaire: Questionnaire, answers: Answers, lang: Lang) -> Answers:
    """Ask the questions without an answer; returns all answers. Ctrl-C → InterviewInterrupted."""
    session = _Interview(questionnaire, answers, lang)
    try:
        return session.run()
    except KeyboardInterrupt:
        raise InterviewInterrupted(dict(session.answers)) from None

"""The interview in a terminal: the only module of the assessment that imports questionary.

Questions are asked section by section (the questionnaire's dimensions), each numbered
"[question N of M]" among the questions asked given the answers so far — the count of the intro
and of `crmkit assess questions`. Every question offers "don't know"; ← (or ``<``) goes back to the
previous question, and a single-choice list has a "← Back" item too. A section of several
questions asked in this run ends with a review of its answers; the answers of one-question
sections are reviewed once, at the end, before the result. On a review, typing a question's
number (the N it was asked with) changes that answer.

A section whose questions do not concern the company is announced in one line and skipped: the
readiness questions once there is a CRM, and — when the company says it has no CRM — the
questions about how a CRM is used (``skip_if``): their answer "No CRM" is recorded, so the result
is the one answering "No CRM" to each gives. Long texts wrap at word boundaries to the terminal.

Questions already answered (an answers file being resumed) are not asked again, but are shown on
the review screens. Ctrl-C raises ``InterviewInterrupted`` carrying every answer given so far.

``unsafe_ask`` is used throughout: plain ``ask()`` turns Ctrl-C into ``None``, which would then
flow into scoring as an answer.
"""

from __future__ import annotations

import shutil
import textwrap
from typing import Any

from crmkit.assess.model import (
    DONT_KNOW,
    NO_CRM,
    InterviewInterrupted,
    Question,
    Questionnaire,
    applies,
    asked,
    is_asked,
    missing,
    question_counts,
    relevant,
    skipped,
)
from crmkit.i18n import Lang, msg
from crmkit.terminal import without_english_answer

_BACK = "__back__"
#: keys that go back (or, on a review's edit, keep the answer): ← for any keyboard layout,
#: ``<`` as in the select wizard
_BACK_KEYS = ("left", "<")
#: columns the lists draw before a choice: " » " and "1) " (select), " » " and "○ " (checkbox)
_SELECT_PREFIX = 6
_PLAIN_SELECT_PREFIX = 3
_CHECKBOX_PREFIX = 5
_NBSP = "\u00a0"

Answers = dict[str, tuple[str, ...]]


def _width() -> int:
    """The columns a line may use: the terminal's, less one (the cursor never wraps alone)."""
    return max(40, shutil.get_terminal_size((80, 24)).columns) - 1


def wrap(text: str, width: int, first: str = "", rest: str | None = None) -> str:
    """``text`` broken at word boundaries into lines of at most ``width`` columns (a word longer
    than a line is kept whole, never cut); a dash stays on the line of the word before it."""
    glued = " ".join(text.split()).replace(" —", _NBSP + "—").replace(" –", _NBSP + "–")
    lines = textwrap.wrap(
        glued,
        width=width,
        initial_indent=first,
        subsequent_indent=first if rest is None else rest,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return "\n".join(lines).replace(_NBSP, " ") if lines else first.rstrip()


def _hanging(text: str, width: int, indent: int) -> str:
    """``text`` for a list item drawn after ``indent`` columns: the lines after the first are
    indented to start under the first."""
    return wrap(text, width, " " * indent)[indent:]


def _answer_text(question: Question, chosen: tuple[str, ...], lang: Lang) -> str:
    texts = []
    for choice_id in chosen:
        if choice_id == DONT_KNOW:
            texts.append(msg("assess.dont_know", lang))
        else:
            choice = question.choice(choice_id)
            texts.append(choice.text.get(lang) if choice else choice_id)
    return "; ".join(texts) or msg("assess.none_ticked", lang)


class _Interview:
    def __init__(self, questionnaire: Questionnaire, answers: Answers, lang: Lang) -> None:
        import questionary

        self.q = questionary
        self.questionnaire = questionnaire
        self.answers: Answers = dict(answers)
        #: answered in the file being resumed
        self.from_file = frozenset(answers)
        #: not asked again by a walk through the questions (the file's, then all after a walk)
        self.preset = set(answers)
        #: answered in this run
        self.asked_now: set[str] = set()
        #: one-question sections, reviewed together at the end
        self.final_sections: set[str] = set()
        self.announced: set[tuple[tuple[str, ...], str]] = set()
        self.lang = lang
        self.order = list(questionnaire.questions)
        self.sections = [s.id for s in questionnaire.sections()]

    # -- numbers and texts ------------------------------------------------------------------------
    def _asked(self, question: Question) -> bool:
        return is_asked(question, self.answers, self.questionnaire)

    def _number(self, question: Question) -> tuple[int, int]:
        """ "[question N of M]": N among the questions asked given the answers so far (the count
        of the intro), so M shrinks or grows when an answer takes questions out or brings more."""
        plan = [q for q in self.order if self._asked(q) or q is question]
        return plan.index(question) + 1, len(plan)

    def _print(self, text: str, style: str | None = None) -> None:
        if style is None:
            self.q.print(text)
        else:
            self.q.print(text, style=style)

    def _hint(self, parts: list[str], after: str, width: int) -> str:
        """The help line of a prompt: on the title's last line when it fits, else under it."""
        hint = "(" + "; ".join(parts) + ")"
        last = after.rsplit("\n", 1)[-1]
        if len(last) + 3 + len(hint) <= width:  # "? " before the title, " " after it
            return hint
        return "\n" + wrap(hint, width, "  ")

    def _back_on_keys(self, question: Any) -> Any:
        """← or ``<`` leaves a list at once with "back" (no validation: nothing is chosen)."""
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

        bindings = KeyBindings()
        for key in _BACK_KEYS:

            @bindings.add(key, eager=True)
            def _back(event: Any) -> None:
                event.app.exit(result=_BACK)

        app = question.application
        app.key_bindings = merge_key_bindings([app.key_bindings or KeyBindings(), bindings])
        return question

    # -- one question ---------------------------------------------------------------------------
    def ask(self, question: Question, back: str | None) -> tuple[str, ...] | None:
        """The answer, or None when the person went back. ``back`` is the help line's words for
        ← ("back", or on a review "keep the answer"); None: there is nowhere to go back to."""
        lang, width = self.lang, _width()
        if question.help:
            self._print(wrap(question.help.get(lang), width, "  "), "italic fg:ansibrightblack")
        index, total = self._number(question)
        progress = msg("assess.progress", lang, index=index, total=total)
        title = wrap(f"[{progress}] {question.text.get(lang)}", width, "? ", "  ")[2:]
        current = self.answers.get(question.id, ())
        labels = [(c.id, c.text.get(lang)) for c in question.choices]
        labels.append((DONT_KNOW, msg("assess.dont_know", lang)))
        if question.kind == "single":
            if back is not None:
                labels.append((_BACK, msg("assess.back", lang)))
            shortcuts = len(labels) <= 36
            indent = _SELECT_PREFIX if shortcuts else _PLAIN_SELECT_PREFIX
            choices = [self.q.Choice(_hanging(t, width, indent), value=v) for v, t in labels]
            parts = [msg("assess.hint_single", lang)] + ([back] if back else [])
            prompt = self.q.select(
                title,
                choices=choices,
                default=current[0] if current else None,
                use_shortcuts=shortcuts,
                instruction=self._hint(parts, title, width),
                erase_when_done=True,
            )
        else:
            choices = [
                self.q.Choice(_hanging(t, width, _CHECKBOX_PREFIX), value=v, checked=v in current)
                for v, t in labels
            ]
            alone = wrap(msg("assess.dont_know_alone", lang), width)

            def valid(picked: list[str]) -> bool | str:
                return alone if DONT_KNOW in picked and len(picked) > 1 else True

            parts = [msg("assess.hint_multi", lang)] + ([back] if back else [])
            prompt = self.q.checkbox(
                title,
                choices=choices,
                validate=valid,
                instruction=self._hint(parts, title, width),
                erase_when_done=True,
            )
        if back is not None:
            self._back_on_keys(prompt)
        value = without_english_answer(prompt).unsafe_ask()
        if value == _BACK:
            return None
        chosen = (str(value),) if question.kind == "single" else tuple(str(v) for v in value)
        # the prompt is erased when done: what stays is the question and the answer, wrapped
        self._print("✓ " + title)
        self._print(
            wrap("→ " + _answer_text(question, chosen, lang), width, "  ", "    "), "fg:ansigreen"
        )
        return chosen

    def _record(self, question: Question, answer: tuple[str, ...]) -> None:
        self.answers[question.id] = answer
        self.asked_now.add(question.id)

    # -- a review screen ------------------------------------------------------------------------
    def review(self, questions: list[Question], title: str) -> None:
        """The answers to ``questions``, numbered as they were asked; a number changes one."""
        lang = self.lang
        while True:
            width = _width()
            shown = [q for q in questions if q.id in self.answers and self._asked(q)]
            if not shown:
                return
            self._print("")
            self._print(wrap(title, width), "bold")
            editable: dict[str, Question] = {}
            for question in shown:
                number = self._number(question)[0]
                editable[str(number)] = question
                self._print(wrap(question.text.get(lang), width, f"{number:>3}. ", "     "))
                answer = _answer_text(question, self.answers[question.id], lang)
                self._print(wrap(f"→ {answer}", width, "     ", "       "), "fg:ansigreen")
            # any answer given in this run can be changed here, by the number it was asked with
            for question in self.order:
                if question.id in self.asked_now and self._asked(question):
                    editable.setdefault(str(self._number(question)[0]), question)
            picked = self.q.text(
                wrap(msg("assess.review_prompt", lang), width, "? ", "  ")[2:],
                validate=self._number_check(set(editable)),
                erase_when_done=True,
            ).unsafe_ask()
            if not str(picked).strip():
                return
            edited = editable[str(picked).strip()]
            changed = self.ask(edited, back=msg("assess.hint_keep", lang))
            if changed is not None:
                self._record(edited, changed)

    def _number_check(self, numbers: set[str]) -> Any:
        bad = msg("assess.review_bad", self.lang)

        def valid(typed: str) -> bool | str:
            return not typed.strip() or typed.strip() in numbers or bad

        return valid

    def _section_name(self, section: str) -> str:
        dimension = self.questionnaire.dimension(section)
        return dimension.name.get(self.lang) if dimension else section

    # -- skipped sections -----------------------------------------------------------------------
    def _why_skipped(self, section: str) -> tuple[str, str] | None:
        """Why no question of ``section`` is asked: ("only_if" | "skip_if", tag); None: some is."""
        questions = self.questionnaire.questions_of(section)
        if any(self._asked(q) for q in questions):
            return None
        first = questions[0]
        if not applies(first, self.answers, self.questionnaire):
            return ("only_if", first.only_if or "")
        return ("skip_if", first.skip_if or "")

    def _announce_skipped(self, index: int) -> int:
        """Announce the skipped sections from ``index`` on (one line for a run of them skipped
        for the same reason); the index of the first question after them."""
        lang = self.lang
        section = self.order[index].dimension
        why = self._why_skipped(section)
        group: list[str] = []
        end = index
        while end < len(self.order):
            dimension = self.order[end].dimension
            if dimension not in group:
                if group and self._why_skipped(dimension) != why:
                    break
                group.append(dimension)
            end += 1
        key = (tuple(group), repr(why))
        if key in self.announced or why is None or not self.asked_now:
            return end  # said once; and not before the first question of a resumed run
        self.announced.add(key)
        kind, tag = why
        count = sum(len(self.questionnaire.questions_of(s)) for s in group)
        if kind == "only_if":
            reason = (
                msg("assess.reason_only_no_crm", lang)
                if tag == NO_CRM
                else msg("assess.reason_only_if", lang, tag=tag)
            )
        elif tag == NO_CRM:
            reason = msg("assess.reason_no_crm", lang, count=count)
        else:
            reason = msg("assess.reason_skip_if", lang, tag=tag, count=count)
        positions = [self.sections.index(s) + 1 for s in group]
        total = len(self.sections)
        if len(group) == 1:
            text = msg(
                "assess.skipped_one",
                lang,
                index=positions[0],
                total=total,
                name=self._section_name(section),
                reason=reason,
            )
        else:
            consecutive = positions == list(range(positions[0], positions[0] + len(positions)))
            numbers = (
                f"{positions[0]}–{positions[-1]}"
                if consecutive
                else ", ".join(str(p) for p in positions)
            )
            text = msg("assess.skipped_many", lang, numbers=numbers, total=total, reason=reason)
        self._print("")
        self._print(wrap(text, _width()), "fg:ansicyan")
        return end

    # -- the whole interview ------------------------------------------------------------------
    def _askable(self, index: int) -> bool:
        question = self.order[index]
        return question.id not in self.preset and self._asked(question)

    def _previous(self, index: int) -> int | None:
        for earlier in range(index - 1, -1, -1):
            if self._askable(earlier):
                return earlier
        return None

    def _intro(self) -> None:
        lang = self.lang
        plan = asked(self.questionnaire, self.answers)
        count = len(plan)
        with_crm, without_crm = question_counts(self.questionnaire)
        decided = any(
            q.id in self.answers and NO_CRM in {t for c in q.choices for t in c.tags}
            for q in self.order
            if q.skip_if is None
        )
        alt = (
            msg("assess.intro_no_crm", lang, count=without_crm)
            if not decided and with_crm != without_crm
            else ""
        )
        done = sum(1 for q in plan if q.id in self.answers)
        key = "assess.intro_resumed" if done else "assess.intro"
        text = msg(key, lang, count=count, alt=alt, done=done, todo=count - done)
        self._print(wrap(text, _width()), "bold")

    def _walk(self) -> None:
        """Once through the questionnaire: ask what is not preset, with reviews."""
        lang = self.lang
        index = 0
        header: str | None = None
        asked_in: set[str] = set()
        while index < len(self.order):
            question = self.order[index]
            section = question.dimension
            first_of_section = index == 0 or self.order[index - 1].dimension != section
            if first_of_section and self._why_skipped(section) is not None:
                index = self._announce_skipped(index)
                continue
            if self._askable(index):
                if header != section:
                    header = section
                    self._print("")
                    position = self.sections.index(section) + 1
                    self._print(
                        msg(
                            "assess.section",
                            lang,
                            index=position,
                            total=len(self.sections),
                            name=self._section_name(section),
                        ),
                        "bold fg:ansicyan",
                    )
                previous = self._previous(index)
                answer = self.ask(
                    question, back=None if previous is None else msg("assess.hint_back", lang)
                )
                if answer is None and previous is not None:
                    index = previous
                    continue
                if answer is not None:
                    self._record(question, answer)
                    asked_in.add(section)
            last_of_section = (
                index + 1 == len(self.order) or self.order[index + 1].dimension != section
            )
            if last_of_section and section in asked_in:
                asked_in.discard(section)
                several = [
                    q
                    for q in self.questionnaire.questions_of(section)
                    if q.id in self.asked_now and self._asked(q)
                ]
                if len(several) > 1:
                    self.final_sections.discard(section)
                    name = self._section_name(section)
                    self.review(
                        list(self.questionnaire.questions_of(section)),
                        msg("assess.review_title", lang, name=name),
                    )
                else:
                    self.final_sections.add(section)
            index += 1

    def _final_review(self) -> None:
        questions = [q for q in self.order if q.dimension in self.final_sections]
        self.review(questions, msg("assess.review_final", self.lang))

    def _kept(self) -> Answers:
        """The answers, less those given in this run to questions now skipped (``skip_if``):
        their answer follows from the others."""
        return {
            k: v
            for k, v in self.answers.items()
            if k in self.from_file
            or (q := self.questionnaire.question(k)) is None
            or not skipped(q, self.answers, self.questionnaire)
        }

    def run(self) -> Answers:
        self._intro()
        while True:
            self._walk()
            self._final_review()
            if not missing(self.questionnaire, self.answers):
                break
            # an answer changed on a review brought in questions: ask those (and only those)
            self.preset = set(self.answers)
        # answers to questions that no longer apply are dropped; skipped ones get theirs
        return relevant(self.questionnaire, self._kept())


def interview(questionnaire: Questionnaire, answers: Answers, lang: Lang) -> Answers:
    """Ask the questions without an answer; returns all answers. Ctrl-C → InterviewInterrupted."""
    session = _Interview(questionnaire, answers, lang)
    try:
        return session.run()
    except KeyboardInterrupt:
        raise InterviewInterrupted(session._kept()) from None

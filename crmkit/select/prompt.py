"""The interactive wizard over the five steps — the only module of the selection that imports
questionary.

The wizard fills the raw TOML data of a selection file. It is built as a list of prompts that is
worked out afresh from the data after every answer: the first prompt without an answer is asked
next, so a resumed file continues where it stopped and what a later step asks (the criteria, the
systems to score, the finalists) always follows from what the earlier steps hold now.

* **Back**: ``<`` (typed, or the key in a list) undoes the last answer — and, pressed again, the
  one before, across steps: every answer is recorded with the state before it.
* **Review**: when a step is complete, its conclusion («облачная — потому что …») and a numbered
  list of its answers are shown; typing a number asks that question again.
* **Score later**: ``?`` as a score leaves it open (``{open = true}`` in the file); the report
  and the vendor questions carry it as an open question.
* The file is saved after every answer, atomically; Ctrl-C keeps what was entered — and when
  nothing was entered, writes nothing and says so.

Questions go through an ``Asker`` so tests can script the answers; the real one uses
questionary's ``unsafe_ask`` (plain ``ask()`` turns Ctrl-C into ``None``).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from crmkit.errors import Interrupted
from crmkit.files import write_text
from crmkit.i18n import Lang, msg
from crmkit.select.catalog import INTEGRATIONS, Catalog, function_integration
from crmkit.select.deployment import QUESTIONS
from crmkit.select.matrix import CONFIDENCE, EVIDENCE, SCORE_MAX, SCORE_MIN
from crmkit.select.problems import Library
from crmkit.select.run import first_steps, run_selection
from crmkit.select.selection import Selection, default_criteria, read_selection
from crmkit.select.shortlist import MAX_SIZE, MIN_SIZE
from crmkit.terminal import without_english_answer

Choice = tuple[str, str]  # (value, title)
Validate = Callable[[Any], bool | str]

#: typed as an answer (or pressed in a list), as ← is: back to the previous question
BACK_KEY = "<"
#: typed as a score: leave it open, score later
LATER_KEY = "?"
_BACK = "__back__"


class Back(Exception):
    """The person asked for the previous question."""


class Asker(Protocol):
    """Asks one question; raises ``Back`` when the person asks to go back."""

    def text(self, message: str, default: str = "", validate: Validate | None = None) -> str: ...
    def select(
        self, message: str, choices: Sequence[Choice], default: str | None = None
    ) -> str: ...
    def checkbox(
        self,
        message: str,
        choices: Sequence[Choice],
        checked: Sequence[str] = (),
        validate: Validate | None = None,
    ) -> list[str]: ...
    def say(self, message: str) -> None: ...


class QuestionaryAsker:
    """Questions in the terminal (questionary, ``unsafe_ask``: Ctrl-C raises)."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def _back_on_key(self, question: Any, *, typed: bool = False) -> Any:
        """``←`` (and ``<``, which a Russian keyboard layout cannot type) leaves at once with
        "back", without validation. In a typed answer ``←`` moves the cursor, so there it means
        back only while nothing is typed."""
        from prompt_toolkit.filters import Condition
        from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
        from prompt_toolkit.keys import Keys

        app = question.application
        bindings = KeyBindings()

        def back(event: Any) -> None:
            event.app.exit(result=_BACK)

        if typed:
            empty = Condition(lambda: not app.current_buffer.text)
            bindings.add(Keys.Left, filter=empty, eager=True)(back)
        else:
            bindings.add(Keys.Left, eager=True)(back)
            bindings.add(BACK_KEY, eager=True)(back)
        app.key_bindings = merge_key_bindings([app.key_bindings or KeyBindings(), bindings])
        return question

    def text(self, message: str, default: str = "", validate: Validate | None = None) -> str:
        import questionary

        def check(answer: str) -> bool | str:
            if answer.strip() == BACK_KEY or validate is None:
                return True
            return validate(answer)

        question = questionary.text(message, default=default, validate=check)
        answer = str(self._back_on_key(question, typed=True).unsafe_ask())
        if answer in (BACK_KEY, _BACK) or answer.strip() == BACK_KEY:
            raise Back
        return answer

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str:
        import questionary

        items: list[Any] = [questionary.Choice(title, value=value) for value, title in choices]
        picked = next((c for c in items if c.value == default), None)
        items.append(questionary.Choice(msg("select.wiz.back_item", self.lang), value=_BACK))
        question = questionary.select(
            message,
            choices=items,
            default=picked,
            instruction=msg("select.wiz.hint_list", self.lang),
        )
        value = self._back_on_key(question).unsafe_ask()
        if value == _BACK:
            raise Back
        return str(value)

    def checkbox(
        self,
        message: str,
        choices: Sequence[Choice],
        checked: Sequence[str] = (),
        validate: Validate | None = None,
    ) -> list[str]:
        import questionary

        picked = list(checked)
        while True:
            items = [
                questionary.Choice(title, value=value, checked=value in picked)
                for value, title in choices
            ]
            # the refusal is printed by us, not in questionary's validation bar: that bar is
            # drawn only where the terminal reports its size, and must never go unseen; the
            # answer line too (questionary writes "done (3 selections)" in English)
            question = questionary.checkbox(
                message,
                choices=items,
                instruction=msg("select.wiz.hint_checkbox", self.lang),
                erase_when_done=True,
            )
            value = self._back_on_key(without_english_answer(question)).unsafe_ask()
            if value == _BACK:
                raise Back
            picked = list(value)
            verdict = validate(picked) if validate is not None else True
            if verdict is True:
                self._answered(message, ticked(picked, choices, self.lang))
                return picked
            questionary.print(f"  {verdict}", style="fg:ansired")

    def _answered(self, message: str, answer: str) -> None:
        """The line questionary leaves after an answer, ``? message answer``, in its style."""
        from prompt_toolkit import print_formatted_text
        from prompt_toolkit.formatted_text import FormattedText
        from questionary.constants import DEFAULT_STYLE

        line = [("class:qmark", "?"), ("class:question", f" {message} "), ("class:answer", answer)]
        print_formatted_text(FormattedText(line), style=DEFAULT_STYLE)

    def say(self, message: str) -> None:
        import shutil

        import questionary

        from crmkit.terminal import WIDTH, fit

        # wrapped at word boundaries: a terminal would break a long conclusion mid-word
        width = min(WIDTH, shutil.get_terminal_size((WIDTH, 24)).columns - 1)
        questionary.print(fit(message, width))


def ticked(picked: Sequence[str], choices: Sequence[Choice], lang: Lang) -> str:
    """What a list with ticks answered, as its answer line shows it: the one choice ticked,
    «отмечено: 3», or «ничего не отмечено»."""
    if not picked:
        return msg("prompt.picked_none", lang)
    if len(picked) == 1:
        return next((title for value, title in choices if value == picked[0]), picked[0])
    return msg("prompt.picked_many", lang, count=len(picked))


def _number(low: float, high: float, lang: Lang, integer: bool = False) -> Validate:
    def check(text: str) -> bool | str:
        try:
            value = int(text) if integer else float(text.replace(",", "."))
        except ValueError:
            return msg("select.wiz.bad_number", lang, low=f"{low:g}", high=f"{high:g}")
        if not low <= value <= high:
            return msg("select.wiz.bad_number", lang, low=f"{low:g}", high=f"{high:g}")
        return True

    return check


def _num(text: str) -> float | int:
    value = float(text.replace(",", "."))
    return int(value) if value.is_integer() else value


def _lookup(table: dict[str, str]) -> Callable[[Any], str]:
    def show(value: Any) -> str:
        return table.get(value, str(value))

    return show


def _shown(value: float | int) -> str:
    return f"{value:g}"


_MISSING = object()
#: derived results kept per kind (the data as it is, and as it was one or two answers ago)
_CACHE_SIZE = 8


@dataclass
class Prompt:
    """One question of the wizard: where its answer lives, how to ask it, how to show it."""

    key: str
    step: int
    label: str
    #: the current answer, or ``_MISSING``
    get: Callable[[], Any]
    #: asks (given the current answer, or None) and returns the answer to store
    ask: Callable[[Any], Any]
    put: Callable[[Any], None]
    show: Callable[[Any], str]
    #: cleared when this answer is changed from the review (they follow from it)
    resets: Callable[[], None] = field(default=lambda: None)


@dataclass
class _State:
    """What one answer changes, recorded before it so that "back" can restore it."""

    data: dict[str, Any]
    reviewed: set[int]
    asked: set[str]
    extra: dict[str, Any]


STEPS = (1, 2, 3, 4, 5)


class Wizard:
    def __init__(
        self,
        data: dict[str, Any],
        *,
        catalog: Catalog,
        lib: Library,
        lang: Lang,
        asker: Asker,
        save: Path | None,
        source: str,
    ) -> None:
        self.data = data
        self.catalog = catalog
        self.lib = lib
        self.lang = lang
        self.ask = asker
        self.save_path = save
        self.source = source
        #: steps whose review the person has gone past, in this session
        self.reviewed: set[int] = set()
        #: prompts asked in this session (a step is reviewed only if one of its prompts was)
        self.asked: set[str] = set()
        #: answers that have no place in the file: the evidence and confidence of a system's
        #: scores, the end of the custom problems, vendor questions skipped
        self.extra: dict[str, Any] = {}
        self.history: list[_State] = []
        self._cache: dict[str, dict[str, Any]] = {}
        #: the last answer to each prompt, kept when "back" undoes it: asked again, it is the
        #: default, so going back and forward again costs one Enter per question
        self.given: dict[str, Any] = {}
        #: the file was written in this session (then "back" to the start rewrites it too)
        self.wrote = False
        if "problems" in data:  # a resumed file: its custom problems are done
            self.extra["custom_done"] = True

    def t(self, key: str, **values: object) -> str:
        return msg(key, self.lang, **values)

    @property
    def answered(self) -> bool:
        return bool(self.history) or self.wrote

    def save(self) -> None:
        if self.save_path is not None and self.answered:
            self.wrote = True
            import tomli_w

            header = [self.t("saved.selection_title"), self.t("saved.selection_use")]
            comments = "".join(f"# {line}\n" for line in header)
            write_text(self.save_path, comments + "\n" + tomli_w.dumps(self.data))

    def _memo(self, kind: str, text: str, make: Callable[[], Any]) -> Any:
        """The last result of ``make`` for the same data: the prompts are worked out after
        every answer, and most answers change nothing a derived result depends on."""
        recent = self._cache.setdefault(kind, {})
        if text in recent:
            return recent[text]
        value = make()
        if len(recent) >= _CACHE_SIZE:
            del recent[next(iter(recent))]
        recent[text] = value
        return value

    def partial(self, data: dict[str, Any] | None = None) -> Selection:
        import tomli_w

        from crmkit.files import parse_toml

        text = tomli_w.dumps(self.data if data is None else data)

        def read() -> Selection:
            return read_selection(
                parse_toml(text, self.source), self.catalog, self.lib, partial=True
            )

        return self._memo("partial", text, read)

    def shortlist(self, data: dict[str, Any] | None = None) -> Any:
        import tomli_w

        text = tomli_w.dumps(self.data if data is None else data)
        return self._memo(
            "shortlist", text, lambda: first_steps(self.partial(data), self.catalog, self.lib)[2]
        )

    def result(self) -> Any:
        """The whole selection as it stands; vendor answers do not change what is asked."""
        import tomli_w

        asked = {k: v for k, v in self.data.items() if k != "vendor"}
        return self._memo(
            "result",
            tomli_w.dumps(asked),
            lambda: run_selection(self.partial(asked), self.catalog, self.lib),
        )

    # -- the loop --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.ask.say(self.t("select.wiz.intro"))
        while True:
            for step in STEPS:
                prompts = self.prompts(step)
                missing = next((p for p in prompts if p.get() is _MISSING), None)
                if missing is not None:
                    self.answer(missing)
                    break
                if step not in self.reviewed and any(p.key in self.asked for p in prompts):
                    self.review(step, prompts)
                    break
            else:
                return self.data

    def remember(self) -> None:
        self.history.append(
            _State(
                copy.deepcopy(self.data),
                set(self.reviewed),
                set(self.asked),
                copy.deepcopy(self.extra),
            )
        )

    def back(self) -> None:
        if not self.history:
            self.ask.say(self.t("select.wiz.no_back"))
            return
        state = self.history.pop()
        self.data, self.reviewed, self.asked, self.extra = (
            state.data,
            state.reviewed,
            state.asked,
            state.extra,
        )
        self.save()

    def answer(self, prompt: Prompt) -> None:
        try:
            value = prompt.ask(self.given.get(prompt.key))
        except Back:
            self.back()
            return
        self.remember()
        prompt.put(value)
        self.given[prompt.key] = value
        self.asked.add(prompt.key)
        self.save()

    def review(self, step: int, prompts: list[Prompt]) -> None:
        self.ask.say("")
        self.ask.say(self.t("select.wiz.review_title", step=step))
        for line in self.conclusion(step):
            self.ask.say("  " + line)
        self.ask.say("")
        shown = [p for p in prompts if p.get() is not _MISSING]
        for number, prompt in enumerate(shown, 1):
            self.ask.say(f"  {number:>2}. {prompt.label}: {prompt.show(prompt.get())}")
        count = len(shown)

        def valid(text: str) -> bool | str:
            if not text.strip():
                return True
            if text.strip().isdigit() and 1 <= int(text) <= count:
                return True
            return self.t("select.wiz.review_bad", count=count)

        try:
            picked = self.ask.text(self.t("select.wiz.review_pick", count=count), "", valid).strip()
        except Back:
            self.back()
            return
        if not picked:
            self.remember()
            self.reviewed.add(step)
            return
        prompt = shown[int(picked) - 1]
        before = prompt.get()
        try:
            value = prompt.ask(before)
        except Back:
            return  # back from an edit: the review again, nothing changed
        if value != before:
            self.remember()
            prompt.put(value)
            self.given[prompt.key] = value
            prompt.resets()
            self.asked.add(prompt.key)
            self.save()

    # -- the prompts of each step ------------------------------------------------------------
    def prompts(self, step: int) -> list[Prompt]:
        return {
            1: self.step1,
            2: self.step2,
            3: self.step3,
            4: self.step4,
            5: self.step5,
        }[step]()

    def _key(self, *path: str) -> Callable[[], Any]:
        def get() -> Any:
            node: Any = self.data
            for part in path:
                if not isinstance(node, dict) or part not in node:
                    return _MISSING
                node = node[part]
            return node

        return get

    def _setter(self, *path: str) -> Callable[[Any], None]:
        def put(value: Any) -> None:
            node = self.data
            for part in path[:-1]:
                node = node.setdefault(part, {})
            node[path[-1]] = value

        return put

    def step1(self) -> list[Prompt]:
        t, lang = self.t, self.lang

        def ask_title(current: Any) -> str:
            def valid(text: str) -> bool | str:
                return True if text.strip() else t("select.wiz.title_empty")

            return self.ask.text(t("select.wiz.title"), current or "", valid).strip()

        def ask_users(current: Any) -> int:
            return int(
                self.ask.text(
                    t("select.wiz.users"),
                    str(current or 5),
                    _number(1, 100000, lang, True),
                )
            )

        problems = {p.id: p.text.get(lang) for p in self.lib.problems.values()}

        def ask_problems(current: Any) -> list[str]:
            def valid(picked: list[str]) -> bool | str:
                return True if picked else t("select.wiz.problems_empty")

            return self.ask.checkbox(
                t("select.wiz.problems"), list(problems.items()), current or (), valid
            )

        prompts = [
            Prompt(
                "title",
                1,
                t("select.wiz.label_title"),
                self._key("title"),
                ask_title,
                self._setter("title"),
                str,
            ),
            Prompt(
                "users",
                1,
                t("select.wiz.label_users"),
                self._key("users"),
                ask_users,
                self._setter("users"),
                str,
            ),
            Prompt(
                "problems",
                1,
                t("select.wiz.label_problems"),
                self._key("problems", "selected"),
                ask_problems,
                self._setter("problems", "selected"),
                lambda v: "; ".join(problems.get(p, p) for p in v),
            ),
        ]
        return prompts + self._custom_problems()

    def _custom_problems(self) -> list[Prompt]:
        t = self.t
        functions = [(f.id, f.name.get(self.lang)) for f in self.lib.functions.values()]
        custom: list[dict[str, Any]] = self.data.get("problems", {}).get("custom", [])
        prompts = []
        for index, item in enumerate(custom):

            def get(item: dict[str, Any] = item) -> Any:
                return (item["text"], item.get("functions", []))

            def ask(current: Any, index: int = index) -> tuple[str, list[str]]:
                text = self.ask.text(t("select.wiz.custom_problem"), current[0]).strip()
                if not text:
                    return (current[0], current[1])
                return text, self.ask.checkbox(
                    t("select.wiz.custom_functions"), functions, current[1]
                )

            def put(value: Any, index: int = index) -> None:
                custom[index]["text"], custom[index]["functions"] = value

            prompts.append(
                Prompt(
                    f"custom.{index}",
                    1,
                    t("select.wiz.label_custom"),
                    get,
                    ask,
                    put,
                    lambda v: v[0],
                )
            )
        if self.extra.get("custom_done") or "selected" not in self.data.get("problems", {}):
            return prompts

        def ask_more(current: Any) -> Any:
            text = self.ask.text(t("select.wiz.custom_problem")).strip()
            if not text:
                return None
            return text, self.ask.checkbox(t("select.wiz.custom_functions"), functions)

        def put_more(value: Any) -> None:
            if value is None:
                self.extra["custom_done"] = True
                return
            items = self.data["problems"].setdefault("custom", [])
            text, fns = value
            items.append({"id": f"custom_{len(items) + 1}", "text": text, "functions": fns})

        prompts.append(
            Prompt(
                "custom.more",
                1,
                t("select.wiz.label_custom"),
                lambda: _MISSING,
                ask_more,
                put_more,
                str,
            )
        )
        return prompts

    def step2(self) -> list[Prompt]:
        t, lang = self.t, self.lang
        prompts = []
        for number, q in enumerate(QUESTIONS, 1):
            choices = [
                ("cloud", q.cloud.get(lang)),
                ("boxed", q.boxed.get(lang)),
                ("either", t("select.wiz.either")),
            ]
            titles = dict(choices)

            def ask(current: Any, q: Any = q, number: int = number, choices: Any = choices) -> str:
                counter = t("select.wiz.counter_question", index=number, total=len(QUESTIONS))
                message = t("select.wiz.deployment", question=q.text.get(lang))
                return self.ask.select(f"[{counter}] {message}", choices, current)

            prompts.append(
                Prompt(
                    f"deployment.{q.id}",
                    2,
                    q.criterion.get(lang),
                    self._key("deployment", q.id),
                    ask,
                    self._setter("deployment", q.id),
                    _lookup(titles),
                )
            )
        return prompts

    def step3(self) -> list[Prompt]:
        t, lang = self.t, self.lang
        short = self.data.get("shortlist", {})
        function_names = {f.id: f.name.get(lang) for f in self.lib.functions.values()}
        # a must-have integration that is also a function (telephony, 1C, e-mail, site forms)
        # is asked once, as the function; the catalog answers both from the same fact
        as_function = {function_integration(f) for f in function_names} - {None}
        integrations = [k for k in INTEGRATIONS if k not in as_function]

        def ask_functions(current: Any) -> list[str]:
            return self.ask.checkbox(
                t("select.wiz.functions"), list(function_names.items()), current or ()
            )

        def names_of(values: Sequence[str], table: dict[str, str]) -> str:
            return "; ".join(table.get(v, v) for v in values) or t("select.wiz.none")

        prompts = [
            Prompt(
                "shortlist.functions",
                3,
                t("select.wiz.label_functions"),
                self._key("shortlist", "functions"),
                ask_functions,
                self._setter("shortlist", "functions"),
                lambda v: names_of(v, function_names),
                self._reset_pick,
            )
        ]
        if integrations:
            integ_names = {k: t(f"select.integ.{k}") for k in integrations}

            def ask_integrations(current: Any) -> list[str]:
                return self.ask.checkbox(
                    t("select.wiz.integrations"), list(integ_names.items()), current or ()
                )

            prompts.append(
                Prompt(
                    "shortlist.integrations",
                    3,
                    t("select.wiz.label_integrations"),
                    self._key("shortlist", "integrations"),
                    ask_integrations,
                    self._setter("shortlist", "integrations"),
                    lambda v: names_of(v, integ_names),
                    self._reset_pick,
                )
            )
        users = int(self.data.get("users", 1))
        yes_no = [("no", t("select.wiz.no")), ("yes", t("select.wiz.yes"))]

        def get_free() -> Any:
            if "shortlist" not in self.data or "functions" not in short:
                return _MISSING
            if "free_plan_users" in short:
                return "yes"
            return "no" if "free_plan" in self.extra or "size" in short else _MISSING

        def ask_free(current: Any) -> str:
            return self.ask.select(t("select.wiz.free_plan", users=users), yes_no, current)

        def put_free(value: Any) -> None:
            self.extra["free_plan"] = value
            if value == "yes":
                self.data["shortlist"]["free_plan_users"] = users
            else:
                self.data["shortlist"].pop("free_plan_users", None)

        prompts.append(
            Prompt(
                "shortlist.free_plan",
                3,
                t("select.wiz.label_free_plan"),
                get_free,
                ask_free,
                put_free,
                lambda v: dict(yes_no).get(v, v),
                self._reset_pick,
            )
        )
        prompts.append(
            Prompt(
                "shortlist.pick",
                3,
                t("select.wiz.label_shortlist"),
                self._get_pick,
                self._ask_pick,
                self._put_pick,
                self._show_pick,
            )
        )
        return prompts

    def _reset_pick(self) -> None:
        for key in ("add", "remove", "size"):
            self.data.get("shortlist", {}).pop(key, None)

    def _suggested(self) -> Any:
        """The shortlist the must-haves give, before the person's own picks."""
        data = copy.deepcopy(self.data)
        short = data.setdefault("shortlist", {})
        for key in ("add", "remove", "size"):
            short.pop(key, None)
        for key in ("criteria", "weights", "scores", "vendor"):
            data.pop(key, None)
        return self.shortlist(data)

    def _get_pick(self) -> Any:
        short = self.data.get("shortlist", {})
        if "size" not in short:
            return _MISSING
        return list(self.shortlist().ids)

    def _ask_pick(self, current: Any) -> list[str]:
        t = self.t
        suggested = self._suggested()
        knocked = {k.system: k for k in suggested.knocked_out}
        choices = []
        for system in self.catalog:
            title = system.display(self.lang)
            if system.id in knocked:
                title += f"  ✕ {knocked[system.id].reason(self.lang)}"
            choices.append((system.id, title))
        self.ask.say(t("select.wiz.shortlist_legend", low=MIN_SIZE, high=MAX_SIZE))

        def valid(picked: list[str]) -> bool | str:
            if not picked:
                return t("select.wiz.shortlist_empty")
            if len(picked) > MAX_SIZE:
                return t("select.wiz.shortlist_many", high=MAX_SIZE)
            return True

        checked = current if current is not None else list(suggested.ids)
        return self.ask.checkbox(t("select.wiz.shortlist"), choices, checked, valid)

    def _put_pick(self, picked: Any) -> None:
        # the shortlist is exactly what was ticked: the others are removed by the consultant
        suggested = self._suggested()
        passed = {c.system for c in (*suggested.chosen, *suggested.others)}
        short = self.data["shortlist"]
        short["add"] = [s for s in picked if s not in suggested.ids]
        short["remove"] = {s.id: "" for s in self.catalog if s.id not in picked and s.id in passed}
        short["size"] = min(MAX_SIZE, max(MIN_SIZE, len(picked)))

    def _show_pick(self, value: Any) -> str:
        return ", ".join(self.catalog.name(s, self.lang) for s in value)

    # -- step 4: weights and scores -------------------------------------------------------------
    def step4(self) -> list[Prompt]:
        t, lang = self.t, self.lang
        selection = self.partial()
        if "criteria" not in self.data:
            self.data["criteria"] = [
                {"id": c.id}
                for c in default_criteria(
                    [self.lib.problems[p] for p in selection.problems if p in self.lib.problems]
                    + list(selection.custom_problems),
                    self.lib,
                )
            ]
            selection = self.partial()
        criteria = selection.criteria
        prompts: list[Prompt] = []
        weights = self.data.get("weights", {})
        if weights.get("method", "points") == "points":
            for number, c in enumerate(criteria, 1):

                def ask_weight(current: Any, c: Any = c, number: int = number) -> float | int:
                    counter = t("select.wiz.counter_weight", index=number, total=len(criteria))
                    message = t("select.wiz.weight", criterion=c.name.get(lang))
                    text = self.ask.text(
                        f"[{counter}] {message}",
                        _shown(current) if current is not None else "10",
                        _number(0, 100, lang),
                    )
                    return _num(text)

                prompts.append(
                    Prompt(
                        f"weight.{c.id}",
                        4,
                        t("select.wiz.label_weight", criterion=c.name.get(lang)),
                        self._key("weights", "points", c.id),
                        ask_weight,
                        self._put_weight(c.id),
                        _shown,
                    )
                )
        shortlist = self.shortlist()
        systems = list(shortlist.ids) + [s for s in selection.scores if s not in shortlist.ids]
        total = len(systems) * len(criteria)
        number = 0
        for system in systems:
            prompts += self._basis_prompts(system)
            for c in criteria:
                number += 1
                prompts.append(self._score_prompt(system, c, number, total))
        return prompts

    def _put_weight(self, cid: str) -> Callable[[Any], None]:
        def put(value: Any) -> None:
            weights = self.data.setdefault("weights", {"method": "points"})
            weights.setdefault("points", {})[cid] = value

        return put

    def _basis(self, system: str, what: str) -> Any:
        if (system, what) in self.extra.get("basis", {}):
            return self.extra["basis"][(system, what)]
        for score in self.data.get("scores", {}).get(system, {}).values():
            if isinstance(score, dict) and what in score:
                return score[what]
        return _MISSING

    def _basis_prompts(self, system: str) -> list[Prompt]:
        t, name = self.t, self.catalog.name(system, self.lang)
        out = []
        for what, options, default in (
            ("evidence", EVIDENCE, "trial"),
            ("confidence", CONFIDENCE, "medium"),
        ):
            area = {"evidence": "ev", "confidence": "conf"}[what]
            choices = [(o, t(f"select.{area}.{o}")) for o in options]

            def ask(
                current: Any, what: str = what, choices: Any = choices, default: str = default
            ) -> str:
                return self.ask.select(
                    f"{name}. {t(f'select.wiz.{what}')}", choices, current or default
                )

            def put(value: Any, what: str = what) -> None:
                self.extra.setdefault("basis", {})[(system, what)] = value
                for score in self.data.get("scores", {}).get(system, {}).values():
                    if isinstance(score, dict) and "score" in score:
                        score[what] = value

            out.append(
                Prompt(
                    f"basis.{system}.{what}",
                    4,
                    f"{name}: {t(f'select.wiz.label_{what}')}",
                    functools.partial(self._basis, system, what),
                    ask,
                    put,
                    _lookup(dict(choices)),
                )
            )
        return out

    def _score_prompt(self, system: str, criterion: Any, number: int, total: int) -> Prompt:
        t, lang = self.t, self.lang
        name = self.catalog.name(system, self.lang)
        label = f"{name} — {criterion.name.get(lang)}"

        def valid(text: str) -> bool | str:
            if text.strip() == LATER_KEY:
                return True
            return _number(SCORE_MIN, SCORE_MAX, lang)(text)

        def ask(current: Any) -> Any:
            counter = t("select.wiz.counter_score", index=number, total=total)
            self.ask.say("")
            self.ask.say(f"[{counter}] {label}")
            for i, anchor in enumerate(criterion.rubric, 1):
                self.ask.say(f"  {i} — {anchor.get(lang)}")
            default = ""
            if isinstance(current, dict):
                default = LATER_KEY if current.get("open") else _shown(current.get("score", ""))
            answer = self.ask.text(t("select.wiz.score"), default, valid).strip()
            if answer == LATER_KEY:
                return {"open": True}
            score: dict[str, Any] = {"score": _num(answer)}
            for what in ("evidence", "confidence"):
                value = self._basis(system, what)
                if value is not _MISSING:
                    score[what] = value
            return score

        def show(value: Any) -> str:
            if value.get("open"):
                return t("select.wiz.later")
            return _shown(value["score"])

        return Prompt(
            f"score.{system}.{criterion.id}",
            4,
            label,
            self._key("scores", system, criterion.id),
            ask,
            self._setter("scores", system, criterion.id),
            show,
        )

    # -- step 5: the vendor's answers -----------------------------------------------------------
    def step5(self) -> list[Prompt]:
        t, lang = self.t, self.lang
        result = self.result()
        asked = [
            (sheet.system, q) for sheet in result.step5 if sheet.finalist for q in sheet.questions
        ]
        prompts = []
        for number, (system, q) in enumerate(asked, 1):
            name = self.catalog.name(system, self.lang)
            key = f"vendor.{system}.{q.id}"

            def get(system: str = system, qid: str = q.id, key: str = key) -> Any:
                given = self.data.get("vendor", {}).get(system, {}).get(qid)
                if given is not None:
                    return given
                return "" if key in self.extra.get("skipped", set()) else _MISSING

            def ask(current: Any, name: str = name, q: Any = q, number: int = number) -> str:
                counter = t("select.wiz.counter_question", index=number, total=len(asked))
                message = t("select.wiz.answer", system=name, question=q.text.get(lang))
                return self.ask.text(f"[{counter}] {message}", current or "").strip()

            def put(value: Any, system: str = system, qid: str = q.id, key: str = key) -> None:
                skipped: set[str] = self.extra.setdefault("skipped", set())
                answers = self.data.setdefault("vendor", {}).setdefault(system, {})
                if value:
                    answers[qid] = value
                    skipped.discard(key)
                    return
                answers.pop(qid, None)
                skipped.add(key)
                if not answers:
                    del self.data["vendor"][system]
                if not self.data["vendor"]:
                    del self.data["vendor"]

            prompts.append(
                Prompt(
                    key,
                    5,
                    f"{name}: {q.text.get(lang)}",
                    get,
                    ask,
                    put,
                    lambda v: v or t("select.wiz.skipped"),
                )
            )
        return prompts

    # -- what each step concludes ---------------------------------------------------------------
    def conclusion(self, step: int) -> list[str]:
        from crmkit.select.conclude import conclude

        return conclude(step, self.partial(), self.catalog, self.lib, self.lang)


def run_wizard(
    *,
    catalog: Catalog,
    lib: Library,
    lang: Lang,
    save: Path | None,
    start: dict[str, Any] | None = None,
    asker: Asker | None = None,
    source: str = "<wizard>",
    shown: str | None = None,
) -> dict[str, Any]:
    """Ask the five steps; returns the raw selection data (saved to ``save`` after every answer).

    Ctrl-C saves what was entered and raises ``Interrupted`` (exit 130); before the first
    answer it writes nothing and says so.
    """
    wizard = Wizard(
        copy.deepcopy(start or {}),
        catalog=catalog,
        lib=lib,
        lang=lang,
        asker=asker or QuestionaryAsker(lang),
        save=save,
        source=source,
    )
    try:
        return wizard.run()
    except (KeyboardInterrupt, EOFError):
        where = shown or (str(save) if save is not None else "—")
        if not wizard.answered:
            key = "select.interrupted_unchanged" if start else "select.interrupted_nothing"
            raise Interrupted(msg(key, lang, path=where)) from None
        wizard.save()
        raise Interrupted(msg("select.interrupted_saved", lang, path=where)) from None

"""The interactive wizard over the five steps — the only module that imports questionary.

The wizard fills the raw TOML data of a selection file, step by step, and saves it after every
step (and on Ctrl-C) so nothing entered is lost; started again on the same file it resumes where
it stopped. Questions go through an ``Asker`` so tests can script the answers; the real one uses
questionary's ``unsafe_ask`` (plain ``ask()`` turns Ctrl-C into ``None``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from crmkit.errors import Interrupted
from crmkit.files import write_text
from crmkit.i18n import Lang, msg
from crmkit.select.catalog import INTEGRATIONS, Catalog
from crmkit.select.deployment import QUESTIONS
from crmkit.select.matrix import CONFIDENCE, EVIDENCE
from crmkit.select.problems import Library
from crmkit.select.run import run_selection
from crmkit.select.selection import Selection, default_criteria, read_selection

Choice = tuple[str, str]  # (value, title)


class Asker(Protocol):
    def text(
        self, message: str, default: str = "", validate: Callable[[str], bool | str] | None = None
    ) -> str: ...
    def select(
        self, message: str, choices: Sequence[Choice], default: str | None = None
    ) -> str: ...
    def checkbox(
        self, message: str, choices: Sequence[Choice], checked: Sequence[str] = ()
    ) -> list[str]: ...
    def confirm(self, message: str, default: bool = False) -> bool: ...
    def say(self, message: str) -> None: ...


class QuestionaryAsker:
    """Questions in the terminal (questionary, ``unsafe_ask``: Ctrl-C raises)."""

    def text(
        self, message: str, default: str = "", validate: Callable[[str], bool | str] | None = None
    ) -> str:
        import questionary

        kwargs: dict[str, Any] = {"default": default}
        if validate is not None:
            kwargs["validate"] = validate
        return str(questionary.text(message, **kwargs).unsafe_ask())

    def select(self, message: str, choices: Sequence[Choice], default: str | None = None) -> str:
        import questionary

        items = [questionary.Choice(title, value=value) for value, title in choices]
        picked = next((c for c in items if c.value == default), None)
        return str(questionary.select(message, choices=items, default=picked).unsafe_ask())

    def checkbox(
        self, message: str, choices: Sequence[Choice], checked: Sequence[str] = ()
    ) -> list[str]:
        import questionary

        items = [
            questionary.Choice(title, value=value, checked=value in checked)
            for value, title in choices
        ]
        return list(questionary.checkbox(message, choices=items).unsafe_ask())

    def confirm(self, message: str, default: bool = False) -> bool:
        import questionary

        return bool(questionary.confirm(message, default=default).unsafe_ask())

    def say(self, message: str) -> None:
        import questionary

        questionary.print(message)


def _number(
    low: float, high: float, lang: Lang, integer: bool = False
) -> Callable[[str], bool | str]:
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

    def t(self, key: str, **values: object) -> str:
        return msg(key, self.lang, **values)

    def save(self) -> None:
        if self.save_path is not None:
            import tomli_w

            write_text(self.save_path, tomli_w.dumps(self.data))

    def partial(self) -> Selection:
        import tomli_w

        from crmkit.files import parse_toml

        doc = parse_toml(tomli_w.dumps(self.data), self.source)
        return read_selection(doc, self.catalog, self.lib, partial=True)

    # -- the steps --------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        self.ask.say(self.t("select.wiz.intro"))
        steps = (self.step0, self.step1, self.step2, self.step3, self.step4, self.step5)
        for step in steps:
            step()
            self.save()
        return self.data

    def step0(self) -> None:
        if "title" not in self.data:
            self.data["title"] = self.ask.text(self.t("select.wiz.title"))
        if "users" not in self.data:
            self.data["users"] = int(
                self.ask.text(self.t("select.wiz.users"), "5", _number(1, 100000, self.lang, True))
            )

    def step1(self) -> None:
        if "problems" in self.data:
            return
        lang = self.lang
        choices = [(p.id, p.text.get(lang)) for p in self.lib.problems.values()]
        selected = self.ask.checkbox(self.t("select.wiz.problems"), choices)
        problems: dict[str, Any] = {"selected": selected}
        self.data["problems"] = problems
        custom: list[dict[str, Any]] = []
        fn_choices = [(f.id, f.name.get(lang)) for f in self.lib.functions.values()]
        while True:
            text = self.ask.text(self.t("select.wiz.custom_problem")).strip()
            if not text:
                break
            fns = self.ask.checkbox(self.t("select.wiz.custom_functions"), fn_choices)
            custom.append({"id": f"custom_{len(custom) + 1}", "text": text, "functions": fns})
            problems["custom"] = custom
            self.save()

    def later(self, *keys: str) -> bool:
        """Whether a later step already has data (then an earlier one is not reopened)."""
        return any(key in self.data for key in keys)

    def step2(self) -> None:
        if self.later("shortlist", "criteria", "weights", "scores", "vendor"):
            return
        answers: dict[str, str] = self.data.setdefault("deployment", {})
        for q in QUESTIONS:
            if q.id in answers:
                continue
            choices = [
                ("cloud", q.cloud.get(self.lang)),
                ("boxed", q.boxed.get(self.lang)),
                ("either", self.t("select.wiz.either")),
            ]
            answers[q.id] = self.ask.select(
                self.t("select.wiz.deployment", question=q.text.get(self.lang)), choices
            )

    def step3(self) -> None:
        done = "size" in self.data.get("shortlist", {})
        if done or self.later("criteria", "weights", "scores", "vendor"):
            return
        lang = self.lang
        short: dict[str, Any] = {}
        fn_choices = [(f.id, f.name.get(lang)) for f in self.lib.functions.values()]
        short["functions"] = self.ask.checkbox(self.t("select.wiz.functions"), fn_choices)
        short["integrations"] = self.ask.checkbox(
            self.t("select.wiz.integrations"),
            [(k, self.t(f"select.integ.{k}")) for k in INTEGRATIONS],
        )
        if self.ask.confirm(self.t("select.wiz.free_plan")):
            short["free_plan_users"] = int(self.data.get("users", 1))
        self.data["shortlist"] = short
        suggested = run_selection(self.partial(), self.catalog, self.lib).step3
        knocked = {k.system for k in suggested.knocked_out}
        choices = [(s.id, s.name + (" ✕" if s.id in knocked else "")) for s in self.catalog]
        picked = self.ask.checkbox(self.t("select.wiz.shortlist"), choices, checked=suggested.ids)
        short["add"] = [s for s in picked if s not in suggested.ids]
        short["remove"] = {s: "" for s in suggested.ids if s not in picked}
        short["size"] = min(7, max(5, len(picked)))

    def step4(self) -> None:
        lang = self.lang
        selection = self.partial()
        if "criteria" not in self.data:
            self.data["criteria"] = [
                {"id": c.id}
                for c in default_criteria(
                    [self.lib.problems[p] for p in selection.problems]
                    + list(selection.custom_problems),
                    self.lib,
                )
            ]
            selection = self.partial()
        criteria = selection.criteria
        self.ask.say(
            self.t(
                "select.wiz.criteria_note", criteria=", ".join(c.name.get(lang) for c in criteria)
            )
        )
        weights = self.data.setdefault("weights", {"method": "points", "points": {}})
        points = weights.setdefault("points", {})
        for c in criteria:
            if c.id not in points:
                points[c.id] = _num(
                    self.ask.text(
                        self.t("select.wiz.weight", criterion=c.name.get(lang)),
                        "10",
                        _number(0, 100, lang),
                    )
                )
        self.save()
        result = run_selection(self.partial(), self.catalog, self.lib)
        candidates = list(result.step3.ids) + [
            s for s in selection.scores if s not in result.step3.ids
        ]
        scores = self.data.setdefault("scores", {})
        for system in candidates:
            row = scores.setdefault(system, {})
            if all(c.id in row for c in criteria):
                continue
            name = self.catalog.name(system)
            evidence = self.ask.select(
                f"{name}. {self.t('select.wiz.evidence')}",
                [(e, self.t(f"select.ev.{e}")) for e in EVIDENCE],
                default="trial",
            )
            confidence = self.ask.select(
                f"{name}. {self.t('select.wiz.confidence')}",
                [(c, self.t(f"select.conf.{c}")) for c in CONFIDENCE],
                default="medium",
            )
            for c in criteria:
                if c.id in row:
                    continue
                rubric = "\n".join(f"  {i + 1} — {x.get(lang)}" for i, x in enumerate(c.rubric))
                value = self.ask.text(
                    self.t(
                        "select.wiz.score", system=name, criterion=c.name.get(lang), rubric=rubric
                    ),
                    "",
                    _number(1, 5, lang),
                )
                row[c.id] = {"score": _num(value), "evidence": evidence, "confidence": confidence}
                self.save()

    def step5(self) -> None:
        result = run_selection(self.partial(), self.catalog, self.lib)
        vendor = self.data.setdefault("vendor", {})
        for sheet in result.step5:
            if not sheet.finalist:
                continue
            answers = vendor.setdefault(sheet.system, {})
            for q in sheet.questions:
                if q.id in answers:
                    continue
                text = self.ask.text(
                    self.t(
                        "select.wiz.answer",
                        system=self.catalog.name(sheet.system),
                        question=q.text.get(self.lang),
                    )
                ).strip()
                if text:
                    answers[q.id] = text
                    self.save()
            if not answers:
                del vendor[sheet.system]
        if not vendor:
            del self.data["vendor"]


def run_wizard(
    *,
    catalog: Catalog,
    lib: Library,
    lang: Lang,
    save: Path | None,
    start: dict[str, Any] | None = None,
    asker: Asker | None = None,
    source: str = "<wizard>",
) -> dict[str, Any]:
    """Ask the five steps; returns the raw selection data (saved to ``save`` as it goes).

    Ctrl-C saves what was entered and raises ``Interrupted`` (exit 130).
    """
    wizard = Wizard(
        dict(start or {}),
        catalog=catalog,
        lib=lib,
        lang=lang,
        asker=asker or QuestionaryAsker(),
        save=save,
        source=source,
    )
    try:
        return wizard.run()
    except (KeyboardInterrupt, EOFError):
        wizard.save()
        where = str(save) if save is not None else "—"
        raise Interrupted(msg("select.interrupted_saved", lang, path=where)) from None

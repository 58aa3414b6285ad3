"""What click and questionary write around crmkit's own texts, in the run's language: the usage
line, headings, placeholders (``ФАЙЛ``), ``[по умолчанию: …]``, ``--version``, and the
fragments of the prompts (the hints, "done (3 selections)", ``(y/N)`` with «д»/«н»)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

COMMANDS = [
    [],
    ["assess"],
    ["assess", "questions"],
    ["select"],
    ["select", "catalog"],
    ["blueprint"],
    ["blueprint", "lint"],
    ["blueprint", "list"],
    ["blueprint", "new"],
    ["render"],
    ["pull"],
    ["push"],
    ["audit"],
    ["sandbox"],
    ["demo"],
]
#: click's English words around the help texts
_CLICK_WORDS = re.compile(
    r"\b(Usage|Options|Commands|default|required|FILE|DIRECTORY|PATH|INTEGER|FLOAT|TEXT|RULE"
    r"|COMMAND|ARGS|OPTIONS|RANGE)\b"
)


@pytest.mark.parametrize("lang", ["ru", "uk"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "crmkit")
def test_help_has_no_english_around_it(
    crmkit: Callable[..., Any], command: list[str], lang: str
) -> None:
    run = crmkit("--lang", lang, *command, "--help")
    assert run.code == 0, run.err
    found = _CLICK_WORDS.findall(run.out)
    assert not found, (found, run.out)
    first = run.out.splitlines()[0]
    assert first.startswith("Использование: " if lang == "ru" else "Використання: "), first


def test_placeholders_and_defaults_in_russian(crmkit: Callable[..., Any]) -> None:
    lint = crmkit("--lang", "ru", "blueprint", "lint", "--help").out
    assert lint.startswith("Использование: crmkit blueprint lint [ПАРАМЕТРЫ] ФАЙЛ\n")
    assert "[по умолчанию: text]" in lint
    assert re.search(r"--max-stages ЧИСЛО\s", lint)
    assert re.search(r"--library ПАПКА\s", lint)
    top = crmkit("--lang", "ru", "--help").out
    assert top.startswith("Использование: crmkit [ПАРАМЕТРЫ] КОМАНДА [АРГУМЕНТЫ]...\n")
    assert "\nПараметры:\n" in top and "\nКоманды:\n" in top


def test_english_help_is_as_click_writes_it(crmkit: Callable[..., Any]) -> None:
    lint = crmkit("--lang", "en", "blueprint", "lint", "--help").out
    assert lint.startswith("Usage: crmkit blueprint lint [OPTIONS] FILE\n")
    assert "[default: text]" in lint and re.search(r"--max-stages INTEGER RANGE\s", lint)


@pytest.mark.parametrize(
    ("lang", "line"),
    [("ru", "crmkit, версия "), ("en", "crmkit, version "), ("uk", "crmkit, версія ")],
)
def test_version(crmkit: Callable[..., Any], lang: str, line: str) -> None:
    from crmkit import __version__

    for args in (["--lang", lang, "--version"], ["--version"]):
        run = crmkit(*args, lang=lang)
        assert run.code == 0 and run.out == f"{line}{__version__}\n", run


# -- the prompts ------------------------------------------------------------------------------

#: questionary's own English, which must never reach a person
_QUESTIONARY = re.compile(r"Use arrow keys|Use shortcuts|\bdone\b|selections?\b|\(y/N\)|\(Y/n\)")


def _terminal(keys: str, ask: Callable[[], Any]) -> tuple[Any, str]:
    """``ask()`` answered by ``keys`` typed in a terminal; (its answer, what the screen got)."""
    import io

    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input
    from prompt_toolkit.output.plain_text import PlainTextOutput

    screen = io.StringIO()
    with create_pipe_input() as typed, create_app_session(typed, PlainTextOutput(screen)):
        typed.send_text(keys)
        answer = ask()
    return answer, screen.getvalue()


@pytest.mark.parametrize(
    ("lang", "keys", "answer", "line"),
    [
        ("ru", " j j \r", ["a", "b", "c"], "? Что нужно? отмечено: 3"),
        ("en", " j j \r", ["a", "b", "c"], "? What is needed? 3 ticked"),
        ("uk", " j \r", ["a", "b"], "? Що потрібно? позначено: 2"),
        ("ru", "j \r", ["b"], "? Что нужно? Бета"),
        ("ru", "\r", [], "? Что нужно? ничего не отмечено"),
    ],
)
def test_a_list_with_ticks_answers_in_the_run_language(
    lang: str, keys: str, answer: list[str], line: str
) -> None:
    from crmkit.select.prompt import QuestionaryAsker

    message = {"ru": "Что нужно?", "en": "What is needed?", "uk": "Що потрібно?"}[lang]
    choices = [("a", "Альфа"), ("b", "Бета"), ("c", "Гамма")]
    got, screen = _terminal(keys, lambda: QuestionaryAsker(lang).checkbox(message, choices))  # type: ignore[arg-type]
    assert got == answer
    assert screen.rstrip().splitlines()[-1].strip() == line
    assert not _QUESTIONARY.search(screen), screen


def test_a_list_hints_in_russian() -> None:
    from crmkit.select.prompt import QuestionaryAsker

    asker = QuestionaryAsker("ru")
    got, screen = _terminal(
        "j\r", lambda: asker.select("Версия?", [("c", "Облако"), ("b", "Коробка")])
    )
    assert got == "b"
    assert "(↑↓ — выбрать, Enter — ответ, ← — назад)" in screen and "← Назад" in screen
    assert not _QUESTIONARY.search(screen), screen


def test_the_questionnaire_hints_in_russian() -> None:
    from crmkit.assess.answers import load_questionnaire
    from crmkit.assess.prompt import _Interview

    questionnaire = load_questionnaire(None)
    interview = _Interview(questionnaire, {}, "ru")
    single = questionnaire.questions[0]
    multi = next(q for q in questionnaire.questions if q.kind == "multi")
    _, screen = _terminal("\r", lambda: interview.ask(single, None))
    assert "Enter — ответить" in screen and "[вопрос 1 из " in screen
    _, more = _terminal(" \r", lambda: interview.ask(multi, None))
    assert "пробел — отметить" in more
    assert not _QUESTIONARY.search(screen + more), screen + more


@pytest.mark.parametrize(
    ("answer", "meaning"),
    [
        ("д", True),
        ("Да", True),
        ("y", True),
        ("YES", True),
        ("так", True),
        ("н", False),
        ("нет", False),
        ("ні", False),
        ("n", False),
        ("", False),
        ("  ", False),
        ("т", None),
        ("maybe", None),
        ("дан", None),
    ],
)
def test_yes_or_no(answer: str, meaning: bool | None) -> None:
    from crmkit.i18n import yes_or_no

    assert yes_or_no(answer) is meaning


def test_confirm_asks_again_until_it_understands(capsys: pytest.CaptureFixture[str]) -> None:
    from crmkit.cli.output import confirm

    typed = iter(["может быть", "д"])
    assert confirm("Применить к порталу?", "ru", lambda _: next(typed)) is True
    err = capsys.readouterr().err
    assert err.startswith("Применить к порталу? [д/Н]: ")
    assert "Ответьте «д» (да) или «н» (нет); Enter — нет." in err
    assert confirm("Apply?", "en", lambda _: "") is False
    assert capsys.readouterr().err == "Apply? [y/N]: "
    assert confirm("Застосувати?", "uk", lambda _: "н") is False
    assert "[так/Н]" in capsys.readouterr().err


# -- the comments of saved files ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "first", "dont_know"),
    [
        ("ru", "# crmkit: ответы на опрос о зрелости CRM.", '# "dont_know" — «не знаю».'),
        ("en", "# crmkit: answers to the CRM maturity questionnaire.", '# "dont_know" means'),
        ("uk", "# crmkit: відповіді на опитування про зрілість CRM.", '# "dont_know" — «не знаю».'),
    ],
)
def test_an_answers_file_says_what_it_is_in_the_run_language(
    crmkit: Callable[..., Any], tmp_path: Any, lang: str, first: str, dont_know: str
) -> None:
    from pathlib import Path

    examples = Path(__file__).resolve().parent.parent / "examples"
    saved = tmp_path / "answers.toml"
    run = crmkit(
        "--lang", lang, "assess", "--answers", str(examples / "assessment-level3.toml"),
        "--save", str(saved),
    )  # fmt: skip
    assert run.code == 0, run.err
    lines = saved.read_text(encoding="utf-8").splitlines()
    assert lines[0] == first and lines[2].startswith(dont_know)
    assert "crmkit assess --answers" in lines[1]


def test_a_selection_saved_by_the_wizard_says_what_it_is(tmp_path: Any) -> None:
    import tomllib

    from crmkit.i18n import msg
    from crmkit.select.catalog import shipped_catalog
    from crmkit.select.problems import library
    from crmkit.select.prompt import run_wizard
    from tests.test_select_wizard import ScriptedAsker

    target = tmp_path / "selection.toml"
    data = run_wizard(
        catalog=shipped_catalog(),
        lib=library(),
        lang="en",
        save=target,
        asker=ScriptedAsker(["forgotten_callbacks"]),
    )
    text = target.read_text(encoding="utf-8")
    assert text.startswith("# crmkit: a CRM selection in five steps")
    assert "# Go on: crmkit select --save THIS_FILE" in text
    assert tomllib.loads(text) == data
    assert msg("saved.selection_use", "ru").startswith("Продолжить: crmkit select --save ЭТОТ_ФАЙЛ")


@pytest.mark.parametrize(("lang", "words"), [("ru", "План настройки портала"), ("en", "A plan")])
def test_a_saved_plan_says_what_it_is(lang: str, words: str) -> None:
    import contextvars
    import json

    from crmkit.i18n import set_run_lang
    from crmkit.push.saved import SavedPlan, parse_saved

    plan = SavedPlan("https://x.bitrix24.ru", "f", "en", False, "", {"plan": []})

    def saved() -> str:
        set_run_lang(lang)  # type: ignore[arg-type]
        return plan.to_json()

    text = contextvars.copy_context().run(saved)
    about = json.loads(text)["about"]
    assert about.startswith(words) and "https://x.bitrix24.ru" in about
    assert parse_saved(text, "plan.json", "en").fingerprint == "f"

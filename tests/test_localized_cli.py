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

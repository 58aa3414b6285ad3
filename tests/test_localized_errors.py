"""Error messages in the run's language: each one line on stderr, exit 2, the file:line and the
key path first as in every language, then the problem in Russian (``--lang ru``), Ukrainian
(``--lang uk``) or English."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmkit.errors import InputError
from crmkit.files import parse_toml
from crmkit.i18n import Lang, run_lang, set_run_lang

#: Latin words a Russian or Ukrainian message may hold: names of formats and TOML's values
_LATIN_OK = {"toml", "utf", "windows", "true", "false"}
#: what a message quotes or names as written (values, keys, options, commands), not its words
_QUOTED = re.compile(
    r"«[^»]*»|'[^']*'|\"[^\"]*\"|\[[^\]]*\]|--[\w-]+|\((справка|довідка): [^)]*\)"
    r"|(?<=ключи: ).*|(?<=ключі: ).*|(?<=возможные: ).*|(?<=можливі: ).*"
)


def _problem(err: str, where: str) -> str:
    """The message without ``crmkit: file:line[:col]: [key.path: ]`` and quoted values."""
    line = err.strip()
    assert line.startswith(f"crmkit: {where}"), line
    rest = line[len(f"crmkit: {where}") :].lstrip(":0123456789 ")
    key, _, problem = rest.partition(": ")
    if problem and re.fullmatch(r"[\w.\[\]]+", key):  # a key path
        rest = problem
    return _QUOTED.sub("", rest)


def _in_russian(text: str) -> None:
    latin = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", text)} - _LATIN_OK
    assert not latin, f"English words {sorted(latin)} in {text!r}"
    assert re.search(r"[а-яё]{3,}", text), f"no Russian in {text!r}"


def _one_line(run: Any) -> str:
    assert run.code == 2, run.err
    assert run.out == ""
    assert run.err.endswith("\n") and run.err.count("\n") == 1, run.err
    return str(run.err)


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    made = {
        "broken": "a = 1\nb = \n",
        "unknown": '[blueprint]\nid = "x"\ncolour = "red"\n',
        "wrong_type": "[blueprint]\nid = 5\n",
    }
    paths = {}
    for name, text in made.items():
        paths[name] = tmp_path / f"{name}.toml"
        paths[name].write_text(text, encoding="utf-8")
    paths["cp1251"] = tmp_path / "cp1251.toml"
    paths["cp1251"].write_bytes('[blueprint]\nid = "x"\nname = "Продажи"\n'.encode("cp1251"))
    paths["folder"] = tmp_path / "folder.toml"
    paths["folder"].mkdir()
    paths["missing"] = tmp_path / "missing.toml"
    return paths


#: (file, what the English message says, what the Russian says) — lint reads each
CASES = {
    "missing": ("no such file", "нет такого файла"),
    "broken": ("not valid TOML: Invalid value", "ошибка синтаксиса TOML: значение не распознано"),
    "unknown": (
        "blueprint.colour: unknown key 'colour'; known keys: description, id, include, name",
        "blueprint.colour: неизвестный ключ «colour»; допустимые ключи: description, id",
    ),
    "wrong_type": (
        "blueprint.id: expected a string, got an integer",
        "blueprint.id: ожидается строка, а здесь целое число",
    ),
    "folder": ("is a directory, expected a file", "это папка, а нужен файл"),
    "cp1251": (
        "not UTF-8 text; it looks like Windows-1251: save the file as UTF-8",
        "текст не в кодировке UTF-8; похоже, это Windows-1251: сохраните файл в кодировке UTF-8",
    ),
}
#: where each message says the problem is
WHERE = {"broken": ":2:5", "unknown": ":3", "wrong_type": ":2", "cp1251": ":3:9"}


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_errors_in_russian(
    crmkit: Callable[..., Any], files: dict[str, Path], case: str
) -> None:
    path = files[case]
    err = _one_line(crmkit("--lang", "ru", "blueprint", "lint", str(path)))
    where = f"{path}{WHERE.get(case, '')}"
    assert err.startswith(f"crmkit: {where}: "), err
    assert CASES[case][1] in err, err
    _in_russian(_problem(err, where))


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_errors_in_english(
    crmkit: Callable[..., Any], files: dict[str, Path], case: str
) -> None:
    path = files[case]
    err = _one_line(crmkit("--lang", "en", "blueprint", "lint", str(path)))
    assert err == f"crmkit: {path}{WHERE.get(case, '')}: {CASES[case][0]}\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_file_errors_in_ukrainian(
    crmkit: Callable[..., Any], files: dict[str, Path], case: str
) -> None:
    path = files[case]
    err = _one_line(crmkit("--lang", "uk", "blueprint", "lint", str(path)))
    where = f"{path}{WHERE.get(case, '')}"
    problem = _problem(err, where)
    _in_russian(problem.replace("і", "и").replace("ї", "и").replace("є", "е"))
    assert not set("ыэъё") & set(problem), problem


def test_the_cp1251_hint_names_the_line_in_every_command(
    crmkit: Callable[..., Any], files: dict[str, Path]
) -> None:
    path = files["cp1251"]
    for args in (("assess", "--answers"), ("select", "--input"), ("render",)):
        err = _one_line(crmkit("--lang", "ru", *args, str(path)))
        assert err.startswith(f"crmkit: {path}:3:9: "), err
        assert "сохраните файл в кодировке UTF-8" in err


@pytest.mark.parametrize(
    ("args", "english", "russian"),
    [
        (
            ["blueprint", "lint", "--max-stages", "many", "x.toml"],
            "--max-stages: 'many' is not a number (see crmkit blueprint lint --help)",
            "--max-stages: «many» — не число (справка: crmkit blueprint lint --help)",
        ),
        (
            ["blueprint", "lnt"],
            "no such command 'lnt' (see crmkit blueprint --help)",
            "нет команды «lnt» (справка: crmkit blueprint --help)",
        ),
        (
            ["render", "--format", "pdf", "x.toml"],
            "--format: 'pdf' is not one of: html, md (see crmkit render --help)",
            "--format: «pdf» — недопустимое значение; возможные: html, md "
            "(справка: crmkit render --help)",
        ),
        (
            ["blueprint", "lint"],
            "missing argument FILE (see crmkit blueprint lint --help)",
            "не указан аргумент ФАЙЛ (справка: crmkit blueprint lint --help)",
        ),
        (
            ["assess", "--answers"],
            "--answers needs a value (see crmkit assess --help)",
            "после --answers нужно значение (справка: crmkit assess --help)",
        ),
        (
            ["assess", "--answers", "."],
            "--answers: '.' is a directory, expected a file (see crmkit assess --help)",
            "--answers: «.» — это папка, а нужен файл (справка: crmkit assess --help)",
        ),
    ],
)
def test_usage_errors(
    crmkit: Callable[..., Any], tmp_path: Path, args: list[str], english: str, russian: str
) -> None:
    assert _one_line(crmkit("--lang", "en", *args)) == f"crmkit: {english}\n"
    err = _one_line(crmkit("--lang", "ru", *args))
    assert err == f"crmkit: {russian}\n"
    _in_russian(_QUOTED.sub("", err.removeprefix("crmkit: ")))


def test_a_run_leaves_no_language_behind(
    crmkit: Callable[..., Any], files: dict[str, Path]
) -> None:
    before = run_lang()
    crmkit("--lang", "ru", "blueprint", "lint", str(files["broken"]))
    assert run_lang() == before


@pytest.mark.parametrize(
    ("text", "english", "russian"),
    [
        ("[a]\n[a]\n", "Cannot declare [a] twice", "таблица [a] объявлена дважды"),
        (
            "x = {a = 1, a = 2}\n",
            "Duplicate inline table key 'a'",
            "ключ «a» повторяется в таблице",
        ),
        ('p = "C:\\Windows"\n', "Unescaped '\\' in a string", "обратную косую черту"),
        (
            "a = [1, 2\n",
            "Unclosed array at the end of the file",
            "массив не закрыт: нет «]» в конце файла",
        ),
        ('a = "x\n', "Illegal character '\\n'", "недопустимый символ '\\n'"),
        ("ключ = 1\n", "Invalid statement", "ни на «ключ = значение»"),
    ],
)
def test_toml_syntax_errors(text: str, english: str, russian: str) -> None:
    def problem(lang: Lang) -> str:
        set_run_lang(lang)
        with pytest.raises(InputError) as caught:
            parse_toml(text, "f.toml")
        return caught.value.problem

    assert contextvars.copy_context().run(problem, "en") == f"not valid TOML: {english}"
    found = contextvars.copy_context().run(problem, "ru")
    assert found.startswith("ошибка синтаксиса TOML: ") and russian in found, found

"""What a person reads is in their language and says what it means: Russian products by their
Russian names in a Russian run, no "seed 001" or "DOMAIN.md" in anything shown, and the calques
and slips of issue 13 gone from the texts."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmkit.i18n import LANGS, Text
from crmkit.select.catalog import shipped_catalog

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("system", "ru", "en", "uk"),
    [
        ("megaplan", "Мегаплан", "Megaplan", "Мегаплан"),
        ("prostoy_biznes", "Простой бизнес", "Prostoy Biznes", "Простой бизнес"),
        ("a2b", "А2Б", "A2B", "А2Б"),
        ("bitrix24", "Битрикс24", "Bitrix24", "Бітрікс24"),
        ("amocrm", "amoCRM", "amoCRM", "amoCRM"),
    ],
)
def test_systems_are_named_in_the_run_language(system: str, ru: str, en: str, uk: str) -> None:
    catalog = shipped_catalog()
    assert (catalog.name(system, "ru"), catalog.name(system, "en")) == (ru, en)
    assert catalog.name(system, "uk") == uk
    assert catalog.get(system).name == en  # the Latin name stays the one ids and JSON match
    for written in (ru, en, ru.lower(), f" {en.upper()} "):
        assert catalog.find(written) == system


def test_a_russian_report_and_catalog_name_russian_products_in_russian(
    crmkit: Callable[..., Any],
) -> None:
    report = crmkit("--lang", "ru", "select", "--input", str(ROOT / "examples/selection.toml"))
    assert report.code == 0, report.err
    assert "Мегаплан" in report.out and "Megaplan" not in report.out
    assert "Простой бизнес" in report.out and "Prostoy Biznes" not in report.out
    catalog = crmkit("--lang", "ru", "select", "catalog").out
    assert "А2Б" in catalog and "A2B" not in catalog
    english = crmkit("--lang", "en", "select", "catalog").out
    assert "Megaplan" in english and "Мегаплан" not in english
    data = json.loads(crmkit("--lang", "ru", "select", "catalog", "--format", "json").out)
    assert {s["id"]: s["name"] for s in data}["megaplan"] == "Мегаплан"


def test_a_selection_may_name_a_system_in_russian(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    text = (ROOT / "examples/selection.toml").read_text(encoding="utf-8")
    assert "[scores.megaplan]" in text
    path = tmp_path / "selection.toml"
    path.write_text(text.replace("[scores.megaplan]", '[scores."Мегаплан"]'), encoding="utf-8")
    run = crmkit("--lang", "ru", "select", "--input", str(path), "--format", "json")
    assert run.code == 0, run.err
    assert "Мегаплан" in {r["name"] for r in json.loads(run.out)["ranking"]}


# -- no seed numbers or spec files in what a person reads ------------------------------------

#: how the specs name the source texts (a random seed, "seed 2024", is not one of them)
_INTERNAL = re.compile(r"\bseed 0\d\d\b|\bthe seeds?\b|\bseed's\b|DOMAIN\.md|DESIGN\.md", re.I)


def _texts(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, Text):
        for lang in LANGS:
            yield f"{path}.{lang}", getattr(value, lang)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            yield from _texts(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _texts(item, f"{path}[{key}]")
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _texts(item, f"{path}[{index}]")


def test_the_catalog_shows_no_seed_numbers(crmkit: Callable[..., Any]) -> None:
    found = [(p, t) for p, t in _texts(shipped_catalog()) if _INTERNAL.search(t)]
    assert not found, found[:5]
    for lang in LANGS:
        for fmt in ("text", "json"):
            out = crmkit("--lang", lang, "select", "catalog", "--format", fmt).out
            assert not _INTERNAL.search(out), (lang, fmt, _INTERNAL.findall(out))


@pytest.mark.parametrize("lang", LANGS)
def test_the_selection_report_shows_no_seed_numbers(crmkit: Callable[..., Any], lang: str) -> None:
    for fmt in ("text", "md", "json"):
        run = crmkit(
            "--lang", lang, "select", "--input", str(ROOT / "examples/selection.toml"),
            "--format", fmt,
        )  # fmt: skip
        assert run.code == 0, run.err
        assert not _INTERNAL.search(run.out), (fmt, _INTERNAL.findall(run.out))


def test_a_knockout_question_says_the_catalog_may_be_out_of_date() -> None:
    from crmkit.select.shortlist import Check, KnockOut
    from crmkit.select.vendor import questions

    check = Check(
        "free_plan", "users", "no", Text("бесплатного тарифа нет", "no free plan", "немає")
    )
    sheets = questions(
        finalists=(),
        names={},
        criteria={},
        scores={},
        low_confidence=(),
        leader=None,
        critical=None,
        open_checks={},
        unverified=[KnockOut("amocrm", (check,), verified=False)],
        answers={},
    )
    text = sheets[0].questions[0].text
    assert text.ru.startswith("Верно ли это сейчас: бесплатного тарифа нет?")
    assert "Данные каталога могли устареть" in text.ru
    assert "may be out of date" in text.en and "могли застаріти" in text.uk
    assert not any(_INTERNAL.search(t) for t in (text.ru, text.en, text.uk))


# -- calques and slips ------------------------------------------------------------------------

#: what issue 13 found in client-facing texts, and must not come back
_SLIPS = re.compile(
    r"Где живут данные|данные живут|рядом живут|Where data lives|Что держит на уровне"
    r"|CRM можно не внедрять|Решает проблем\b|нет такой версии|автора источника"
    r"|«стандартный»|^стандартный$|Индекс согласованности|Запрос заказа|Collecting needs"
    r"|decide now: |Покажите «[^»]*» на демо|Подтвердите: [^?]*: "
)


def _shipped_texts() -> Iterator[tuple[str, str]]:
    from crmkit.assess.answers import load_questionnaire
    from crmkit.blueprints.library import Library
    from crmkit.blueprints.lint import default_settings
    from crmkit.i18n import all_messages
    from crmkit.select import vendor
    from crmkit.select.problems import library

    for key, entry in all_messages().items():
        for lang, text in entry.items():
            yield f"{key}.{lang}", text
    yield from _texts(load_questionnaire(None), "questionnaire")
    yield from _texts(shipped_catalog(), "catalog")
    yield from _texts(library(), "problems")
    yield from _texts(default_settings().rules, "rules")
    yield from _texts(vendor.STANDARD, "vendor")
    blueprints = Library.default()
    for bp_id in blueprints.ids():
        yield from _texts(blueprints.load(bp_id), bp_id)


def test_no_calque_or_slip_of_the_issue_is_left() -> None:
    found = [(where, text) for where, text in _shipped_texts() if _SLIPS.search(text)]
    assert not found, found[:5]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_reports_have_none_of_them(crmkit: Callable[..., Any], lang: str) -> None:
    outputs = [
        crmkit("--lang", lang, "select", "--input", str(ROOT / "examples/selection.toml")).out,
        crmkit(
            "--lang", lang, "assess", "--answers", str(ROOT / "examples/assessment-level3.toml"),
            "--format", "md",
        ).out,
        crmkit("--lang", lang, "render", "complete-b2b", "--format", "md", "--out", "-").out,
    ]  # fmt: skip
    for out in outputs:
        assert out and not _SLIPS.search(out), _SLIPS.findall(out)


@pytest.mark.parametrize(
    ("kind", "ru", "en"),
    [
        ("lead", "застрявший лид", "a stuck lead"),
        ("deal", "застрявшую сделку", "a stuck deal"),
        ("smart_process", "застрявший элемент", "a stuck item"),
    ],
)
def test_a_stage_with_no_time_names_what_gets_stuck(kind: str, ru: str, en: str) -> None:
    from crmkit.blueprints.lint import default_settings, lint
    from crmkit.blueprints.model import Blueprint, Pipeline, SmartProcess, Stage

    stages = (
        Stage("NEW", Text("Новый", "New"), "process"),
        Stage("WON", Text("Успех", "Won"), "success"),
    )
    pipeline = Pipeline("P", kind, Text("Воронка", "Pipeline"), stages=stages, process="SP")  # type: ignore[arg-type]
    bp = Blueprint(
        "t",
        Text("t", "t"),
        pipelines=(pipeline,),
        smart_processes=(SmartProcess("SP", Text("Проекты", "Projects")),),
    )
    for lang, words in (("ru", ru), ("en", en)):
        found = [f for f in lint(bp, default_settings(), lang) if f.rule == "BP024"]  # type: ignore[arg-type]
        assert found and found[0].message.endswith("никто не заметит" if lang == "ru" else words), (
            found
        )
        assert words in found[0].message


def test_field_types_are_in_the_reader_language(crmkit: Callable[..., Any]) -> None:
    page = crmkit("--lang", "ru", "render", "complete-b2b", "--format", "md", "--out", "-").out
    assert "| деньги |" in page or "| список |" in page
    assert not re.search(r"\((string|money|enumeration|double|integer|boolean|date)\)", page)


# -- the shipped examples ----------------------------------------------------------------------


def _prose(value: Any) -> Iterator[str]:
    """The free texts of a parsed file: strings of more than one word, outside {ru, en, uk}
    tables (those hold every language on purpose)."""
    if isinstance(value, dict):
        if value and set(value) <= {"ru", "en", "uk"}:
            return
        for item in value.values():
            yield from _prose(item)
    elif isinstance(value, list):
        for item in value:
            yield from _prose(item)
    elif isinstance(value, str) and len(value.split()) > 1:
        yield value


@pytest.mark.parametrize("path", sorted((ROOT / "examples").glob("*.toml")), ids=lambda p: p.name)
def test_each_example_speaks_one_language(path: Path) -> None:
    import tomllib

    text = path.read_text(encoding="utf-8")
    comments = [line.split("#", 1)[1] for line in text.splitlines() if "#" in line]
    comments = [c for c in comments if not c.strip().startswith("crmkit ")]  # commands
    chunks = [*comments, *_prose(tomllib.loads(text))]
    langs = {
        "ru" if re.search(r"[а-яё]", chunk, re.I) else "en"
        for chunk in chunks
        if re.search(r"[а-яё]", chunk, re.I) or len(re.findall(r"\b[a-z]{3,}\b", chunk)) >= 3
    }
    assert len(langs) == 1, (path.name, langs)

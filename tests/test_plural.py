"""Counts agree with their words: «1 вопрос», «3 вопроса», «17 вопросов», "1 note", "2 notes"."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.i18n import _PluralFormatter, plural, plural_index

RU = "вопрос|вопроса|вопросов"
UK = "питання|питання|питань"


@pytest.mark.parametrize(
    ("count", "word"),
    [
        (0, "вопросов"),
        (1, "вопрос"),
        (2, "вопроса"),
        (4, "вопроса"),
        (5, "вопросов"),
        (11, "вопросов"),
        (12, "вопросов"),
        (14, "вопросов"),
        (17, "вопросов"),
        (21, "вопрос"),
        (22, "вопроса"),
        (25, "вопросов"),
        (101, "вопрос"),
        (111, "вопросов"),
        (112, "вопросов"),
        (1000, "вопросов"),
        (2.5, "вопроса"),
    ],
)
def test_russian_forms(count: float, word: str) -> None:
    assert plural(count, "ru", RU) == word


@pytest.mark.parametrize(
    ("count", "word"),
    [(1, "нотатка"), (3, "нотатки"), (5, "нотаток"), (11, "нотаток"), (21, "нотатка")],
)
def test_ukrainian_forms(count: int, word: str) -> None:
    assert plural(count, "uk", "нотатка|нотатки|нотаток") == word


@pytest.mark.parametrize(
    ("count", "word"), [(0, "notes"), (1, "note"), (2, "notes"), (21, "notes"), (1.5, "notes")]
)
def test_english_forms(count: float, word: str) -> None:
    assert plural(count, "en", "note|notes") == word


@given(st.integers(min_value=0, max_value=10**6))
def test_russian_rule_follows_the_last_digits(count: int) -> None:
    index = plural_index(count, "ru")
    assert index == plural_index(count % 100, "ru") == plural_index(count, "uk")
    if count % 100 in range(11, 15):
        assert index == 2
    elif count % 10 == 1:
        assert index == 0
    elif count % 10 in (2, 3, 4):
        assert index == 1
    else:
        assert index == 2


def test_a_form_not_given_is_the_last_one() -> None:
    assert plural(5, "ru", "раз") == "раз"
    assert plural(5, "en", "sheep") == "sheep"


@pytest.mark.parametrize(
    ("lang", "template", "count", "text"),
    [
        ("ru", "Вопросов: {count}; это {count:вопрос|вопроса|вопросов}", 17, "17 вопросов"),
        ("ru", "{count:заметка|заметки|заметок}", 1, "1 заметка"),
        ("en", "{count:note|notes}", 1, "1 note"),
        ("en", "{count:note|notes}", 3, "3 notes"),
        ("uk", "{count:питання|питання|питань}", 6, "6 питань"),
        ("ru", "{count:вопрос|вопроса|вопросов}", "1 002", "1 002 вопроса"),
    ],
)
def test_messages_write_counts_with_their_words(
    lang: str, template: str, count: object, text: str
) -> None:
    assert _PluralFormatter(lang).format(template, count=count).endswith(text)  # type: ignore[arg-type]


def test_other_fields_format_as_usual() -> None:
    assert _PluralFormatter("en").format("{a:>4}|{b}", a=7, b="x") == "   7|x"


@pytest.mark.parametrize(
    ("key", "lang", "values", "text"),
    [
        (
            "lint.summary",
            "en",
            {"errors": 1, "warnings": 2, "infos": 1},
            "1 error, 2 warnings, 1 note",
        ),
        ("lint.failed", "en", {"errors": 1, "warnings": 0}, "(1 error, 0 warnings)"),
        ("assess.missing", "ru", {"count": 1, "ids": "q1"}, "нет ответов на 1 вопрос: q1"),
        ("assess.missing", "ru", {"count": 3, "ids": "q"}, "нет ответов на 3 вопроса: q"),
        ("assess.missing", "en", {"count": 1, "ids": "q1"}, "no answers to 1 question: q1"),
        ("assess.intro", "en", {"count": 17, "alt": ""}, "17 questions."),
        ("assess.reason_no_crm", "en", {"count": 1}, "(1 question)"),
        ("blueprint.stages", "en", {"count": 1}, "1 stage"),
        ("push.cli.not_empty", "en", {"count": 1}, "1 change"),
        ("audit.report.days", "en", {"n": 1}, "1 day"),
        (
            "select.wiz.c2_majority",
            "ru",
            {"kind": "облачная", "votes": 1, "total": 3, "criteria": "x"},
            "за неё 1 ответ из 3",
        ),
    ],
)
def test_counts_in_messages_agree(
    key: str, lang: str, values: dict[str, object], text: str
) -> None:
    from crmkit.i18n import msg

    assert text in msg(key, lang, **values)  # type: ignore[arg-type]


def test_a_lint_summary_of_one_note(crmkit, tmp_path) -> None:  # type: ignore[no-untyped-def]
    run = crmkit("--lang", "en", "blueprint", "lint", "lead-funnel")
    summary = run.out.strip().splitlines()[-1]
    assert re.fullmatch(r"Total: \d+ errors?, \d+ warnings?, \d+ notes?", summary), summary
    assert not re.search(r"\b1 (errors|warnings|notes)\b", run.out)

"""The questionnaire: DESIGN.md's JSON, DOMAIN.md §1 coverage, reachable levels, precise errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.assess.answers import load_questionnaire
from crmkit.assess.model import (
    DONT_KNOW,
    MAX_LEVEL,
    NO_CRM,
    Questionnaire,
    asked,
    implied,
    missing,
    parse_questionnaire,
    question_counts,
    relevant,
)
from crmkit.assess.scoring import score
from crmkit.files import parse_toml
from crmkit.schema import LoadError

#: DOMAIN.md §1: "Dimensions that run through the levels", mapped to the questionnaire's ids.
DOMAIN_DIMENSIONS = {
    "where data lives": "data",
    "channels": "channels",
    "funnels (which kinds)": "funnels",
    "lead processing": "leads",
    "deal keeping": "deals",
    "activities and their control": "activities",
    "roles": "roles",
    "access rights": "access",
    "regulations": "regulations",
    "automation": "automation",
    "mandatory fields": "fields",
    "document templates": "documents",
    "1C and other integrations": "integrations",
    "reporting": "reporting",
}

#: The shipped library's blueprint ids (the issue's list); `generates` may point only at these.
LIBRARY_IDS = {
    "roles",
    "entities",
    "lead-funnel",
    "deal-b2b-full",
    "deal-b2b-short",
    "deal-retail",
    "deal-wholesale",
    "deal-repeat",
    "deal-reanimation",
    "deal-marketing",
    "process-delivery",
    "fields-scoring",
    "escalation-no-answer",
    "complete-b2b",
}


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    return load_questionnaire()


def test_questions_json_follows_design(crmkit) -> None:
    result = crmkit("assess", "questions", "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert isinstance(data, list) and data
    for question in data:
        assert set(question) == {"id", "dimension", "text", "kind", "choices"}
        assert question["kind"] in ("single", "multi")
        assert question["text"]
        for choice in question["choices"]:
            assert set(choice) == {"id", "text", "level"}
            assert choice["level"] is None or (
                isinstance(choice["level"], int) and 0 <= choice["level"] <= MAX_LEVEL
            )
    assert len({q["id"] for q in data}) == len(data)


def test_questions_json_russian(crmkit) -> None:
    data = json.loads(crmkit("assess", "questions", "--format", "json", "--lang", "ru").out)
    texts = " ".join(q["text"] for q in data)
    for word in ("лид", "сделк", "воронк", "дел", "1С"):
        assert word in texts, word


def test_questions_text(crmkit) -> None:
    result = crmkit("assess", "questions")
    assert result.code == 0
    assert "data_storage" in result.out and "[5] crm_only" in result.out


def test_every_domain_dimension_is_covered(questionnaire: Questionnaire) -> None:
    scored = {d.id for d in questionnaire.scored_dimensions()}
    for name, dimension in DOMAIN_DIMENSIONS.items():
        assert dimension in scored, f"DOMAIN.md §1 dimension '{name}' has no scored question"


def _answers_at(questionnaire: Questionnaire, level: int) -> dict[str, tuple[str, ...]]:
    """For each scored question the lowest choice evidencing at least ``level``."""
    answers: dict[str, tuple[str, ...]] = {}
    for question in questionnaire.questions:
        if question.scored:
            choice = question.lowest_choice_at_least(level)
            assert choice is not None, (question.id, level)
            answers[question.id] = (choice.id,)
        elif question.kind == "multi":
            answers[question.id] = ()
        else:
            answers[question.id] = (question.choices[0].id,)
    return answers


@pytest.mark.parametrize("level", range(MAX_LEVEL + 1))
def test_every_level_is_reachable(questionnaire: Questionnaire, level: int) -> None:
    answers = _answers_at(questionnaire, level)
    assert not missing(questionnaire, answers)
    assert score(questionnaire, answers).level == level


def test_texts_are_bilingual_with_help(questionnaire: Questionnaire) -> None:
    assert len(questionnaire.levels) == MAX_LEVEL + 1
    for question in questionnaire.questions:
        assert question.text.ru and question.text.en, question.id
        assert question.help.ru and question.help.en, f"{question.id} has no help"
        for choice in question.choices:
            assert choice.text.ru and choice.text.en, (question.id, choice.id)
            if choice.action:
                assert choice.action.ru and choice.action.en, (question.id, choice.id)
            assert set(choice.generates) <= LIBRARY_IDS, (question.id, choice.id)


def test_every_step_up_has_an_action(questionnaire: Questionnaire) -> None:
    """Each scored question's top choice says what to do to get there."""
    for question in questionnaire.questions:
        if question.scored:
            top = question.lowest_choice_at_least(MAX_LEVEL)
            assert top is not None and top.action, question.id


def test_readiness_questions_only_without_crm(questionnaire: Questionnaire) -> None:
    with_crm = _answers_at(questionnaire, 3)
    assert "readiness_for" not in missing(questionnaire, {"data_storage": ("crm_only",)})
    without = {"data_storage": ("spreadsheets",)}
    assert {"readiness_for", "readiness_against"} <= set(missing(questionnaire, without))
    assert not score(questionnaire, with_crm).readiness.applies


def test_without_a_crm_the_questions_about_using_one_are_not_asked(
    questionnaire: Questionnaire,
) -> None:
    """13 questions have "No CRM" as their only sensible answer once the company says it has
    none: they are marked skip_if = "no_crm", and their "No CRM" choice is what gets recorded."""
    skipping = [q for q in questionnaire.questions if q.skip_if == NO_CRM]
    assert len(skipping) == 13
    for question in skipping:
        choice = question.implied_choice
        assert choice is not None and NO_CRM in choice.tags and choice.level == 0, question.id
    without = {"data_storage": ("spreadsheets",)}
    assert [q.id for q in asked(questionnaire, without)] == [
        "data_storage",
        "company_clients",
        "company_trade",
        "company_offer",
        "readiness_for",
        "readiness_against",
    ]
    assert set(implied(questionnaire, without)) == {q.id for q in skipping}
    assert question_counts(questionnaire) == (17, 6)
    # with a CRM nothing is implied, and a "No CRM" answer elsewhere does not skip the rest
    contradictory = {"data_storage": ("crm_main",), "channels_connected": ("no_crm",)}
    assert not implied(questionnaire, contradictory)
    assert "funnels_kinds" in missing(questionnaire, contradictory)


def test_skipped_questions_score_as_answering_no_crm(crmkit, tmp_path: Path) -> None:
    """A file without the 13 answers scores exactly as one answering "No CRM" to each."""
    questionnaire = load_questionnaire()
    short = {
        "data_storage": ("spreadsheets",),
        "company_clients": ("b2b",),
        "company_trade": ("wholesale",),
        "company_offer": ("products",),
        "readiness_for": ("sales_manager", "clients_100"),
        "readiness_against": (),
    }
    explicit = dict(short)
    for question in questionnaire.questions:
        if question.skip_if and question.implied_choice:
            explicit[question.id] = (question.implied_choice.id,)
    assert relevant(questionnaire, short) == relevant(questionnaire, explicit)
    assert score(questionnaire, short) == score(questionnaire, explicit)

    def as_file(answers: dict[str, tuple[str, ...]], name: str) -> str:
        lines = ["[answers]"]
        for key, value in answers.items():
            question = questionnaire.question(key)
            shown = json.dumps(list(value) if question and question.kind == "multi" else value[0])
            lines.append(f"{key} = {shown}")
        path = tmp_path / name
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return str(path)

    results = []
    for name, answers in (("short.toml", short), ("explicit.toml", explicit)):
        result = crmkit("assess", "--answers", as_file(answers, name), "--format", "json")
        assert result.code == 0, result.err
        results.append(json.loads(result.out))
    assert results[0]["level"] == results[1]["level"] == 0
    assert results[0]["dimensions"] == results[1]["dimensions"]
    assert results[0]["held_back_by"] == results[1]["held_back_by"]


def test_questions_text_counts_as_the_interview_does(crmkit) -> None:
    out = crmkit("assess", "questions").out
    assert "19 questions (17 asked with a CRM, 6 without one)" in out.splitlines()[1]
    assert "not asked if: no_crm, then answered no_crm" in out
    ru = crmkit("assess", "questions", "--lang", "ru").out
    assert "Вопросов: 19 (в опросе с CRM — 17, без CRM — 6)" in ru.splitlines()[1]


def test_dont_know_is_not_a_choice_id(questionnaire: Questionnaire) -> None:
    for question in questionnaire.questions:
        assert DONT_KNOW not in question.choice_ids


# -- a consultant's own questionnaire ------------------------------------------------------------
OWN = """\
[questionnaire]
id = "own"
version = 1
title = "Own"

[[levels]]
level = 0
name = "zero"

[[dimensions]]
id = "sales"
name = "Sales"

[[questions]]
id = "q1"
dimension = "sales"
text = "Q1?"

[[questions.choices]]
id = "low"
level = 0
text = "low"

[[questions.choices]]
id = "high"
level = 5
text = "high"
"""


def test_own_questionnaire(crmkit, tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text(OWN, encoding="utf-8")
    data = json.loads(
        crmkit("assess", "questions", "--questionnaire", str(own), "--format", "json").out
    )
    assert [q["id"] for q in data] == ["q1"]
    answers = tmp_path / "a.toml"
    answers.write_text('[answers]\nq1 = "high"\n', encoding="utf-8")
    result = crmkit(
        "assess", "--questionnaire", str(own), "--answers", str(answers), "--format", "json"
    )
    assert result.code == 0, result.err
    assert json.loads(result.out)["level"] == 5


@pytest.mark.parametrize(
    ("change", "line", "key", "words"),
    [
        (
            ('dimension = "sales"\ntext', 'dimension = "nope"\ntext'),
            16,
            "questions[0].dimension",
            "unknown dimension",
        ),
        (("level = 5", "level = 6"), 26, "questions[0].choices[1].level", "out of range"),
        (('id = "high"', 'id = "low"'), 25, "questions[0].choices[1].id", "duplicate"),
        (('text = "Q1?"', 'text = "Q1?"\nkind = "many"'), 18, "questions[0].kind", "not one of"),
        (('id = "high"', 'id = "dont_know"'), 25, "questions[0].choices[1].id", "reserved"),
        (
            ('text = "Q1?"', 'text = "Q1?"\nskip_if = "gone"'),
            18,
            "questions[0].skip_if",
            "exactly one choice must carry the tag 'gone'",
        ),
        (
            (
                'text = "Q1?"\n\n[[questions.choices]]\nid = "low"\nlevel = 0',
                'text = "Q1?"\nskip_if = "gone"\n\n[[questions.choices]]\nid = "low"\nlevel = 0\n'
                'tags = ["gone"]',
            ),
            18,
            "questions[0].skip_if",
            "nothing can skip this one",
        ),
    ],
)
def test_questionnaire_errors_name_file_line_key(
    crmkit, tmp_path: Path, change: tuple[str, str], line: int, key: str, words: str
) -> None:
    own = tmp_path / "own.toml"
    own.write_text(OWN.replace(*change), encoding="utf-8")
    result = crmkit("assess", "questions", "--questionnaire", str(own))
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1
    assert f"{own}:{line}: {key}: " in result.err and words in result.err


def test_parse_rejects_unknown_top_key() -> None:
    with pytest.raises(LoadError) as info:
        parse_questionnaire(parse_toml(OWN + "\n[extra]\nx = 1\n", "own.toml"))
    assert info.value.key == "extra"

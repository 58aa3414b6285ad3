"""Answers files: bad input (one line, file:line:key, exit 2, nothing written), missing answers,
the header written by --save, migration of old versions, round trips."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.assess.answers import dump_answers, load_questionnaire, parse_answers
from crmkit.assess.model import DONT_KNOW
from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.errors import InputError
from crmkit.files import parse_toml

ROOT = Path(__file__).resolve().parent.parent
LEVEL3 = (ROOT / "examples" / "assessment-level3.toml").read_text(encoding="utf-8")
Q = load_questionnaire()


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if line.startswith(needle))


BAD = {
    "unknown question": (
        LEVEL3.replace('reporting = "manual"', 'reporting = "manual"\nbudget = "big"'),
        "budget = ",
        "answers.budget",
        "unknown question 'budget'",
    ),
    "unknown choice": (
        LEVEL3.replace('roles = "minimal"', 'roles = "sometimes"'),
        "roles = ",
        "answers.roles",
        "'sometimes' is not a choice of 'roles'",
    ),
    "wrong type (number)": (
        LEVEL3.replace('automation = "deals"', "automation = 3"),
        "automation = ",
        "answers.automation",
        "expected one choice id",
    ),
    "wrong type (list for a single choice)": (
        LEVEL3.replace('automation = "deals"', 'automation = ["deals", "none"]'),
        "automation = ",
        "answers.automation",
        "expected one choice id",
    ),
    "wrong type (header)": (
        LEVEL3.replace("questionnaire_version = 1", 'questionnaire_version = "one"'),
        "questionnaire_version = ",
        "assessment.questionnaire_version",
        "expected an integer",
    ),
    "broken TOML": (
        LEVEL3.replace('roles = "minimal"', 'roles = "minimal'),
        "roles = ",
        None,
        "not valid TOML",
    ),
    "dont_know with another choice": (
        LEVEL3.replace(
            'reporting = "manual"', 'reporting = "manual"\nreadiness_for = ["dont_know", "mvp"]'
        ),
        "readiness_for = ",
        "answers.readiness_for",
        "",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_bad_answers_file(crmkit, tmp_path: Path, case: str, fmt: str) -> None:
    text, line_start, key, words = BAD[case]
    path = tmp_path / "answers.toml"
    path.write_text(text, encoding="utf-8")
    save, out = tmp_path / "saved.toml", tmp_path / "report.html"
    result = crmkit(
        "assess", "--answers", str(path), "--save", str(save), "--out", str(out), "--format", fmt
    )
    assert result.code == 2
    assert result.out == ""
    lines = result.err.strip().splitlines()
    assert len(lines) == 1, result.err
    line = _line_of(text, line_start)
    assert lines[0].startswith(f"crmkit: {path}:{line}"), lines[0]
    if key:
        assert f":{line}: {key}: " in lines[0]
    assert words in lines[0]
    assert not save.exists() and not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["answers.toml"]


def test_unknown_choice_lists_the_choices(crmkit, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(BAD["unknown choice"][0], encoding="utf-8")
    err = crmkit("assess", "--answers", str(path)).err
    assert "choose one of: no_crm, unclear, minimal, distributed, clear, dont_know" in err


def test_missing_answers_without_terminal_names_all(crmkit, tmp_path: Path) -> None:
    text = LEVEL3
    for question in ("roles", "reporting", "company_offer"):
        text = "\n".join(
            line for line in text.splitlines() if not line.startswith(f"{question} = ")
        )
    path = tmp_path / "a.toml"
    path.write_text(text, encoding="utf-8")
    save = tmp_path / "saved.toml"
    result = crmkit("assess", "--answers", str(path), "--save", str(save))
    assert result.code == 2
    assert len(result.err.strip().splitlines()) == 1
    assert "3 questions: company_offer, roles, reporting" in result.err
    assert str(path) in result.err
    assert not save.exists()


def test_no_answers_at_all_without_terminal(crmkit) -> None:
    result = crmkit("assess")
    assert result.code == 2
    for question in Q.questions:
        if question.only_if is None:
            assert question.id in result.err


def test_save_writes_the_header(tmp_path: Path) -> None:
    hand_written = tmp_path / "a.toml"
    body = LEVEL3[LEVEL3.index("[answers]") :]
    hand_written.write_text(body, encoding="utf-8")  # no header: read as the current version
    save = tmp_path / "saved.toml"
    app = AppContext(lang="ru", cwd=tmp_path, clock=lambda: 1_700_000_000.0)
    assert (
        run(
            ["assess", "--answers", str(hand_written), "--save", str(save), "--format", "json"], app
        )
        == 0
    )
    saved = parse_toml(save.read_text(encoding="utf-8"), "saved.toml").data
    assert saved["assessment"] == {
        "crmkit_version": "0.1.0",
        "questionnaire": "crmkit-maturity",
        "questionnaire_version": 1,
        "date": "2023-11-14",
        "lang": "ru",  # the language of the comments, and of a resumed interview
    }
    assert saved["answers"]["roles"] == "minimal"
    assert "# Распределены ли роли" in save.read_text(encoding="utf-8")


def test_answers_for_another_questionnaire(crmkit, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(
        LEVEL3.replace('questionnaire = "crmkit-maturity"', 'questionnaire = "other"'),
        encoding="utf-8",
    )
    result = crmkit("assess", "--answers", str(path))
    assert (
        result.code == 2
        and "assessment.questionnaire" in result.err
        and "--questionnaire" in result.err
    )


def test_answers_from_a_newer_version(crmkit, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(
        LEVEL3.replace("questionnaire_version = 1", "questionnaire_version = 7"), encoding="utf-8"
    )
    result = crmkit("assess", "--answers", str(path))
    assert result.code == 2 and "newer" in result.err


# -- migration -----------------------------------------------------------------------------------
OWN_V3 = """\
[questionnaire]
id = "own"
version = 3
title = "Own"

[[dimensions]]
id = "sales"
name = "Sales"

[[questions]]
id = "funnels"
dimension = "sales"
text = "Funnels?"

[[questions.choices]]
id = "one"
level = 1
text = "one"

[[questions.choices]]
id = "many"
level = 4
text = "many"

[[migrations]]
from_version = 1
rename_questions = {pipelines = "deal_funnels"}
rename_choices = {"deal_funnels.single" = "only_one"}
drop_questions = ["fax"]

[[migrations]]
from_version = 2
rename_questions = {deal_funnels = "funnels"}
rename_choices = {"funnels.only_one" = "one"}
"""


def test_old_answers_are_migrated(crmkit, tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text(OWN_V3, encoding="utf-8")
    old = tmp_path / "old.toml"
    old.write_text(
        '[assessment]\nquestionnaire = "own"\nquestionnaire_version = 1\n\n'
        '[answers]\npipelines = "single"\nfax = "yes"\n',
        encoding="utf-8",
    )
    save = tmp_path / "new.toml"
    result = crmkit(
        "assess",
        "--questionnaire",
        str(own),
        "--answers",
        str(old),
        "--save",
        str(save),
        "--format",
        "json",
    )
    assert result.code == 0, result.err
    assert json.loads(result.out)["level"] == 1
    assert "version 1" in result.err and "fax" in result.err
    saved = parse_toml(save.read_text(encoding="utf-8"), "new.toml").data
    assert saved["answers"] == {"funnels": "one"}
    assert saved["assessment"]["questionnaire_version"] == 3


def test_migration_gap_is_an_error(crmkit, tmp_path: Path) -> None:
    own = tmp_path / "own.toml"
    own.write_text(OWN_V3.replace("from_version = 2", "from_version = 0"), encoding="utf-8")
    old = tmp_path / "old.toml"
    old.write_text(
        '[assessment]\nquestionnaire_version = 1\n\n[answers]\npipelines = "single"\n',
        encoding="utf-8",
    )
    result = crmkit("assess", "--questionnaire", str(own), "--answers", str(old))
    assert result.code == 2
    assert "no migration from questionnaire version 2 to 3" in result.err


# -- round trip ----------------------------------------------------------------------------------
@st.composite
def partial_answers(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    answers: dict[str, tuple[str, ...]] = {}
    for question in Q.questions:
        if not draw(st.booleans()):
            continue
        if question.kind == "single":
            answers[question.id] = (draw(st.sampled_from([*question.choice_ids, DONT_KNOW])),)
        else:
            answers[question.id] = tuple(
                draw(st.lists(st.sampled_from(question.choice_ids), unique=True, max_size=4))
            )
    return answers


@settings(max_examples=100, deadline=None)
@given(answers=partial_answers(), lang=st.sampled_from(["ru", "en"]))
def test_dump_parse_round_trip(answers, lang) -> None:
    text = dump_answers(Q, answers, date="2025-01-01", crmkit_version="0.1.0", lang=lang)
    parsed = parse_answers(parse_toml(text, "a.toml"), Q)
    assert parsed.answers == answers
    assert parsed.questionnaire_version == Q.version and parsed.date == "2025-01-01"
    assert parsed.lang == lang


@settings(max_examples=200, deadline=None)
@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
        ),
        max_leaves=6,
    ),
    key=st.sampled_from(["roles", "readiness_for", "nope", "answers"]),
)
def test_garbage_values_give_load_errors(value, key) -> None:
    import tomli_w

    try:
        text = tomli_w.dumps({"answers": {key: value}})
    except (TypeError, ValueError):
        return
    try:
        parse_answers(parse_toml(text, "g.toml"), Q)
    except InputError as exc:  # a LoadError, or parse_toml's own (an integer beyond 64 bits)
        assert exc.where and exc.where.startswith("g.toml")


# -- the language of the run, and the resume hint ---------------------------------------------
def test_a_bad_language_in_the_header_is_named(crmkit, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text(LEVEL3.replace('date = "', 'lang = "de"\ndate = "'), encoding="utf-8")
    result = crmkit("assess", "--answers", str(path))
    assert result.code == 2
    assert f"{path}:" in result.err and "assessment.lang" in result.err and "ru, en" in result.err


def test_a_complete_file_is_reported_in_the_language_asked_for(crmkit, tmp_path: Path) -> None:
    """Only an interrupted interview goes on in its file's language; a replay follows --lang."""
    path = tmp_path / "a.toml"
    path.write_text(LEVEL3.replace('date = "', 'lang = "ru"\ndate = "'), encoding="utf-8")
    result = crmkit("assess", "--answers", str(path))
    assert result.code == 0, result.err
    assert "Maturity level: 3 of 5" in result.out


def test_the_resume_command_names_the_questionnaire_and_quotes_paths(tmp_path: Path) -> None:
    from crmkit.assess.service import AssessRequest, resume_command

    own = tmp_path / "my questionnaire.toml"
    request = AssessRequest(
        lang="ru", date="2025-01-01", crmkit_version="0", cwd=tmp_path, questionnaire_path=own
    )
    command = resume_command(request, tmp_path / "client's answers.toml")
    assert shlex.split(command) == [
        "crmkit",
        "assess",
        "--answers",
        str(tmp_path / "client's answers.toml"),
        "--questionnaire",
        str(own),
    ]

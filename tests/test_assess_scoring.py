"""Staged scoring, held_back_by, actions, "don't know", readiness; the shipped examples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.assess.answers import load_questionnaire, read_answers
from crmkit.assess.model import DONT_KNOW, MAX_LEVEL, Questionnaire
from crmkit.assess.readiness import check_readiness
from crmkit.assess.scoring import score

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
Q = load_questionnaire()


@pytest.mark.parametrize("level", [0, 3, 5])
def test_examples_score_as_named(crmkit, level: int) -> None:
    path = EXAMPLES / f"assessment-level{level}.toml"
    result = crmkit("assess", "--answers", str(path), "--format", "json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert data["level"] == level
    assert set(data["dimensions"]) >= {"data", "channels", "reporting"}
    assert all(0 <= v <= MAX_LEVEL for v in data["dimensions"].values())
    assert min(data["dimensions"].values()) == level
    if level < MAX_LEVEL:
        assert data["held_back_by"], "something must hold a company below 5"
        assert all(item["level"] == level for item in data["held_back_by"])
        assert min(a["target_level"] for a in data["actions"]) == level + 1
    else:
        assert data["held_back_by"] == [] and data["actions"] == []


def test_level0_example_shows_readiness_first(crmkit) -> None:
    result = crmkit("assess", "--answers", str(EXAMPLES / "assessment-level0.toml"))
    assert result.code == 0
    out = result.out
    assert out.index("Is it time for a CRM") < out.index("Maturity level: 0")
    assert "Yes, it is time to introduce a CRM." in out
    data = json.loads(
        crmkit(
            "assess", "--answers", str(EXAMPLES / "assessment-level0.toml"), "--format", "json"
        ).out
    )
    assert data["readiness"]["applies"] and data["readiness"]["verdict"] == "introduce"


def test_level3_held_back_and_actions() -> None:
    answers = read_answers(EXAMPLES / "assessment-level3.toml", Q).answers
    result = score(Q, answers)
    held = {a.question for a in result.held_back_by}
    assert {"channels_connected", "funnels_kinds", "integration_1c", "reporting"} <= held
    assert "document_templates" not in held  # at 5, it holds nothing back
    to4 = result.actions_for(4)
    funnels = next(a for a in to4 if a.question == "funnels_kinds")
    assert set(funnels.generates) == {"deal-marketing", "deal-repeat"}
    to5 = result.actions_for(5)
    reanimation = next(a for a in to5 if a.question == "funnels_kinds")
    assert "deal-reanimation" in reanimation.generates
    # an action is listed once: the question was planned to 4, then from 4 to 5
    assert [a.target for a in result.actions if a.question == "funnels_kinds"] == [4, 5]


# -- the property: raising one answer never lowers the level ------------------------------------
def _scored_questions(questionnaire: Questionnaire) -> list[str]:
    return [q.id for q in questionnaire.questions if q.scored]


@st.composite
def answer_sets(draw: st.DrawFn) -> dict[str, tuple[str, ...]]:
    answers: dict[str, tuple[str, ...]] = {}
    for question in Q.questions:
        options = [*question.choice_ids, DONT_KNOW]
        if question.kind == "single":
            answers[question.id] = (draw(st.sampled_from(options)),)
        else:
            picked = draw(st.lists(st.sampled_from(question.choice_ids), unique=True, max_size=3))
            answers[question.id] = tuple(picked)
    return answers


@settings(max_examples=300, deadline=None)
@given(answers=answer_sets(), data=st.data())
def test_raising_one_answer_never_lowers_the_level(answers, data) -> None:
    before = score(Q, answers)
    question_id = data.draw(st.sampled_from(_scored_questions(Q)))
    question = Q.question(question_id)
    assert question is not None
    current = next(a.level for a in before.answers if a.question == question_id)
    higher = [c.id for c in question.choices if c.level is not None and c.level > (current or 0)]
    if not higher:
        return
    raised = dict(answers)
    raised[question_id] = (data.draw(st.sampled_from(higher)),)
    after = score(Q, raised)
    assert after.level >= before.level
    for dimension, level in before.dimensions.items():
        assert after.dimensions[dimension] >= level


@settings(max_examples=200, deadline=None)
@given(answers=answer_sets())
def test_level_is_the_lowest_evidenced(answers) -> None:
    result = score(Q, answers)
    levels = [a.level for a in result.answers if a.level is not None]
    assert result.level == min(levels)
    assert all(level >= result.level for level in result.dimensions.values())
    # every action aims above the current level, in order of target level
    targets = [a.target for a in result.actions]
    assert targets == sorted(targets) and all(t > result.level for t in targets)


def test_dont_know_counts_as_lowest_and_is_reported() -> None:
    answers = read_answers(EXAMPLES / "assessment-level5.toml", Q).answers
    answers = dict(answers)
    answers["integration_1c"] = (DONT_KNOW,)
    result = score(Q, answers)
    assert result.level == 3  # the lowest level that fits a company with a CRM ("none": 3)
    assert result.dont_know == ("integration_1c",)
    assert [a.question for a in result.held_back_by] == ["integration_1c"]


def test_dont_know_in_report(crmkit, tmp_path: Path) -> None:
    text = (EXAMPLES / "assessment-level5.toml").read_text(encoding="utf-8")
    path = tmp_path / "a.toml"
    path.write_text(
        text.replace('reporting = "all_kpi"', 'reporting = "dont_know"'), encoding="utf-8"
    )
    result = crmkit("assess", "--answers", str(path))
    assert result.code == 0, result.err
    assert 'Answered "don\'t know"' in result.out
    assert json.loads(crmkit("assess", "--answers", str(path), "--format", "json").out)[
        "dont_know"
    ] == ["reporting"]


@pytest.mark.parametrize(
    ("for_", "against", "verdict"),
    [
        ((), (), "wait"),
        (("sales_manager",), (), "introduce"),
        ((), ("mvp",), "wait"),
        (("requests_50",), ("turnover_low",), "weigh"),
    ],
)
def test_readiness_verdicts(for_, against, verdict) -> None:
    answers = {
        "data_storage": ("spreadsheets",),
        "readiness_for": for_,
        "readiness_against": against,
    }
    readiness = check_readiness(Q, answers)
    assert readiness.applies
    assert readiness.verdict == verdict
    assert len(readiness.reasons_for) == len(for_)
    assert len(readiness.reasons_against) == len(against)


def test_pure_core_imports_no_io_libraries() -> None:
    code = (
        "import sys\n"
        "import crmkit.assess.model, crmkit.assess.scoring, crmkit.assess.readiness\n"
        "bad = {'click', 'questionary', 'requests', 'prompt_toolkit', 'jinja2'}"
        " & set(sys.modules)\n"
        "print(sorted(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_only_prompt_imports_questionary() -> None:
    importing = re.compile(r"^\s*(import|from)\s+questionary\b", re.M)
    found = {
        path.name
        for path in (ROOT / "crmkit" / "assess").glob("*.py")
        if importing.search(path.read_text(encoding="utf-8"))
    }
    assert found == {"prompt.py"}

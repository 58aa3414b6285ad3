"""The interactive path, through a real pseudo-terminal (pexpect): answering, going back,
"don't know", the section review, resuming an answers file, and Ctrl-C keeping the answers."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest

from crmkit.assess.answers import load_questionnaire, read_answers
from crmkit.files import parse_toml

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20
DOWN = "\x1b[B"

SMALL = """\
[questionnaire]
id = "small"
version = 1
title = "Small"

[[dimensions]]
id = "one"
name = "Section one"

[[dimensions]]
id = "two"
name = "Section two"

[[questions]]
id = "q1"
dimension = "one"
text = "First question?"
help = "Help for the first."

[[questions.choices]]
id = "a"
level = 0
text = "Answer A"

[[questions.choices]]
id = "b"
level = 5
text = "Answer B"

[[questions]]
id = "q2"
dimension = "one"
kind = "multi"
text = "Second question?"

[[questions.choices]]
id = "m1"
text = "Multi one"

[[questions.choices]]
id = "m2"
text = "Multi two"

[[questions]]
id = "q3"
dimension = "two"
text = "Third question?"

[[questions.choices]]
id = "x"
level = 0
text = "Answer X"

[[questions.choices]]
id = "y"
level = 5
text = "Answer Y"
"""


def _spawn(tmp_path: Path, *args: str):  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    env.update(TERM="xterm", PROMPT_TOOLKIT_NO_CPR="1", CRMKIT_LANG="en", COLUMNS="120")
    child = pexpect.spawn(
        sys.executable,
        ["-m", "crmkit", "assess", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, 120),
    )
    child.logfile_read = (tmp_path / "terminal.log").open("w", encoding="utf-8")
    return child


def _key(child, *keys: str) -> None:  # type: ignore[no-untyped-def]
    for key in keys:
        child.send(key)


def _finish(child) -> int:  # type: ignore[no-untyped-def]
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1)


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.toml"
    path.write_text(SMALL, encoding="utf-8")
    return path


def test_answering_going_back_and_reviewing(tmp_path: Path, small: Path) -> None:
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "answers.toml")
    child.expect("Section 1 of 2: Section one")
    child.expect("Help for the first.")
    child.expect(r"question 1 of 3\] First question\?")
    _key(child, "2", "\r")  # Answer B
    child.expect(r"Second question\?")
    _key(child, " ", "\r")  # tick "Multi one"
    child.expect("Check the answers of the section")
    child.expect("Pick an answer to change it")
    _key(child, "\r")  # all correct
    child.expect("Section 2 of 2: Section two")
    child.expect(r"Third question\?")
    _key(child, "4", "\r")  # ← Back
    child.expect(r"Second question\?")  # back in the previous section, the tick kept
    _key(child, DOWN, " ", "\r")  # tick "Multi two" as well
    child.expect("Check the answers of the section")
    _key(child, "\r")
    child.expect(r"Third question\?")
    _key(child, "1", "\r")  # Answer X
    child.expect("Check the answers of the section")
    child.expect("Pick an answer to change it")
    _key(child, "2", "\r")  # change "1. Third question?"
    child.expect(r"Third question\?")
    _key(child, "2", "\r")  # Answer Y
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect("Maturity level: 5 of 5")
    assert _finish(child) == 0
    saved = parse_toml((tmp_path / "answers.toml").read_text(encoding="utf-8"), "a").data
    assert saved["answers"] == {"q1": "b", "q2": ["m1", "m2"], "q3": "y"}
    assert saved["assessment"]["questionnaire"] == "small"


def test_dont_know_is_saved_and_reported(tmp_path: Path, small: Path) -> None:
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "answers.toml")
    child.expect(r"First question\?")
    _key(child, "3", "\r")  # Don't know
    child.expect(r"Second question\?")
    _key(child, "\r")  # nothing ticked
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect(r"Third question\?")
    _key(child, "2", "\r")
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect("Maturity level: 0 of 5")
    child.expect('Answered "don\'t know"')
    assert _finish(child) == 0
    saved = parse_toml((tmp_path / "answers.toml").read_text(encoding="utf-8"), "a").data
    assert saved["answers"] == {"q1": "dont_know", "q2": [], "q3": "y"}


def test_ctrl_c_keeps_the_partial_answers(tmp_path: Path, small: Path) -> None:
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "partial.toml")
    child.expect(r"First question\?")
    _key(child, "2", "\r")
    child.expect(r"Second question\?")
    child.sendintr()
    child.expect("the answers given so far are saved in")
    assert _finish(child) == 130
    saved = parse_toml((tmp_path / "partial.toml").read_text(encoding="utf-8"), "a").data
    assert saved["answers"] == {"q1": "b"}
    # the partial file resumes: only the rest is asked
    child = _spawn(tmp_path, "--questionnaire", str(small), "--answers", "partial.toml")
    child.expect(r"Second question\?")
    assert "First question?" not in (child.before or "")
    _key(child, " ", "\r")
    child.expect("Check the answers of the section")
    _key(child, "\r")
    child.expect(r"Third question\?")
    _key(child, "2", "\r")
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect("Maturity level: 5 of 5")
    assert _finish(child) == 0
    resumed = parse_toml((tmp_path / "partial.toml").read_text(encoding="utf-8"), "a").data
    assert resumed["answers"] == {"q1": "b", "q2": ["m1"], "q3": "y"}


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_sigterm_and_a_closed_terminal_keep_the_answers_too(
    tmp_path: Path, small: Path, sig: signal.Signals
) -> None:
    """Ctrl-C kept the answers; SIGTERM and SIGHUP (the terminal window closed) lost them."""
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "partial.toml")
    child.expect(r"First question\?")
    _key(child, "2", "\r")
    child.expect(r"Second question\?")
    child.kill(sig)
    child.expect(pexpect.EOF)
    child.close()
    assert child.signalstatus is None  # it ended itself, not killed by the signal
    saved = parse_toml((tmp_path / "partial.toml").read_text(encoding="utf-8"), "a").data
    assert saved["answers"] == {"q1": "b"}


def test_ctrl_c_before_any_answer_writes_nothing(tmp_path: Path, small: Path) -> None:
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "nothing.toml")
    child.expect(r"First question\?")
    child.sendintr()
    child.expect("no answers yet")
    assert _finish(child) == 130
    assert not (tmp_path / "nothing.toml").exists()


def test_resume_shipped_questionnaire_asks_only_missing(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "assessment-level3.toml").read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not line.startswith(("roles = ", "reporting = "))]
    answers = tmp_path / "client.toml"
    answers.write_text("\n".join(kept) + "\n", encoding="utf-8")
    child = _spawn(tmp_path, "--answers", "client.toml", "--format", "json")
    child.expect(r"Are roles distributed: who does what in the CRM\?")
    assert "Where do you keep" not in (child.before or "")
    _key(child, "4", "\r")  # distributed (4)
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect(r"Is reporting collected")
    _key(child, "4", "\r")  # sales_kpi (4)
    child.expect("Pick an answer to change it")
    _key(child, "\r")
    child.expect('"level": 3')
    assert _finish(child) == 0
    q = load_questionnaire()
    saved = read_answers(answers, q)
    assert saved.answers["roles"] == ("distributed",)
    assert saved.answers["reporting"] == ("sales_kpi",)
    assert saved.questionnaire_version == q.version

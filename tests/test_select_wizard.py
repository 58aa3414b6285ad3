"""The wizard: scripted answers through an injected asker, and the real terminal through a
pseudo-terminal (pexpect) — including Ctrl-C keeping what was entered (exit 130)."""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from crmkit.errors import Interrupted
from crmkit.files import parse_toml
from crmkit.select.catalog import shipped_catalog
from crmkit.select.problems import library
from crmkit.select.prompt import run_wizard
from crmkit.select.run import run_selection
from crmkit.select.selection import read_selection

ROOT = Path(__file__).resolve().parent.parent


class ScriptedAsker:
    """Answers like a person who accepts defaults; ``stop_after`` questions, presses Ctrl-C."""

    def __init__(self, problems: Sequence[str], stop_after: int | None = None) -> None:
        self.problems = list(problems)
        self.stop_after = stop_after
        self.asked: list[str] = []

    def _count(self, message: str) -> None:
        if self.stop_after is not None and len(self.asked) >= self.stop_after:
            raise KeyboardInterrupt
        self.asked.append(message)

    def text(
        self, message: str, default: str = "", validate: Callable[[str], bool | str] | None = None
    ) -> str:
        self._count(message)
        if "Name of this selection" in message:
            return "Acme"
        if "score 1–5" in message:
            assert validate is not None and validate("9") is not True and validate("4") is True
            return "4" if "Bitrix24" in message else "3"
        return default

    def select(
        self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None
    ) -> str:
        self._count(message)
        return default or choices[0][0]

    def checkbox(
        self, message: str, choices: Sequence[tuple[str, str]], checked: Sequence[str] = ()
    ) -> list[str]:
        self._count(message)
        if "Which problems" in message:
            return self.problems
        return list(checked)

    def confirm(self, message: str, default: bool = False) -> bool:
        self._count(message)
        return default

    def say(self, message: str) -> None:
        pass


def test_wizard_runs_all_five_steps_and_saves(tmp_path):
    catalog, lib = shipped_catalog(), library()
    target = tmp_path / "selection.toml"
    asker = ScriptedAsker(["forgotten_callbacks", "no_sales_analytics"])
    data = run_wizard(catalog=catalog, lib=lib, lang="en", save=target, asker=asker)
    saved = tomllib.loads(target.read_text(encoding="utf-8"))
    assert saved == data
    assert saved["title"] == "Acme" and saved["problems"]["selected"] == [
        "forgotten_callbacks",
        "no_sales_analytics",
    ]
    assert set(saved["deployment"].values()) == {"cloud"}
    selection = read_selection(
        parse_toml(target.read_text(encoding="utf-8"), str(target)), catalog, lib
    )
    result = run_selection(selection, catalog, lib)
    assert result.step4 is not None and result.step4.ranking[0].system == "bitrix24"
    assert len(result.step4.ranking) == 6  # the default shortlist, every system scored


def test_ctrl_c_keeps_what_was_entered_and_resume_continues(tmp_path):
    catalog, lib = shipped_catalog(), library()
    target = tmp_path / "selection.toml"
    with pytest.raises(Interrupted) as info:
        run_wizard(
            catalog=catalog,
            lib=lib,
            lang="en",
            save=target,
            asker=ScriptedAsker(["time_zones"], stop_after=6),
        )
    assert info.value.exit_code == 130 and str(target) in str(info.value)
    saved = tomllib.loads(target.read_text(encoding="utf-8"))
    assert saved["title"] == "Acme" and saved["problems"]["selected"] == ["time_zones"]
    assert len(saved["deployment"]) == 2  # two of the nine step-2 answers were given
    # resume: questions already answered are not asked again
    again = ScriptedAsker(["forgotten_callbacks"])
    data = run_wizard(catalog=catalog, lib=lib, lang="en", save=target, start=saved, asker=again)
    assert data["problems"]["selected"] == ["time_zones"]
    assert not any("Name of this selection" in q or "Which problems" in q for q in again.asked)
    step2 = [q for q in again.asked if q.startswith("Step 2")]
    assert len(step2) == 7  # only the unanswered step-2 questions


# -- the real terminal -------------------------------------------------------------------------

pexpect = pytest.importorskip("pexpect")


def spawn(args: list[str], cwd: Path):
    # no cursor-position request: a terminal that never answers it costs seconds per prompt
    env = {
        **os.environ,
        "CRMKIT_LANG": "en",
        "TERM": "xterm",
        "COLUMNS": "120",
        "LINES": "40",
        "PROMPT_TOOLKIT_NO_CPR": "1",
    }
    env.pop("CRMKIT_DEBUG", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "crmkit", "select", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=20,
        dimensions=(40, 120),
    )


def test_terminal_ctrl_c_saves_and_exits_130(tmp_path):
    child = spawn(["--save", "client.toml", "--lang", "en"], tmp_path)
    child.expect("Name of this selection")
    child.send("Acme Windows\r")
    child.expect("How many people")
    child.send("\r")  # the default: 5
    child.expect("Which problems")
    child.send(" ")  # tick the first problem
    child.send("\r")
    child.expect("Another problem")
    child.send("\r")
    child.expect("Step 2")
    child.send("\x03")  # Ctrl-C
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "interrupted; what was entered is saved in" in child.before
    saved = tomllib.loads((tmp_path / "client.toml").read_text(encoding="utf-8"))
    assert saved["title"] == "Acme Windows" and saved["users"] == 5
    assert saved["problems"]["selected"] == ["forgotten_callbacks"]
    assert not saved.get("deployment")  # step 2 was under way, nothing answered yet


def test_terminal_resumes_a_saved_file_and_finishes(tmp_path):
    text = (ROOT / "examples" / "selection.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    del data["scores"]["s2"]["support"]  # one score left to give
    del data["vendor"]  # and the vendor answers
    import tomli_w

    (tmp_path / "selection.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    child = spawn(["--format", "json", "--out", "result.json", "--lang", "en"], tmp_path)
    child.expect("Resuming from")
    child.expect("Evidence for the score")
    child.send("\r")
    child.expect("Confidence")
    child.send("\r")
    child.expect("S2 CRM \\(Salesap\\): 'Technical support', score 1–5")
    child.send("4\r")
    answered = 0
    while True:
        i = child.expect([r"empty to skip\)", pexpect.EOF], timeout=20)
        if i == 1:
            break
        child.send("ok\r" if answered == 0 else "\r")
        answered += 1
        assert answered < 60
    child.close()
    assert child.exitstatus == 0, child.before
    saved = tomllib.loads((tmp_path / "selection.toml").read_text(encoding="utf-8"))
    assert saved["scores"]["s2"]["support"]["score"] == 4
    assert saved["vendor"]["bitrix24"]["support_paid"] == "ok"
    import json

    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert result["scores"]["s2"]["support"] == 4

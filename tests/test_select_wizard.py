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
from crmkit.select.prompt import Back, run_wizard
from crmkit.select.run import run_selection
from crmkit.select.selection import read_selection

ROOT = Path(__file__).resolve().parent.parent


class ScriptedAsker:
    """Answers like a person who accepts defaults, except where ``once`` says otherwise.

    ``once``: a script of (substring of the question, answer) pairs, in order: the first pair
    answers the first question that contains its text, then the next pair is waited for. The
    answer ``BACK`` goes back. ``stop_after`` questions: Ctrl-C.
    """

    def __init__(
        self,
        problems: Sequence[str],
        stop_after: int | None = None,
        once: Sequence[tuple[str, object]] = (),
    ) -> None:
        self.problems = list(problems)
        self.stop_after = stop_after
        self.once = list(once)
        self.asked: list[str] = []
        self.said: list[str] = []

    def _scripted(self, message: str) -> object:
        if self.stop_after is not None and len(self.asked) >= self.stop_after:
            raise KeyboardInterrupt
        self.asked.append(message)
        if self.once and self.once[0][0] in message:
            answer = self.once.pop(0)[1]
            if answer == "BACK":
                raise Back
            return answer
        return None

    def text(
        self, message: str, default: str = "", validate: Callable[[str], bool | str] | None = None
    ) -> str:
        scripted = self._scripted(message)
        if scripted is not None:
            assert validate is None or validate(str(scripted)) is True, (message, scripted)
            return str(scripted)
        if "Name of this selection" in message:
            return "Acme"
        if message.startswith("Score 1–5"):
            assert validate is not None and validate("9") is not True and validate("4") is True
            return "4" if "Bitrix24" in self.current_score else "3"
        return default

    @property
    def current_score(self) -> str:
        return next(line for line in reversed(self.said) if line.startswith("[score "))

    def select(
        self, message: str, choices: Sequence[tuple[str, str]], default: str | None = None
    ) -> str:
        scripted = self._scripted(message)
        if scripted is not None:
            assert scripted in {value for value, _ in choices}
            return str(scripted)
        return default or choices[0][0]

    def checkbox(
        self,
        message: str,
        choices: Sequence[tuple[str, str]],
        checked: Sequence[str] = (),
        validate: Callable[[list[str]], bool | str] | None = None,
    ) -> list[str]:
        scripted = self._scripted(message)
        if scripted is not None:
            picked = list(scripted)  # type: ignore[call-overload]
        elif "Which problems" in message:
            picked = self.problems
        else:
            picked = list(checked)
        assert validate is None or validate(picked) is True, (message, picked)
        return picked

    def say(self, message: str) -> None:
        self.said.append(message)


def _wizard(tmp_path: Path, asker: ScriptedAsker, start: dict | None = None) -> dict:
    return run_wizard(
        catalog=shipped_catalog(),
        lib=library(),
        lang="en",
        save=tmp_path / "selection.toml",
        start=start,
        asker=asker,
    )


def _result(path: Path):  # type: ignore[no-untyped-def]
    catalog, lib = shipped_catalog(), library()
    selection = read_selection(
        parse_toml(path.read_text(encoding="utf-8"), str(path)), catalog, lib
    )
    return run_selection(selection, catalog, lib)


def test_wizard_runs_all_five_steps_and_saves(tmp_path):
    target = tmp_path / "selection.toml"
    asker = ScriptedAsker(["forgotten_callbacks", "no_sales_analytics"])
    data = _wizard(tmp_path, asker)
    saved = tomllib.loads(target.read_text(encoding="utf-8"))
    assert saved == data
    assert saved["title"] == "Acme" and saved["problems"]["selected"] == [
        "forgotten_callbacks",
        "no_sales_analytics",
    ]
    assert set(saved["deployment"].values()) == {"cloud"}
    result = _result(target)
    assert result.step4 is not None and result.step4.ranking[0].system == "bitrix24"
    assert len(result.step4.ranking) == 6  # the default shortlist, every system scored
    # a conclusion after every step, with its review
    titles = [line for line in asker.said if line.startswith("Step ") and "conclusion" in line]
    assert len(titles) == 5
    assert any(line.strip().startswith("Edition: cloud, because 9 of 9") for line in asker.said)
    assert any("the catalog confirms" in line for line in asker.said)
    assert any(line.strip().startswith("Leader: Bitrix24") for line in asker.said)


def test_a_fact_is_asked_once_and_the_cross_has_a_legend(tmp_path):
    asker = ScriptedAsker(
        ["forgotten_callbacks"], once=[("Which functions are a must", ["telephony"])]
    )
    _wizard(tmp_path, asker)
    # telephony, 1C, e-mail and site forms are functions: no second question about integrations
    assert not any("integrations" in q.lower() for q in asker.asked)
    assert any(line.startswith("✕: the system fails a must-have") for line in asker.said)
    saved = tomllib.loads((tmp_path / "selection.toml").read_text(encoding="utf-8"))
    assert saved["shortlist"]["functions"] == ["telephony"]
    assert "integrations" not in saved["shortlist"]


def test_back_goes_to_the_previous_question_and_across_steps(tmp_path):
    asker = ScriptedAsker(
        ["time_zones"],
        once=[
            ("How would you rather pay", "BACK"),  # step 2, question 2 → question 1 again
            ("Where will people work", "BACK"),  # then back across into step 1's review
            ("Number of an answer to change (1–3)", "BACK"),  # → the custom problem again
            ("Another problem of your own", "Samples get lost"),
            ("Which functions solve it", ["tasks"]),
        ],
    )
    data = _wizard(tmp_path, asker)
    access = [q for q in asker.asked if "Where will people work" in q]
    assert len(access) == 3  # asked, asked again after "back", and after going back a step
    assert data["deployment"]["access"] == "cloud"
    assert data["problems"]["custom"] == [
        {"id": "custom_1", "text": "Samples get lost", "functions": ["tasks"]}
    ]
    reviews = [q for q in asker.asked if q.startswith("Number of an answer to change (1–")]
    # step 1's review, again after "back" from step 2, then with the own problem added
    assert [r.split(")")[0] for r in reviews[:3]] == ["Number of an answer to change (1–3"] * 2 + [
        "Number of an answer to change (1–4"
    ]


def test_back_at_the_first_question_says_there_is_nowhere_to_go(tmp_path):
    asker = ScriptedAsker(["time_zones"], once=[("Name of this selection", "BACK")])
    _wizard(tmp_path, asker)
    assert "This is the first question; there is nothing to go back to." in asker.said
    assert sum("Name of this selection" in q for q in asker.asked) == 2


def test_edit_from_a_review_changes_that_answer_only(tmp_path):
    asker = ScriptedAsker(
        ["forgotten_callbacks"],
        once=[
            ("Number of an answer to change (1–9)", "4"),  # data storage
            ("Where must the client data be kept", "boxed"),
        ],
    )
    data = _wizard(tmp_path, asker)
    assert data["deployment"]["storage"] == "boxed"
    assert sum("Where must the client data be kept" in q for q in asker.asked) == 2
    assert sum("What about updates" in q for q in asker.asked) == 1
    # the conclusion was shown again after the edit: that answer alone settles the edition
    assert any("Edition: boxed, because Data storage" in line for line in asker.said)


def test_changing_a_must_have_in_the_review_asks_the_shortlist_again(tmp_path):
    asker = ScriptedAsker(
        ["forgotten_callbacks"],
        once=[
            ("Number of an answer to change (1–9)", ""),  # step 2's review: go on
            ("Number of an answer to change (1–3)", "1"),  # step 3's review: the must-haves
            ("Which functions are a must", ["funnel"]),
        ],
    )
    _wizard(tmp_path, asker)
    shortlists = [q for q in asker.asked if q.startswith("Shortlist")]
    assert len(shortlists) == 2
    saved = tomllib.loads((tmp_path / "selection.toml").read_text(encoding="utf-8"))
    assert saved["shortlist"]["functions"] == ["funnel"]


def test_a_score_left_open_is_an_open_question(tmp_path):
    asker = ScriptedAsker(["forgotten_callbacks"], once=[("Score 1–5", "?")])
    _wizard(tmp_path, asker)
    saved = tomllib.loads((tmp_path / "selection.toml").read_text(encoding="utf-8"))
    first = saved["shortlist"]  # the first system scored is the first on the shortlist
    result = _result(tmp_path / "selection.toml")
    opened = result.open_scores
    assert len(opened) == 1 and opened[0].criteria == ("tasks",)
    system = opened[0].system
    assert saved["scores"][system]["tasks"] == {"open": True}
    assert system not in {r.system for r in result.step4.ranking}
    assert any(
        "scoring left for later" in w.en and "'Tasks and reminders'" in w.en
        for w in result.warnings
    )
    sheet = next(s for s in result.step5 if s.system == system)
    assert "open-tasks" in {q.id for q in sheet.questions}
    assert first is not None


def test_the_counter_counts_every_score(tmp_path):
    asker = ScriptedAsker(["forgotten_callbacks"])
    _wizard(tmp_path, asker)
    counters = [line for line in asker.said if line.startswith("[score ")]
    assert counters[0].startswith("[score 1 of 48] ") and counters[-1].startswith(
        "[score 48 of 48] "
    )
    weights = [q for q in asker.asked if q.startswith("[weight ")]
    assert weights[0].startswith("[weight 1 of 8]") and len(weights) == 8


def test_refusals_empty_title_no_problem_empty_or_long_shortlist(tmp_path):
    from crmkit.select.prompt import Wizard

    catalog, lib = shipped_catalog(), library()
    refusals: dict[str, object] = {}

    class Probe(ScriptedAsker):
        def text(self, message, default="", validate=None):  # type: ignore[no-untyped-def]
            if "Name of this selection" in message and validate is not None:
                refusals["title"] = validate("   ")
            return super().text(message, default, validate)

        def checkbox(self, message, choices, checked=(), validate=None):  # type: ignore[no-untyped-def]
            if validate is not None and "Which problems" in message:
                refusals["problems"] = validate([])
            if validate is not None and message.startswith("Shortlist"):
                refusals["empty"] = validate([])
                refusals["many"] = validate([value for value, _ in choices])
            return super().checkbox(message, choices, checked, validate)

    Wizard(
        {},
        catalog=catalog,
        lib=lib,
        lang="en",
        asker=Probe(["time_zones"]),
        save=None,
        source="<test>",
    ).run()
    assert refusals["title"] == "Enter a name: the report is known by it"
    assert str(refusals["problems"]).startswith("Tick at least one problem")
    assert refusals["empty"] == "The shortlist is empty: tick at least one system (space)"
    assert refusals["many"] == "At most 7 systems: untick some"


def test_the_shortlist_is_exactly_what_was_ticked(tmp_path):
    asker = ScriptedAsker(["forgotten_callbacks"], once=[("Shortlist", ["bitrix24", "amocrm"])])
    _wizard(tmp_path, asker)
    result = _result(tmp_path / "selection.toml")
    assert set(result.step3.ids) == {"bitrix24", "amocrm"}
    assert {r.system for r in result.step4.ranking} == {"bitrix24", "amocrm"}


def test_ctrl_c_before_any_answer_writes_nothing(tmp_path):
    with pytest.raises(Interrupted) as info:
        _wizard(tmp_path, ScriptedAsker(["time_zones"], stop_after=0))
    assert "before the first answer" in str(info.value) and "was not created" in str(info.value)
    assert not (tmp_path / "selection.toml").exists()


def test_ctrl_c_keeps_what_was_entered_and_resume_continues(tmp_path):
    catalog, lib = shipped_catalog(), library()
    target = tmp_path / "selection.toml"
    with pytest.raises(Interrupted) as info:
        # name, users, problems, own problem, review, two step-2 answers, then Ctrl-C
        _wizard(tmp_path, ScriptedAsker(["time_zones"], stop_after=7))
    assert info.value.exit_code == 130 and str(target) in str(info.value)
    saved = tomllib.loads(target.read_text(encoding="utf-8"))
    assert saved["title"] == "Acme" and saved["problems"]["selected"] == ["time_zones"]
    assert len(saved["deployment"]) == 2  # two of the nine step-2 answers were given
    # resume: questions already answered are not asked again
    again = ScriptedAsker(["forgotten_callbacks"])
    data = run_wizard(catalog=catalog, lib=lib, lang="en", save=target, start=saved, asker=again)
    assert data["problems"]["selected"] == ["time_zones"]
    assert not any("Name of this selection" in q or "Which problems" in q for q in again.asked)
    step2 = [q for q in again.asked if "Step 2." in q]
    assert len(step2) == 7  # only the unanswered step-2 questions
    assert step2[0].startswith("[question 3 of 9]")


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


def _finish(child) -> int:  # type: ignore[no-untyped-def]
    child.expect(pexpect.EOF)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1)


def _through_step1(child) -> None:  # type: ignore[no-untyped-def]
    child.expect("Name of this selection")
    child.send("Acme Windows\r")
    child.expect("How many people")
    child.send("\r")  # the default: 5
    child.expect("Which problems")
    child.send(" ")  # tick the first problem
    child.send("\r")
    child.expect("Another problem")
    child.send("\r")
    child.expect(r"Number of an answer to change \(1–3\)")


def test_terminal_ctrl_c_saves_and_exits_130(tmp_path):
    child = spawn(["--save", "client.toml", "--lang", "en"], tmp_path)
    _through_step1(child)
    child.send("\r")
    child.expect(r"\[question 1 of 9\] Step 2")
    child.send("\x03")  # Ctrl-C
    assert _finish(child) == 130
    assert "interrupted; what was entered is saved in" in child.before
    saved = tomllib.loads((tmp_path / "client.toml").read_text(encoding="utf-8"))
    assert saved["title"] == "Acme Windows" and saved["users"] == 5
    assert saved["problems"]["selected"] == ["forgotten_callbacks"]
    assert not saved.get("deployment")  # step 2 was under way, nothing answered yet


def test_terminal_ctrl_c_before_the_first_answer_leaves_no_file(tmp_path):
    child = spawn(["--save", "client.toml", "--lang", "en"], tmp_path)
    child.expect("Name of this selection")
    child.send("\x03")
    assert _finish(child) == 130
    assert "interrupted before the first answer; client.toml was not created" in child.before
    assert not (tmp_path / "client.toml").exists()
    assert list(tmp_path.iterdir()) == []


def test_terminal_refusals_back_across_a_step_and_edit_from_a_review(tmp_path):
    child = spawn(["--save", "client.toml", "--lang", "en"], tmp_path)
    child.expect("Name of this selection")
    child.send("\r")  # an empty name is refused
    child.expect("Enter a name: the report is known by it")
    child.send("Acme\r")
    child.expect("How many people")
    child.send("\r")
    child.expect("Which problems")
    child.send("\r")  # nothing ticked: refused
    child.expect("Tick at least one problem")
    child.send(" \r")
    child.expect("Another problem")
    child.send("\r")
    child.expect(r"Step 1: the conclusion")
    child.expect(r"Number of an answer to change \(1–3\)")
    child.send("\r")
    child.expect(r"\[question 1 of 9\] Step 2\. Where will people work")
    child.send("\x1b[D")  # ←: back, across into step 1: its review again
    child.expect(r"Number of an answer to change \(1–3\)")
    child.send("<\r")  # and (typed, on a Latin layout) back once more: the own problem again
    child.expect("Another problem")
    child.send("\r")
    child.expect(r"Number of an answer to change \(1–3\)")
    child.send("1\r")  # edit the name from the review
    child.expect("Name of this selection")
    child.send("\x7f" * 4 + "Romashka\r")
    child.expect(r"3\. Problems: ")
    child.expect(r"Number of an answer to change \(1–3\)")
    child.send("\r")
    for _ in range(9):  # step 2 with the defaults (cloud)
        child.expect(r"\[question \d of 9\]")
        child.send("\r")
    child.expect("Edition: cloud, because 9 of 9 answers favour it")
    child.expect(r"Number of an answer to change \(1–9\)")
    child.send("\r")
    child.expect("Which functions are a must")
    child.send("\r")
    child.expect(r"Must a free plan cover every user \(5\)")
    child.send("\r")
    child.expect("✕: the system fails a must-have")
    child.expect("Shortlist")
    child.send("a")  # tick every system: more than seven
    child.send("\r")
    child.expect("At most 7 systems: untick some")
    child.send("a")  # untick every system: none
    child.send("\r")
    child.expect("The shortlist is empty: tick at least one system")
    # Ctrl-C only once the list is asked again: typed between two prompts (the terminal in its
    # ordinary mode) it is a signal, not a key, and may land while prompt_toolkit starts
    child.expect(r"Shortlist \(remove or add systems\)")
    child.send("\x03")
    assert _finish(child) == 130
    saved = tomllib.loads((tmp_path / "client.toml").read_text(encoding="utf-8"))
    assert saved["title"] == "Romashka"
    assert set(saved["deployment"].values()) == {"cloud"} and len(saved["deployment"]) == 9
    assert "size" not in saved["shortlist"]  # the refused shortlist was not kept


def test_terminal_resumes_a_saved_file_scores_later_and_finishes(tmp_path):
    text = (ROOT / "examples" / "selection.toml").read_text(encoding="utf-8")
    data = tomllib.loads(text)
    del data["scores"]["s2"]["support"]  # two scores left to give
    del data["scores"]["s2"]["reports"]
    del data["vendor"]  # and the vendor answers
    import tomli_w

    (tmp_path / "selection.toml").write_text(tomli_w.dumps(data), encoding="utf-8")
    child = spawn(["--format", "json", "--out", "result.json", "--lang", "en"], tmp_path)
    child.expect("Resuming from selection.toml")
    # the evidence and confidence of S2's scores are known from its other scores: not asked
    child.expect(r"\[score (\d+) of (\d+)\] S2 CRM \(Salesap\) — Reports")
    index, total = int(child.match.group(1)), int(child.match.group(2))
    child.expect(r"Score 1–5 \(\? scores later, ← goes back\):")
    child.send("?\r")  # score later
    child.expect(r"\[score (\d+) of \d+\] S2 CRM \(Salesap\) — Technical support")
    # the counter counts every score of the matrix: support comes three criteria after reports
    assert int(child.match.group(1)) == index + 3
    child.expect("Score 1–5")
    child.send("4\r")
    child.expect("Step 4: the conclusion")
    child.expect("scoring left for later")
    child.expect(r"Number of an answer to change \(1–(\d+)\)")
    child.send("\r")
    seen = 0  # the vendor questions by their counter (a prompt is drawn again once answered)
    while True:
        i = child.expect([r"\[question (\d+) of \d+\]", "Step 5: the conclusion"])
        if i == 1:
            break
        number = int(child.match.group(1))
        if number > seen:
            child.send("ok\r" if number == 1 else "\r")
            seen = number
    child.expect("Vendor answers recorded: 1 of")
    child.expect("Number of an answer to change")
    child.send("\r")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    saved = tomllib.loads((tmp_path / "selection.toml").read_text(encoding="utf-8"))
    assert saved["scores"]["s2"]["support"]["score"] == 4
    assert saved["scores"]["s2"]["reports"] == {"open": True}
    assert saved["vendor"]["bitrix24"]["support_paid"] == "ok"
    import json

    result = json.loads((tmp_path / "result.json").read_text(encoding="utf-8"))
    assert result["open_scores"][0]["system"] == "s2"
    assert result["open_scores"][0]["criteria"] == ["reports"]
    assert total == len(result["criteria"]) * 5  # the five systems scored, all criteria

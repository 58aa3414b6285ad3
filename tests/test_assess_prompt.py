"""The interactive path, through a real pseudo-terminal (pexpect): answering, going back,
"don't know", the reviews (of a section of several questions, and the final one), resuming an
answers file, and Ctrl-C keeping the answers."""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
from pathlib import Path

import pytest

from crmkit.assess.answers import load_questionnaire, read_answers
from crmkit.assess.prompt import wrap
from crmkit.assess.scoring import score
from crmkit.files import parse_toml
from crmkit.i18n import msg

pexpect = pytest.importorskip("pexpect")

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 20
DOWN = "\x1b[B"
LEFT = "\x1b[D"
REVIEW = "A question's number to change its answer"

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


def _spawn(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    *args: str,
    lang: str = "en",
    columns: int = 120,
    cpr: bool = False,
):
    """``crmkit assess ARGS`` in a pseudo-terminal; ``lang`` is the locale's (CRMKIT_LANG), not
    --lang. ``cpr``: the terminal answers cursor-position requests (see ``_until``) — without that
    prompt_toolkit shows no validation messages."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    env.update(TERM="xterm", CRMKIT_LANG=lang, COLUMNS=str(columns))
    if not cpr:
        env["PROMPT_TOOLKIT_NO_CPR"] = "1"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "crmkit", "assess", *args],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=TIMEOUT,
        dimensions=(50, columns),
    )
    child.logfile_read = (tmp_path / "terminal.log").open("a", encoding="utf-8")
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
    child.expect("Check the answers of the section")  # two questions: a review of its own
    child.expect(REVIEW)
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
    child.expect("Check the answers before the result")  # a one-question section: at the end
    child.expect(REVIEW)
    _key(child, "3", "\r")  # change question 3
    child.expect(r"question 3 of 3\] Third question\?")
    _key(child, "2", "\r")  # Answer Y
    child.expect(REVIEW)
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
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect(r"Third question\?")
    _key(child, "2", "\r")
    child.expect(REVIEW)
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
    child.expect(r"Third question\?")  # one question of the section asked: reviewed at the end
    assert "Check the answers" not in (child.before or "")
    _key(child, "2", "\r")
    child.expect("Check the answers before the result")
    child.expect(r"1\. First question\?")  # the section's answer from the file is shown too
    child.expect(REVIEW)
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
    child.expect(r"Is reporting collected")
    _key(child, "4", "\r")  # sales_kpi (4)
    child.expect("Check the answers before the result")
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect('"level": 3')
    assert _finish(child) == 0
    q = load_questionnaire()
    saved = read_answers(answers, q)
    assert saved.answers["roles"] == ("distributed",)
    assert saved.answers["reporting"] == ("sales_kpi",)
    assert saved.questionnaire_version == q.version


# -- reviews, counters, wrapping, the no-CRM path, the language of a resumed run -----------------
Q = load_questionnaire()
_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: between two words of a wrapped text: spaces, a line break, style codes
_GAP = r"(?:\s|\x1b\[[0-9;?]*[A-Za-z])+"


def _words(text: str) -> str:
    """A pattern matching ``text`` however it is wrapped."""
    return _GAP.join(re.escape(word) for word in text.split())


def _lines(raw: str) -> list[str]:
    """The lines of a first rendering, as the terminal shows them (style codes dropped)."""
    return [line.rstrip() for line in _ESCAPE.sub("", raw).replace("\r", "").split("\n")]


def _until(child, pattern: str) -> None:  # type: ignore[no-untyped-def]
    """Expect ``pattern``, answering prompt_toolkit's cursor-position requests on the way."""
    while child.expect([r"\x1b\[6n", pattern]) == 0:
        child.send("\x1b[1;1R")


def _saved(path: Path) -> dict[str, object]:
    return parse_toml(path.read_text(encoding="utf-8"), str(path)).data


def test_reviews_come_after_sections_of_several_questions_and_at_the_end(
    crmkit, tmp_path: Path
) -> None:
    """With a CRM: 17 questions, as the intro and `assess questions` say; the profile (3
    questions) is reviewed after itself, the 14 one-question sections once at the end; on both,
    typing a question's number (as it was asked) changes that answer."""
    header = crmkit("assess", "questions").out.splitlines()[1]
    found = re.search(r"(\d+) questions \((\d+) asked with a CRM, (\d+) without one\)", header)
    assert found, header
    total, with_crm, without = map(int, found.groups())
    assert (total, with_crm, without) == (19, 17, 6)

    child = _spawn(tmp_path, "--save", "a.toml", columns=80)
    child.expect(_words(f"{with_crm} questions ({without} if there is no CRM yet)"))
    child.expect(rf"\[question 1 of {with_crm}\] Where do you keep")
    _key(child, "3", "\r")  # mostly in the CRM
    for number in (2, 3, 4):
        child.expect(rf"\[question {number} of {with_crm}\]")
        assert "Check the answers" not in (child.before or "")
        _key(child, "1", "\r")
    child.expect('Check the answers of the section "About the company"')
    child.expect(REVIEW)
    listed = [line.strip() for line in _lines(child.before or "")]
    assert "2. Who are your clients?" in listed
    assert "3. Do you sell retail or wholesale?" in listed
    assert "4. What do you sell: products or services?" in listed
    _key(child, "3", "\r")  # question 3
    child.expect(rf"\[question 3 of {with_crm}\] Do you sell retail or wholesale\?")
    _key(child, "2", "\r")  # wholesale
    child.expect(REVIEW)
    assert "→ Wholesale" in [line.strip() for line in _lines(child.before or "")]
    _key(child, "\r")
    child.expect(_words('Section 3 of 16 "Is it time for a CRM" skipped: it is only for a company'))
    for number in range(5, with_crm + 1):
        child.expect(rf"\[question {number} of {with_crm}\]")
        assert "Check the answers" not in (child.before or "")  # no review after one question
        _key(child, "2", "\r")
    child.expect("Check the answers before the result")
    child.expect(REVIEW)
    numbers = [
        int(m.group(1))
        for line in _lines(child.before or "")
        if (m := re.match(r"\s*(\d+)\. ", line))
    ]
    assert numbers == [1, *range(5, with_crm + 1)]
    _key(child, "12", "\r")  # two digits: question 12
    child.expect(r"\[question 12 of 17\] Are there written regulations")
    _key(child, "3", "\r")  # written
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect("Maturity level: ")
    assert _finish(child) == 0
    answers = _saved(tmp_path / "a.toml")["answers"]
    assert isinstance(answers, dict)
    assert answers["company_trade"] == "wholesale" and answers["regulations"] == "written"
    assert "readiness_for" not in answers and len(answers) == with_crm


def test_no_crm_asks_six_questions_and_points_at_select(tmp_path: Path) -> None:
    """ "No CRM" where data lives: 6 questions, not 19; the 13 about using a CRM are announced in
    one line and recorded as "No CRM" (level 0, as answering each gave); `crmkit select` is named
    in the terminal, not in the document."""
    child = _spawn(tmp_path, "--save", "a.toml", "--format", "md", "--out", "r.md", columns=80)
    child.expect(r"\[question 1 of 17\]")
    _key(child, "1", "\r")  # in spreadsheets: no CRM
    for number in (2, 3, 4):
        child.expect(rf"\[question {number} of 6\]")
        _key(child, "1", "\r")
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect(r"\[question 5 of 6\] Which of these are true for you")
    _key(child, " ", "\r")  # a sales manager has appeared
    child.expect(r"\[question 6 of 6\]")
    _key(child, "\r")  # none against
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect(_words('Sections 4–16 of 16 skipped: there is no CRM, so "No CRM" is recorded'))
    child.expect("Check the answers before the result")
    child.expect(REVIEW)
    _key(child, "\r")
    child.expect(_words("There is no CRM yet. The wizard helps to choose one: crmkit select"))
    assert _finish(child) == 0
    log = (tmp_path / "terminal.log").read_text(encoding="utf-8")
    assert not re.search(r"\[question (?:[7-9]|1\d) of", log)
    answers = read_answers(tmp_path / "a.toml", Q).answers
    skipping = {q.id: q.implied_choice for q in Q.questions if q.skip_if is not None}
    assert len(skipping) == 13
    for question_id, choice in skipping.items():  # "No CRM" recorded for each
        assert choice is not None and answers[question_id] == (choice.id,)
    asked_only = {k: v for k, v in answers.items() if k not in skipping}
    assert len(asked_only) == 6
    assert score(Q, asked_only) == score(Q, answers)  # the same as answering "No CRM" to each
    assert score(Q, answers).level == 0
    report = (tmp_path / "r.md").read_text(encoding="utf-8")
    assert report.strip() and "crmkit select" not in report


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_long_choices_and_help_wrap_at_word_boundaries_at_80_columns(
    tmp_path: Path, lang: str
) -> None:
    partial = tmp_path / "partial.toml"
    partial.write_text(
        "[answers]\n"
        'data_storage = "crm_main"\ncompany_clients = "b2b"\ncompany_trade = "retail"\n'
        'company_offer = "products"\nchannels_connected = "main"\n',
        encoding="utf-8",
    )
    question = Q.question("funnels_kinds")
    assert question is not None
    child = _spawn(tmp_path, "--answers", "partial.toml", "--lang", lang, columns=80)
    last = f"{len(question.choices) + 1}) {msg('assess.dont_know', lang)}"
    child.expect(re.escape(last))  # the list, drawn to its last item
    lines = _lines((child.before or "") + (child.after or ""))
    lines = lines[next(i for i, line in enumerate(lines) if "Ctrl-C" in line) + 1 :]
    assert all(len(line) <= 80 for line in lines), [line for line in lines if len(line) > 80]
    # the help: its own lines, indented, every word whole
    start = next(i for i, line in enumerate(lines) if line.startswith("  "))
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("? ["))
    assert end - start >= 3
    assert lines[end].startswith(f"? [{msg('assess.progress', lang, index=6, total=17)}] ")
    assert " ".join(" ".join(lines[start:end]).split()) == question.help.get(lang)
    # the choices: "N) " and lines under it, each whole
    items: dict[int, list[str]] = {}
    for line in lines[end:]:
        match = re.match(r"^ [» ] (\d+)\) (.*)$", line)
        if match:
            items[int(match.group(1))] = [match.group(2)]
        elif items and line.startswith(" " * 6) and line.strip():
            items[max(items)].append(line.strip())
    longest = max(question.choices, key=lambda c: len(c.text.get(lang)))
    shown = items[question.choices.index(longest) + 1]
    assert len(shown) >= 2  # over 80 columns: wrapped …
    assert " ".join(shown) == longest.text.get(lang)  # … and never cut
    for number, choice in enumerate(question.choices, 1):
        assert " ".join(items[number]) == choice.text.get(lang)
    child.sendintr()
    assert _finish(child) == 130


def test_the_resume_hint_works_as_printed_in_the_saved_language(tmp_path: Path) -> None:
    """Ctrl-C in Russian; the printed command, pasted where the locale is English and without
    --lang, goes on in Russian (--lang still wins)."""
    child = _spawn(tmp_path, "--save", "partial.toml", lang="ru", columns=80)
    child.expect(r"\[вопрос 1 из 17\] Где вы ведёте клиентов и заказы\?")
    _key(child, "3", "\r")
    child.expect(r"\[вопрос 2 из 17\] Кто ваши клиенты\?")
    child.sendintr()
    child.expect(r"продолжить: (crmkit [^\r\n]+)")
    command = shlex.split(child.match.group(1))
    assert _finish(child) == 130
    assert command[:3] == ["crmkit", "assess", "--answers"] and len(command) == 4
    assert Path(tmp_path, command[3]) == tmp_path / "partial.toml"  # as given, or in full
    assert _saved(tmp_path / "partial.toml")["assessment"]["lang"] == "ru"  # type: ignore[index]
    child = _spawn(tmp_path, *command[2:], lang="en")
    child.expect(_words("Опрос о зрелости CRM. Вопросов: 17; ответы на 1 уже есть, осталось 16."))
    child.expect(r"\[вопрос 2 из 17\] Кто ваши клиенты\?")
    child.sendintr()
    child.expect("прервано; данные ответы сохранены в")
    assert _finish(child) == 130
    child = _spawn(tmp_path, *command[2:], "--lang", "en", lang="en")
    child.expect(r"\[question 2 of 17\] Who are your clients\?")
    child.sendintr()
    assert _finish(child) == 130


def test_the_resume_hint_names_an_own_questionnaire(tmp_path: Path, small: Path) -> None:
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "p.toml", lang="ru")
    child.expect(r"вопрос 1 из 3\] First question\?")
    _key(child, "2", "\r")
    child.expect(r"вопрос 2 из 3\] Second question\?")
    child.sendintr()
    child.expect(r"продолжить: (crmkit [^\r\n]+)")
    command = shlex.split(child.match.group(1))
    assert _finish(child) == 130
    assert command[-2] == "--questionnaire" and Path(tmp_path, command[-1]) == small
    child = _spawn(tmp_path, *command[2:], lang="en")
    child.expect(r"вопрос 2 из 3\] Second question\?")
    _key(child, " ", "\r")
    child.expect(r"вопрос 3 из 3\] Third question\?")
    _key(child, "2", "\r")
    child.expect("Проверьте ответы перед результатом")
    child.expect("Номер вопроса")
    _key(child, "\r")
    child.expect("Уровень зрелости: 5 из 5")
    assert _finish(child) == 0
    assert _saved(tmp_path / "p.toml")["answers"] == {"q1": "b", "q2": ["m1"], "q3": "y"}


def test_multi_choice_says_what_to_do_and_goes_back_by_a_key(tmp_path: Path, small: Path) -> None:
    """No "back" among the ticks: ← goes back (the help line says so); ticking "Don't know"
    with another choice says what to do. A number not on a review is refused with a hint."""
    child = _spawn(tmp_path, "--questionnaire", str(small), "--save", "a.toml", cpr=True)
    _until(child, r"First question\?")
    _key(child, "2", "\r")
    _until(child, r"Second question\?")
    _until(child, r"Don't know")
    listing = _lines(child.before or "")
    assert "← to go back" in " ".join(listing)
    child.expect(pexpect.TIMEOUT, timeout=0.5)  # the rest of the list, if any
    assert "Back" not in _ESCAPE.sub("", child.before or "")  # nothing after "Don't know"
    _key(child, " ", DOWN, DOWN, " ", "\r")  # "Multi one" and "Don't know"
    _until(child, _words('Untick "Don\'t know" or the other choices: "Don\'t know" cannot go'))
    _key(child, LEFT)
    _until(child, r"question 1 of 3\] First question\?")
    _key(child, "1", "\r")
    _until(child, r"Second question\?")
    _key(child, " ", "\r")
    _until(child, REVIEW)
    _key(child, "9", "\r")
    _until(child, "No such number")
    _key(child, "\x7f", "\r")  # erase the 9; Enter: all correct
    _until(child, r"Third question\?")
    _key(child, "1", "\r")
    _until(child, REVIEW)
    _key(child, "\r")
    _until(child, "Maturity level: 0 of 5")
    assert _finish(child) == 0
    assert _saved(tmp_path / "a.toml")["answers"] == {"q1": "a", "q2": ["m1"], "q3": "x"}


def test_wrap_never_cuts_a_word() -> None:
    text = "a " + "x" * 30 + " b — c"
    assert wrap(text, 10) == "a\n" + "x" * 30 + "\nb — c"
    assert wrap("one two — three", 9).splitlines() == ["one two —", "three"]

"""Promises of STYLE.md that a black-box probe broke: one line and exit 2 for every bad input,
the secret never echoed, inputs that cannot exhaust the machine, outputs that cannot destroy
what they replace, answers kept on every signal. Each case failed before its fix."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmkit.errors import InputError
from crmkit.export.blueprint_doc import blueprint_html
from crmkit.export.markdown import html_values, render_template
from crmkit.files import MAX_INPUT_BYTES, read_toml, write_text
from crmkit.i18n import Text

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s3cr3tw3bh00kc0de"
HOOK = f"https://acme.bitrix24.ru/rest/1/{SECRET}/"

# -- usage mistakes: one line in the run's language, the hint to --help --------------------------

USAGE_MISTAKES: list[tuple[list[str], str]] = [
    (["nothing"], "nothing"),
    (["--nope"], "--nope"),
    (["assess", "--nope"], "--nope"),
    (["assess", "--format", "pdf"], "pdf"),
    (["assess", "--answers"], "--answers"),
    (["assess", "--answers", "/"], "/"),
    (["assess", "questions", "--format", "xml"], "xml"),
    (["select", "--format", "docx"], "docx"),
    (["select", "--input", "/"], "/"),
    (["select", "catalog", "--bad"], "--bad"),
    (["blueprint", "nothing"], "nothing"),
    (["blueprint", "lint"], "FILE"),
    (["blueprint", "lint", "x.toml", "--max-stages", "many"], "many"),
    (["blueprint", "lint", "x.toml", "--max-stages", "-3"], "-3"),
    (["blueprint", "new", "--out"], "--out"),
    (["render"], "FILE"),
    (["render", "/"], "/"),
    (["render", "x.toml", "--format", "pdf"], "pdf"),
    (["pull", "extra"], "extra"),
    (["pull", "--format", "yaml"], "yaml"),
    (["sandbox", "--port", "99999"], "99999"),
    (["sandbox", "--port", "eighty"], "eighty"),
    (["sandbox", "--rate", "-1"], "-1"),
    (["--lang", "de"], "de"),
]


@pytest.mark.parametrize("lang", ["en", "ru"])
@pytest.mark.parametrize(("args", "quoted"), USAGE_MISTAKES)
def test_every_usage_mistake_is_one_line_in_the_run_language(
    crmkit: Callable[..., Any], args: list[str], quoted: str, lang: str
) -> None:
    run = crmkit(*args, lang=lang)
    assert run.code == 2, (args, run.err)
    assert run.out == ""
    lines = run.err.splitlines()
    assert len(lines) == 1, run.err
    if lang == "ru" and quoted == "FILE":  # a placeholder is named in the run's language
        quoted = "ФАЙЛ"
    assert lines[0].startswith("crmkit: ") and quoted in lines[0]
    assert "Usage:" not in run.err and "Error:" not in run.err
    hint = "справка: crmkit" if lang == "ru" else "see crmkit"
    assert hint in lines[0] and lines[0].endswith("--help)")


def test_the_hint_names_the_command_that_was_typed(crmkit: Callable[..., Any]) -> None:
    run = crmkit("blueprint", "lint", "x.toml", "--max-stages")
    assert run.err.rstrip().endswith("(see crmkit blueprint lint --help)")


def test_a_group_without_its_command_shows_its_help(crmkit: Callable[..., Any]) -> None:
    run = crmkit("blueprint")
    assert run.code == 0 and "lint" in run.out and run.err == ""


# -- the secret is never echoed ---------------------------------------------------------------

#: every command that takes a webhook, with the webhook placed wrongly
WEBHOOK_COMMANDS = [["pull"], ["push", "deal-retail"], ["audit"]]
MISPLACED: list[Callable[[str], list[str]]] = [
    lambda url: [url],  # as an argument
    lambda url: ["--webhok", url],  # a misspelt option
    lambda url: ["--format", url],  # in an option that takes choices
    lambda url: ["--out", url, url],  # the option right, then again as an argument
    lambda url: ["--webhook", url + "x y"],  # not a webhook shape
    lambda url: ["--webhook", url.replace("https", "http")],  # plain http to a real host
    lambda url: ["--lang", url],
]


@pytest.mark.parametrize("command", WEBHOOK_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("place", range(len(MISPLACED)))
def test_a_misplaced_webhook_is_never_echoed(
    crmkit: Callable[..., Any], command: list[str], place: int
) -> None:
    for lang in ("en", "ru"):
        run = crmkit(*command, *MISPLACED[place](HOOK), lang=lang)
        assert run.code == 2, run.err
        assert SECRET not in run.out + run.err
        assert len(run.err.splitlines()) == 1


# -- inputs that cannot exhaust the machine -----------------------------------------------------


def _one_line_error(run: Any, *pieces: str) -> None:
    assert run.code == 2, run.err
    assert len(run.err.splitlines()) == 1 and run.err.startswith("crmkit: "), run.err
    for piece in pieces:
        assert piece in run.err, run.err


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 400 + "]" * 400,
        "[answers]\nq = " + "{a = " * 400 + "1" + "}" * 400,
        "[answers]\n" + ".".join(["k"] * 600) + " = 1",
        "[answers]\nq = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    ],
)
def test_deep_nesting_is_refused_with_its_line(
    crmkit: Callable[..., Any], tmp_path: Path, text: str
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(text, encoding="utf-8")
    for args in (["assess", "--answers", str(path)], ["blueprint", "lint", str(path)]):
        _one_line_error(crmkit(*args), f"{path}:", "nested more than 32 levels")


@pytest.mark.parametrize(
    "text",
    [
        'a = "' + "[" * 40 + '"',  # in a basic string
        'a = "\\"' + "[" * 40 + '"',  # after an escaped quote, still in the string
        "a = '''\n" + "{" * 40 + "\n'''",  # in a multi-line literal string
        'a = """x\\"""' + "[" * 40 + '"""',  # an escaped quote does not end it
        "# " + "[" * 40 + "\nb = 1",  # in a comment
        "a = " + "[" * 32 + "]" * 32,  # exactly the limit
    ],
)
def test_brackets_in_strings_and_comments_do_not_count_as_nesting(
    tmp_path: Path, text: str
) -> None:
    path = tmp_path / "fine.toml"
    path.write_text(text, encoding="utf-8")
    read_toml(path)  # each is valid TOML, and none is too deep


def test_the_line_of_too_deep_nesting_is_counted_past_strings_and_comments(
    tmp_path: Path,
) -> None:
    path = tmp_path / "deep.toml"
    path.write_text('a = "[[["\n# [[[\n\nb = ' + "[" * 40, encoding="utf-8")
    with pytest.raises(InputError) as raised:
        read_toml(path)
    assert "nested more than 32" in str(raised.value)
    assert f"{path}:4" in str(raised.value)


@pytest.mark.parametrize("number", ["9" * 5000, "9223372036854775808", "-9223372036854775809"])
def test_huge_integers_are_refused_with_their_line(
    crmkit: Callable[..., Any], tmp_path: Path, number: str
) -> None:
    path = tmp_path / "huge.toml"
    path.write_text(f'[answers]\nroles = "x"\nq = {number}\n', encoding="utf-8")
    _one_line_error(crmkit("assess", "--answers", str(path)), f"{path}:3", "64-bit")


def test_names_longer_than_the_file_system_allows(crmkit: Callable[..., Any], tmp_path) -> None:
    long = "n" * 300
    _one_line_error(crmkit("blueprint", "new", "--from", long), "no blueprint", "…")
    _one_line_error(crmkit("blueprint", "lint", long + ".toml"), "longer than the file system")
    _one_line_error(crmkit("render", long + ".toml"), "longer than the file system")
    including = tmp_path / "inc.toml"
    including.write_text(f'[blueprint]\ninclude = ["{long}", "{long}.toml"]\n', encoding="utf-8")
    _one_line_error(crmkit("render", str(including)), f"{including}:2", "…")
    linted = crmkit("blueprint", "lint", str(including))  # lint lists every problem, a line each
    assert linted.code == 2 and all(f"{including}:2" in line for line in linted.out.splitlines())


def test_non_regular_files_are_refused_at_once(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    fifo = tmp_path / "answers.toml"
    os.mkfifo(fifo)  # no writer: reading it would block forever
    began = time.monotonic()
    _one_line_error(crmkit("assess", "--answers", str(fifo)), "pipe")
    _one_line_error(crmkit("blueprint", "lint", "/dev/zero"), "device")
    sparse = tmp_path / "big.toml"
    with sparse.open("wb") as handle:
        handle.truncate(1 << 30)  # 1 GiB, no blocks on disk
    _one_line_error(crmkit("blueprint", "lint", str(sparse)), "too large")
    big = tmp_path / "big2.toml"
    big.write_bytes(b"#" * (MAX_INPUT_BYTES + 1))
    _one_line_error(crmkit("render", str(big)), "too large")
    assert time.monotonic() - began < 10


def test_a_file_that_is_not_utf8_names_line_and_column(crmkit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "answers.toml"
    path.write_bytes('[answers]\nq = "Привет"\n'.encode("cp1251"))
    run = crmkit("assess", "--answers", str(path))
    _one_line_error(run, f"{path}:2:6:", "Windows-1251", "UTF-8")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'[answers]\nq = "caf\xe9 \x80\x81"\n')
    run = crmkit("assess", "--answers", str(latin))
    _one_line_error(run, f"{latin}:2:9:", "not UTF-8")
    assert "1251" not in run.err


def test_a_huge_value_is_quoted_shortly(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    value = "x" * 1_000_000
    path.write_text(f'[answers]\n"{value}" = "y"\nroles = "{value}"\n', encoding="utf-8")
    run = crmkit("assess", "--answers", str(path))
    assert run.code == 2 and len(run.err) < 1200 and "…" in run.err


def test_an_include_diamond_is_read_once_per_file(crmkit, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Each level includes both files of the next: 2^20 paths through 40 files. Each file is
    read once (before: every path, doubling the time with every level)."""
    levels = 20
    for i in range(levels):
        nxt = f'include = ["l{i + 1}a.toml", "l{i + 1}b.toml"]' if i < levels - 1 else ""
        for side in "ab":
            (tmp_path / f"l{i}{side}.toml").write_text(
                f'[blueprint]\nid = "l{i}{side}"\n{nxt}\n', encoding="utf-8"
            )
    top = tmp_path / "top.toml"
    top.write_text('[blueprint]\ninclude = ["l0a.toml", "l0b.toml"]\n', encoding="utf-8")
    loaded = crmkit("blueprint", "lint", str(top))  # loads through 2^20 paths, and finds…
    assert loaded.code == 2 and "the blueprint is empty" in loaded.err  # …only headers
    # more files than a load may include: refused, naming the include
    for i in range(levels, 40):
        nxt = f'include = ["l{i + 1}a.toml", "l{i + 1}b.toml"]' if i < 39 else ""
        for side in "ab":
            (tmp_path / f"l{i}{side}.toml").write_text(f"[blueprint]\n{nxt}\n", encoding="utf-8")
    (tmp_path / "l19a.toml").write_text('[blueprint]\ninclude = ["l20a.toml", "l20b.toml"]\n')
    _one_line_error(crmkit("blueprint", "lint", str(top)), "too many includes")


def test_the_html_parser_never_sees_the_data() -> None:
    """A megabyte of Markdown-special text cost 6 s and 770 MB in the parser; now the Markdown
    handed to it is the same size whatever the values hold, and the values come out exact."""
    from crmkit.blueprints.library import Library

    bp = Library.default().load("deal-b2b-short")
    sizes = []
    for length in (10, 5000):
        text = ("*_[<&>]`#" * length)[:length]
        changed = bp.__class__(**{**bp.__dict__, "description": Text(ru=text, en=text)})
        with html_values():
            skeleton = render_template("blueprint.md.j2", **_template_context(changed))
        sizes.append(len(skeleton))
        page = blueprint_html(changed, "en")
        assert text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in page
    assert sizes[0] == sizes[1]


def _template_context(bp: Any) -> dict[str, Any]:
    from crmkit.export import blueprint_doc

    return {
        "bp": blueprint_doc.blueprint_view(bp, "en"),
        "t": blueprint_doc._labels("en"),
        "checklist": blueprint_doc.manual_checklist(bp, "en"),
        "figure": lambda index: "",
    }


def test_a_long_name_in_a_catalog_is_refused(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    catalog = tmp_path / "catalog.toml"
    catalog.write_text(f'[systems.big]\nname = "{"N" * 200_000}"\n', encoding="utf-8")
    run = crmkit("select", "catalog", "--catalog", str(catalog))
    _one_line_error(run, f"{catalog}:2", "too long")


# -- outputs ----------------------------------------------------------------------------------


def test_out_dash_is_the_terminal_and_devices_are_never_replaced(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    answers = ROOT / "examples" / "assessment-level3.toml"
    run = crmkit("assess", "--answers", str(answers), "--format", "json", "--out", "-")
    assert run.code == 0 and run.out.lstrip().startswith("{")
    assert not (tmp_path / "-").exists()
    for device in ("/dev/null", str(tmp_path)):
        run = crmkit("assess", "--answers", str(answers), "--out", device)
        assert run.code == 2 and len(run.err.splitlines()) == 1, run.err
    assert Path("/dev/null").is_char_device()
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    run = crmkit("assess", "--answers", str(answers), "--out", str(fifo))
    assert run.code == 2 and "pipe" in run.err


def test_a_symlinked_target_keeps_its_link(tmp_path: Path) -> None:
    real = tmp_path / "real.md"
    real.write_text("old", encoding="utf-8")
    link = tmp_path / "link.md"
    link.symlink_to(real)
    write_text(link, "new")
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new"


def test_temporary_files_of_killed_writers_are_cleared(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(dead.stdout)
    stale = tmp_path / f".report.html.{pid}.0badc0de.tmp"
    stale.write_text("half", encoding="utf-8")
    other = tmp_path / f".other.html.{pid}.0badc0de.tmp"
    other.write_text("half", encoding="utf-8")
    write_text(tmp_path / "report.html", "whole")
    assert not stale.exists() and other.exists()  # only the temporaries of this target
    assert (tmp_path / "report.html").read_text(encoding="utf-8") == "whole"


def test_a_terminated_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    """SIGTERM in the middle of a big write: the target is the old one or the new one, and no
    temporary file is left (100 kills during writes left 76 before)."""
    target = tmp_path / "out.txt"
    target.write_text("old", encoding="utf-8")
    code = (
        "import sys, signal\n"
        "from crmkit.cli import _raise_terminated\n"
        "from crmkit.files import write_text\n"
        "signal.signal(signal.SIGTERM, _raise_terminated)\n"
        "print('ready', flush=True)\n"
        "while True:\n"
        f"    write_text(__import__('pathlib').Path({str(target)!r}), 'x' * 20_000_000)\n"
    )
    for delay in (0.05, 0.15, 0.3):
        process = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
        time.sleep(delay)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
        left = [p.name for p in tmp_path.iterdir() if p.name != "out.txt"]
        assert left == [], left
        assert target.read_text(encoding="utf-8") in ("old", "x" * 20_000_000)


def test_pull_never_replaces_an_existing_file_without_force(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    edited = tmp_path / "portal.toml"
    edited.write_text("# my edits\n", encoding="utf-8")
    run = crmkit("pull", "--out", str(edited), CRMKIT_WEBHOOK=HOOK)
    assert run.code == 2 and "--force" in run.err and SECRET not in run.err
    assert edited.read_text(encoding="utf-8") == "# my edits\n"
    assert re.search(r"already exists", run.err)


def test_a_signal_swallowed_by_a_gc_callback_is_delivered_again() -> None:
    """SIGTERM that lands in a weakref callback raises where Python only prints and ignores the
    exception: the questionnaire then waited forever. It is sent again and reaches the code."""
    code = (
        "import signal, sys, time, weakref\n"
        "from crmkit.cli import Terminated, _raise_terminated, _signal_again\n"
        "signal.signal(signal.SIGTERM, _raise_terminated)\n"
        "sys.unraisablehook = _signal_again\n"
        "class Thing: pass\n"
        "def callback(_ref):\n"
        "    raise Terminated(signal.SIGTERM)\n"
        "thing = Thing()\n"
        "ref = weakref.ref(thing, callback)\n"
        "try:\n"
        "    del thing\n"
        "    time.sleep(5)\n"
        "    print('lost')\n"
        "except Terminated:\n"
        "    print('delivered')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, cwd=ROOT
    )
    assert done.stdout.strip() == "delivered", done.stdout + done.stderr


def test_no_signal_is_sent_again_once_the_run_has_handled_one() -> None:
    """An interrupt swallowed by a GC callback after the run already said «interrupted» must not
    be sent again: it would land in the interpreter's shutdown and end the process by SIGINT
    (-2) instead of its exit code 130 (seen once in a demo interrupted at 0.7 s)."""
    code = (
        "import signal, sys, time, weakref\n"
        "from crmkit.cli import _INTERRUPT_HANDLED, _signal_again\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"
        "sys.unraisablehook = _signal_again\n"
        "_INTERRUPT_HANDLED.set()  # the run has said «interrupted»\n"
        "class Thing: pass\n"
        "def callback(_ref):\n"
        "    raise KeyboardInterrupt\n"
        "thing = Thing()\n"
        "ref = weakref.ref(thing, callback)\n"
        "del thing\n"
        "time.sleep(0.3)\n"
        "sys.exit(130)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=20, cwd=ROOT
    )
    assert done.returncode == 130, (done.returncode, done.stderr)

"""`crmkit demo`: the whole path offline — assessment, selection, blueprint, a sandbox it starts
and stops, its audit, the push (plan, apply, empty re-plan), the pull, the combined report."""

from __future__ import annotations

import json
import re
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.loader import load_blueprint
from crmkit.demo import MANIFEST, SAMPLE_CLIENT

ROOT = Path(__file__).resolve().parent.parent

#: what every run writes, beside the push record and backup (named after the sandbox's port)
FILES = [
    "client.toml", "assessment.toml", "selection.toml", "blueprint.toml", "audit.json",
    "portal.toml", "push/plan.json",
    "reports/assessment.html", "reports/selection.html", "reports/selection.xlsx",
    "reports/blueprint.html", "reports/blueprint.md", "reports/audit.html",
    "reports/portal.html", "reports/push-plan.html", "reports/report.html",
]  # fmt: skip

#: per language: the assessment's level, the empty re-plan, the audit's level, the stopped
#: sandbox, a duration with the language's decimal mark, the consultant of client.toml
EXPECTED: dict[str, dict[str, Any]] = {
    "en": {
        "level": "level 3 of 5",
        "replan": "Plan again: nothing to do",
        "audit": re.compile(r"Audit of the portal from its data: level \d of 5"),
        "done": re.compile(r"Done in \d+\.\d s; the sandbox is stopped\."),
        "consultant": "Anna Sokolova",
    },
    "ru": {
        "level": "уровень 3 из 5",
        "replan": "Повторный план: делать нечего",
        "audit": re.compile(r"Аудит портала по его данным: уровень \d из 5"),
        "done": re.compile(r"Готово за \d+,\d с; песочница остановлена\."),
        "consultant": "Анна Соколова",
    },
}


@pytest.fixture
def sandboxes(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every sandbox the demo starts (to know its webhook code, and that it was stopped)."""
    import crmkit.sandbox

    started: list[Any] = []
    real = crmkit.sandbox.start_sandbox

    def recording(*args: Any, **kwargs: Any) -> Any:
        sandbox = real(*args, **kwargs)
        started.append(sandbox)
        return sandbox

    monkeypatch.setattr(crmkit.sandbox, "start_sandbox", recording)
    return started


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_demo_runs_the_whole_path(
    crmkit: Callable[..., Any], tmp_path: Path, sandboxes: list[Any], lang: str
) -> None:
    began = time.perf_counter()
    result = crmkit("demo", "--out", "client", "--lang", lang, cwd=tmp_path)
    seconds = time.perf_counter() - began
    print(f"crmkit demo --lang {lang}: {seconds:.1f} s")  # the 10 s target: bench/bench_demo.py
    assert result.code == 0, result.err
    assert result.err == ""
    assert seconds < 60
    folder = tmp_path / "client"
    for name in FILES:
        path = folder / name
        assert path.is_file() and path.stat().st_size > 50, name
        assert f"client/{name}" in result.out, name
    expected = EXPECTED[lang]
    out = result.out
    # one ✓ per step: assess, select, blueprint, sandbox, audit, push, re-plan, pull, report
    assert out.count("✓") == 9
    assert expected["level"] in out and expected["replan"] in out
    assert expected["audit"].search(out) and expected["done"].search(out)
    # the audit's three costliest findings, with their figures
    costliest = re.findall(r"^    [123]\. .+: \d+[.,]\d\s?%", out, re.M)
    assert len(costliest) == 3, out
    # the sandbox was started once and is stopped; its webhook code is nowhere
    [sandbox] = sandboxes
    assert sandbox._stopped
    _assert_no_secret(folder, out + result.err, sandbox)
    client = tomllib.loads((folder / "client.toml").read_text(encoding="utf-8"))
    assert client == {
        "client": SAMPLE_CLIENT,
        "consultant": expected["consultant"],
        "version": "1.0",
    }


def _assert_no_secret(folder: Path, output: str, sandbox: Any) -> None:
    assert sandbox.code not in output and sandbox.webhook_url not in output
    for path in folder.rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            assert sandbox.code.encode() not in raw, path
            assert b"/rest/1/" not in raw, path


def test_what_the_demo_leaves_is_what_crmkit_commands_read(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    from crmkit.push.record import parse_record
    from crmkit.push.saved import parse_saved

    assert crmkit("demo", "--out", "d", cwd=tmp_path).code == 0
    folder = tmp_path / "d"
    # the tailored blueprint is for level 4 and lints clean
    blueprint = load_blueprint(folder / "blueprint.toml", Library.default().resolver())
    assert [f for f in lint(blueprint) if f.severity == "error"] == []
    assert len(blueprint.pipelines) >= 4
    # the plan as `crmkit push --plan-out` saves it, with changes; the record of the apply
    saved = parse_saved((folder / "push/plan.json").read_text(encoding="utf-8"), "plan", "en")
    assert saved.plan["summary"]["create"] > 0 and saved.portal.startswith("http://127.0.0.1:")
    [record_file] = (folder / "push").glob("*.applied.json")
    record = parse_record(record_file.read_text(encoding="utf-8"), str(record_file))
    assert record.blueprint == blueprint.id and len(record.managed) > 10
    assert len(list((folder / "push").glob("*.backup-*.toml"))) == 1
    # the portal as pulled after the push holds the blueprint's pipelines
    portal = load_blueprint(folder / "portal.toml", Library.default().resolver())
    pushed = {p.name.get("en") for p in blueprint.pipelines}
    assert pushed <= {p.name.get("en") for p in portal.pipelines}
    # the audit's data as `crmkit audit --format json` saves it
    audit = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    assert audit["deals"]["total"] == 300 and audit["leads"]["total"] == 60
    for page in ("assessment", "selection", "blueprint", "audit", "portal", "push-plan"):
        html = (folder / "reports" / f"{page}.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and "<script" not in html, page


def test_the_sample_client_is_the_sample_selections() -> None:
    selection = tomllib.loads((ROOT / "examples/selection.toml").read_text(encoding="utf-8"))
    assert selection["title"].endswith(SAMPLE_CLIENT)


def test_the_combined_report_holds_every_part(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    result = crmkit("demo", "--out", "d", cwd=tmp_path)
    assert result.code == 0, result.err
    folder = tmp_path / "d"
    report = (folder / "reports/report.html").read_text(encoding="utf-8")
    assert report.startswith("<!DOCTYPE html>") and "<script" not in report
    # the client and the consultant of client.toml on its cover
    assert SAMPLE_CLIENT in report and "Anna Sokolova" in report
    # each document of the folder is a part of it (by its title)
    for page in ("assessment", "audit", "selection", "blueprint", "portal", "push-plan"):
        own = (folder / "reports" / f"{page}.html").read_text(encoding="utf-8")
        title = re.search(r"<h1>(.*?)</h1>", own, re.S)
        assert title is not None and title.group(1) in report, page
    # a client document: the sandbox's address stays in the terminal
    assert "127.0.0.1" not in report and "127.0.0.1" in result.out
    # where everything is: the combined report first
    where = result.out.split("Where everything is", 1)[1]
    assert where.splitlines()[1].strip().startswith("d/reports/report.html")
    assert "  crmkit render .\n" in result.out


def test_the_next_commands_are_real(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    """Each command the demo suggests parses: its options exist (checked by --help's usage)."""
    from crmkit.cli.demo_cmd import NEXT_COMMANDS

    for command, _key in NEXT_COMMANDS:
        words = command.replace("{webhook}", "https://x.bitrix24.ru/rest/1/c/").split()[1:]
        options = [w for w in words if w.startswith("--")]
        names = [w for w in words if not w.startswith("-")][:2]
        sub = names[:2] if names[0] == "blueprint" else names[:1]
        shown = crmkit(*sub, "--help", cwd=tmp_path)
        assert shown.code == 0, command
        for option in options:
            assert option in shown.out, (command, option)


def test_a_second_run_replaces_its_own_files(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    assert crmkit("demo", "--out", "d", cwd=tmp_path).code == 0
    [first] = (tmp_path / "d/push").glob("*.applied.json")
    again = crmkit("demo", "--out", "d", "--lang", "ru", cwd=tmp_path)
    assert again.code == 0, again.err
    # the old sandbox's record is gone, not taken for the new sandbox's
    records = list((tmp_path / "d/push").glob("*.applied.json"))
    assert len(records) == 1 and (records[0] == first or not first.exists())
    assert len(list((tmp_path / "d/push").glob("*.backup-*.toml"))) == 1
    assert "Оценка зрелости" in (tmp_path / "d/reports/assessment.html").read_text("utf-8")


def test_a_folder_with_other_files_needs_force(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    own = tmp_path / "d" / "notes.txt"
    own.parent.mkdir()
    own.write_text("the consultant's notes", encoding="utf-8")
    refused = crmkit("demo", "--out", "d", cwd=tmp_path)
    assert refused.code == 2 and refused.out == ""
    assert refused.err.count("\n") == 1 and "notes.txt" in refused.err and "--force" in refused.err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["notes.txt"]
    forced = crmkit("demo", "--out", "d", "--force", cwd=tmp_path)
    assert forced.code == 0, forced.err
    assert own.read_text(encoding="utf-8") == "the consultant's notes"
    # notes.txt is still not the demo's: the next run asks again
    assert crmkit("demo", "--out", "d", cwd=tmp_path).code == 2


def test_an_edited_demo_file_is_not_replaced(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    assert crmkit("demo", "--out", "d", cwd=tmp_path).code == 0
    blueprint = tmp_path / "d/blueprint.toml"
    edited = blueprint.read_text(encoding="utf-8") + "\n# my edit\n"
    blueprint.write_text(edited, encoding="utf-8")
    refused = crmkit("demo", "--out", "d", "--lang", "ru", cwd=tmp_path)
    assert refused.code == 2 and "blueprint.toml" in refused.err and "--force" in refused.err
    assert blueprint.read_text(encoding="utf-8") == edited
    manifest = json.loads((tmp_path / "d" / MANIFEST).read_text(encoding="utf-8"))
    assert "blueprint.toml" in manifest["files"]


def test_render_an_assessment_file(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    examples = ROOT / "examples"
    result = crmkit(
        "render", str(examples / "assessment-level5.toml"), "--format", "md", "--out", "-"
    )
    assert result.code == 0, result.err
    # the answer on page one: the level within the first lines
    assert "Maturity level: 5 of 5" in "\n".join(result.out.splitlines()[:8])
    html = crmkit("render", str(examples / "assessment-level0.toml"), "--out", "-")
    assert html.code == 0 and html.out.count("<svg") == 1


def test_render_a_selection_file(crmkit: Callable[..., Any], tmp_path: Path) -> None:
    examples = ROOT / "examples"
    result = crmkit("render", str(examples / "selection.toml"), "--out", "-")
    assert result.code == 0, result.err
    assert result.out.startswith("<!DOCTYPE html>") and "Bitrix24" in result.out
    broken = tmp_path / "selection.toml"
    text = (examples / "selection.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace("users = 8", 'users = "eight"'), encoding="utf-8")
    bad = crmkit("render", str(broken))
    assert bad.code == 2 and bad.err.startswith(f"crmkit: {broken}:") and "users" in bad.err

"""Client documentation: golden Markdown and HTML, escaping, self-containment."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.loader import load_blueprint
from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown, manual_checklist

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.toml"


def small():  # type: ignore[no-untyped-def]
    return load_blueprint(SMALL, Library.default().resolver())


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_markdown_golden(golden: Callable[[str, str], None], lang: str) -> None:
    golden(f"render/small.{lang}.md", blueprint_markdown(small(), lang))  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_html_golden(golden: Callable[[str, str], None], lang: str) -> None:
    golden(f"render/small.{lang}.html", blueprint_html(small(), lang))  # type: ignore[arg-type]


def test_markdown_has_every_part() -> None:
    text = blueprint_markdown(small(), "en")
    assert "object at 0x" not in text  # no Python repr leaks into a client document
    for part in (
        "| # | Stage | What happens | Who | How long | Automation |",
        "| 1 | Contact received |",
        "Head of sales",
        "1 day",
        'On entering the stage: task "Assign a manager", for Head of sales, due in 1 day, '
        "closed automatically when the item leaves the stage.",
        '2 days after entering the stage: task "Call the client"',
        "## Failure reasons" if False else "#### Failure reasons and why each matters",
        "| Not targeted | Shows which channels bring noise. |",
        "`UF_CRM_BUDGET`",
        "```mermaid",
        "## Manual set-up checklist",
        'CRM → Settings → "Robots and business processes" → Leads → under the stage '
        '"Contact received" click "Configure robots" → Add → Task',
    ):
        assert part in text, part


def test_checklist_covers_robots_and_stage_required_fields() -> None:
    items = manual_checklist(small(), "ru")
    paths = [i["path"] for i in items]
    assert len([p for p in paths if "Настроить роботов" in p]) == 2
    assert any("Телефон" in p and "«Контакт получен»" in p for p in paths)


def test_a_field_needed_to_leave_a_stage_is_required_from_the_next_one() -> None:
    """Bitrix24 asks for a field required on a stage when an item enters it: a field needed to
    leave "Контакт получен" is ticked from "В работе" up to the success stage, not on it and
    not on the failure stages; the document and the push plan say so."""
    required = [i for i in manual_checklist(small(), "ru") if i["id"].startswith("required.")]
    assert len(required) == 1
    path = required[0]["path"]
    ticked = path[path.index("отметьте") : path.index(". Битрикс24")]
    assert ticked == "отметьте «В работе» и все стадии после неё до «Сконвертирован» включительно"
    assert "«Контакт получен»" not in ticked and "«Нецелевой»" not in path
    assert "при переходе на стадию" in path and "провальные стадии не отмечайте" in path
    en = next(i for i in manual_checklist(small(), "en") if i["id"].startswith("required."))
    assert 'tick "In work" and every stage after it up to and including' in en["path"]
    document = blueprint_markdown(small(), "en")
    assert "To move on from this stage, fill in: Phone." in document
    from crmkit.push.plan import plan_push
    from crmkit.push.state import PortalState

    plan = plan_push(small(), PortalState(), lang="ru")
    manual = [e for e in plan.entries if e.address.startswith("manual.required.")]
    assert manual and manual[0].steps[0] == path
    assert "на следующих стадиях" in manual[0].text("ru")


HOSTILE = """
[blueprint]
name = "<script>alert(1)</script> & co"

[[roles]]
code = "r"
name = "<b>boss</b>"

[[pipelines]]
code = "p"
kind = "deal"
name = "Pipe <img src=x onerror=alert(1)>"

[[pipelines.stages]]
code = "S"
name = "<script>"
description = "Text with | pipes and *stars* and [link](http://evil.example) `code`"
responsible = "r"

[[pipelines.stages]]
code = "W"
name = "\\"quoted\\" #1"
semantics = "success"

[[pipelines.stages]]
code = "L"
name = "L"
semantics = "failure"
"""


def test_text_from_a_blueprint_is_escaped(tmp_path: Path) -> None:
    path = tmp_path / "hostile.toml"
    path.write_text(HOSTILE, encoding="utf-8")
    bp = load_blueprint(path, Library.default().resolver())
    page = blueprint_html(bp, "en")
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>" not in page
    assert "&lt;script&gt;" in page
    assert 'href="http://evil.example"' not in page
    assert "onerror=alert" not in page or "&lt;img" in page
    # a pipe inside a cell does not break the table: the row keeps its cells (number, stage,
    # what happens, who — the empty "how long" and "automation" columns are dropped)
    row = re.search(r"<tr>\s*<td>1</td>(.*?)</tr>", page, re.S)
    assert row is not None and row.group(1).count("<td>") == 3
    assert "Text with | pipes" in row.group(1)
    markdown = blueprint_markdown(bp, "en")
    assert "\\<script\\>" in markdown
    assert "#quot;quoted#quot; #35;1" in markdown  # Mermaid-safe label


def test_html_is_self_contained() -> None:
    page = blueprint_html(small(), "en")
    assert "<script" not in page.lower()
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", page)
    # only in-page references (the arrow markers): url(#...)
    assert "@import" not in page and "url(" not in re.sub(r"url\(#[\w-]+\)", "", page)
    assert "<style>" in page and "@media print" in page
    assert page.count("<svg") == 1


def test_render_command(crmkit: Callable[..., object], tmp_path: Path) -> None:
    out = tmp_path / "doc" / "small.html"
    result = crmkit("render", str(SMALL), "--format", "html", "--out", str(out))
    assert result.code == 0 and result.out == ""
    assert result.err == f"Written: {out}\nNext: crmkit push {SMALL}\n"
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    md = crmkit("render", str(SMALL), "--lang", "ru", "--format", "md", "--out", "-")
    assert md.code == 0 and md.out.startswith("# Маленькая схема")


def test_render_bad_input_writes_nothing(crmkit: Callable[..., object], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(SMALL.read_text("utf-8").replace('kind = "lead"', "kind = 3"), encoding="utf-8")
    out = tmp_path / "out.html"
    result = crmkit("render", str(bad), "--format", "html", "--out", str(out))
    assert result.code == 2
    assert result.err.startswith(f"crmkit: {bad}:21: pipelines[0].kind: expected a string")
    assert result.err.count("\n") == 1
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [bad]
    unknown = tmp_path / "x.toml"
    unknown.write_text("[something]\na = 1\n", encoding="utf-8")
    assert crmkit("render", str(unknown)).code == 2


def test_every_shipped_blueprint_renders_in_both_languages() -> None:
    library = Library.default()
    for name in library.ids():
        bp = library.load(name)
        for lang in ("ru", "en"):
            assert blueprint_markdown(bp, lang).startswith("# ")  # type: ignore[arg-type]
            assert blueprint_html(bp, lang).count("<svg") == len(bp.pipelines)  # type: ignore[arg-type]

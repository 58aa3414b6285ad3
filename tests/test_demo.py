"""`crmkit demo`: the main job runs offline and writes every report."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.loader import load_blueprint


def test_demo_runs_the_whole_path(crmkit: Callable[..., object], tmp_path: Path) -> None:
    result = crmkit("demo", "--out", "client", cwd=tmp_path)
    assert result.code == 0, result.err
    folder = tmp_path / "client"
    expected = [
        "assessment.toml", "selection.toml", "blueprint.toml", "portal.toml",
        "reports/assessment.html", "reports/selection.html", "reports/selection.xlsx",
        "reports/blueprint.html", "reports/blueprint.md", "reports/portal.html",
    ]  # fmt: skip
    for name in expected:
        path = folder / name
        assert path.is_file() and path.stat().st_size > 200, name
    assert result.out.count("✓") == 5
    assert "level 3 of 5" in result.out
    # the tailored blueprint is for level 4 and lints clean
    blueprint = load_blueprint(folder / "blueprint.toml", Library.default().resolver())
    assert [f for f in lint(blueprint) if f.severity == "error"] == []
    assert len(blueprint.pipelines) >= 4
    # the pulled portal is a valid blueprint without any secret in it
    portal_text = (folder / "portal.toml").read_text(encoding="utf-8")
    tomllib.loads(portal_text)
    assert "/rest/1/" not in portal_text
    for page in ("assessment", "selection", "blueprint", "portal"):
        html = (folder / "reports" / f"{page}.html").read_text(encoding="utf-8")
        assert html.startswith("<!DOCTYPE html>") and "<script" not in html


def test_demo_in_russian(crmkit: Callable[..., object], tmp_path: Path) -> None:
    result = crmkit("demo", "--out", "d", "--lang", "ru", cwd=tmp_path)
    assert result.code == 0, result.err
    assert "уровень 3 из 5" in result.out
    page = (tmp_path / "d" / "reports" / "blueprint.html").read_text(encoding="utf-8")
    assert 'lang="ru"' in page and "Воронки" in page


def test_render_an_assessment_file(crmkit: Callable[..., object], tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    result = crmkit(
        "render", str(examples / "assessment-level5.toml"), "--format", "md", "--out", "-"
    )
    assert result.code == 0, result.err
    assert "5" in result.out.splitlines()[2]
    html = crmkit("render", str(examples / "assessment-level0.toml"), "--out", "-")
    assert html.code == 0 and html.out.count("<svg") == 1


def test_render_a_selection_file(crmkit: Callable[..., object], tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parent.parent / "examples"
    result = crmkit("render", str(examples / "selection.toml"), "--out", "-")
    assert result.code == 0, result.err
    assert result.out.startswith("<!DOCTYPE html>") and "Bitrix24" in result.out
    broken = tmp_path / "selection.toml"
    text = (examples / "selection.toml").read_text(encoding="utf-8")
    broken.write_text(text.replace("users = 8", 'users = "eight"'), encoding="utf-8")
    bad = crmkit("render", str(broken))
    assert bad.code == 2 and bad.err.startswith(f"crmkit: {broken}:") and "users" in bad.err

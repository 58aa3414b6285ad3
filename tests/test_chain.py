"""Steps that chain: a file of the wrong kind is named for what it is, paths are shown as the
person gave them, and (below) the consultant's day in an empty folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.mark.parametrize(
    ("args", "found", "wanted"),
    [
        (["assess", "--answers", "selection.toml"], "a selection file", "an assessment"),
        (["select", "--input", "assessment.toml"], "an assessment (answers) file", "a selection"),
        (["blueprint", "lint", "selection.toml"], "a selection file", "a blueprint"),
        (["render", "selection.toml"], None, None),  # a selection renders: no error
        (["push", "assessment.toml"], "an assessment (answers) file", "a blueprint"),
        (
            ["blueprint", "new", "--from-assessment", "selection.toml", "--out", "-"],
            "a selection file",
            "an assessment",
        ),
    ],
)
def test_a_file_of_the_wrong_kind_is_named(crmkit, tmp_path, args, found, wanted):
    shutil.copy(EXAMPLES / "selection.toml", tmp_path / "selection.toml")
    shutil.copy(EXAMPLES / "assessment-level3.toml", tmp_path / "assessment.toml")
    env = {"CRMKIT_WEBHOOK": "http://127.0.0.1:9/rest/1/abcdefgh/"}
    result = crmkit(*args, "--out", "-", **env) if args[0] == "render" else crmkit(*args, **env)
    if found is None:
        assert result.code == 0, result.err
        return
    assert result.code == 2
    assert result.err.count("\n") == 1, result.err
    name = args[-1] if args[-1] != "-" else args[-3]
    assert result.err.startswith(f"crmkit: {name}: this is {found}, not {wanted}"), result.err


def test_the_wrong_kind_in_russian(crmkit, tmp_path):
    shutil.copy(EXAMPLES / "selection.toml", tmp_path / "sel.toml")
    result = crmkit("assess", "--answers", "sel.toml", lang="ru")
    assert result.code == 2
    assert result.err == (
        "crmkit: sel.toml: это файл выбора CRM, а нужен файл ответов оценки зрелости "
        "(его читает crmkit select --input)\n"
    )


def test_paths_are_shown_as_given(crmkit, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.toml").write_text("title = \n", encoding="utf-8")
    relative = crmkit("select", "--input", "sub/bad.toml")
    assert relative.err.startswith("crmkit: sub/bad.toml:1"), relative.err
    absolute = crmkit("select", "--input", str(tmp_path / "sub" / "bad.toml"))
    assert absolute.err.startswith(f"crmkit: {tmp_path}/sub/bad.toml:1"), absolute.err


def _next_of(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("Next: ")]
    assert len(lines) == 1, err
    return lines[0].removeprefix("Next: ")


def test_the_consultants_day_fills_the_client_folder(crmkit, tmp_path):
    """An empty folder, no --out anywhere: every step writes where the README's client folder
    says, names what it wrote, and names the next command — which is the one run next."""
    from crmkit.sandbox import start_sandbox

    day = tmp_path / "client"
    day.mkdir()

    def step(*args: str, **env: str):  # type: ignore[no-untyped-def]
        result = crmkit(*args, cwd=day, **env)
        assert result.code == 0, (args, result.err)
        return result

    answers = str(EXAMPLES / "assessment-level3.toml")
    assessed = step("assess", "--answers", answers, "--save")
    assert "Answers saved: assessment.toml" in assessed.err
    following = _next_of(assessed.err)
    assert following == "crmkit blueprint new --from-assessment assessment.toml"

    selected = step("select", "--input", str(EXAMPLES / "selection.toml"), "--save")
    assert "Written: selection.toml" in selected.err
    # the folder has an assessment and no blueprint yet: tailoring it comes next
    assert _next_of(selected.err) == following

    made = step(*following.split()[1:])
    assert made.out == ""  # the blueprint is in the file, not dumped into the terminal
    assert "Written: blueprint.toml" in made.err
    following = _next_of(made.err)
    assert following == "crmkit blueprint lint blueprint.toml"

    linted = step(*following.split()[1:])
    following = _next_of(linted.err)
    assert following == "crmkit render blueprint.toml"

    rendered = step(*following.split()[1:])
    assert "Written: reports/blueprint.html" in rendered.err
    following = _next_of(rendered.err)
    assert following == "crmkit push blueprint.toml"
    for document in ("assessment.toml", "selection.toml"):
        result = step("render", document)
        assert f"Written: reports/{Path(document).stem}.html" in result.err

    with start_sandbox(port=0, rate=None, seed=3) as portal:
        hook = {"CRMKIT_WEBHOOK": portal.webhook_url}
        pulled = step("pull", **hook)
        assert pulled.out == ""
        assert "portal.toml" in pulled.err
        assert _next_of(pulled.err) == "crmkit render portal.toml"
        planned = step(*following.split()[1:], **hook)
        following = _next_of(planned.err)
        assert following == "crmkit push blueprint.toml --apply"
        applied = step(*following.split()[1:], "--yes", **hook)
        assert _next_of(applied.err) == "crmkit audit"
        again = step("push", **hook)  # nothing left to do: the audit comes next
        assert _next_of(again.err) == "crmkit audit"

    files = sorted(p.relative_to(day).as_posix() for p in day.rglob("*") if p.is_file())
    for expected in (
        "assessment.toml",
        "selection.toml",
        "blueprint.toml",
        "portal.toml",
        "reports/assessment.html",
        "reports/selection.html",
        "reports/blueprint.html",
    ):
        assert expected in files, files
    # a second pull does not overwrite the consultant's portal.toml
    with start_sandbox(port=0, rate=None) as portal:
        refused = crmkit("pull", cwd=day, CRMKIT_WEBHOOK=portal.webhook_url)
    assert refused.code == 2 and "portal.toml already exists" in refused.err


def test_a_selection_written_elsewhere_names_the_file_it_read(crmkit, tmp_path):
    source = str(EXAMPLES / "selection.toml")
    result = crmkit("select", "--input", source, "--format", "json", "--out", "result.json")
    assert result.code == 0, result.err
    assert "Written: result.json" in result.err
    assert _next_of(result.err) == f"crmkit render {source}"

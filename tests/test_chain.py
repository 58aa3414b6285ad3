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

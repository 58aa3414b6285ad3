"""The README's Quickstart is exactly two commands, and CI runs the second one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def quickstart_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


def test_quickstart_has_exactly_two_commands() -> None:
    commands = quickstart_commands()
    assert len(commands) == 2
    install_and_demo, tests = commands
    assert install_and_demo.endswith("crmkit demo")
    assert "pip install ." in install_and_demo
    assert "'.[test]'" in tests and tests.endswith("python -m pytest -q")


def test_ci_runs_the_readme_test_command() -> None:
    test_command = quickstart_commands()[1]
    run_script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    # the part after the venv is created and activated is the same line
    tail = test_command.split("&&", 2)[2].strip()
    assert tail in run_script


def test_every_test_dependency_is_declared() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    test_extra = " ".join(project["optional-dependencies"]["test"])
    for tool in ("pytest", "hypothesis", "ruff", "mypy", "pexpect", "playwright"):
        assert tool in test_extra

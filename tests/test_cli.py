"""The command surface: help texts in both languages, fast start, no placeholders, README."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from crmkit.cli import COMMANDS, cli
from crmkit.cli.context import AppContext
from crmkit.i18n import has_msg, msg

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("requests", "questionary", "jinja2", "markdown_it", "openpyxl", "prompt_toolkit")


def walk(
    group: click.Group, ctx: click.Context, prefix: str = ""
) -> list[tuple[str, click.Command]]:
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None, name
        path = f"{prefix}.{name}" if prefix else name
        found.append((path, command))
        if isinstance(command, click.Group):
            sub = click.Context(command, info_name=name, parent=ctx, obj=ctx.obj)
            found.extend(walk(command, sub, path))
    return found


def all_commands() -> list[tuple[str, click.Command]]:
    ctx = click.Context(cli, info_name="crmkit", obj=AppContext())
    return walk(cli, ctx)  # type: ignore[arg-type]


def test_help_lists_only_commands_that_exist(crmkit: Callable[..., object]) -> None:
    result = crmkit("--help")
    assert result.code == 0
    listed = [
        line.split()[0]
        for line in result.out.split("Commands:")[1].splitlines()
        if line.startswith("  ") and not line.startswith("   ")
    ]
    assert listed, result.out
    for name in listed:
        assert name in COMMANDS
        sub = crmkit(name, "--help")
        assert sub.code == 0, (name, sub.err)


def test_every_command_and_option_has_help_in_both_languages() -> None:
    for path, command in all_commands():
        for lang in ("ru", "en"):
            assert has_msg(f"cmd.{path}.help"), f"cmd.{path}.help"
            assert has_msg(f"cmd.{path}.short"), f"cmd.{path}.short"
            assert msg(f"cmd.{path}.help", lang).strip()  # type: ignore[arg-type]
        for param in command.params:
            if not isinstance(param, click.Option) or param.hidden:
                continue
            long = next((o[2:] for o in param.opts if o.startswith("--")), param.name)
            assert has_msg(f"cmd.{path}.opt.{long}") or has_msg(f"opt.{long}"), (path, long)


def test_russian_help(crmkit: Callable[..., object]) -> None:
    result = crmkit("--help", lang="ru")
    assert "Команды" in result.out
    assert "Показать эту справку" in result.out
    lint = crmkit("blueprint", "lint", "--lang", "ru", "--help")
    assert "Код выхода" in lint.out
    # `--lang` after `--help` still counts: main() reads it before click parses
    late = subprocess.run(
        [sys.executable, "-m", "crmkit", "blueprint", "lint", "--help", "--lang", "ru"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "Код выхода" in late.stdout


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for path, _command in all_commands():
        words = "crmkit " + path.replace(".", " ")
        assert words in readme, f"README does not mention `{words}`"


def test_help_imports_no_heavy_library() -> None:
    code = (
        "import sys, json\n"
        "from crmkit.cli import run\n"
        "from crmkit.cli.context import AppContext\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    run(['--help'], AppContext())\n"
        "print(json.dumps(sorted(m for m in sys.modules)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert not [m for m in HEAVY if m in loaded]


def test_module_entry_point_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "crmkit", "--version"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    assert result.stdout.startswith("crmkit, version ")


def test_unknown_command_and_option_exit_2(crmkit: Callable[..., object]) -> None:
    assert crmkit("frobnicate").code == 2
    assert crmkit("blueprint", "lint", "--no-such-option").code == 2


@pytest.mark.parametrize(
    "module",
    [
        "crmkit.blueprints.model",
        "crmkit.blueprints.lint",
        "crmkit.blueprints.loader",
        "crmkit.schema",
        "crmkit.tomlpos",
        "crmkit.i18n",
    ],
)
def test_pure_core_imports_no_edges(module: str) -> None:
    code = f"import sys, json, {module}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    loaded = set(json.loads(out))
    assert not loaded & {"click", "requests", "questionary", "crmkit.cli"}

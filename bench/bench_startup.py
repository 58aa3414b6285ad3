"""Start-up time of ``crmkit --help`` against a bare click application with the same command tree.

The bare application is generated from crmkit's own tree (every group, command, argument and
option, with the English help texts), written into one module that defines it all eagerly, as a
plain click program would. Both are run side by side, alternating, many times; the medians and
their ratio are printed. Both run with their bytecode cached (as after ``pip install``), in a
temporary ``PYTHONPYCACHEPREFIX``, so the working tree gets no ``__pycache__``.

Run: ``python bench/bench_startup.py [--runs N]`` (target: ``crmkit --help`` within 1.2×).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from crmkit.cli.base import _command_key
from crmkit.cli.context import AppContext
from crmkit.i18n import has_msg, msg

#: the invocations compared, as arguments after the program
CASES = (("--help",), ("blueprint", "--help"), ("select", "--help"))


def _type_source(param: click.Parameter) -> str:
    kind = param.type
    if isinstance(kind, click.Choice):
        return f"click.Choice({list(kind.choices)!r})"
    if isinstance(kind, click.IntRange | click.FloatRange):
        name = "IntRange" if isinstance(kind, click.IntRange) else "FloatRange"
        return f"click.{name}(min={kind.min!r}, max={kind.max!r})"
    if isinstance(kind, click.Path):
        return "click.Path()"
    return {"integer": "int", "float": "float"}.get(kind.name, "str")


def _help(ctx: click.Context, param: click.Parameter) -> str:
    if not isinstance(param, click.Option):
        return ""
    param.get_help_record(ctx)  # crmkit's options read their help from the catalog here
    return param.help or ""


def _command_source(cmd: click.Command, ctx: click.Context, var: str) -> Iterator[str]:
    """Lines that define ``cmd`` (and, for a group, its subcommands) as plain click code."""
    kind = "group" if isinstance(cmd, click.Group) else "command"
    key = _command_key(ctx)
    text, short = (
        msg(f"cmd.{key}.{part}", "en") if has_msg(f"cmd.{key}.{part}") else ""
        for part in ("help", "short")
    )
    settings = ', context_settings={"help_option_names": ["-h", "--help"]}' if var == "cli" else ""
    yield f"@click.{kind}({cmd.name!r}, help={text!r}, short_help={short!r}{settings})"
    for param in cmd.params:
        if param.name == "version":
            yield '@click.version_option("0.1.0", "--version", prog_name="crmkit")'
        elif isinstance(param, click.Argument):
            yield f"@click.argument({param.name!r}, type={_type_source(param)})"
        elif isinstance(param, click.Option):
            extra = "is_flag=True" if param.is_flag else f"type={_type_source(param)}"
            if param.multiple:
                extra += ", multiple=True"
            decls = ", ".join(repr(o) for o in param.opts)
            yield f"@click.option({decls}, {param.name!r}, {extra}, help={_help(ctx, param)!r})"
    yield f"def {var}(**kwargs):\n    pass\n"
    if isinstance(cmd, click.Group):
        for name in cmd.list_commands(ctx):
            sub = cmd.get_command(ctx, name)
            if sub is None:
                continue
            sub_ctx = click.Context(sub, parent=ctx, info_name=name)
            sub_var = f"{var}_{name}".replace("-", "_")
            yield from _command_source(sub, sub_ctx, sub_var)
            yield f"{var}.add_command({sub_var}, {name!r})\n"


def bare_app_source() -> str:
    """A one-module click program with crmkit's command tree and help texts (English)."""
    from crmkit.cli import cli

    ctx = click.Context(cli, info_name="crmkit", obj=AppContext(lang="en"))
    lines = [
        '"""crmkit\'s command tree as a bare click program (generated)."""',
        "import click",
        "",
    ]
    lines += _command_source(cli, ctx, "cli")
    lines += ["", 'if __name__ == "__main__":', '    cli(prog_name="crmkit")', ""]
    return "\n".join(lines)


def _environment(cache: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if cache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env["PYTHONPYCACHEPREFIX"] = cache
    env.update(CRMKIT_LANG="en", COLUMNS="100")
    return env


def _once(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) milliseconds of one run of ``command``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    wall = (time.perf_counter() - start) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


@dataclass(frozen=True)
class Startup:
    """Medians of one invocation, crmkit's and the bare app's, wall-clock and CPU."""

    case: str
    wall: float
    bare_wall: float
    cpu: float
    bare_cpu: float

    @property
    def ratio(self) -> float:
        return self.wall / self.bare_wall

    @property
    def cpu_ratio(self) -> float:
        return self.cpu / self.bare_cpu


def compare(runs: int = 40, *, bytecode: bool = True) -> list[Startup]:
    """Each case run ``runs`` times for crmkit and for the bare app, alternately."""
    results = []
    with tempfile.TemporaryDirectory(prefix="crmkit-bench-") as folder:
        bare = Path(folder) / "bare_crmkit.py"
        bare.write_text(bare_app_source(), encoding="utf-8")
        # what the ``crmkit`` console script does, as a script file like the bare app
        launcher = Path(folder) / "crmkit_launcher.py"
        launcher.write_text("from crmkit.cli import main\n\nmain()\n", encoding="utf-8")
        env = _environment(str(Path(folder) / "pycache") if bytecode else None)
        for case in CASES:
            ours = [sys.executable, str(launcher), *case]
            theirs = [sys.executable, str(bare), *case]
            for _ in range(3):  # compile and cache the bytecode, warm the file cache
                _once(ours, env)
                _once(theirs, env)
            mine: list[tuple[float, float]] = []
            plain: list[tuple[float, float]] = []
            for _ in range(runs):
                mine.append(_once(ours, env))
                plain.append(_once(theirs, env))
            results.append(
                Startup(
                    " ".join(case),
                    statistics.median(w for w, _ in mine),
                    statistics.median(w for w, _ in plain),
                    statistics.median(c for _, c in mine),
                    statistics.median(c for _, c in plain),
                )
            )
    return results


def print_comparison(results: list[Startup]) -> None:
    print(
        f"{'invocation':<18} {'crmkit':>8} {'bare click':>10} {'ratio':>6}"
        f"   {'cpu crmkit':>10} {'cpu bare':>8} {'ratio':>6}"
    )
    for r in results:
        print(
            f"{r.case:<18} {r.wall:6.1f}ms {r.bare_wall:8.1f}ms {r.ratio:5.2f}×"
            f"   {r.cpu:8.1f}ms {r.bare_cpu:6.1f}ms {r.cpu_ratio:5.2f}×"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--show-app", action="store_true", help="print the bare app and stop")
    parser.add_argument(
        "--no-bytecode",
        action="store_true",
        help="compile every module on every run (PYTHONDONTWRITEBYTECODE), as a source checkout",
    )
    options = parser.parse_args()
    if options.show_app:
        print(bare_app_source())
        return
    print_comparison(compare(options.runs, bytecode=not options.no_bytecode))


if __name__ == "__main__":
    main()

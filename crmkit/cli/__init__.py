"""The ``crmkit`` command. Nothing imports this package; it imports the library."""

from __future__ import annotations

import os
import sys

import click

from crmkit import __version__
from crmkit.cli.base import LazyGroup, app_of, option
from crmkit.cli.context import AppContext
from crmkit.errors import CrmkitError, ExitCode

#: subcommand → "module:attribute"; imported only when that command runs
COMMANDS = {
    "demo": "crmkit.cli.demo_cmd:demo",
    "assess": "crmkit.cli.assess_cmd:assess",
    "select": "crmkit.cli.select_cmd:select",
    "blueprint": "crmkit.cli.blueprint_cmd:blueprint",
    "render": "crmkit.cli.render_cmd:render",
    "pull": "crmkit.cli.pull_cmd:pull",
    "sandbox": "crmkit.cli.sandbox_cmd:sandbox",
}


@click.group(
    "crmkit",
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@option("--lang", type=click.Choice(["ru", "en"]), default=None)
@click.version_option(__version__, "--version", prog_name="crmkit")
@click.pass_context
def cli(ctx: click.Context, lang: str | None) -> None:
    app = app_of(ctx)
    if lang:
        app.lang = lang  # type: ignore[assignment]


def run(args: list[str], app: AppContext) -> int:
    """Run the CLI with ``args``; returns the exit code. Errors become one line on stderr."""
    try:
        cli.main(args=args, prog_name="crmkit", obj=app, standalone_mode=False)
    except CrmkitError as exc:
        click.echo(f"crmkit: {exc}", err=True)
        return int(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("crmkit: " + app.t("error.interrupted"), err=True)
        return int(ExitCode.INTERRUPTED)
    except KeyboardInterrupt:
        click.echo("crmkit: " + app.t("error.interrupted"), err=True)
        return int(ExitCode.INTERRUPTED)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return int(exc.exit_code)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for developers
        if os.environ.get("CRMKIT_DEBUG"):
            raise
        click.echo(
            f"crmkit: internal error: {type(exc).__name__}: {exc} "
            "(set CRMKIT_DEBUG=1 to see the traceback, and please report it)",
            err=True,
        )
        return 70
    return int(ExitCode.OK)


def main() -> None:
    args = sys.argv[1:]
    sys.exit(run(args, AppContext.from_environment(args)))

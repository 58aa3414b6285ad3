"""The ``crmkit`` command. Nothing imports this package; it imports the library."""

from __future__ import annotations

import contextlib
import contextvars
import os
import signal
import sys
import threading
from types import FrameType
from typing import Any

import click

from crmkit import __version__
from crmkit.cli.base import LazyGroup, app_of, option, version_option
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
    "push": "crmkit.cli.push_cmd:push",
    "audit": "crmkit.cli.audit_cmd:audit",
    "sandbox": "crmkit.cli.sandbox_cmd:sandbox",
}


def _lang(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """``--lang`` is handled as soon as it is read, so ``--version`` after it speaks it."""
    if value:
        app_of(ctx).lang = value  # type: ignore[assignment]
    return value


@click.group(
    "crmkit",
    cls=LazyGroup,
    lazy=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@option(
    "--lang", type=click.Choice(["ru", "en", "uk"]), default=None, is_eager=True, callback=_lang
)
@version_option(__version__)
@click.pass_context
def cli(ctx: click.Context, lang: str | None) -> None:
    from crmkit.i18n import set_run_lang

    set_run_lang(app_of(ctx).lang)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP (a closed terminal): handled like Ctrl-C, so what a person entered is
    saved and temporary files are cleared, but the exit code says which signal it was."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


#: set once the run has handled an interrupt: a signal sent again after that (below) would land
#: in the interpreter's shutdown and kill the process with the signal instead of its exit code
_INTERRUPT_HANDLED = threading.Event()


def _signal_again(hook: Any) -> None:
    """A signal that arrived inside a garbage-collector callback raised its exception where
    Python can only print and ignore it (the questionnaire then waited forever): send it again,
    from a moment later, so it lands in ordinary code — unless the run has handled one by then."""
    error = hook.exc_value
    if isinstance(error, KeyboardInterrupt):
        signum = error.signum if isinstance(error, Terminated) else signal.SIGINT

        def again() -> None:
            if not _INTERRUPT_HANDLED.is_set():
                os.kill(os.getpid(), signum)

        if not _INTERRUPT_HANDLED.is_set():
            timer = threading.Timer(0.01, again)
            timer.daemon = True
            timer.start()
        return
    sys.__unraisablehook__(hook)


def _say(app: AppContext, text: str) -> None:
    """One line on stderr, secrets masked; a closed terminal (SIGHUP) must not turn it into a
    second failure."""
    from crmkit.push.bitrix24.webhook import mask_secrets  # only when there is a line to say

    with contextlib.suppress(OSError, ValueError):
        click.echo(f"crmkit: {mask_secrets(text)}", err=True)


def run(args: list[str], app: AppContext) -> int:
    """Run the CLI with ``args``; returns the exit code. Errors become one line on stderr.

    The run's language is set in a copy of the caller's context: a Russian run does not leave
    its language behind for code that runs after it in the same process."""
    return contextvars.copy_context().run(_run, args, app)


def _run(args: list[str], app: AppContext) -> int:
    from crmkit.i18n import set_run_lang

    set_run_lang(app.lang)
    _INTERRUPT_HANDLED.clear()
    try:
        cli.main(args=args, prog_name="crmkit", obj=app, standalone_mode=False)
    except CrmkitError as exc:
        from crmkit.cli.output import as_given  # only when there is an error to say

        _say(app, as_given(str(exc), args, app.cwd))
        return int(exc.exit_code)
    except (click.exceptions.Abort, KeyboardInterrupt) as exc:
        _INTERRUPT_HANDLED.set()
        _say(app, app.t("error.interrupted"))
        if isinstance(exc, Terminated):
            return 128 + exc.signum
        return int(ExitCode.INTERRUPTED)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.exceptions.NoArgsIsHelpError as exc:  # a group without its command
        if exc.ctx is not None:
            click.echo(exc.ctx.get_help())
        return int(ExitCode.OK)
    except click.UsageError as exc:
        from crmkit.cli.usage import usage_line

        _say(app, usage_line(exc, app.lang, cli, args))
        return int(ExitCode.BAD_INPUT)
    except click.ClickException as exc:
        _say(app, exc.format_message())
        return int(ExitCode.BAD_INPUT)
    except BrokenPipeError:
        return int(ExitCode.OK)
    except Exception as exc:  # a bug: say so in one line, keep the traceback for developers
        if os.environ.get("CRMKIT_DEBUG"):
            raise
        from crmkit.files import shown

        _say(app, app.t("error.internal", error=f"{type(exc).__name__}: {shown(exc, 300)}"))
        return 70
    return int(ExitCode.OK)


def main() -> None:
    args = sys.argv[1:]
    if threading.current_thread() is threading.main_thread():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), _raise_terminated)
        sys.unraisablehook = _signal_again
    sys.exit(run(args, AppContext.from_environment(args)))

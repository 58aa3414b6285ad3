"""``crmkit demo``: the whole path on a sample client."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import LocalizedCommand, app_of, lang_option, option
from crmkit.cli.context import AppContext
from crmkit.numbers import number

#: seconds to wait with the sandbox up (for tests that interrupt the run there); not documented
PAUSE_ENV = "CRMKIT_DEMO_PAUSE"

#: what a consultant runs on a real client, in order, and the message saying what each does
NEXT_COMMANDS = (
    ("crmkit assess --save", "assess"),
    ("crmkit select --save", "select"),
    ("crmkit blueprint new --from-assessment assessment.toml", "blueprint"),
    ("crmkit pull --webhook {webhook}", "pull"),
    ("crmkit audit --webhook … --answers assessment.toml --format html --out reports/audit.html",
     "audit"),
    ("crmkit push blueprint.toml --webhook …", "push"),
    ("crmkit push blueprint.toml --webhook … --apply", "apply"),
)  # fmt: skip


@click.command("demo", cls=LocalizedCommand)
@option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("crmkit-demo"),
    show_default=True,
)
@option("--force", is_flag=True, default=False)
@lang_option()
@click.pass_context
def demo(ctx: click.Context, out: Path, force: bool) -> None:
    from crmkit.demo import DemoStep, prepare_folder, run_demo

    app = app_of(ctx)
    folder = app.resolve(out)
    prepare_folder(folder, app.lang, force=force, shown=str(out))

    def show(step: DemoStep) -> None:
        seconds = app.t("demo.seconds", seconds=number(step.seconds, app.lang, 1))
        click.echo(f"✓ {step.summary}  ({seconds})")
        for line in step.details:
            click.echo(f"    {line}")
        for path in step.files:
            click.echo(f"    {_shown(path, folder, out)}")

    click.echo(app.t("demo.start", folder=str(out)))
    pause = _pause(app)
    report = run_demo(
        folder, app.lang, progress=show, clock=app.clock, pause=pause, sleep=app.sleep
    )
    click.echo(app.t("demo.done", seconds=number(report.seconds, app.lang, 1)))
    _where(app, out)
    _next(app)


def _shown(path: Path, folder: Path, out: Path) -> str:
    """A file of the demo as the person would type it: under ``--out`` as they gave it."""
    return str(out / path.relative_to(folder)) if path.is_relative_to(folder) else str(path)


def _pause(app: AppContext) -> float:
    try:
        return max(0.0, float(app.environ.get(PAUSE_ENV, "0") or 0))
    except ValueError:
        return 0.0


def _where(app: AppContext, out: Path) -> None:
    click.echo("")
    click.echo(app.t("demo.where.title", folder=str(out)))
    places = (
        ("report", "reports/report.html"),
        ("reports", "reports"),
        ("data", ""),
        ("push", "push"),
    )
    for key, name in places:
        click.echo(f"  {app.t(f'demo.where.{key}', path=str(out / name) if name else str(out))}")


def _next(app: AppContext) -> None:
    click.echo("")
    click.echo(app.t("demo.next.title"))
    webhook = app.t("demo.next.webhook")
    commands = [(c.format(webhook=webhook), app.t(f"demo.next.{key}")) for c, key in NEXT_COMMANDS]
    commands.append(("crmkit render .", app.t("demo.next.render")))
    for command, what in commands:
        click.echo(f"  {command}")
        click.echo(f"      {what}")
    click.echo(app.t("demo.next.help"))

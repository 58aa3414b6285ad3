"""``crmkit demo``: the whole path on a sample client."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import LocalizedCommand, app_of, lang_option, option
from crmkit.cli.output import note


@click.command("demo", cls=LocalizedCommand)
@option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("crmkit-demo"),
    show_default=True,
)
@lang_option()
@click.pass_context
def demo(ctx: click.Context, out: Path) -> None:
    from crmkit.demo import DemoStep, run_demo

    app = app_of(ctx)
    folder = app.resolve(out)

    def show(step: DemoStep) -> None:
        click.echo(f"✓ {step.summary}  ({step.seconds:.1f} s)")
        for path in step.files:
            shown = path.relative_to(folder.parent) if path.is_relative_to(folder.parent) else path
            click.echo(f"    {shown}")

    click.echo(app.t("demo.start", folder=str(out)))
    report = run_demo(folder, app.lang, progress=show, clock=app.clock)
    total = sum(step.seconds for step in report.steps)
    click.echo(
        app.t("demo.done", seconds=f"{total:.1f}", page=str(out / "reports" / "blueprint.html"))
    )
    note(app.t("demo.next"))

"""``crmkit render FILE --format md|html [--out PATH]``."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import LocalizedCommand, app_of, format_option, lang_option, option
from crmkit.cli.output import emit, out_path


@click.command("render", cls=LocalizedCommand)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@format_option(("md", "html"), default="md")
@option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--library", "library_dirs", multiple=True, type=click.Path(file_okay=False))
@lang_option()
@click.pass_context
def render(
    ctx: click.Context, file: Path, fmt: str, out: Path | None, library_dirs: tuple[str, ...]
) -> None:
    from crmkit.blueprints.library import Library
    from crmkit.export.documents import render_file

    app = app_of(ctx)
    library = Library.default(tuple(app.resolve(p) for p in library_dirs) + app.library_dirs)
    text = render_file(app.resolve(file), fmt, app.lang, library)
    emit(text, out_path(app, out))

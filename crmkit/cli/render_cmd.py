"""``crmkit render FILE|ID [--format html|md] [--out PATH]``.

Without ``--out`` the document goes where the client folder keeps what the client reads:
``reports/<name>.<format>``; ``--out -`` prints it. A library id (``lead-funnel``) renders that
library blueprint, as ``lint`` takes one.
"""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import LocalizedCommand, app_of, format_option, lang_option, option
from crmkit.cli.output import client_file, done, emit, quoted

#: what to run once a document of each kind is rendered
_NEXT = {
    "blueprint": "crmkit push {file}",
    "assessment": "crmkit select --save",
    "selection": "crmkit blueprint new --from-assessment assessment.toml",
}


@click.command("render", cls=LocalizedCommand)
@click.argument("file", metavar="FILE|ID", type=click.Path(dir_okay=False))
@format_option(("html", "md"), default="html")
@option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--library", "library_dirs", multiple=True, type=click.Path(file_okay=False))
@lang_option()
@click.pass_context
def render(
    ctx: click.Context, file: str, fmt: str, out: Path | None, library_dirs: tuple[str, ...]
) -> None:
    from crmkit.blueprints.library import Library
    from crmkit.export.documents import render_file, render_library_blueprint
    from crmkit.files import is_file

    app = app_of(ctx)
    library = Library.default(tuple(app.resolve(p) for p in library_dirs) + app.library_dirs)
    path = app.resolve(file)
    by_id = not is_file(path) and not file.endswith(".toml") and "/" not in file
    name = file if by_id else Path(file).stem
    target = client_file(app, out, f"reports/{name}.{fmt}")
    if by_id:
        kind, text = "blueprint", render_library_blueprint(file, fmt, app.lang, library)
    else:
        kind, text = render_file(path, fmt, app.lang, library)
    emit(text, target.path)
    if target.path is not None:
        done(app, target.shown, _NEXT[kind].format(file=quoted(file)))

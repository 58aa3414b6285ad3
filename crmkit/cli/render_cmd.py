"""``crmkit render FILE|ID|DIR [--format html|md] [--out PATH]``.

Without ``--out`` the document goes where the client folder keeps what the client reads:
``reports/<name>.<format>``; ``--out -`` prints it. A library id (``lead-funnel``) renders that
library blueprint, as ``lint`` takes one. A folder (``crmkit render .``) becomes one combined
report, ``reports/report.html``. The cover comes from the folder's ``client.toml``; the options
``--client``, ``--consultant``, ``--doc-version`` and ``--logo`` override it.
"""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import LocalizedCommand, app_of, format_option, lang_option, option
from crmkit.cli.output import client_file, document_meta, done, emit, quoted


def _is_dir(path: Path) -> bool:
    """``path.is_dir()`` that answers False instead of raising (a name too long, a loop)."""
    try:
        return path.is_dir()
    except (OSError, ValueError):
        return False


#: what to run once a document of each kind is rendered
_NEXT = {
    "blueprint": "crmkit push {file}",
    "assessment": "crmkit select --save",
    "selection": "crmkit blueprint new --from-assessment assessment.toml",
}


@click.command("render", cls=LocalizedCommand)
@click.argument("file", metavar="FILE|ID|DIR", type=click.Path())
@format_option(("html", "md"), default="html")
@option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--client", "client", default="")
@option("--consultant", "consultant", default="")
@option("--doc-version", "doc_version", default="")
@option("--logo", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--library", "library_dirs", multiple=True, type=click.Path(file_okay=False))
@lang_option()
@click.pass_context
def render(
    ctx: click.Context,
    file: str,
    fmt: str,
    out: Path | None,
    client: str,
    consultant: str,
    doc_version: str,
    logo: Path | None,
    library_dirs: tuple[str, ...],
) -> None:
    from crmkit.blueprints.library import Library
    from crmkit.errors import UsageError
    from crmkit.export.documents import render_file, render_library_blueprint
    from crmkit.files import is_file

    app = app_of(ctx)
    library = Library.default(tuple(app.resolve(p) for p in library_dirs) + app.library_dirs)
    path = app.resolve(file)
    is_folder = _is_dir(path)
    folder = path if is_folder else path.parent if is_file(path) else app.cwd
    meta = document_meta(
        app,
        folder,
        client=client,
        consultant=consultant,
        version=doc_version,
        logo=app.resolve(logo) if logo is not None else None,
    )
    if is_folder:
        if fmt != "html":
            raise UsageError(app.t("render.combined_html"))
        from crmkit.export.combined import EmptyFolder, render_folder

        target = client_file(app, out, str(Path(file) / "reports" / "report.html"))
        try:
            report = render_folder(path, app.lang, library=library, meta=meta)
        except EmptyFolder as empty:  # a folder given for a file, most likely: say how to use it
            raise click.UsageError(f"{file}: {empty.problem}", ctx) from None
        emit(report, target.path)
        if target.path is not None:
            done(app, target.shown)
        return
    by_id = not is_file(path) and not file.endswith(".toml") and "/" not in file
    name = file if by_id else Path(file).stem
    target = client_file(app, out, f"reports/{name}.{fmt}")
    if by_id:
        kind, text = "blueprint", render_library_blueprint(file, fmt, app.lang, library, meta)
    else:
        kind, text = render_file(path, fmt, app.lang, library, meta)
    emit(text, target.path)
    if target.path is not None:
        done(app, target.shown, _NEXT[kind].format(file=quoted(file)))

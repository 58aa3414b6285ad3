"""``crmkit select``: the five-step CRM selection; ``crmkit select catalog``: the systems."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from crmkit.cli.base import (
    LazyGroup,
    app_of,
    command,
    format_option,
    lang_option,
    option,
    save_option,
)
from crmkit.cli.context import AppContext
from crmkit.cli.output import (
    client_file,
    document_meta,
    done,
    emit,
    emit_bytes,
    note,
    out_path,
    quoted,
    to_json,
)
from crmkit.errors import UsageError
from crmkit.i18n import Lang

if TYPE_CHECKING:
    from crmkit.select.run import SelectionResult

_FILE = click.Path(path_type=Path, dir_okay=False)


@click.group("select", cls=LazyGroup, invoke_without_command=True)
@option("--input", "input_path", type=_FILE, default=None)
@option("--catalog", "catalog_path", type=_FILE, default=None)
@save_option("selection.toml")
@format_option(("text", "json", "md", "html", "xlsx"))
@option("--out", type=_FILE, default=None)
@option("--seed", type=click.IntRange(min=0), default=None)
@option("--force", is_flag=True, default=False)
@lang_option()
@click.pass_context
def select(
    ctx: click.Context,
    input_path: Path | None,
    catalog_path: Path | None,
    save_path: Path | None,
    fmt: str,
    out: Path | None,
    seed: int | None,
    force: bool,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from crmkit.files import read_text
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import load_selection, parse_selection_text, read_selection

    app = app_of(ctx)
    if fmt == "xlsx" and out is None:
        raise UsageError(app.t("select.xlsx_needs_out"))
    out_given = out
    out = out_path(app, out)
    saved: str | None = None
    catalog = load_catalog(app.resolve(catalog_path) if catalog_path else None)
    lib = library()
    if input_path is not None:
        path = app.resolve(input_path)
        selection = load_selection(path, catalog, lib)
        if save_path is not None:
            from crmkit.files import write_text

            # the consultant edits this file: an existing one is kept unless it is the input
            if app.resolve(save_path) != path:
                client_file(app, save_path, "selection.toml", edited=True, force=force)
            write_text(app.resolve(save_path), read_text(path))
            saved = str(save_path)
    else:
        if not app.interactive:
            raise UsageError(app.t("select.no_tty"))
        from crmkit.select.prompt import run_wizard

        shown = str(save_path or "selection.toml")  # as the person gave it
        target = app.resolve(shown)
        start = None
        if target.exists():
            doc = parse_selection_text(read_text(target), str(target))
            read_selection(doc, catalog, lib, partial=True)  # complain now, not at the end
            start = doc.data
            note(app.t("select.wiz.resumed", path=shown))
        data = run_wizard(
            catalog=catalog,
            lib=lib,
            lang=app.lang,
            save=target,
            start=start,
            source=str(target),
            shown=shown,
        )
        note(app.t("select.saved", path=shown))
        saved = shown
        import tomli_w

        from crmkit.files import parse_toml

        selection = read_selection(parse_toml(tomli_w.dumps(data), str(target)), catalog, lib)
    result = run_selection(selection, catalog, lib, seed=seed)
    meta = document_meta(app, app.cwd) if fmt in ("md", "html") else None
    _render(result, fmt, out, app.lang, meta)
    if saved is not None or out is not None:
        if saved is not None and input_path is not None:
            done(app, saved)
        source = saved or (str(input_path) if input_path is not None else None)
        done(app, str(out_given) if out is not None else None, _next_step(app, source))


def _next_step(app: AppContext, selection: str | None) -> str:
    """After a selection: tailor the blueprint from the assessment, if the folder has one;
    otherwise the document of the selection file (the one saved, else the one read)."""
    if app.resolve("assessment.toml").exists() and not app.resolve("blueprint.toml").exists():
        return "crmkit blueprint new --from-assessment assessment.toml"
    return f"crmkit render {quoted(selection or 'selection.toml')}"


def _render(
    result: SelectionResult, fmt: str, out: Path | None, language: Lang, meta: Any = None
) -> None:
    """The result in ``fmt``; ``meta`` is the documents' cover (the client folder's)."""
    from crmkit.export.markdown import framed_markdown
    from crmkit.select import report

    if fmt == "json":
        emit(to_json(report.to_data(result, language)), out)
    elif fmt == "md":
        markdown = report.render_markdown(result, language)
        emit(framed_markdown(markdown, meta, "", language) if meta else markdown, out)
    elif fmt == "html":
        emit(report.render_html(result, language, meta), out)
    elif fmt == "xlsx":
        from crmkit.select.xlsx import render_xlsx

        emit_bytes(render_xlsx(result, language), out)
    else:
        emit(report.render_text(result, language), out)


@command("catalog")
@option("--catalog", "catalog_path", type=_FILE, default=None)
@format_option(("text", "json"))
@lang_option()
@click.pass_context
def catalog(ctx: click.Context, catalog_path: Path | None, fmt: str) -> None:
    from crmkit.select.catalog import load_catalog
    from crmkit.select.report import catalog_data, catalog_text

    app = app_of(ctx)
    systems = load_catalog(app.resolve(catalog_path) if catalog_path else None)
    if fmt == "json":
        emit(to_json(catalog_data(systems, app.lang)))
    else:
        emit(catalog_text(systems, app.lang))


select.add_command(catalog)

"""``crmkit blueprint list | lint | new``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from crmkit.cli.base import LazyGroup, LocalizedCommand, app_of, format_option, lang_option, option
from crmkit.cli.output import client_file, done, emit, note, quoted, to_json
from crmkit.errors import ValidationFailed


@click.group("blueprint", cls=LazyGroup)
@lang_option()
def blueprint() -> None:
    pass


def _library(ctx: click.Context, extra: tuple[str, ...]):  # type: ignore[no-untyped-def]
    from crmkit.blueprints.library import Library

    app = app_of(ctx)
    return Library.default(tuple(app.resolve(p) for p in extra) + app.library_dirs)


library_option = option(
    "--library", "library_dirs", multiple=True, type=click.Path(file_okay=False)
)


@blueprint.command("list", cls=LocalizedCommand)
@lang_option()
@format_option(("text", "json"))
@library_option
@click.pass_context
def list_cmd(ctx: click.Context, fmt: str, library_dirs: tuple[str, ...]) -> None:
    from crmkit.blueprints.service import list_library

    app = app_of(ctx)
    entries = list_library(_library(ctx, library_dirs))
    if fmt == "json":
        emit(to_json([e.to_dict(app.lang) for e in entries]))
        return
    lines = []
    for entry in entries:
        bp = entry.blueprint
        lines.append(f"{entry.id}  —  {bp.name.get(app.lang)}")
        for p in bp.pipelines:
            kind = app.t(f"blueprint.kind.{p.kind}")
            lines.append(
                f"    {p.code:<20} {kind:<14} {app.t('blueprint.stages', count=len(p.stages))}"
            )
        if bp.fields:
            lines.append(f"    {app.t('blueprint.fields', count=len(bp.fields))}")
    emit("\n".join(lines) + "\n")


@blueprint.command("lint", cls=LocalizedCommand)
@click.argument("target", metavar="FILE")
@lang_option()
@format_option(("text", "json"))
@option("--max-stages", type=click.IntRange(min=1), default=None)
@option("--disable", multiple=True, metavar="RULE")
@option("--strict", is_flag=True, default=False)
@library_option
@click.pass_context
def lint_cmd(
    ctx: click.Context,
    target: str,
    fmt: str,
    max_stages: int | None,
    disable: tuple[str, ...],
    strict: bool,
    library_dirs: tuple[str, ...],
) -> None:
    from crmkit.blueprints.lint import default_settings, with_overrides
    from crmkit.blueprints.service import lint_target
    from crmkit.schema import LoadError

    app = app_of(ctx)
    settings = default_settings()
    unknown = [d for d in disable if d not in settings.rules]
    if unknown:
        raise click.BadParameter(
            app.t(
                "load.rules.unknown_rules",
                names=", ".join(unknown),
                known=", ".join(sorted(settings.rules)),
            ),
            param_hint="--disable",
        )
    settings = with_overrides(settings, max_stages=max_stages, disabled=disable)
    library = _library(ctx, library_dirs)
    target_path = str(app.resolve(target)) if Path(target).suffix == ".toml" else target
    try:
        report = lint_target(target_path, library, app.lang, settings)
    except LoadError as exc:
        # lint lists every load problem (other commands show the first one)
        for problem in exc.problems[:-1]:
            click.echo(f"crmkit: {problem}", err=True)
        raise ValidationFailed(str(exc.problems[-1])) from None
    report = type(report)(target, report.findings)
    if fmt == "json":
        emit(to_json(report.to_dict()))
    else:
        emit(_lint_text(report, target, target_path, app.t))
    if report.failed(strict):
        counts = report.counts
        raise ValidationFailed(
            app.t("lint.failed", errors=counts["error"], warnings=counts["warning"])
        )
    done(app, None, f"crmkit render {quoted(target)}")


def _lint_text(report: Any, target: str, opened: str, t: Callable[..., str]) -> str:
    """Findings grouped by rule, errors first, each group with its count; file paths as the
    person gave them (the loader names files by their full path)."""
    order = {"error": 0, "warning": 1, "info": 2}
    groups: dict[str, list[Any]] = {}
    for f in sorted(report.findings, key=lambda f: (order.get(f.severity, 3), f.rule)):
        groups.setdefault(f.rule, []).append(f)
    lines = []
    for rule, found in groups.items():
        first = found[0]
        severity = t("lint.severity." + first.severity)
        lines.append(
            t("lint.group", rule=rule, severity=severity, count=len(found), title=first.title)
        )
        for f in found:
            where = (f.where or target).replace(opened, target)
            lines.append(f"  {where}: {f.path}: {f.message}")
        lines.append("")
    counts = report.counts
    lines.append(
        t("lint.summary", errors=counts["error"], warnings=counts["warning"], infos=counts["info"])
    )
    return "\n".join(lines) + "\n"


@blueprint.command("new", cls=LocalizedCommand)
@option("--from-assessment", "assessment", type=click.Path(dir_okay=False, path_type=Path))
@option("--from", "base", metavar="ID|FILE", default=None)
@option("--questionnaire", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--force", is_flag=True, default=False)
@lang_option()
@library_option
@click.pass_context
def new_cmd(
    ctx: click.Context,
    assessment: Path | None,
    base: str | None,
    questionnaire: Path | None,
    out: Path | None,
    force: bool,
    library_dirs: tuple[str, ...],
) -> None:
    from datetime import date

    from crmkit.blueprints.service import new_blueprint
    from crmkit.errors import UsageError

    app = app_of(ctx)
    if (assessment is None) == (base is None):
        raise UsageError(app.t("blueprint.new.one_source"))
    target = client_file(app, out, "blueprint.toml", edited=True, force=force)
    path_like = base is not None and (base.endswith(".toml") or "/" in base)
    made = new_blueprint(
        library=_library(ctx, library_dirs),
        lang=app.lang,
        today=date.fromtimestamp(app.clock()).isoformat(),
        assessment=app.resolve(assessment) if assessment else None,
        base=None if path_like else base,
        base_path=app.resolve(base) if base is not None and path_like else None,
        questionnaire=app.resolve(questionnaire) if questionnaire else None,
        origin=f"--from-assessment {assessment}" if assessment else f"--from {base}",
    )
    emit(made.text, target.path)
    if target.path is not None:
        pipelines = len(made.blueprint.pipelines)
        note(app.t("blueprint.new.written", path=target.shown, pipelines=pipelines))
        done(app, None, f"crmkit blueprint lint {quoted(target.shown)}")
    if made.errors:
        raise ValidationFailed(app.t("lint.failed", errors=made.errors, warnings=0))

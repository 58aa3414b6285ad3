"""Click building blocks: localized help, lazy subcommands, common options.

Help texts live in the message catalog under ``cmd.<command path>.help`` and
``cmd.<command path>.opt.<option>`` (falling back to ``opt.<option>``), in both languages.
Subcommands are imported only when run, so ``crmkit --help`` stays fast and loads none of the
heavy libraries.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from crmkit.cli.context import AppContext
from crmkit.i18n import Lang, has_msg, msg

F = TypeVar("F", bound=Callable[..., Any])


def app_of(ctx: click.Context) -> AppContext:
    app = ctx.find_object(AppContext)
    if app is None:
        app = AppContext.from_environment()
        ctx.obj = app
    return app


def _lang(ctx: click.Context | None) -> Lang:
    if ctx is None:
        return "en"
    app = ctx.find_object(AppContext)
    return app.lang if app is not None else "en"


def _command_key(ctx: click.Context) -> str:
    names: list[str] = []
    current: click.Context | None = ctx
    while current is not None and current.parent is not None:
        names.append(current.info_name or "")
        current = current.parent
    return ".".join(reversed(names)) or "crmkit"


def _help_for(key: str, lang: Lang) -> str:
    full = f"cmd.{key}.help"
    return msg(full, lang) if has_msg(full) else ""


class LocalizedOption(click.Option):
    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        name = next((o[2:] for o in self.opts if o.startswith("--")), self.name or "")
        lang = _lang(ctx)
        for key in (f"cmd.{_command_key(ctx)}.opt.{name}", f"opt.{name}"):
            if has_msg(key):
                self.help = msg(key, lang)
                break
        return super().get_help_record(ctx)


def _localize_help_option(ctx: click.Context, option: click.Option | None) -> click.Option | None:
    if option is not None:
        option.help = msg("opt.help", _lang(ctx))
    return option


#: a placeholder click writes in capitals (FILE, INTEGER RANGE, COMMAND, [ARGS]...)
_METAVAR_WORD = re.compile(r"\b(?:INTEGER RANGE|FLOAT RANGE|[A-Z]{2,})\b")
#: what click adds after an option's help: ``[default: text; x>=1]``
_HELP_EXTRA = re.compile(r"\[([^\[\]]*)\]$")


def localized_metavar(text: str, lang: Lang) -> str:
    """``FILE`` → ``ФАЙЛ``, ``[OPTIONS] COMMAND [ARGS]...`` → ``[ПАРАМЕТРЫ] КОМАНДА
    [АРГУМЕНТЫ]...``; a word with no translation (ID, URL) stays."""

    def word(match: re.Match[str]) -> str:
        key = "cli.metavar." + match.group().replace(" ", "_")
        return msg(key, lang) if has_msg(key) else match.group()

    return _METAVAR_WORD.sub(word, text)


def _localized_extra(help_text: str, lang: Lang) -> str:
    """``[default: text]`` → ``[по умолчанию: text]``, ``[required]`` → ``[обязательный]``."""

    def extra(match: re.Match[str]) -> str:
        items = []
        for item in match.group(1).split("; "):
            if item.startswith("default: "):
                item = msg("cli.default", lang, default=item.removeprefix("default: "))
            elif item == "required":
                item = msg("cli.required", lang)
            items.append(item)
        return "[" + "; ".join(items) + "]"

    return _HELP_EXTRA.sub(extra, help_text)


class _LocalizedHeadings:
    """``Usage:``, ``Options``, placeholders (``FILE``) and ``[default: …]`` in the run's
    language (click writes them in English)."""

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = _lang(ctx)
        pieces = self.collect_usage_pieces(ctx)  # type: ignore[attr-defined]
        line = localized_metavar(" ".join(pieces), lang)
        formatter.write_usage(ctx.command_path, line, prefix=msg("cli.usage", lang) + " ")

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = _lang(ctx)
        rows = [
            (localized_metavar(record[0], lang), _localized_extra(record[1], lang))
            for param in self.get_params(ctx)  # type: ignore[attr-defined]
            if (record := param.get_help_record(ctx)) is not None
        ]
        if rows:
            with formatter.section(msg("cli.options", lang)):
                formatter.write_dl(rows)
        if isinstance(self, click.Group):
            self.format_commands(ctx, formatter)


class LocalizedCommand(_LocalizedHeadings, click.Command):
    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _localize_help_option(ctx, super().get_help_option(ctx))

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.help = _help_for(_command_key(ctx), _lang(ctx))
        super().format_help_text(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help or ""


class LazyGroup(_LocalizedHeadings, click.Group):
    """A group whose subcommands are imported on first use (``"module:attr"`` entries)."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        return _localize_help_option(ctx, super().get_help_option(ctx))

    def list_commands(self, ctx: click.Context) -> list[str]:
        # only commands whose module exists: --help never lists a placeholder
        available = {
            name
            for name, target in self.lazy.items()
            if importlib.util.find_spec(target.split(":")[0]) is not None
        }
        return sorted(set(super().list_commands(ctx)) | available)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module_name, attr = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attr)
            self.add_command(command, cmd_name)
            del self.lazy[cmd_name]
        return super().get_command(ctx, cmd_name)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        self.help = _help_for(_command_key(ctx), _lang(ctx))
        super().format_help_text(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Short help comes from the catalog, so listing does not import the commands.
        lang = _lang(ctx)
        prefix = _command_key(ctx)
        rows = []
        for name in self.list_commands(ctx):
            key = f"{prefix}.{name}" if prefix != "crmkit" else name
            full = f"cmd.{key}.short"
            rows.append((name, msg(full, lang) if has_msg(full) else ""))
        if rows:
            with formatter.section(msg("cli.commands", lang)):
                formatter.write_dl(rows)


def command(name: str) -> Callable[[F], click.Command]:
    return click.command(name, cls=LocalizedCommand)


def option(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    return click.option(*decls, cls=LocalizedOption, **kwargs)


def version_option(version: str) -> Callable[[F], F]:
    """``--version``: «crmkit, версия 0.1.0» in the run's language (``--lang`` before it
    counts: both are eager, and eager options are handled in the order they are typed)."""

    def show(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
        if value and not ctx.resilient_parsing:
            click.echo(msg("cli.version", _lang(ctx), prog="crmkit", version=version))
            ctx.exit()

    return option(
        "--version",
        is_flag=True,
        expose_value=False,
        is_eager=True,
        callback=show,
    )


def save_option(default: str) -> Callable[[F], F]:
    """``--save [FILE]``: with no name, ``default`` in the client folder (the current one)."""
    from pathlib import Path  # not at import: ``crmkit --help`` needs no pathlib

    return option(
        "--save",
        "save_path",
        type=click.Path(path_type=Path, dir_okay=False),
        default=None,
        is_flag=False,
        flag_value=Path(default),
        metavar="[FILE]",
    )


def lang_option() -> Callable[[F], F]:
    """``--lang`` on a subcommand; it overrides the group's and the locale's."""

    def apply(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        if value:
            from crmkit.i18n import set_run_lang

            app_of(ctx).lang = value  # type: ignore[assignment]
            app_of(ctx).lang_explicit = True
            set_run_lang(value)  # type: ignore[arg-type]
        return value

    return option(
        "--lang",
        type=click.Choice(["ru", "en", "uk"]),
        callback=apply,
        expose_value=False,
        is_eager=True,
    )


def format_option(choices: tuple[str, ...], default: str = "text") -> Callable[[F], F]:
    return option(
        "--format",
        "fmt",
        type=click.Choice(list(choices)),
        default=default,
        show_default=True,
    )

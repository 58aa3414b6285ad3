"""Usage mistakes as one line in the run's language.

click prints a three-to-four-line block in English (``Usage: …``, ``Try …``, ``Error: …``) and
quotes whatever was typed, a webhook's secret code included. crmkit prints one line,
``crmkit: <what is wrong> (<where the help is>)``, with every quoted value shortened and every
webhook-shaped text masked.
"""

from __future__ import annotations

import re

import click

from crmkit.files import shown
from crmkit.i18n import Lang, msg
from crmkit.push.bitrix24.webhook import mask_secrets

_EXTRA = re.compile(r"^Got unexpected extra arguments? \((?P<args>.*)\)$", re.S)
_NEEDS_VALUE = re.compile(r"requires (an argument|\d+ arguments)")
_NO_VALUE = re.compile(r"does not take a value")


def usage_line(exc: click.UsageError, lang: Lang, root: click.Group, args: list[str]) -> str:
    """The one line for ``exc``: the problem, then the hint to the command's ``--help``."""
    problem = mask_secrets(_problem(exc, lang))
    ctx = exc.ctx
    path = ctx.command_path if ctx is not None else _command_path(root, args)
    return f"{problem} ({msg('usage.hint', lang, command=path)})"


def _command_path(root: click.Group, args: list[str]) -> str:
    """``crmkit blueprint lint`` from the arguments, for errors click raises without a context
    (an option missing its value)."""
    names = ["crmkit"]
    group: click.Command = root
    with click.Context(root, info_name="crmkit", resilient_parsing=True) as ctx:
        for arg in args:
            if not isinstance(group, click.Group):
                break
            if arg.startswith("-"):
                continue
            command = group.get_command(ctx, arg)
            if command is None:
                continue
            names.append(arg)
            group = command
    return " ".join(names)


def _value(text: object) -> str:
    return mask_secrets(shown(text))


def _param_name(param: click.Parameter | None, lang: Lang) -> str:
    if param is None:
        return "?"
    if isinstance(param, click.Option):
        longest = max(param.opts, key=len) if param.opts else (param.name or "?")
        return longest
    from crmkit.cli.base import localized_metavar

    return localized_metavar(param.human_readable_name, lang)


def _problem(exc: click.UsageError, lang: Lang) -> str:
    if isinstance(exc, click.NoSuchOption):
        close = [p for p in (exc.possibilities or []) if p]
        text = msg("usage.no_option", lang, option=_value(exc.option_name))
        if close:
            text += msg("usage.did_you_mean", lang, names=", ".join(close[:3]))
        return text
    no_such_command = getattr(click.exceptions, "NoSuchCommand", None)
    if no_such_command is not None and isinstance(exc, no_such_command):
        name = getattr(exc, "command_name", "")
        return msg("usage.no_command", lang, name=_value(name))
    if isinstance(exc, click.BadOptionUsage) and _NEEDS_VALUE.search(exc.message):
        return msg("usage.needs_value", lang, option=_value(exc.option_name))
    if isinstance(exc, click.BadOptionUsage) and _NO_VALUE.search(exc.message):
        return msg("usage.no_value", lang, option=_value(exc.option_name))
    if isinstance(exc, click.MissingParameter):
        name = _param_name(exc.param, lang)
        key = "usage.missing_option" if isinstance(exc.param, click.Option) else "usage.missing"
        return msg(key, lang, name=name)
    if isinstance(exc, click.BadParameter):
        return _bad_value(exc, lang)
    extra = _EXTRA.match(exc.message)
    if extra:
        return msg("usage.extra", lang, args=_value(extra.group("args")))
    if exc.message.strip() == "Missing command.":
        return msg("usage.missing_command", lang)
    return _value(exc.message.rstrip("."))


def _bad_value(exc: click.BadParameter, lang: Lang) -> str:
    param = exc.param
    name = _param_name(param, lang)
    kind = param.type if param is not None else None
    typed = _typed_value(exc.message)
    if isinstance(kind, click.Choice):
        return msg(
            "usage.choice",
            lang,
            name=name,
            value=_value(typed or "?"),
            choices=", ".join(str(c) for c in kind.choices),
        )
    if isinstance(kind, click.Path):
        for english, key in (
            ("is a directory", "usage.path_directory"),
            ("is a file", "usage.path_file"),
            ("does not exist", "usage.path_missing"),
        ):
            if english in exc.message:
                return msg(key, lang, name=name, value=_value(typed or "?"))
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        if "is not a valid" in exc.message:
            return msg("usage.number", lang, name=name, value=_value(typed or "?"))
        bounds = re.search(r"in the range (?P<range>\S+?)\.?$", exc.message)
        value = re.match(r"^'?(?P<value>[^ ']*)'? is not in the range", exc.message)
        return msg(
            "usage.range",
            lang,
            name=name,
            value=_value(value.group("value") if value else "?"),
            detail=_value(bounds.group("range") if bounds else exc.message),
        )
    return msg("usage.bad_value", lang, name=name, detail=_value(exc.message.rstrip(".")))


def _typed_value(message: str) -> str | None:
    """The value click quotes at the start of its message (``'x' is not one of …``)."""
    match = re.match(r"^[A-Za-z ]*?'(?P<value>.*?)'(?= is | does )", message, re.S)
    return match.group("value") if match else None

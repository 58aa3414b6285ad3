"""The one place commands print results: to the terminal or, with --out, to a file."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from crmkit.cli.context import AppContext
from crmkit.errors import UsageError
from crmkit.i18n import Lang

#: files of the client folder, opened by default when no path is given
CLIENT_FILES = ("assessment.toml", "selection.toml", "blueprint.toml", "portal.toml", "reports")


def as_given(text: str, args: list[str], cwd: Path) -> str:
    """``text`` with each file the person named by a relative path (or a client-folder file
    opened by default) shown that way again: commands open files by their full path."""
    names = [a for a in args if a and not a.startswith("-")]
    names += [a.split("=", 1)[1] for a in args if a.startswith("--") and "=" in a]
    for name in sorted({*names, *CLIENT_FILES}, key=len, reverse=True):
        if not Path(name).is_absolute() and str(cwd / name) not in names:
            full = str(cwd / name)
            if full in text:  # the whole path only: "…/select" is not "…/selection.toml"
                text = re.sub(re.escape(full) + r"(?![\w.-])", name.replace("\\", r"\\"), text)
    return text


def to_json(data: Any) -> str:
    import json  # not at import: ``--help`` of a command needs no JSON

    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def out_path(
    app: AppContext, out: Path | None, *, edited: bool = False, force: bool = False
) -> Path | None:
    """Where ``--out`` asks a result to go: None (the terminal) for no option or ``-``.

    ``edited``: the file is one a person edits (a pulled blueprint, answers, a selection), so
    an existing one is replaced only with ``--force`` — hand edits are never lost silently."""
    if out is None or str(out) == "-":
        return None
    target = app.resolve(out)
    if edited and not force and target.exists():
        raise UsageError(app.t("out.exists", path=str(out)))
    return target


@dataclass(frozen=True)
class Target:
    """Where a command writes: ``path`` (None: the terminal) and how to name it to the person."""

    path: Path | None
    shown: str


def client_file(
    app: AppContext,
    out: Path | None,
    default: str,
    *,
    edited: bool = False,
    force: bool = False,
) -> Target:
    """``--out`` if given (``-``: the terminal), else ``default`` in the client folder (the
    current one): assessment.toml, selection.toml, blueprint.toml, portal.toml, reports/…

    ``edited`` files are replaced only with ``--force`` (see ``out_path``)."""
    shown = str(out) if out is not None else default
    if shown == "-":
        return Target(None, "-")
    target = app.resolve(shown)
    if edited and not force and target.exists():
        raise UsageError(app.t("out.exists", path=shown))
    return Target(target, shown)


def quoted(path: str) -> str:
    """A path as it would be typed in a shell command."""
    import shlex

    return shlex.quote(path)


def done(app: AppContext, wrote: str | None, next_command: str | None = None) -> None:
    """The two lines after a successful step: the file it wrote, and the command to run next."""
    if wrote and wrote != "-":
        note(app.t("chain.wrote", path=wrote))
    if next_command:
        note(app.t("chain.next", command=next_command))


def emit(text: str, out: Path | None = None) -> None:
    """Print ``text``, or write it atomically to ``out``."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        from crmkit.files import write_text  # the file adapter only when a file is written

        write_text(out, text)


def emit_bytes(content: bytes, out: Path | None) -> None:
    if out is None:
        from crmkit.i18n import run_msg

        raise UsageError(run_msg("load.other.binary_out"))
    from crmkit.files import write_bytes

    write_bytes(out, content)


def note(text: str) -> None:
    """A remark for the person at the terminal (stderr), never mixed into results."""
    click.echo(text, err=True)


def confirm(question: str, lang: Lang, ask: Callable[[str], str] = input) -> bool:
    """A yes/no question on stderr, «[д/Н]» in Russian: «д», «да», "y" are yes, «н», «нет»,
    "n" or Enter are no (``yes_or_no``); anything else asks again. End of input (or Ctrl-C)
    is click's Abort, which the CLI reports as interrupted."""
    from crmkit.i18n import msg, yes_or_no

    while True:
        click.echo(f"{question} {msg('prompt.yes_no', lang)}: ", nl=False, err=True)
        try:
            answer = ask("")
        except EOFError:
            raise click.exceptions.Abort() from None
        verdict = yes_or_no(answer)
        if verdict is not None:
            return verdict
        click.echo(msg("prompt.yes_no_again", lang), err=True)


def document_meta(
    app: AppContext,
    folder: Path,
    *,
    client: str = "",
    consultant: str = "",
    version: str = "",
    logo: Path | None = None,
) -> Any:
    """The cover of the documents of the client folder ``folder``: its ``client.toml``, then
    the options given, dated today (by the run's clock) unless client.toml gives a date."""
    import datetime
    from dataclasses import replace

    from crmkit.export.frame import client_meta, logo_data_uri

    meta = client_meta(folder)
    given = {"client": client, "consultant": consultant, "version": version}
    meta = replace(meta, **{key: value for key, value in given.items() if value})  # type: ignore[arg-type]
    if logo is not None:
        meta = replace(meta, logo=logo_data_uri(logo, str(logo)))
    return meta.with_defaults(today=datetime.date.fromtimestamp(app.clock()))

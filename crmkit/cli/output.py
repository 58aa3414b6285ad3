"""The one place commands print results: to the terminal or, with --out, to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from crmkit.files import write_bytes, write_text


def to_json(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def emit(text: str, out: Path | None = None) -> None:
    """Print ``text``, or write it atomically to ``out``."""
    if out is None:
        click.echo(text, nl=not text.endswith("\n"))
    else:
        write_text(out, text)


def emit_bytes(content: bytes, out: Path | None) -> None:
    if out is None:
        raise click.UsageError("binary output (xlsx) needs --out FILE")
    write_bytes(out, content)


def note(text: str) -> None:
    """A remark for the person at the terminal (stderr), never mixed into results."""
    click.echo(text, err=True)

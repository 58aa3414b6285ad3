"""The file adapter: reading TOML with positions, and atomic writes.

Everything crmkit writes goes through ``write_text`` / ``write_bytes``: the content is written to
a temporary file beside the target and renamed over it, so a failed run never leaves a
half-written report or answers file.
"""

from __future__ import annotations

import os
import re
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.errors import InputError
from crmkit.schema import Source
from crmkit.tomlpos import locate


@dataclass(frozen=True)
class TomlDocument:
    data: dict[str, Any]
    source: Source
    text: str


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, name: str) -> TomlDocument:
    """Parse TOML text; a syntax error becomes ``InputError`` naming ``name:line:column``."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = name
        if match:
            where = f"{name}:{match.group(1)}:{match.group(2)}"
            message = message[: match.start()]
        elif message.endswith("(at end of document)"):
            where = f"{name}:{text.count(chr(10)) + 1}"
            message = message[: -len("(at end of document)")].rstrip() + " at the end of the file"
        raise InputError(f"not valid TOML: {message}", where=where) from None
    return TomlDocument(data=data, source=Source(name, locate(text)), text=text)


def read_text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError("no such file", where=str(path)) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a file", where=str(path)) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", where=str(path)) from None
    try:
        # utf-8-sig: Windows editors save "UTF-8 with BOM", which TOML itself does not allow
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start})", where=str(path)) from None


def read_toml(path: Path) -> TomlDocument:
    return parse_toml(read_text(path), str(path))


def write_bytes(path: Path, content: bytes) -> None:
    """Write atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", where=str(path)) from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        # mkstemp creates 0600; give the file the mode a plain open() would have
        Path(tmp).chmod(_existing_mode(path))
        Path(tmp).replace(path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"cannot write: {exc.strerror}", where=str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _existing_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def write_text(path: Path, content: str) -> None:
    write_bytes(path, content.encode("utf-8"))

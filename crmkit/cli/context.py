"""One context object per run: language, environment, clock, terminal and file locations.

Tests build their own ``AppContext`` and pass it as click's ``obj``; nothing here is global.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, overload

from crmkit.i18n import Lang, detect_lang, msg

if TYPE_CHECKING:
    from pathlib import Path


class _Folder:
    """``AppContext.cwd``: the folder given, else the current one, looked up when first read.
    ``crmkit --help`` reads no path, so it imports no pathlib (5 ms of a 70 ms start)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    @overload
    def __get__(self, app: None, owner: type | None = None) -> None: ...
    @overload
    def __get__(self, app: AppContext, owner: type | None = None) -> Path: ...
    def __get__(self, app: AppContext | None, owner: type | None = None) -> Path | None:
        if app is None:  # the dataclass asks for the default: none given
            return None
        folder: Path | None = app.__dict__.get(self.slot)
        if folder is None:
            from pathlib import Path

            folder = app.__dict__[self.slot] = Path.cwd()
        return folder

    def __set__(self, app: AppContext, folder: Path | None) -> None:
        app.__dict__[self.slot] = folder


@dataclass
class AppContext:
    lang: Lang = "en"
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: _Folder = _Folder()
    #: whether a person can answer questions (stdin is a terminal)
    interactive: bool = False
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    #: extra blueprint library folders searched before the shipped one
    library_dirs: tuple[Path, ...] = ()
    #: whether --lang was given explicitly (a subcommand's --lang still wins)
    lang_explicit: bool = False
    #: the longest a call waits for a portal that does not answer (tests shorten it)
    portal_patience: float = 60.0
    #: seconds without an answer before "waiting for the portal…" is printed
    portal_notice_after: float = 5.0

    @classmethod
    def from_environment(cls, argv: list[str] | None = None) -> AppContext:
        environ = dict(os.environ)
        lang = detect_lang(environ)
        explicit = _lang_from_argv(argv or [])
        extra: tuple[Path, ...] = ()
        if environ.get("CRMKIT_LIBRARY"):
            from pathlib import Path

            extra = tuple(Path(p) for p in environ["CRMKIT_LIBRARY"].split(os.pathsep) if p)
        return cls(
            lang=explicit or lang,
            environ=environ,
            interactive=sys.stdin is not None and sys.stdin.isatty(),
            library_dirs=extra,
            lang_explicit=explicit is not None,
        )

    def t(self, key: str, **values: object) -> str:
        return msg(key, self.lang, **values)

    def resolve(self, path: str | Path) -> Path:
        from pathlib import Path

        path = Path(path)
        return path if path.is_absolute() else self.cwd / path


def _lang_from_argv(argv: list[str]) -> Lang | None:
    """``--lang`` is read before click parses, so ``--help`` speaks the asked language too."""
    for index, arg in enumerate(argv):
        value = None
        if arg == "--lang" and index + 1 < len(argv):
            value = argv[index + 1]
        elif arg.startswith("--lang="):
            value = arg.split("=", 1)[1]
        if value in ("ru", "en", "uk"):
            return value  # type: ignore[return-value]
    return None

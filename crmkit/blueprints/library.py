"""The shipped blueprint library and how includes find files.

The library is the folder ``blueprints/`` of the source tree; an installed wheel carries it as
``crmkit/library/blueprints``. A consultant can add folders of their own (``--library DIR`` or
``CRMKIT_LIBRARY``); those are searched first, so a fork of a shipped blueprint wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crmkit.blueprints.loader import Resolver, load_blueprint
from crmkit.blueprints.model import Blueprint
from crmkit.files import TomlDocument, is_file, parse_toml, read_text, shown
from crmkit.resources import shipped_folder


def shipped_dir() -> Path:
    return shipped_folder("blueprints")


@dataclass(frozen=True)
class Library:
    dirs: tuple[Path, ...]
    #: (name, text) → the parsed file: the loads of one library parse each file once
    #: (``blueprint list``: 14 files that include each other, 36 parses → 14). The text is
    #: read again each time, so a file changed in between is parsed again.
    _parsed: dict[tuple[str, str], TomlDocument] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    @classmethod
    def default(cls, extra: Sequence[Path] = ()) -> Library:
        return cls(tuple(extra) + (shipped_dir(),))

    def find(self, name: str) -> Path | None:
        for folder in self.dirs:
            candidate = folder / f"{name}.toml"
            if is_file(candidate):
                return candidate
        return None

    def ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for folder in self.dirs:
            if folder.is_dir():
                for path in sorted(folder.glob("*.toml")):
                    seen.setdefault(path.stem, None)
        return sorted(seen)

    def resolver(self) -> Resolver:
        def resolve(name: str, including: Path | None) -> Path | None:
            if "/" in name or "\\" in name or name.endswith(".toml"):
                base = including.parent if including is not None else Path()
                target = base / name
                return target if is_file(target) else None
            return self.find(name)

        return resolve

    def read(self, path: Path) -> TomlDocument:
        """``path`` read and parsed, once per text (the loader never changes what it parses)."""
        text = read_text(path)
        key = (str(path), text)
        doc = self._parsed.get(key)
        if doc is None:
            doc = self._parsed[key] = parse_toml(text, str(path))
        return doc

    def load(self, name: str) -> Blueprint:
        path = self.find(name)
        if path is None:
            from crmkit.errors import InputError
            from crmkit.i18n import run_msg

            raise InputError(run_msg("load.blueprint.not_in_library", name=shown(name)))
        return load_blueprint(path, self.resolver(), self.read)

    def load_path_or_id(self, target: str) -> Blueprint:
        """A blueprint by file path, or by library id when no such file exists."""
        path = Path(target)
        if is_file(path) or target.endswith(".toml") or "/" in target:
            return load_blueprint(path, self.resolver(), self.read)
        return self.load(target)

"""Languages, bilingual texts and the UI message catalog.

crmkit speaks Russian and English. Texts that come from data (blueprints, questionnaires, the
catalog) are ``Text`` values holding both; texts of the tool itself live in
``crmkit/locale/*.toml`` and are looked up with ``msg``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal, cast

Lang = Literal["ru", "en"]
LANGS: tuple[Lang, ...] = ("ru", "en")


def detect_lang(environ: Mapping[str, str]) -> Lang:
    """The language a run speaks when ``--lang`` is not given: CRMKIT_LANG, then the locale."""
    explicit = environ.get("CRMKIT_LANG", "").strip().lower()
    if explicit in LANGS:
        return explicit
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(var, "")
        if value:
            return "ru" if value.lower().startswith(("ru", "uk", "be", "kk")) else "en"
    return "en"


@dataclass(frozen=True)
class Text:
    """A text in both languages; either may be empty, then the other one is shown."""

    ru: str = ""
    en: str = ""

    def get(self, lang: Lang) -> str:
        first, second = (self.ru, self.en) if lang == "ru" else (self.en, self.ru)
        return first or second

    def __bool__(self) -> bool:
        return bool(self.ru or self.en)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("ru", self.ru), ("en", self.en)) if v}


_LOCALE = Path(__file__).resolve().parent / "locale"


class _Catalog:
    """UI messages, read file by file as keys are asked for.

    ``crmkit --help`` must start fast, so an area's file (``cmd.assess.*`` → ``assess.toml``) is
    parsed only when one of its keys is needed; ``messages.toml`` holds what every run needs.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.messages: dict[str, dict[str, str]] = {}
        self.pending = sorted(p.name for p in folder.glob("*.toml"))
        self._load("messages.toml")

    def _load(self, name: str) -> None:
        if name in self.pending:
            self.pending.remove(name)
            text = (self.folder / name).read_text(encoding="utf-8")
            _flatten(tomllib.loads(text), self.messages)

    def get(self, key: str) -> dict[str, str] | None:
        if key in self.messages:
            return self.messages[key]
        parts = key.split(".")
        for guess in parts[:2]:
            self._load(f"{guess}.toml")
            if key in self.messages:
                return self.messages[key]
        while self.pending:
            self._load(self.pending[0])
            if key in self.messages:
                return self.messages[key]
        return None

    def all(self) -> dict[str, dict[str, str]]:
        while self.pending:
            self._load(self.pending[0])
        return self.messages


@cache
def _catalog() -> _Catalog:
    return _Catalog(_LOCALE)


def _flatten(data: dict[str, object], flat: dict[str, dict[str, str]]) -> None:

    def walk(prefix: str, node: dict[str, object]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and set(value) <= {"ru", "en"} and value:
                flat[name] = cast(dict[str, str], value)
            elif isinstance(value, dict):
                walk(name, cast(dict[str, object], value))

    walk("", data)


def msg(key: str, lang: Lang, **values: object) -> str:
    """The UI message ``key`` in ``lang``, formatted with ``values``.

    An unknown key is a programming error; it raises KeyError so tests catch it.
    """
    entry = _catalog().get(key)
    if entry is None:
        raise KeyError(key)
    template = entry.get(lang) or entry.get("en") or entry.get("ru") or key
    return template.format(**values) if values else template


def has_msg(key: str) -> bool:
    return _catalog().get(key) is not None


def all_messages() -> dict[str, dict[str, str]]:
    """Every UI message (tests check that each has both languages)."""
    return _catalog().all()

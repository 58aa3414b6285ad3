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
from importlib import resources
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


@cache
def _catalog() -> dict[str, dict[str, str]]:
    """All ``crmkit/locale/*.toml`` files merged (one file per area of the tool)."""
    flat: dict[str, dict[str, str]] = {}
    folder = resources.files("crmkit.locale")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            _flatten(tomllib.loads(entry.read_text(encoding="utf-8")), flat)
    return flat


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
    entry = _catalog()[key]
    template = entry.get(lang) or entry.get("en") or entry.get("ru") or key
    return template.format(**values) if values else template


def has_msg(key: str) -> bool:
    return key in _catalog()

"""Languages, bilingual texts and the UI message catalog.

crmkit speaks Russian, English and Ukrainian. Texts that come from data (blueprints,
questionnaires, the catalog) are ``Text`` values holding all three; texts of the tool itself live
in ``crmkit/locale/*.toml`` and are looked up with ``msg``. A count and the word that agrees with
it are written ``{count:вопрос|вопроса|вопросов}`` (``{count:question|questions}``) in a message:
«1 вопрос», «3 вопроса», «17 вопросов», "1 question", "17 questions".
"""

from __future__ import annotations

import os
import re
import string
import tomllib
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal, cast

Lang = Literal["ru", "en", "uk"]
LANGS: tuple[Lang, ...] = ("ru", "en", "uk")
#: where a text missing in a language is looked for next (a Ukrainian text missing: Russian)
_FALLBACK: dict[str, tuple[str, ...]] = {
    "ru": ("ru", "en", "uk"),
    "en": ("en", "ru", "uk"),
    "uk": ("uk", "ru", "en"),
}


def detect_lang(environ: Mapping[str, str]) -> Lang:
    """The language a run speaks when ``--lang`` is not given: CRMKIT_LANG, then the locale."""
    explicit = environ.get("CRMKIT_LANG", "").strip().lower()
    if explicit in LANGS:
        return explicit
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(var, "")
        if value:
            value = value.lower()
            if value.startswith("uk"):
                return "uk"
            return "ru" if value.startswith(("ru", "be", "kk")) else "en"
    return "en"


@dataclass(frozen=True)
class Text:
    """A text in Russian, English and Ukrainian; one missing shows another (``_FALLBACK``)."""

    ru: str = ""
    en: str = ""
    uk: str = ""

    def get(self, lang: Lang) -> str:
        for name in _FALLBACK.get(lang, _FALLBACK["en"]):
            value: str = getattr(self, name)
            if value:
                return value
        return ""

    def __bool__(self) -> bool:
        return bool(self.ru or self.en or self.uk)

    def to_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("ru", self.ru), ("en", self.en), ("uk", self.uk)) if v}


# os.path, not pathlib: the catalog is read by every run, ``crmkit --help`` included, and
# pathlib (with urllib.parse and ipaddress) is 5 ms of a 70 ms start that needs no other path
_LOCALE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "locale")  # noqa: PTH118,PTH120


class _Catalog:
    """UI messages, read file by file as keys are asked for.

    ``crmkit --help`` must start fast, so a locale file is parsed only when a key asked for can
    be in it: a key ``a.b.c`` can only be in a file with a table header ``[a]`` or ``[a.b]``
    (or a top-level key ``a``). Those headers are found with a regular expression over the raw
    texts, which costs a fraction of parsing them; a missing key (``has_msg`` of an optional
    help text) then parses the files that could hold it, not all of them.
    ``messages.toml`` holds what every run needs.
    """

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.messages: dict[str, dict[str, str]] = {}
        names = os.listdir(folder)  # noqa: PTH208 (see _LOCALE)
        self.pending = sorted(n for n in names if n.endswith(".toml"))
        self._holders: dict[str, list[str]] | None = None
        self._load("messages.toml")

    def _load(self, name: str) -> None:
        if name in self.pending:
            self.pending.remove(name)
            _flatten(tomllib.loads(self._text(name)), self.messages)

    def _text(self, name: str) -> str:
        path = os.path.join(self.folder, name)  # noqa: PTH118 (see _LOCALE)
        with open(path, encoding="utf-8") as handle:  # noqa: PTH123
            return handle.read()

    def _files_for(self, key: str) -> list[str]:
        """The files not parsed yet that may hold ``key``."""
        if self._holders is None:
            self._holders = {}
            for name in self.pending:
                for prefix in _prefixes(self._text(name)):
                    self._holders.setdefault(prefix, []).append(name)
        parts = key.split(".")
        found: list[str] = []
        for end in range(1, len(parts) + 1):
            for name in self._holders.get(".".join(parts[:end]), ()):
                if name in self.pending and name not in found:
                    found.append(name)
        return found

    def get(self, key: str) -> dict[str, str] | None:
        if key in self.messages:
            return self.messages[key]
        for name in self._files_for(key):
            self._load(name)
        return self.messages.get(key)

    def all(self) -> dict[str, dict[str, str]]:
        while self.pending:
            self._load(self.pending[0])
        return self.messages


#: a table header (``[cmd.assess.opt]``, ``[[x]]``) at the start of a line (the text is given
#: a leading newline: a literal first character makes the search fast), and a top-level key;
#: compiled when first used (``re`` keeps them), not by every run's import
_TABLE = r"\n[ \t]*\[\[?([^\]\n]*)\]"
_KEY = r"(?m)^[ \t]*([A-Za-z0-9_\-.\"']+)[ \t]*="
_QUOTES_AND_SPACE = r"[\s\"']"


def _prefixes(text: str) -> set[str]:
    """The dotted prefixes of the keys a locale file can define: its table headers, and the
    keys above its first header. A header-like line inside a multi-line string only adds a
    prefix: a key is never missed, at worst a file is parsed for nothing."""
    table, key, bare = re.compile(_TABLE), re.compile(_KEY), re.compile(_QUOTES_AND_SPACE)
    text = "\n" + text
    first = table.search(text)
    top = text if first is None else text[: first.start()]
    found = {bare.sub("", m.group(1)).split(".")[0] for m in key.finditer(top)}
    found.update(bare.sub("", m.group(1)) for m in table.finditer(text))
    return found


@cache
def _catalog() -> _Catalog:
    return _Catalog(_LOCALE)


def _flatten(data: dict[str, object], flat: dict[str, dict[str, str]]) -> None:

    def walk(prefix: str, node: dict[str, object]) -> None:
        for key, value in node.items():
            name = f"{prefix}.{key}" if prefix else key
            if isinstance(value, dict) and set(value) <= {"ru", "en", "uk"} and value:
                flat[name] = cast(dict[str, str], value)
            elif isinstance(value, dict):
                walk(name, cast(dict[str, object], value))

    walk("", data)


def msg(key: str, lang: Lang, /, **values: object) -> str:
    """The UI message ``key`` in ``lang``, formatted with ``values``.

    An unknown key is a programming error; it raises KeyError so tests catch it.
    """
    entry = _catalog().get(key)
    if entry is None:
        raise KeyError(key)
    template = next((entry[n] for n in _FALLBACK.get(lang, ()) if entry.get(n)), key)
    if not values:
        return template
    if "|" in template:  # a count with its word: {count:вопрос|вопроса|вопросов}
        return _PluralFormatter(lang).format(template, **values)
    return template.format(**values)


def run_msg(key: str, /, **values: object) -> str:
    """``msg`` in the language of the run (for loaders and readers that are not handed one)."""
    return msg(key, run_lang(), **values)


# -- plurals ----------------------------------------------------------------------------------


def plural_index(count: float, lang: Lang) -> int:
    """Which form of a word goes with ``count``: in Russian and Ukrainian 0 for one (1, 21,
    101), 1 for few (2–4, 22–24, and fractions: «2,5 часа»), 2 for many (0, 5–20, 11–14, 25);
    in English 0 for one (1) and 1 for every other count."""
    whole = float(count).is_integer()
    if lang == "en":
        return 0 if whole and abs(count) == 1 else 1
    if not whole:
        return 1
    n = abs(int(count))
    if n % 10 == 1 and n % 100 != 11:
        return 0
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return 1
    return 2


def plural(count: float, lang: Lang, forms: str) -> str:
    """The form of a word that agrees with ``count``; ``forms`` are ``one|few|many`` in Russian
    and Ukrainian (``вопрос|вопроса|вопросов``), ``one|other`` in English (a form not given is
    the last one given)."""
    words = forms.split("|")
    return words[min(plural_index(count, lang), len(words) - 1)]


#: the answers to a yes/no question, in every language: a Russian or Ukrainian keyboard types
#: «н» on the key of "y", so «н» (нет, ні) is no in every language, and «т» (the key of "n") is
#: not taken for «так»
_YES = frozenset({"y", "yes", "д", "да", "так"})
_NO = frozenset({"n", "no", "н", "нет", "ні", "ни"})


def yes_or_no(answer: str) -> bool | None:
    """True for «д», «да», «так», "y", "yes"; False for «н», «нет», «ні», "n", "no" and an empty
    answer (a yes/no question of crmkit defaults to no); None for anything else."""
    word = answer.strip().lower().rstrip(".!")
    if not word or word in _NO:
        return False
    return True if word in _YES else None


class _PluralFormatter(string.Formatter):
    """``str.format`` that also writes ``{count:вопрос|вопроса|вопросов}`` as «17 вопросов»."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def format_field(self, value: Any, format_spec: str) -> str:
        if "|" not in format_spec:
            return super().format_field(value, format_spec)
        number = _as_number(value)
        word = plural(number, self.lang, format_spec) if number is not None else format_spec
        return f"{value} {word}"


def _as_number(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = str(value).replace("\u00a0", "").replace(" ", "").replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return None


def has_msg(key: str) -> bool:
    return _catalog().get(key) is not None


def all_messages() -> dict[str, dict[str, str]]:
    """Every UI message (tests check that each has both languages)."""
    return _catalog().all()


#: the language of the run, for messages raised deep in loaders that are not handed one
_RUN_LANG: ContextVar[Lang] = ContextVar("crmkit_run_lang", default="en")


def set_run_lang(lang: Lang) -> None:
    """Set by the CLI as soon as the run's language is known (``--lang``, then the locale)."""
    _RUN_LANG.set(lang)


def run_lang() -> Lang:
    return _RUN_LANG.get()

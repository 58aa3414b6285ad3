"""Where a key sits in a TOML text: a line for every key path.

``tomllib`` parses TOML into plain values and forgets positions, but every error crmkit reports
about a file must name its line. ``locate`` scans a text that tomllib has already accepted and
records the line of each key path (``("pipelines", 2, "stages", 0, "code")``). It does not
validate: on valid TOML it only has to follow strings, arrays, inline tables and headers.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from typing import Any

PathPart = str | int
KeyPath = tuple[PathPart, ...]

_BARE = re.compile(r"[A-Za-z0-9_-]+")


def format_path(path: KeyPath) -> str:
    """``("pipelines", 2, "stages", 0, "code")`` → ``pipelines[2].stages[0].code``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            shown = part if _BARE.fullmatch(part) else '"' + part.replace('"', '\\"') + '"'
            out += f".{shown}" if out else shown
    return out


@dataclass
class Positions:
    """Lines (1-based) of the key paths of one TOML text."""

    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its deepest recorded ancestor."""
        for end in range(len(path), 0, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class DeferredPositions(Positions):
    """The positions of a text, scanned only when a complaint needs the line of a key.

    The full scan costs as much as parsing the text. What a clean load asks for is the line of
    each table of an array of tables (a pipeline, a stage, a field: the ``where`` of every model
    object), and those lines are the lines of the ``[[…]]`` headers: found by a regular
    expression over header lines only, checked against the parsed data, they answer such a
    question exactly as the full scan would. Anything else scans the text in full."""

    def __init__(self, text: str, data: dict[str, Any] | None = None) -> None:
        self._text: str | None = text
        self._data = data
        self._lines: dict[KeyPath, int] = {}
        #: the ``[[…]]`` header lines (None: not looked for yet; empty: none to trust)
        self._headers: dict[KeyPath, int] | None = None if data is not None else {}

    @property
    def lines(self) -> dict[KeyPath, int]:
        if self._text is not None:
            self._lines = locate(self._text).lines
            self._text = None
        return self._lines

    @lines.setter
    def lines(self, value: dict[KeyPath, int]) -> None:
        self._text = None
        self._lines = value

    def line_of(self, path: KeyPath) -> int | None:
        if self._text is not None:
            if self._headers is None:
                assert self._data is not None
                self._headers = array_headers(self._text, self._data) or {}
            found = self._headers.get(path)
            if found is not None:
                return found
        return super().line_of(path)


#: an array-of-tables header alone on its line (a comment may follow)
_ARRAY_HEADER = re.compile(r"^[ \t]*\[\[([^\[\]\n]+)\]\][ \t]*(?:#[^\n]*)?$", re.M)


def array_headers(text: str, data: dict[str, Any]) -> dict[KeyPath, int] | None:
    """The line of each table of an array of tables that a ``[[…]]`` header starts, keyed by its
    path (``("pipelines", 0, "stages", 2)``) as ``locate`` records it. None when the text has a
    multi-line string (a header-like line could be inside one) or the headers found are not the
    arrays of tables the data has: then only the full scan can say."""
    if '"""' in text or "'''" in text:
        return None
    scanner = _Scanner(text)
    found: dict[KeyPath, int] = {}
    line, counted = 1, 0
    for match in _ARRAY_HEADER.finditer(text):
        scanner.pos = match.start(1)
        try:
            keys = scanner.key()
        except (ValueError, IndexError):
            return None
        if scanner.pos != match.end(1):
            return None
        parent = scanner.resolve(keys[:-1]) + (keys[-1],)
        index = scanner.array_counts.get(parent, 0)
        scanner.array_counts[parent] = index + 1
        line += text.count("\n", counted, match.start())
        counted = match.start()
        found[parent + (index,)] = line
    for path, count in scanner.array_counts.items():
        tables = _value_at(data, path)
        if not (isinstance(tables, list) and len(tables) == count):
            return None
        if not all(isinstance(table, dict) for table in tables):
            return None
    return found


def _value_at(data: Any, path: KeyPath) -> Any:
    value = data
    for part in path:
        in_table = isinstance(part, str) and isinstance(value, dict) and part in value
        in_array = isinstance(part, int) and isinstance(value, list) and 0 <= part < len(value)
        if not (in_table or in_array):
            return None
        value = value[part]
    return value


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self._newlines: list[int] | None = None
        self.positions = Positions()
        self.array_counts: dict[KeyPath, int] = {}

    # -- low level -------------------------------------------------------------------------
    def line(self) -> int:
        if self._newlines is None:
            self._newlines = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_left(self._newlines, self.pos) + 1

    def peek(self, n: int = 1) -> str:
        return self.text[self.pos : self.pos + n]

    def skip_space(self, newlines: bool) -> None:
        text = self.text
        while self.pos < len(text):
            ch = text[self.pos]
            if ch in " \t\r" or (newlines and ch == "\n"):
                self.pos += 1
            elif ch == "#":
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            else:
                return

    def record(self, path: KeyPath, line: int) -> None:
        self.positions.lines.setdefault(path, line)

    # -- keys ------------------------------------------------------------------------------
    def key(self) -> list[str]:
        parts: list[str] = []
        while True:
            self.skip_space(False)
            ch = self.peek()
            if ch in ('"', "'"):
                start = self.pos
                self.string()
                raw = self.text[start + 1 : self.pos - 1]
                parts.append(_unescape(raw) if ch == '"' else raw)
            else:
                match = _BARE.match(self.text, self.pos)
                if not match:
                    raise ValueError(f"unexpected key character at {self.pos}")
                parts.append(match.group())
                self.pos = match.end()
            self.skip_space(False)
            if self.peek() == ".":
                self.pos += 1
                continue
            return parts

    # -- values ----------------------------------------------------------------------------
    def string(self) -> None:
        text = self.text
        for quote in ('"""', "'''"):
            if text.startswith(quote, self.pos):
                end = self.pos + 3
                while True:
                    end = text.find(quote, end)
                    if end < 0:
                        self.pos = len(text)
                        return
                    if quote == '"""' and _escaped(text, end):
                        end += 1
                        continue
                    # a closing run may hold up to two extra quotes that belong to the string
                    while text.startswith(quote[0], end + 3):
                        end += 1
                    self.pos = end + 3
                    return
        quote = text[self.pos]
        end = self.pos + 1
        while end < len(text):
            ch = text[end]
            if quote == '"' and ch == "\\":
                end += 2
                continue
            if ch == quote:
                break
            end += 1
        self.pos = end + 1

    def value(self, path: KeyPath) -> None:
        ch = self.peek()
        if ch in ('"', "'"):
            self.string()
        elif ch == "[":
            self.pos += 1
            index = 0
            while True:
                self.skip_space(True)
                if self.peek() == "]":
                    self.pos += 1
                    return
                self.record(path + (index,), self.line())
                self.value(path + (index,))
                self.skip_space(True)
                if self.peek() == ",":
                    self.pos += 1
                    index += 1
        elif ch == "{":
            self.pos += 1
            while True:
                self.skip_space(True)
                if self.peek() == "}":
                    self.pos += 1
                    return
                if self.peek() == ",":
                    self.pos += 1
                    continue
                line = self.line()
                keys = self.key()
                sub = path + tuple(keys)
                for end in range(len(path) + 1, len(sub) + 1):
                    self.record(sub[:end], line)
                self.skip_space(False)
                self.pos += 1  # '='
                self.skip_space(False)
                self.value(sub)
        else:
            match = re.compile(r"[^,\]}\n#]*").match(self.text, self.pos)
            self.pos = match.end() if match else self.pos + 1

    # -- document --------------------------------------------------------------------------
    def resolve(self, keys: list[str]) -> KeyPath:
        """A header's dotted key, with arrays of tables resolved to their last element."""
        path: KeyPath = ()
        for key in keys:
            path = path + (key,)
            count = self.array_counts.get(path)
            if count is not None:
                path = path + (count - 1,)
        return path

    def document(self) -> Positions:
        current: KeyPath = ()
        while True:
            self.skip_space(True)
            if self.pos >= len(self.text):
                return self.positions
            line = self.line()
            if self.peek(2) == "[[":
                self.pos += 2
                keys = self.key()
                self.pos += 2
                parent = self.resolve(keys[:-1]) + (keys[-1],)
                index = self.array_counts.get(parent, 0)
                self.array_counts[parent] = index + 1
                current = parent + (index,)
                for end in range(1, len(parent) + 1):
                    self.record(parent[:end], line)
                self.record(current, line)
            elif self.peek() == "[":
                self.pos += 1
                keys = self.key()
                self.pos += 1
                current = self.resolve(keys)
                # [a.b] defines a and a.b (a may have no header of its own)
                for end in range(1, len(current) + 1):
                    self.record(current[:end], line)
            else:
                keys = self.key()
                full = current + tuple(keys)
                for end in range(len(current) + 1, len(full) + 1):
                    self.record(full[:end], line)
                self.skip_space(False)
                self.pos += 1  # '='
                self.skip_space(False)
                self.value(full)


_ESCAPE = re.compile(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)")
_SIMPLE_ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\"}


def _unescape(raw: str) -> str:
    """A TOML basic string's escapes decoded; every other character (Cyrillic too) kept."""

    def one(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "uU" and len(code) > 1:
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES.get(code, code)

    return _ESCAPE.sub(one, raw)


def _escaped(text: str, index: int) -> bool:
    backslashes = 0
    while index - 1 - backslashes >= 0 and text[index - 1 - backslashes] == "\\":
        backslashes += 1
    return backslashes % 2 == 1


def locate(text: str) -> Positions:
    """Key-path lines of a TOML text that ``tomllib`` accepted. Never raises: on a construct it
    cannot follow it returns what it found so far (an error message then names a parent line)."""
    scanner = _Scanner(text)
    try:
        return scanner.document()
    except (ValueError, IndexError):
        return scanner.positions

"""The file adapter: reading bounded input files, TOML with positions, and atomic writes.

Reading: every input is a regular file of bounded size (``MAX_INPUT_BYTES``), opened without
blocking, so a FIFO with no writer, ``/dev/zero`` or a sparse 1 GiB file is refused at once
instead of hanging or eating the machine. A TOML text is checked for nesting and for integers
TOML itself does not allow (beyond 64 bits) before anything walks it.

Writing: everything crmkit writes goes through ``write_text`` / ``write_bytes``: the content is
written to a temporary file beside the target, named after the writer's pid, and renamed over
the target, so a failed or killed run never leaves a half-written report or answers file. A run
stopped by a signal removes its temporary file (``crmkit.cli`` turns SIGTERM and SIGHUP into an
exception); one killed outright leaves it for the next write of that file to clear away. Only
regular files are replaced: ``--out /dev/null`` run as root must not turn the device into a file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.errors import InputError
from crmkit.i18n import run_lang, run_msg
from crmkit.schema import Source
from crmkit.tomlpos import DeferredPositions, KeyPath, format_path

#: the largest input file crmkit reads (the biggest real one, a selection, is ~20 KB)
MAX_INPUT_BYTES = 8 * 1024 * 1024
#: how deeply arrays and tables may nest, in the text and in the parsed data (crmkit's formats
#: need about 10; tomllib and everything that walks the data recurse, so a limit keeps the stack)
MAX_NESTING = 32
#: TOML integers are 64-bit (toml.io: "out of range ... MUST throw an error")
_INT64 = (-(2**63), 2**63 - 1)
#: what an error message quotes of a wrong value, at most (a 10 MB value is not shown whole)
QUOTE_LIMIT = 100


def shown(value: object, limit: int = QUOTE_LIMIT) -> str:
    """``value`` as a message quotes it: at most ``limit`` characters, the cut marked ``…``."""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class TomlDocument:
    data: dict[str, Any]
    source: Source
    text: str


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, name: str) -> TomlDocument:
    """Parse TOML text; a syntax error becomes ``InputError`` naming ``name:line:column``."""
    _check_text_nesting(text, name)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = name
        if match:
            where = f"{name}:{match.group(1)}:{match.group(2)}"
            message = _toml_problem(message[: match.start()])
        elif message.endswith("(at end of document)"):
            where = f"{name}:{text.count(chr(10)) + 1}"
            message = _toml_problem(message[: -len("(at end of document)")].rstrip())
            message = run_msg("input.toml.at_end", detail=message)
        else:
            message = _toml_problem(message)
        raise InputError(run_msg("input.toml.invalid", detail=message), where=where) from None
    except ValueError:  # an integer of more than 4300 digits (Python's conversion limit)
        raise InputError(_huge_integer(), where=_huge_integer_line(text, name)) from None
    except RecursionError:  # nesting the text scan could not see (e.g. endless dotted keys)
        raise InputError(_too_deep(), where=name) from None
    # lines are found only if a complaint needs one (the scan costs as much as tomllib's parse)
    source = Source(name, DeferredPositions(text, data))
    _check_values(data, source)
    return TomlDocument(data=data, source=source, text=text)


def _too_deep() -> str:
    return run_msg("input.too_deep", limit=MAX_NESTING)


def _huge_integer() -> str:
    return run_msg("input.huge_integer")


#: what tomllib says (its messages, without the position) → the key of the same in crmkit's
#: words; a message not listed here is shown as tomllib wrote it
_TOML_MESSAGES = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"Invalid value", "invalid_value"),
        (r"Invalid statement", "invalid_statement"),
        (r"Expected newline or end of document after a statement", "expected_newline"),
        (r"Expected '=' after a key in a key/value pair", "expected_equals"),
        (r"Expected '\]' at the end of a table declaration", "expected_bracket"),
        (r"Expected '\]\]' at the end of an array declaration", "expected_brackets"),
        (r"Cannot declare (?P<key>.+) twice", "declared_twice"),
        (r"Cannot overwrite a value", "overwrite"),
        (r"Cannot mutate immutable namespace (?P<key>.+)", "immutable"),
        (r"Cannot redefine namespace (?P<key>.+)", "redefine"),
        (r"Invalid initial character for a key part", "key_start"),
        (r"Unclosed array", "unclosed_array"),
        (r"Unclosed inline table", "unclosed_table"),
        (r"Duplicate inline table key (?P<key>.+)", "duplicate_key"),
        (r"Unescaped '\\' in a string", "backslash"),
        (r"Invalid hex value", "hex"),
        (r"Escaped character is not a Unicode scalar value", "not_scalar"),
        (r"Unterminated string", "unterminated"),
        (r"Illegal character (?P<char>.+)", "illegal"),
        (r"Found invalid character (?P<char>.+)", "found_invalid"),
        (r"Invalid date or datetime", "date"),
        (r"Expected (?P<what>.+)", "expected"),
    )
)


def _toml_problem(message: str) -> str:
    """tomllib's complaint in the run's language; the keys it names written as in the file."""
    for pattern, key in _TOML_MESSAGES:
        found = pattern.fullmatch(message)
        if found:
            values = {
                name: value if name != "key" else _toml_key(value)
                for name, value in found.groupdict().items()
            }
            return run_msg(f"input.toml.{key}", **values)
    return message


def _toml_key(quoted: str) -> str:
    """A key as tomllib quotes it, as the file writes it: ``('blueprint', 'name')`` →
    ``blueprint.name``, ``'x'`` → ``x``."""
    import ast  # only for a complaint

    try:
        value = ast.literal_eval(quoted)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return quoted
    if isinstance(value, tuple) and all(isinstance(part, str) for part in value):
        return ".".join(value)
    return value if isinstance(value, str) else quoted


_BRACKET_OR_QUOTE = re.compile(r"[#\"'\[\]{}]")
#: what can end a string of each kind: its closing quotes, a backslash (basic strings only),
#: or a newline (single-line strings only; unterminated, tomllib will say so)
_STRING_STOPS = {
    '"': re.compile(r'["\\\n]'),
    "'": re.compile(r"['\n]"),
    '"""': re.compile(r'"""|\\'),
    "'''": re.compile(r"'''"),
}


def _check_text_nesting(text: str, name: str) -> None:
    """Refuse brackets nested deeper than ``MAX_NESTING`` before tomllib recurses into them.

    A small lexer: it follows strings (basic, literal, multi-line) and comments so that a
    bracket inside them does not count; anything it gets wrong only makes tomllib speak.
    It jumps with regular expressions from one character that matters to the next."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        found = _BRACKET_OR_QUOTE.search(text, i)
        if found is None:
            return
        i = found.start()
        ch = text[i]
        if ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif ch in "\"'":
            closing = ch * 3 if text.startswith(ch * 3, i) else ch
            stops = _STRING_STOPS[closing]
            j = i + len(closing)
            while True:
                stop = stops.search(text, j)
                if stop is None:
                    j = n
                    break
                if stop.group() == "\\":
                    j = stop.start() + 2
                    continue
                j = stop.end() if stop.group() == closing else stop.start()
                break
            i = j
        else:
            if ch in "[{":
                depth += 1
                if depth > MAX_NESTING:
                    line = text.count("\n", 0, i) + 1
                    raise InputError(_too_deep(), where=f"{name}:{line}")
            else:
                depth = max(0, depth - 1)
            i += 1


def _huge_integer_line(text: str, name: str) -> str:
    match = re.search(r"[0-9_]{4300,}", text)
    return f"{name}:{text.count(chr(10), 0, match.start()) + 1}" if match else name


def _check_values(data: dict[str, Any], source: Source) -> None:
    """Nesting of the parsed data (dotted keys nest without brackets) and 64-bit integers;
    iterative, so the check itself cannot run out of stack."""
    pending: list[tuple[Any, KeyPath]] = [(data, ())]
    while pending:
        value, path = pending.pop()
        if len(path) > MAX_NESTING:
            raise InputError(_too_deep(), where=source.where(path[:MAX_NESTING]))
        if isinstance(value, dict):
            pending.extend((child, (*path, key)) for key, child in value.items())
        elif isinstance(value, list):
            pending.extend((child, (*path, index)) for index, child in enumerate(value))
        elif isinstance(value, int) and not _INT64[0] <= value <= _INT64[1]:
            raise InputError(
                _huge_integer(), where=source.where(path), key=format_path(path) or None
            )


# -- reading files --------------------------------------------------------------------------------

_KINDS = (
    (stat.S_ISDIR, "is_directory"),
    (stat.S_ISFIFO, "is_pipe"),
    (stat.S_ISCHR, "is_device"),
    (stat.S_ISBLK, "is_device"),
    (stat.S_ISSOCK, "is_socket"),
)


def _not_regular(mode: int) -> str | None:
    if stat.S_ISREG(mode):
        return None
    key = next((key for test, key in _KINDS if test(mode)), "not_regular")
    return run_msg(f"input.{key}")


#: what the system says, in crmkit's words where the words are known (input.os.<errno name>)
_OS_WORDS = frozenset(
    getattr(errno, name)
    for name in ("EACCES", "EPERM", "ENOSPC", "EROFS", "ENOTDIR", "ELOOP")
    if hasattr(errno, name)
)


def _os_problem(exc: OSError, verb: str) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return run_msg("input.name_too_long")
    if exc.errno == errno.ENOENT:
        return run_msg("input.no_file")
    if exc.errno == errno.EISDIR:
        return run_msg("input.is_directory")
    reason = str(exc.strerror or exc)
    if exc.errno is not None and exc.errno in _OS_WORDS and run_lang() != "en":
        reason = run_msg(f"input.os.{errno.errorcode[exc.errno]}")
    return run_msg(f"input.cannot_{verb}", reason=reason)


def read_bytes(path: Path, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ``InputError`` otherwise."""
    where = shown(path, 200)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputError(_os_problem(exc, "read"), where=where) from None
    try:
        info = os.fstat(fd)
        problem = _not_regular(info.st_mode)
        if problem is not None:
            raise InputError(problem, where=where)
        if info.st_size > limit:
            raise InputError(_too_large(info.st_size, limit), where=where)
        chunks, size = [], 0
        while size <= limit:  # a file that grows while we read is still bounded
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise InputError(_too_large(size, limit), where=where)
        return b"".join(chunks)
    except OSError as exc:
        raise InputError(_os_problem(exc, "read"), where=where) from None
    finally:
        os.close(fd)


def _too_large(size: int, limit: int) -> str:
    shown_size = f"{size / 2**20:.1f}"
    if run_lang() != "en":
        shown_size = shown_size.replace(".", ",")
    return run_msg("input.too_large", size=shown_size, limit=limit // 2**20)


def read_text(path: Path) -> str:
    raw = read_bytes(path)
    try:
        # utf-8-sig: Windows editors save "UTF-8 with BOM", which TOML itself does not allow
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(_not_utf8(raw, exc.start), where=_line_col(path, raw, exc.start)) from None


def _line_col(path: Path, raw: bytes, at: int) -> str:
    line_start = raw.rfind(b"\n", 0, at) + 1
    column = len(raw[line_start:at].decode("utf-8", errors="replace")) + 1
    line = raw.count(b"\n", 0, at) + 1
    return f"{shown(path, 200)}:{line}:{column}"


def _not_utf8(raw: bytes, at: int) -> str:
    """The complaint about bytes that are not UTF-8; Russian text saved by an old Windows
    editor is Windows-1251, which says so."""
    problem = run_msg("input.not_utf8")
    high = [b for b in raw if b >= 0x80]
    # Windows-1251 letters: А-я at 0xC0-0xFF, Ё/ё at 0xA8/0xB8; mostly letters means Russian
    letters = sum(1 for b in high if b >= 0xC0 or b in (0xA8, 0xB8))
    if high and letters / len(high) > 0.8:
        problem = run_msg("input.cp1251", problem=problem)
    return problem


def read_toml(path: Path) -> TomlDocument:
    return parse_toml(read_text(path), shown(path, 200))


def is_file(path: Path) -> bool:
    """``path.is_file()`` that answers False instead of raising (a name too long, a loop)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


# -- writing files --------------------------------------------------------------------------------


def write_bytes(path: Path, content: bytes) -> None:
    """Write atomically: a temporary file in the same folder, complete before it is named,
    then a rename over the target."""
    path = _writable_target(Path(path))
    folder = path.parent if str(path.parent) else Path()
    where = shown(path, 200)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(_os_problem(exc, "write"), where=where) from None
    _sweep_stale(folder, path.name)
    mode = _existing_mode(path)
    named: str | None = None
    try:
        named = _temp_name(folder, path.name)
        _write_file(os.open(named, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), content)
        Path(named).chmod(mode)
        Path(named).replace(path)
    except OSError as exc:
        if named is not None:
            Path(named).unlink(missing_ok=True)
        raise InputError(_os_problem(exc, "write"), where=where) from None
    except BaseException:
        if named is not None:
            Path(named).unlink(missing_ok=True)
        raise


def _write_file(fd: int, content: bytes) -> None:
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())


def write_text(path: Path, content: str) -> None:
    write_bytes(path, content.encode("utf-8"))


def _writable_target(path: Path) -> Path:
    """The file to replace: a symlink's target (the link stays), never a device, pipe or folder."""
    where = shown(path, 200)
    try:
        if path.is_symlink():
            path = Path(os.path.realpath(path))
        info = path.stat()
    except FileNotFoundError:
        return path
    except OSError as exc:
        raise InputError(_os_problem(exc, "write"), where=where) from None
    problem = _not_regular(info.st_mode)
    if problem is not None:
        raise InputError(run_msg("input.use_stdout", problem=problem), where=where)
    return path


def _temp_name(folder: Path, name: str) -> str:
    """``.<name>.<pid>.<random>.tmp``: the pid lets a later write clear away what a killed
    writer left."""
    return str(folder / f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")


_STALE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp$")


def _sweep_stale(folder: Path, name: str) -> None:
    """Remove temporary files of ``name`` left by writers that no longer run (killed ones)."""
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            match = _STALE.match(entry.name)
            if match is None or match.group("name") != name:
                continue
            pid = int(match.group("pid"))
            if pid != os.getpid() and not _alive(pid):
                with contextlib.suppress(OSError):
                    Path(entry.path).unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, under another user
        return True
    return True


def _existing_mode(path: Path) -> int:
    try:
        return path.stat().st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask

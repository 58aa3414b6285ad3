"""The error tree and the exit codes of crmkit.

Every failure a user can cause or meet is a ``CrmkitError``; the CLI turns it into one line on
stderr and its ``exit_code``. Library code raises these and never calls ``sys.exit``.
"""

from __future__ import annotations

import re
from enum import IntEnum

# line breaks and other control characters in a value quoted by a message would split the one
# line a user (and a script) reads; they are shown escaped
_CONTROL = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


#: a quoted value in a message is shown up to this many characters (a 10 MB value is cut)
QUOTED_LIMIT = 100
#: and a whole message up to this many (where it happened comes first, so it survives)
MESSAGE_LIMIT = 1000
_LONG = QUOTED_LIMIT + 1
_QUOTED = re.compile(rf"'([^'\n]{{{_LONG},}})'|«([^»\n]{{{_LONG},}})»")


def one_line(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        return f"\\x{code:02x}" if code < 256 else f"\\u{code:04x}"

    return _CONTROL.sub(escape, text)


def bounded(text: str) -> str:
    """``text`` with every quoted value longer than ``QUOTED_LIMIT`` shortened (``'abc…'``) and
    the whole at most ``MESSAGE_LIMIT`` characters: an error quoting what a user typed must not
    grow with it."""

    def cut(match: re.Match[str]) -> str:
        plain, russian = match.group(1), match.group(2)
        inner = (plain if plain is not None else russian)[: QUOTED_LIMIT - 1] + "…"
        return f"'{inner}'" if plain is not None else f"«{inner}»"

    text = _QUOTED.sub(cut, text)
    return text if len(text) <= MESSAGE_LIMIT else text[: MESSAGE_LIMIT - 1] + "…"


class ExitCode(IntEnum):
    """Documented exit codes (the README carries the same table)."""

    OK = 0
    REFUSED = 1  # the CRM refused a call, or a run was only partly done
    BAD_INPUT = 2  # usage, TOML, answers, validation, lint errors
    PLAN_NOT_EMPTY = 3  # `push --check` found changes to make
    INTERRUPTED = 130  # Ctrl-C


class CrmkitError(Exception):
    """Base of all errors crmkit reports to a user as one line."""

    exit_code: int = ExitCode.BAD_INPUT

    def __init__(self, message: str) -> None:
        message = bounded(one_line(message))
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class InputError(CrmkitError):
    """Bad input: a file that cannot be read or parsed, an unknown key, a wrong value.

    ``where`` names the place (``file:line``) and ``key`` the key path inside the file, so the
    message reads ``blueprint.toml:12: pipelines[0].stages[2].semantics: ...``.
    """

    exit_code = ExitCode.BAD_INPUT

    def __init__(self, problem: str, *, where: str | None = None, key: str | None = None) -> None:
        self.problem = problem
        self.where = where
        self.key = key
        # a key path is quoted from the input too: a 10 MB key must not make a 10 MB message
        shown_key = key if key is None or len(key) <= 200 else key[:199] + "…"
        parts = [p for p in (where, shown_key) if p]
        super().__init__(": ".join([*parts, problem]))


class UsageError(CrmkitError):
    """A wrong combination of options or arguments."""

    exit_code = ExitCode.BAD_INPUT


class ValidationFailed(CrmkitError):
    """A document loaded fine but breaks rules that make it unusable (lint errors)."""

    exit_code = ExitCode.BAD_INPUT


class CrmRefused(CrmkitError):
    """The CRM refused a call (or a run was only partly done)."""

    exit_code = ExitCode.REFUSED


class PlanNotEmpty(CrmkitError):
    exit_code = ExitCode.PLAN_NOT_EMPTY


class Interrupted(CrmkitError):
    exit_code = ExitCode.INTERRUPTED

"""Which of crmkit's files a TOML document is — so a file given to the wrong command is named
for what it is ("this is a selection file, not an assessment") instead of failing on the first
key the command expected.

A kind is told by its top-level keys, the same ones ``crmkit render`` dispatches on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crmkit.errors import InputError
from crmkit.i18n import msg, run_lang

#: kind → the top-level keys that only that kind has
_MARKS: dict[str, frozenset[str]] = {
    "blueprint": frozenset({"blueprint", "pipelines", "roles", "entities", "smart_processes"}),
    "assessment": frozenset({"answers"}),
    "selection": frozenset({"problems", "deployment", "criteria", "scores", "shortlist", "vendor"}),
}


def kind_of(data: Mapping[str, Any]) -> str | None:
    """``blueprint``, ``assessment``, ``selection`` — or None when the keys do not tell."""
    keys = set(data)
    found = [kind for kind, marks in _MARKS.items() if keys & marks]
    return found[0] if len(found) == 1 else None


def expect_kind(data: Mapping[str, Any], wanted: str, source: str) -> None:
    """Raise a one-line error naming the kind when ``data`` is clearly another kind of file."""
    found = kind_of(data)
    if found is None or found == wanted:
        return
    lang = run_lang()
    raise InputError(
        msg(
            "kind.wrong",
            lang,
            found=msg(f"kind.{found}", lang),
            wanted=msg(f"kind.{wanted}", lang),
            hint=msg(f"kind.hint.{found}", lang),
        ),
        where=source,
    )

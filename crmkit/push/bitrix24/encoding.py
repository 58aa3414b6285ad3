"""PHP bracket encoding of parameters for ``batch`` commands. Pure.

Inside ``batch`` every command is a string ``method?query`` that the portal parses as PHP parses
a query string: ``fields[TITLE]=…``, ``filter[>ID]=10``, ``select[0]=ID``. Values are
URL-encoded once (the whole batch travels as JSON, so no second layer; BITRIX24.md §1.6).

Decisions, made once here so a command means the same in a batch and in a direct JSON call:
- ``True``/``False`` become ``"Y"``/``"N"``, the flag spelling of the CRM methods crmkit calls
  (``MULTIPLE``, ``MANDATORY``, ``isDefault``…). Where a method wants 1/0 (boolean user-field
  filters of ``crm.item.list``), pass the integers yourself.
- ``None`` is refused: a query string cannot say "null" (other SDKs send the text ``None``).
- An empty list or table has no spelling in a query string. A whole parameter that is empty
  (``filter: {}``, ``select: []``) is left out, which means the same. Inside a parameter it is
  refused: dropping ``filter[@ID] = []`` would turn "none of these" into "no filter" and read
  every row; leave such a key out, or skip the call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote


class BatchRef(str):
    """A value that refers to an earlier command of the same batch: ``$result[label][key]…``.
    It goes into the command as it is (the portal substitutes it before parsing the query), so
    it is never URL-encoded; ``parts`` mixes such references with plain text, which is."""

    parts: tuple[tuple[str, bool], ...]

    def __new__(cls, parts: tuple[tuple[str, bool], ...]) -> BatchRef:
        made = super().__new__(cls, "".join(text for text, _raw in parts))
        made.parts = parts
        return made

    def encoded(self) -> str:
        return "".join(text if raw else quote(text, safe="") for text, raw in self.parts)


def flag(value: bool) -> str:
    return "Y" if value else "N"


def normalize(value: Any, path: str = "params") -> Any:
    """``value`` with booleans as ``"Y"``/``"N"``; ``None`` anywhere is a ``ValueError``."""
    if value is None:
        raise ValueError(f"{path}: None cannot be sent to Bitrix24; leave the key out instead")
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, Mapping):
        return {str(k): normalize(v, f"{path}[{k}]") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [normalize(v, f"{path}[{i}]") for i, v in enumerate(value)]
    return value


def _scalar(value: Any, path: str) -> str:
    if isinstance(value, bool):
        return flag(value)
    if isinstance(value, (int, float, str)):
        return str(value)
    raise ValueError(f"{path}: cannot encode a {type(value).__name__} for Bitrix24")


def _pairs(prefix: str, value: Any, out: list[tuple[str, str]], top: bool = False) -> None:
    if value is None:
        raise ValueError(f"{prefix}: None cannot be sent to Bitrix24; leave the key out instead")
    empty = isinstance(value, (Mapping, list, tuple)) and not value
    if empty and not top:
        raise ValueError(
            f"{prefix}: an empty list or table cannot be sent in a batch command "
            "(it would be dropped and change the meaning); leave the key out instead"
        )
    if isinstance(value, Mapping):
        for key, item in value.items():
            _pairs(f"{prefix}[{quote(str(key), safe='')}]", item, out)
    elif isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        for index, item in enumerate(value):
            _pairs(f"{prefix}[{index}]", item, out)
    elif isinstance(value, BatchRef):
        out.append((prefix, value.encoded()))
    else:
        out.append((prefix, quote(_scalar(value, prefix), safe="")))


def encode_query(params: Mapping[str, Any]) -> str:
    """``{"filter": {">ID": 5}, "select": ["ID"]}`` → ``filter[%3EID]=5&select[0]=ID``."""
    out: list[tuple[str, str]] = []
    for key, value in params.items():
        _pairs(quote(str(key), safe=""), value, out, top=True)
    return "&".join(f"{k}={v}" for k, v in out)


def command(method: str, params: Mapping[str, Any] | None = None) -> str:
    """One ``batch`` command string."""
    query = encode_query(params or {})
    return f"{method}?{query}" if query else method

"""Request parameters: PHP bracket notation, loose scalar coercion and PHP-array JSON shapes.

Bitrix24 is PHP: form and query bodies use ``fields[NAME]=x`` / ``select[]=ID`` notation, every
form value arrives as a string, and an array whose keys are exactly 0..n-1 is written as a JSON
list (an empty one as ``[]``). These helpers reproduce that at the edge so method handlers work
on plain dicts and lists whatever the encoding was.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

from crmkit.sandbox.errors import legacy

#: PHP's max_input_nesting_level: deeper bracket keys drop their variable
MAX_NESTING = 64
_KEY = re.compile(r"^([^\[\]]*)((?:\[[^\]]*\])*)")


def parse_php_query(query: str) -> dict[str, Any]:
    """``a[b][]=1&a[b][]=2&c=3`` → ``{"a": {"b": ["1", "2"]}, "c": "3"}``."""
    return php_params(parse_qsl(query, keep_blank_values=True))


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """A ``multipart/form-data`` body (``content_type`` with its boundary) read like a form:
    each part's ``name`` is a bracket key, its content the value."""
    head = b"Content-Type: " + content_type.encode("latin-1", errors="replace") + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    pairs: list[tuple[str, str]] = []
    if isinstance(message, EmailMessage) and message.is_multipart():
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            if not isinstance(name, str) or not name:
                continue
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            charset = part.get_content_charset() or "utf-8"
            try:
                pairs.append((name, data.decode(charset, errors="replace")))
            except LookupError:  # an unknown charset name
                pairs.append((name, data.decode("utf-8", errors="replace")))
    return php_params(pairs)


def php_params(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """Name/value pairs with bracket keys → nested dicts and lists, as PHP builds ``$_REQUEST``."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        match = _KEY.match(key)
        if match is None or not match.group(1):
            continue
        path = [match.group(1)] + re.findall(r"\[([^\]]*)\]", match.group(2))
        if len(path) - 1 > MAX_NESTING:
            # like PHP's max_input_nesting_level: the whole variable is dropped (a later
            # pair may start it again)
            root.pop(path[0], None)
            continue
        node = root
        for index, part in enumerate(path):
            last = index == len(path) - 1
            if part == "":  # ``x[]``: append at the next free integer key, like PHP
                part = str(_next_index(node))
            if last:
                node[part] = value
            else:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = {}
                    node[part] = child
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def _next_index(node: dict[str, Any]) -> int:
    numbers = [int(k) for k in node if k.isdigit()]
    return max(numbers) + 1 if numbers else 0


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and list(converted) == [str(i) for i in range(len(converted))]:
            return list(converted.values())
        return converted
    return value


def php_array(members: dict[str, Any]) -> dict[str, Any] | list[Any]:
    """How PHP's json_encode writes an associative array: ``[]`` when empty, a list when the
    keys are exactly ``"0".."n-1"`` in order, otherwise an object."""
    if not members:
        return []
    if list(members) == [str(i) for i in range(len(members))]:
        return list(members.values())
    return members


def pick(params: dict[str, Any], name: str) -> Any:
    """A parameter by name, case-insensitively (legacy methods accept ``filter``/``FILTER``)."""
    if name in params:
        return params[name]
    lowered = name.lower()
    for key, value in params.items():
        if key.lower() == lowered:
            return value
    return None


def as_int(value: Any, default: int | None = None) -> int | None:
    """``"12"``/``12``/``12.0`` → 12; anything else → ``default``."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return default


def as_yn(value: Any, default: str = "N") -> str:
    """Loose Y/N: ``"Y"``, ``"y"``, ``True``, ``1``, ``"1"``, ``"true"`` → ``"Y"``."""
    if value is None:
        return default
    if isinstance(value, bool):
        return "Y" if value else "N"
    text = str(value).strip().lower()
    if text in ("y", "1", "true", "yes"):
        return "Y"
    if text in ("n", "0", "false", "no", ""):
        return "N"
    return default


def as_mapping(value: Any, name: str) -> dict[str, Any]:
    """A filter/order parameter: absent → ``{}``; an object → itself; a list → indexed object;
    anything else → the legacy 400 "Parameter '<name>' must be array."."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    raise legacy(f"Parameter '{name}' must be array.")


def checked_mapping(params: dict[str, Any], name: str) -> dict[str, Any]:
    """Like :func:`as_mapping`, but an explicit ``null`` is refused as well (PHP sees no array)."""
    present = any(k.lower() == name.lower() for k in params)
    value = pick(params, name)
    if present and value is None:
        raise legacy(f"Parameter '{name}' must be array.")
    return as_mapping(value, name)

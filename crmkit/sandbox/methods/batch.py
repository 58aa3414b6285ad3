"""``batch``: up to 50 sub-commands in one HTTP request, with ``$result[...]`` references.

The answer is HTTP 200 even when commands fail; each ``result_*`` member is shaped like PHP's
json_encode of an array (``[]`` when empty, a list when the labels are exactly 0..n-1).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from crmkit.sandbox.errors import ApiError
from crmkit.sandbox.params import as_yn, parse_php_query, php_array, pick
from crmkit.sandbox.portal import Portal, Registry

registry = Registry()

MAX_COMMANDS = 50
_REFERENCE = re.compile(
    r"\$(result|result_error|result_total|result_next|result_time)"
    r"((?:\[[^\]]*\])+)"
)


def _resolve(members: dict[str, dict[str, Any]], match: re.Match[str]) -> str:
    node: Any = members[match.group(1)]
    for part in re.findall(r"\[([^\]]*)\]", match.group(2)):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return match.group(0)  # unknown reference: left as written
    if isinstance(node, bool):
        return "1" if node else ""
    if isinstance(node, dict | list):
        return match.group(0)
    return quote("" if node is None else str(node), safe="")


@registry.method("batch", "basic", batchable=False)
def batch(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    raw = pick(params, "cmd") or {}
    if isinstance(raw, list):
        commands = {str(i): c for i, c in enumerate(raw)}
    elif isinstance(raw, dict):
        commands = {str(k): v for k, v in raw.items()}
    else:
        raise ApiError("ERROR_ARGUMENT", "Parameter 'cmd' must be array.")
    if len(commands) > MAX_COMMANDS:
        raise ApiError("ERROR_BATCH_LENGTH_EXCEEDED", "Max batch length exceeded")
    halt = as_yn(pick(params, "halt")) == "Y"
    members: dict[str, dict[str, Any]] = {
        "result": {},
        "result_error": {},
        "result_total": {},
        "result_next": {},
        "result_time": {},
    }
    for label, command in commands.items():
        text = _REFERENCE.sub(lambda m: _resolve(members, m), str(command))
        method, _, query = text.partition("?")
        try:
            outcome = portal.call(method.strip(), parse_php_query(query), in_batch=True)
        except ApiError as error:
            members["result_error"][label] = {
                "error": error.code,
                "error_description": error.description,
            }
            if halt:
                break
            continue
        members["result"][label] = outcome.result
        if outcome.total is not None:
            members["result_total"][label] = outcome.total
        if outcome.next is not None:
            members["result_next"][label] = outcome.next
        members["result_time"][label] = outcome.time
    return {name: php_array(value) for name, value in members.items()}

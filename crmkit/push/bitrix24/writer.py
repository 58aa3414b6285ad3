"""Running a plan's calls on a Bitrix24 portal: batches of up to 50 commands, in phase order,
with references to objects made earlier in the same apply, and item counts for the planner.

A reference to a command of the same batch becomes ``$result[label][key]…`` (the portal puts the
value in before it runs the command, BITRIX24.md §1.6); one to a command of an earlier batch is
replaced by its value, which the writer has seen. A command whose reference cannot be resolved
(the command it needs failed) is not sent: it is reported, and the next round of the apply
plans it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from crmkit.push.bitrix24.client import BATCH_LIMIT
from crmkit.push.bitrix24.encoding import BatchRef
from crmkit.push.bitrix24.replies import BatchItem, BatchResult, as_mapping
from crmkit.push.plan import Call, Concat, CountKey, Ref
from crmkit.push.state import DEAL_TYPE, LEAD_TYPE

Commands = dict[str, tuple[str, dict[str, Any]]]


class Batcher(Protocol):
    requests_sent: int

    def batch_many(self, commands: Commands, *, halt: bool = False) -> BatchResult: ...

    def batch(self, commands: Commands, *, halt: bool = False) -> BatchResult: ...


class _Unresolved(Exception):
    """A reference to a command that failed or was not run."""

    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


@dataclass
class Execution:
    """What the calls of one round did, by label."""

    results: dict[str, BatchItem] = field(default_factory=dict)
    #: labels not sent because a command they refer to failed → that command's label
    blocked: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def failed(self) -> dict[str, BatchItem]:
        return {k: v for k, v in self.results.items() if not v.ok}


def _walk(value: Any, path: Sequence[str | int]) -> Any:
    for part in path:
        if isinstance(value, list) and isinstance(part, int) and part < len(value):
            value = value[part]
        elif isinstance(value, Mapping) and str(part) in value:
            value = value[str(part)]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise KeyError(part)
    return value


def resolve(value: Any, done: Mapping[str, BatchItem], here: set[str]) -> Any:
    """``value`` with every ``Ref``/``Concat`` replaced: by the value of an earlier batch's
    result, or by a ``$result[…]`` reference to a command of this batch."""
    if isinstance(value, Ref):
        return _ref(value, done, here)
    if isinstance(value, Concat):
        parts: list[tuple[str, bool]] = []
        for part in value.parts:
            resolved = _ref(part, done, here) if isinstance(part, Ref) else part
            if isinstance(resolved, BatchRef):
                parts.extend(resolved.parts)
            else:
                parts.append((str(resolved), False))
        if all(not raw for _text, raw in parts):
            return "".join(text for text, _raw in parts)
        return BatchRef(tuple(parts))
    if isinstance(value, Mapping):
        return {k: resolve(v, done, here) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [resolve(v, done, here) for v in value]
    return value


def _ref(ref: Ref, done: Mapping[str, BatchItem], here: set[str]) -> Any:
    if ref.label in here:
        path = "".join(f"[{part}]" for part in ref.path)
        return BatchRef(((f"$result[{ref.label}]{path}", True),))
    item = done.get(ref.label)
    if item is None or not item.ok:
        raise _Unresolved(ref.label)
    try:
        found = _walk(item.result, ref.path)
    except KeyError:
        raise _Unresolved(ref.label) from None
    if isinstance(found, (dict, list)) or found is None:
        raise _Unresolved(ref.label)
    return found


def execute(
    client: Batcher,
    calls: Sequence[Call],
    *,
    progress: Callable[[int, int], None] | None = None,
    results: Execution | None = None,
) -> Execution:
    """Run ``calls`` (already in phase order) in batches of up to 50. A failing command does not
    stop the others (``halt=0``); a lost reply to a whole batch is raised: what it did is unknown
    until the portal is read again. ``results`` collects what is known even then."""
    out = results if results is not None else Execution()
    before = client.requests_sent
    total = len(calls)
    sent = 0
    for start in range(0, total, BATCH_LIMIT):
        chunk = calls[start : start + BATCH_LIMIT]
        commands: Commands = {}
        here: set[str] = set()
        for call in chunk:
            try:
                params = resolve(call.params, out.results, here)
            except _Unresolved as missing:
                out.blocked[call.label] = missing.label
                continue
            commands[call.label] = (call.method, params)
            here.add(call.label)
        if commands:
            try:
                answer = client.batch(commands, halt=False)
            finally:
                out.requests = client.requests_sent - before
            out.results.update(answer.items)
        sent += len(chunk)
        if progress is not None:
            progress(sent, total)
    return out


# -- counting items -------------------------------------------------------------------------------


def _count_command(key: CountKey) -> tuple[str, dict[str, Any]]:
    kind, first, second = key
    if kind == "stage":
        entity_id, status_id = first, second
        if entity_id == "STATUS":
            return "crm.lead.list", {"filter": {"STATUS_ID": status_id}, "select": ["ID"]}
        if entity_id.startswith("DEAL_STAGE"):
            return "crm.deal.list", {"filter": {"STAGE_ID": status_id}, "select": ["ID"]}
        etid = int(entity_id.split("_")[1])
        return "crm.item.list", {
            "entityTypeId": etid,
            "filter": {"stageId": status_id},
            "select": ["id"],
        }
    etid, cid = int(first), int(second)
    if etid == DEAL_TYPE:
        return "crm.deal.list", {"filter": {"CATEGORY_ID": cid}, "select": ["ID"]}
    if etid == LEAD_TYPE:
        return "crm.lead.list", {"select": ["ID"]}
    return "crm.item.list", {"entityTypeId": etid, "filter": {"categoryId": cid}, "select": ["id"]}


def count_items(client: Batcher, keys: Iterable[CountKey]) -> dict[CountKey, int]:
    """How many leads, deals or items sit in each stage or funnel of ``keys`` (``total`` of one
    page with only ids selected, 50 counts to a request)."""
    wanted = list(dict.fromkeys(keys))
    commands: Commands = {}
    for index, key in enumerate(wanted):
        method, params = _count_command(key)
        commands[f"n{index}"] = (method, {**params, "start": 0})
    if not commands:
        return {}
    answer = client.batch_many(commands)
    out: dict[CountKey, int] = {}
    for index, key in enumerate(wanted):
        item = answer[f"n{index}"]
        if item.error is not None:
            raise item.error
        if item.total is not None:
            out[key] = item.total
        else:
            rows = item.result
            rows = rows.get("items", []) if isinstance(rows, Mapping) else rows
            out[key] = len(rows) if isinstance(rows, list) else len(as_mapping(rows))
    return out

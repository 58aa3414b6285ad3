"""Running an amoCRM plan's calls: phase by phase, creates batched, references filled in.

A call's ``method`` is ``VERB /route/{placeholder}``; the placeholders are taken out of its
params, the rest is the body. Creates to one route within a phase go as one batch of up to
``BATCH_LIMIT`` items (the client's ``create``: each item's label is its ``request_id``, the
reply's rows are matched back by it); other calls go one by one (amoCRM's PATCH of a status or a
loss reason takes one object, and a DELETE names one status, pipeline or custom field: 204, no
body). The plan's phases put deletes last, a pipeline's statuses before the pipeline; a delete
refused (a pipeline amoCRM still finds leads in) or of something already gone (404, after a lost
reply) fails that call alone, and the fresh read after the round tells what is left.

What a batch's reply says decides what happens next:

- 400 ``validation-errors``: amoCRM made nothing of that batch; the refused items fail with
  their issues by key path, the others are sent again without them;
- a reply lost after the write (5xx, a cut connection: the client raises ``ReplyLost``): the
  round stops at once, nothing is sent again; the apply loop reads the account again and plans
  what is still missing (``crmkit.push.service``);
- a batch whose reply does not name an item it was sent: that item's outcome is unknown, so it
  is treated as a lost reply too.

A value refers to an earlier call's reply through ``Ref``: its path walks the reply's JSON; a
text step inside a list picks the row of that name (the statuses a new pipeline came back with).
A call whose reference cannot be filled (the call it needs failed) is not sent, and reported.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any, Protocol

from crmkit.push.amocrm.client import BATCH_LIMIT, CreateResult
from crmkit.push.amocrm.errors import AmoNotFound, AmoRefused, AmoReplyLost
from crmkit.push.errors import PortalError
from crmkit.push.plan import Call, Concat, Ref

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class AmoWriter(Protocol):
    requests_sent: int
    lang: Any
    account: Any

    def create(
        self,
        path: str,
        items: Sequence[Mapping[str, Any]],
        key: str,
        *,
        labels: Sequence[str] | None = None,
        halt: bool = True,
    ) -> CreateResult: ...

    def request(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        write: bool,
    ) -> Any: ...


@dataclass(frozen=True)
class Done:
    """What one call came to: its reply's row (a create) or reply, or the error."""

    ok: bool
    value: Any = None
    error: PortalError | None = None


@dataclass
class Execution:
    """What the calls of one round did, by label (the shape ``crmkit.push.service`` reads)."""

    results: dict[str, Done] = field(default_factory=dict)
    #: labels not sent because a call they refer to failed → that call's label
    blocked: dict[str, str] = field(default_factory=dict)
    requests: int = 0

    def failed(self) -> dict[str, Done]:
        return {k: v for k, v in self.results.items() if not v.ok}


class _Unresolved(Exception):
    def __init__(self, label: str) -> None:
        super().__init__(label)
        self.label = label


def execute(
    client: AmoWriter,
    calls: Sequence[Call],
    *,
    progress: Callable[[int, int], None] | None = None,
    results: Execution | None = None,
) -> Execution:
    """Run ``calls`` (already in phase order) on the account behind ``client``."""
    out = results if results is not None else Execution()
    before = client.requests_sent
    total, done = len(calls), 0
    try:
        for _phase, group in groupby(calls, key=lambda c: c.phase):
            ready = _resolved(list(group), out)
            for route, batch in _by_route(ready):
                if route[0] == "POST":
                    _create(client, route[1], batch, out)
                else:
                    for label, body in batch:
                        _one(client, route, label, body, out)
                done += len(batch)
                if progress is not None:
                    progress(done, total)
    finally:
        out.requests += client.requests_sent - before
    return out


_Prepared = tuple[tuple[str, str], str, dict[str, Any]]  # (verb, path), label, body


def _resolved(calls: list[Call], out: Execution) -> list[_Prepared]:
    """The phase's calls with their references filled and routes made; those that cannot be
    filled are set aside as blocked."""
    ready: list[_Prepared] = []
    for call in calls:
        try:
            params = _fill(call.params, out)
        except _Unresolved as missing:
            out.blocked[call.label] = missing.label
            continue
        verb, template = call.method.split(" ", 1)
        names = _PLACEHOLDER.findall(template)
        path = _route(template, params)
        body = {k: v for k, v in params.items() if k not in names}
        ready.append(((verb, path), call.label, body))
    return ready


def _route(template: str, params: Mapping[str, Any]) -> str:
    return _PLACEHOLDER.sub(lambda m: str(params[m.group(1)]), template)


def _by_route(ready: list[_Prepared]) -> list[tuple[tuple[str, str], list[tuple[str, Any]]]]:
    """Calls grouped by verb and path, in the order each route first appears."""
    routes: dict[tuple[str, str], list[tuple[str, Any]]] = {}
    for route, label, body in ready:
        routes.setdefault(route, []).append((label, body))
    return list(routes.items())


def _create(client: AmoWriter, path: str, batch: list[tuple[str, Any]], out: Execution) -> None:
    key = path.rstrip("/").rsplit("/", 1)[-1]
    for start in range(0, len(batch), BATCH_LIMIT):
        pending = batch[start : start + BATCH_LIMIT]
        while pending:
            labels = [label for label, _body in pending]
            made = client.create(path, [b for _l, b in pending], key, labels=labels, halt=False)
            for label, row in made.created.items():
                out.results[label] = Done(True, row)
            for label, issues in made.errors.items():
                text = "; ".join(issue.line(label) for issue in issues)
                out.results[label] = Done(False, error=_refused(client, f"POST {path}", text))
            unknown = [label for label in made.skipped if label not in made.errors]
            if not made.errors and unknown:
                # the batch ran but its reply does not name these: their outcome is unknown
                raise AmoReplyLost(url=client.account.masked, method=f"POST {path}")
            # a refused batch made nothing: its other items are sent again, on their own
            again = [(label, body) for label, body in pending if label in unknown]
            if len(again) >= len(pending):  # refused without naming an item: do not loop
                text = "validation-errors named no item of this batch"
                for label in unknown:
                    out.results[label] = Done(False, error=_refused(client, f"POST {path}", text))
                return
            pending = again


def _one(
    client: AmoWriter, route: tuple[str, str], label: str, body: dict[str, Any], out: Execution
) -> None:
    verb, path = route
    try:
        reply = client.request(verb, path, body=body or None, write=True)
    except (AmoRefused, AmoNotFound) as error:
        out.results[label] = Done(False, error=error)
        return
    out.results[label] = Done(True, reply)


def _refused(client: AmoWriter, method: str, text: str) -> AmoRefused:
    return AmoRefused(
        url=client.account.masked, method=method, description=text, status=400, lang=client.lang
    )


def _fill(value: Any, out: Execution) -> Any:
    if isinstance(value, Ref):
        return _ref(value, out)
    if isinstance(value, Concat):
        return "".join(str(_fill(p, out)) for p in value.parts)
    if isinstance(value, Mapping):
        return {k: _fill(v, out) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, out) for v in value]
    return value


def _ref(ref: Ref, out: Execution) -> Any:
    done = out.results.get(ref.label)
    if done is None or not done.ok:
        raise _Unresolved(ref.label)
    try:
        return walk(done.value, ref.path)
    except (KeyError, IndexError, TypeError, StopIteration):
        raise _Unresolved(ref.label) from None


def walk(value: Any, path: Sequence[str | int]) -> Any:
    """``value`` at ``path``: keys of objects, indexes of lists, and in a list of named rows a
    name picks its row (``("_embedded", "statuses", "Переговоры", "id")``)."""
    for part in path:
        if isinstance(value, list) and isinstance(part, int):
            value = value[part]
        elif isinstance(value, list):
            wanted = str(part).strip().casefold()
            value = next(
                r
                for r in value
                if isinstance(r, Mapping) and str(r.get("name", "")).strip().casefold() == wanted
            )
        elif isinstance(value, Mapping):
            value = value[str(part)] if str(part) in value else value[part]
        else:
            raise KeyError(part)
    return value

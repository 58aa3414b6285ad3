"""An adversarial review of the REST client: the cases that broke it, each pinned by a test.

Real HTTP on 127.0.0.1 only (the sandbox, or a tiny scripted server for what the sandbox cannot
show); every test is bounded in requests and runs on injected clocks and sleeps.
"""

from __future__ import annotations

import json
import socket
import time
import traceback
from typing import Any
from urllib.parse import parse_qs

import pytest
from http_util import Answer, serve

from crmkit.errors import CrmRefused
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.encoding import command, encode_query
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.errors import (
    AuthFailed,
    NotFound,
    PortalError,
    RateLimited,
    Refused,
    ReplyLost,
    ScopeMissing,
    Unavailable,
)
from crmkit.sandbox import start_sandbox

CODE = "r3vi3wc0de4242"


class Clock:
    """Unix time that moves only when the client sleeps."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)


def answer(status: int, body: Any) -> Answer:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()


def client_for(origin: str, clock: Clock | None = None, **kwargs: Any) -> Bitrix24Client:
    clock = clock or Clock()
    kwargs.setdefault("clock", clock)
    kwargs.setdefault("sleep", clock.sleep)
    kwargs.setdefault("random", lambda: 0.0)
    kwargs.setdefault("rate", None)
    return Bitrix24Client(parse_webhook(f"{origin}/rest/1/{CODE}/"), **kwargs)


def chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception reachable through ``__cause__`` and ``__context__``."""
    out: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or any(item is seen for seen in out):
            continue
        out.append(item)
        todo += [item.__cause__, item.__context__]
    return out


def assert_no_code(exc: BaseException) -> None:
    for item in chain(exc):
        assert CODE not in str(item), (type(item).__name__, str(item))
        assert CODE not in repr(item), (type(item).__name__, repr(item))
        assert CODE not in repr(getattr(item, "args", ())), type(item).__name__
    text = "".join(traceback.format_exception(exc))
    assert CODE not in text


# -- secrets in exceptions ---------------------------------------------------------------------


def test_transport_errors_carry_no_code_anywhere_in_their_chain() -> None:
    """requests' exceptions name the URL (and so the code): they must not even hang on as the
    ``__context__`` of the error we raise, where a logger or a debugger would print them."""
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}") as client, pytest.raises(Unavailable) as refused:
        client.call("crm.status.list", {})
    assert_no_code(refused.value)

    def slow(path: str, body: bytes) -> Answer:
        time.sleep(0.3)
        return answer(200, {"result": True})

    with (
        serve(slow) as (origin, _seen),
        client_for(origin, timeout=(1.0, 0.05)) as client,
        pytest.raises(ReplyLost) as lost,
    ):
        client.call("crm.status.add", {"fields": {"NAME": "x"}})
    assert_no_code(lost.value)


def test_an_error_code_that_echoes_the_url_is_masked() -> None:
    def echo(path: str, body: bytes) -> Answer:
        return answer(400, {"error": path, "error_description": f"bad call {path}"})

    with (
        serve(echo) as (origin, _seen),
        client_for(origin) as client,
        pytest.raises(PortalError) as caught,
    ):
        client.call("crm.status.add", {"fields": {"NAME": "x"}})
    assert_no_code(caught.value)
    assert CODE not in caught.value.error + caught.value.description


# -- every status and code of BITRIX24.md §1.4 -------------------------------------------------

# (status, error code, method, the typed error, HTTP requests the client may send)
MAPPING: list[tuple[int, str, str, type[PortalError], int]] = [
    (503, "QUERY_LIMIT_EXCEEDED", "crm.status.add", RateLimited, 3),
    (429, "QUERY_LIMIT_EXCEEDED", "crm.status.add", RateLimited, 3),
    (503, "OVERLOAD_LIMIT", "crm.status.list", RateLimited, 1),
    (401, "NO_AUTH_FOUND", "crm.status.list", AuthFailed, 1),
    (401, "expired_token", "crm.status.list", AuthFailed, 1),
    (401, "invalid_token", "crm.status.list", AuthFailed, 1),
    (403, "insufficient_scope", "crm.status.list", ScopeMissing, 1),
    (401, "insufficient_scope", "crm.status.list", ScopeMissing, 1),
    (403, "ACCESS_DENIED", "crm.status.add", Refused, 1),
    (403, "INVALID_CREDENTIALS", "crm.status.add", Refused, 1),
    (403, "user_access_error", "crm.status.add", Refused, 1),
    # the method needs an application (OAuth) context: the webhook's code is fine
    (403, "WRONG_AUTH_TYPE", "bizproc.robot.add", Refused, 1),
    (404, "ERROR_METHOD_NOT_FOUND", "crm.nothing.list", NotFound, 1),
    (400, "NOT_FOUND", "crm.category.get", NotFound, 1),
    (405, "ERROR_BATCH_METHOD_NOT_ALLOWED", "batch", Refused, 1),
    (400, "ERROR_BATCH_LENGTH_EXCEEDED", "batch", Refused, 1),
    (400, "INVALID_REQUEST", "crm.status.list", Refused, 1),
    (400, "", "crm.status.add", Refused, 1),
    (400, "ERROR_CORE", "crm.status.add", Refused, 1),
    (500, "INTERNAL_SERVER_ERROR", "crm.status.add", ReplyLost, 1),
    (500, "ERROR_UNEXPECTED_ANSWER", "crm.status.add", ReplyLost, 1),
    (500, "INTERNAL_SERVER_ERROR", "crm.status.list", Unavailable, 3),
    # the portal is gone: nothing was written, and asking again will not bring it back
    (500, "PORTAL_DELETED", "crm.status.add", Unavailable, 1),
    (500, "PORTAL_DELETED", "crm.status.list", Unavailable, 1),
    (410, "PORTAL_DELETED", "crm.status.list", Unavailable, 1),
]


@pytest.mark.parametrize(("status", "code", "method", "kind", "sent"), MAPPING)
def test_every_documented_error_maps_to_its_type(
    status: int, code: str, method: str, kind: type[PortalError], sent: int
) -> None:
    said = "Something the portal said.\nAnd a second line."
    with serve(lambda p, b: answer(status, {"error": code, "error_description": said})) as (
        origin,
        seen,
    ):
        client = client_for(origin, max_retries=2)
        with client, pytest.raises(PortalError) as caught:
            client.call(method, {})
    assert type(caught.value) is kind, (status, code, type(caught.value).__name__)
    assert len(seen) == sent
    assert isinstance(caught.value, CrmRefused) and caught.value.exit_code == 1
    assert caught.value.error == code and caught.value.status == status
    assert CODE not in str(caught.value) and "\n" not in str(caught.value)
    if kind in (Refused, NotFound):
        assert "Something the portal said.; And a second line." in str(caught.value)


def test_a_200_that_is_not_json_is_not_a_refusal() -> None:
    """A proxy's HTML page with status 200: a write may have run (its outcome is unknown), a
    read is asked again; neither is "the portal refused"."""
    html = (200, {"Content-Type": "text/html"}, b"<html>captive portal</html>")
    with serve(lambda p, b: html) as (origin, seen), client_for(origin, max_retries=1) as client:
        with pytest.raises(ReplyLost):
            client.call("crm.status.add", {"fields": {"NAME": "x"}})
        assert len(seen) == 1
        with pytest.raises(Unavailable) as caught:
            client.call("crm.status.list", {})
        assert not isinstance(caught.value, ReplyLost)
        assert len(seen) == 3


# -- OPERATION_TIME_LIMIT ----------------------------------------------------------------------


@pytest.mark.parametrize("skew", [-300.0, 300.0])
def test_operation_time_limit_waits_by_the_portals_clock(skew: float) -> None:
    """Our clock and the portal's differ: the pause is ``operating_reset_at`` minus the portal's
    own ``finish`` time, not minus our clock (ahead: no hammering; behind: no overlong wait)."""
    portal_clock = Clock()

    def ours() -> float:
        return portal_clock.now + skew

    with start_sandbox(
        port=0, rate=None, code=CODE, clock=portal_clock, operating_limit=1.0, operating_cost=0.6
    ) as sb:
        client = Bitrix24Client(
            parse_webhook(sb.webhook_url),
            clock=ours,
            sleep=portal_clock.sleep,
            random=lambda: 0.0,
            rate=None,
        )
        started = portal_clock.now
        client.call("crm.status.list", {})
        client.call("crm.status.list", {})
        reply = client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
        assert reply.result
        reset = (int(started // 60) + 10) * 60
        assert portal_clock.now == pytest.approx(reset + 1.0, abs=1.0)
        assert client.requests_sent == 4
        assert sb.internal_errors == []


def test_operation_time_limit_without_a_time_block_uses_the_last_seen_reset() -> None:
    """BITRIX24.md §2: stop calling the method until the last seen ``operating_reset_at``; a
    429 that carries no ``time`` must not be retried at once."""
    clock = Clock()
    reset = clock.now + 120
    answers = iter(
        [
            answer(200, {"result": [], "time": {"finish": clock.now, "operating_reset_at": reset}}),
            answer(429, {"error": "OPERATION_TIME_LIMIT", "error_description": "blocked"}),
        ]
    )

    def script(path: str, body: bytes) -> Answer:
        return next(answers, answer(200, {"result": ["ok"]}))

    with serve(script) as (origin, seen), client_for(origin, clock) as client:
        client.call("crm.status.list", {})
        assert client.call("crm.status.list", {}).result == ["ok"]
    assert len(seen) == 3
    assert clock.now >= reset


# -- paging that must end ----------------------------------------------------------------------


def _rows(first: int, count: int) -> list[dict[str, str]]:
    return [{"ID": str(i)} for i in range(first, first + count)]


def test_iter_list_stops_at_an_empty_page_whatever_total_says() -> None:
    """A portal with a wrong ``total`` keeps sending ``next`` past the end."""

    def wrong_total(path: str, body: bytes) -> Answer:
        start = int(json.loads(body).get("start") or 0)
        rows = _rows(start + 1, 50) if start < 100 else []
        return answer(200, {"result": rows, "total": 10**9, "next": start + 50})

    with serve(wrong_total) as (origin, seen), client_for(origin) as client:
        rows = list(client.iter_list("crm.address.list", {}))
    assert len(rows) == 100
    assert len(seen) == 3


def test_iter_keyset_refuses_a_portal_that_ignores_the_id_filter() -> None:
    """The same 50 rows again and again (the ``>ID`` filter ignored): an error, not a loop."""
    with (
        serve(lambda p, b: answer(200, {"result": _rows(1, 50)})) as (origin, seen),
        client_for(origin) as client,
        pytest.raises(Unavailable) as caught,
    ):
        list(client.iter_keyset("crm.deal.list", {"select": ["ID"]}))
    assert len(seen) == 2
    assert "crm.deal.list" in str(caught.value) and CODE not in str(caught.value)


def test_iter_keyset_ends_after_a_full_last_page() -> None:
    """Exactly 50 rows in all: one more request finds nothing and the listing ends."""

    def pages(path: str, body: bytes) -> Answer:
        after = json.loads(body)["filter"].get(">ID")
        return answer(200, {"result": [] if after else _rows(1, 50), "total": 0})

    with serve(pages) as (origin, seen), client_for(origin) as client:
        assert len(list(client.iter_keyset("crm.deal.list", {}))) == 50
    assert len(seen) == 2


# -- the batch encoder -------------------------------------------------------------------------


def test_an_empty_list_inside_a_filter_is_refused_not_dropped() -> None:
    """``filter[@ID]`` with no ids must not become "no filter": that reads every row."""
    with pytest.raises(ValueError, match=r"filter\]?\[%40ID\]|@ID"):
        encode_query({"filter": {"@ID": []}})
    with pytest.raises(ValueError):
        command("crm.deal.list", {"filter": {"STAGE_ID": {}}})
    # a whole empty parameter still means "not given"
    assert command("crm.deal.list", {"filter": {}, "select": []}) == "crm.deal.list"


SPECIAL = "A & B? 100% [x] #1 + = Ёжик/дом; «ок»"


def test_special_characters_survive_a_batch_and_a_direct_call() -> None:
    query = encode_query({"fields": {"NAME": SPECIAL}})
    assert parse_qs(query)["fields[NAME]"] == [SPECIAL]
    assert "&" not in query.split("=", 1)[1] and "#" not in query
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        client = Bitrix24Client(parse_webhook(sb.webhook_url), rate=None)
        fields = {"ENTITY_ID": "SOURCE", "STATUS_ID": "REVIEW_B", "NAME": SPECIAL, "SORT": 5}
        got = client.batch({"add": ("crm.status.add", {"fields": fields})})
        added = got.value("add")
        direct = client.call(
            "crm.status.add", {"fields": {**fields, "STATUS_ID": "REVIEW_D"}}
        ).result
        for sid in (added, direct):
            assert client.call("crm.status.get", {"id": sid}).result["NAME"] == SPECIAL
        assert sb.internal_errors == []

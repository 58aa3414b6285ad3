"""A portal that does not answer, a TLS failure, and what the person at the terminal is told
while the client waits or retries. Real sockets on 127.0.0.1 only, each test bounded in time."""

from __future__ import annotations

import json
import re
import time

import pytest
from http_util import Answer, serve, silent_server

from crmkit.cli.context import AppContext
from crmkit.push.bitrix24.client import LIMIT_PATIENCE, PATIENCE, Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.errors import RateLimited, Unavailable
from crmkit.sandbox import start_sandbox

CODE = "p4ti3nc3c0de77"


def test_the_default_bounds_are_the_documented_ones() -> None:
    assert PATIENCE <= 60 and LIMIT_PATIENCE == 120
    client = Bitrix24Client(parse_webhook(f"https://portal.example/rest/1/{CODE}/"))
    connect, read = client._timeout(started=client._clock())  # the one timeout a call uses
    assert connect <= 10 and read <= 60


def test_a_portal_that_never_answers_is_given_up_within_its_patience() -> None:
    told: list[str] = []
    with silent_server() as (port, accepted):
        hook = parse_webhook(f"http://127.0.0.1:{port}/rest/1/{CODE}/")
        client = Bitrix24Client(hook, rate=None, patience=1.5, notice_after=0.3, notify=told.append)
        began = time.monotonic()
        with client, pytest.raises(Unavailable) as caught:
            client.call("crm.status.list", {})
        spent = time.monotonic() - began
    # one attempt used the whole patience: no silent retries after it
    assert 1.0 <= spent < 3.0, spent
    assert len(accepted) == 1
    assert told and re.fullmatch(r"waiting for the portal… \(at most [12] s\)", told[0])
    assert CODE not in str(caught.value)


def test_the_waiting_line_and_the_retry_lines_speak_the_run_language() -> None:
    told: list[str] = []
    with start_sandbox(port=0, rate=None) as sb:
        sb.faults.force(2)  # two 503 QUERY_LIMIT_EXCEEDED
        client = Bitrix24Client(
            parse_webhook(sb.webhook_url),
            rate=None,
            sleep=lambda s: None,
            lang="ru",
            notify=told.append,
        )
        with client:
            client.call("user.current", {})
    assert len(told) == 2 and all("повторю через" in line for line in told)
    assert sb.code not in "".join(told)


def test_a_tls_failure_is_named_and_not_retried() -> None:
    # a plain-HTTP server spoken to over https: the handshake fails
    with serve(lambda p, b: (200, {}, b"{}")) as (origin, seen):
        port = origin.rsplit(":", 1)[1]
        hook = parse_webhook(f"https://127.0.0.1:{port}/rest/1/{CODE}/")
        began = time.monotonic()
        with Bitrix24Client(hook, rate=None) as client, pytest.raises(Unavailable) as caught:
            client.call("crm.status.list", {})
    assert "TLS" in str(caught.value) and time.monotonic() - began < 5
    assert client.requests_sent == 1 and CODE not in str(caught.value)


def test_a_503_storm_is_retried_for_its_time_budget_not_a_count() -> None:
    """Refused before it ran, a 503 is always safe to repeat: a storm of 30 s passes, one
    beyond the budget ends in a clear refusal."""
    clock = {"now": 0.0}

    def sleep(seconds: float) -> None:
        clock["now"] += seconds

    storm_until = 30.0

    def script(path: str, body: bytes) -> Answer:
        if clock["now"] < storm_until:
            payload = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}
            return 503, {}, json.dumps(payload).encode()
        return 200, {}, json.dumps({"result": True}).encode()

    with serve(script) as (origin, seen):
        hook = parse_webhook(f"{origin}/rest/1/{CODE}/")
        common = {"rate": None, "clock": lambda: clock["now"], "sleep": sleep, "random": lambda: 0}
        with Bitrix24Client(hook, **common) as client:  # type: ignore[arg-type]
            assert client.call("crm.status.add", {"fields": {"NAME": "x"}}).result is True
        assert len(seen) > 5  # more than the old four retries
        clock["now"], storm_until = 0.0, 10_000.0
        client = Bitrix24Client(hook, **common)  # type: ignore[arg-type]
        with client, pytest.raises(RateLimited):
            client.call("crm.status.add", {"fields": {"NAME": "x"}})
        assert clock["now"] <= LIMIT_PATIENCE


def test_pull_prints_the_waiting_line(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from crmkit.cli import run

    with silent_server() as (port, _accepted):
        url = f"http://127.0.0.1:{port}/rest/1/{CODE}/"
        app = AppContext(
            lang="en",
            environ={"CRMKIT_WEBHOOK": url},
            cwd=tmp_path,
            portal_patience=1.0,
            portal_notice_after=0.2,
        )
        code = run(["pull"], app)
    err = capsys.readouterr().err
    assert code == 1
    assert "waiting for the portal" in err and CODE not in err

"""The client's transport rules against tiny local HTTP servers (what the sandbox cannot show):
POST redirects, lost replies, non-JSON answers, connection refused. Real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import socket
import time

import pytest
from http_util import Answer, serve

from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.errors import RateLimited, Refused, ReplyLost, Unavailable

CODE = "tr4nsp0rtc0de99"


def ok(result: object) -> Answer:
    return 200, {"Content-Type": "application/json"}, json.dumps({"result": result}).encode()


def client_for(origin: str, **kwargs: object) -> Bitrix24Client:
    sleeps: list[float] = []
    kwargs.setdefault("sleep", sleeps.append)
    kwargs.setdefault("random", lambda: 0.0)
    return Bitrix24Client(parse_webhook(f"{origin}/rest/1/{CODE}/"), rate=None, **kwargs)  # type: ignore[arg-type]


def test_post_redirect_is_reposted_with_its_body_and_the_new_address_kept() -> None:
    def new_home(path: str, body: bytes) -> Answer:
        return ok({"path": path, "body": json.loads(body)})

    with serve(new_home) as (new_origin, new_seen):

        def old_home(path: str, body: bytes) -> Answer:
            return 301, {"Location": new_origin + path.replace("/rest/1/", "/rest/1/", 1)}, b""

        with serve(old_home) as (old_origin, old_seen), client_for(old_origin) as client:
            reply = client.call("crm.status.add", {"fields": {"NAME": "Счёт", "SORT": 10}})
            assert reply.result["path"] == f"/rest/1/{CODE}/crm.status.add.json"
            assert reply.result["body"] == {"fields": {"NAME": "Счёт", "SORT": 10}}
            assert client.requests_sent == 2
            # the portal moved: the next call goes straight to the new address
            client.call("crm.status.list", {})
            assert len(old_seen) == 1
            assert [p for p, _ in new_seen] == [
                f"/rest/1/{CODE}/crm.status.add.json",
                f"/rest/1/{CODE}/crm.status.list.json",
            ]
            assert client.webhook.origin == new_origin
            assert CODE not in repr(client)


def test_redirect_loops_are_bounded_and_plain_http_elsewhere_is_refused() -> None:
    with serve(lambda path, body: (302, {"Location": path}, b"")) as (origin, seen):
        with client_for(origin, max_redirects=3) as client, pytest.raises(Unavailable) as caught:
            client.call("crm.status.list", {})
        assert len(seen) == 4
        assert "redirects" in str(caught.value) and CODE not in str(caught.value)
    target = f"http://portal.example/rest/1/{CODE}/crm.status.list.json"
    with serve(lambda path, body: (302, {"Location": target}, b"")) as (origin, seen):
        with client_for(origin) as client, pytest.raises(Refused) as refused:
            client.call("crm.status.list", {})
        assert len(seen) == 1
        assert "http://portal.example" in str(refused.value) and CODE not in str(refused.value)


def test_a_lost_reply_to_a_write_is_not_repeated_but_a_read_is() -> None:
    def slow(path: str, body: bytes) -> Answer:
        time.sleep(0.3)
        return ok(True)

    with serve(slow) as (origin, seen):
        with client_for(origin, timeout=(1.0, 0.1)) as client:
            with pytest.raises(ReplyLost) as caught:
                client.call("crm.status.add", {"fields": {"NAME": "x"}})
            assert len(seen) == 1
            assert "re-read" in str(caught.value) and CODE not in str(caught.value)
            assert caught.value.exit_code == 1
        with client_for(origin, timeout=(1.0, 0.1), max_retries=2) as client:
            with pytest.raises(Unavailable):
                client.call("crm.status.list", {})
            assert client.requests_sent == 3  # one try and two retries


def test_a_500_on_a_write_is_reported_not_repeated_and_a_read_is_retried() -> None:
    answers = iter([(500, {}, b'{"error":"INTERNAL_SERVER_ERROR","error_description":"boom"}')] * 1)

    def flaky(path: str, body: bytes) -> Answer:
        return next(answers, ok([{"ID": "1"}]))

    with serve(flaky) as (origin, seen), client_for(origin) as client:
        with pytest.raises(ReplyLost, match="INTERNAL_SERVER_ERROR"):
            client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "x"}})
        assert len(seen) == 1
    answers = iter([(500, {}, b"<html>oops</html>")])
    with serve(flaky) as (origin, seen), client_for(origin) as client:
        assert client.call("crm.category.list", {"entityTypeId": 2}).result == [{"ID": "1"}]
        assert len(seen) == 2


def test_bare_503_without_a_body_is_retried_then_reported() -> None:
    with serve(lambda path, body: (503, {}, b"")) as (origin, seen):
        sleeps: list[float] = []
        client = client_for(origin, sleep=sleeps.append, max_retries=3, random=lambda: 0.99)
        with client, pytest.raises(RateLimited) as caught:
            client.call("crm.status.add", {"fields": {}})
        assert len(seen) == 4
        # 1, 2, 4 s plus at most a quarter of jitter
        assert [1 <= sleeps[0] < 1.25, 2 <= sleeps[1] < 2.5, 4 <= sleeps[2] < 5] == [True] * 3
        assert CODE not in str(caught.value)


def test_unreachable_host_fails_fast_without_the_code() -> None:
    with socket.socket() as sock:  # a free port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sleeps: list[float] = []
    client = client_for(f"http://127.0.0.1:{port}", sleep=sleeps.append)
    with client, pytest.raises(Unavailable) as caught:
        client.call("crm.status.list", {})
    assert "connection refused" in str(caught.value)
    assert CODE not in str(caught.value) and sleeps == []
    assert caught.value.exit_code == 1


def test_logs_never_carry_the_code(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(lambda path, body: ok(True)) as (origin, _seen), client_for(origin) as client:
        client.call("crm.status.list", {})
    assert caplog.records, "expected debug records from the client and urllib3"
    assert any("/rest/1/***/" in r.getMessage() for r in caplog.records)
    assert all(CODE not in r.getMessage() for r in caplog.records)
    assert CODE not in caplog.text

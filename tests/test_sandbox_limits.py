"""The sandbox's limits (BITRIX24.md §2, §5.7): leaky bucket, 429 modes, forced faults."""

from __future__ import annotations

import requests
from sandbox_util import FakeClock, ok, post

from crmkit.sandbox import start_sandbox
from crmkit.sandbox.limiter import LeakyBucket

LIMITED = {"error": "QUERY_LIMIT_EXCEEDED", "error_description": "Too many requests"}


def test_bucket_admits_burst_then_drains_at_rate() -> None:
    clock = FakeClock()
    bucket = LeakyBucket(2.0, 50, clock)
    assert all(bucket.admit() for _ in range(50))
    assert not bucket.admit()
    clock.advance(0.5)  # one request drained
    assert bucket.admit() and not bucket.admit()
    clock.advance(25)  # empty again
    assert sum(bucket.admit() for _ in range(60)) == 50


def test_503_query_limit_exceeded_over_http_with_a_fake_clock() -> None:
    clock = FakeClock()
    with start_sandbox(port=0, rate=2.0, burst=5, clock=clock) as sb:
        statuses = [post(sb, "user.current").status_code for _ in range(6)]
        assert statuses == [200] * 5 + [503]
        assert post(sb, "user.current").json() == LIMITED
        clock.advance(0.5)
        assert [post(sb, "user.current").status_code for _ in range(2)] == [200, 503]
        clock.advance(10)
        assert [post(sb, "user.current").status_code for _ in range(6)] == [200] * 5 + [503]


def test_a_batch_is_one_request_for_the_bucket() -> None:
    clock = FakeClock()
    with start_sandbox(port=0, rate=2.0, burst=2, clock=clock) as sb:
        cmds = {f"u{i}": "user.current" for i in range(50)}
        assert len(ok(sb, "batch", {"cmd": cmds})["result"]["result"]) == 50
        assert post(sb, "batch", {"cmd": cmds}).status_code == 200
        assert post(sb, "batch", {"cmd": cmds}).status_code == 503


def test_older_behaviour_answers_429_for_the_limit() -> None:
    clock = FakeClock()
    with start_sandbox(port=0, rate=1.0, burst=1, clock=clock, limit_status=429) as sb:
        assert post(sb, "user.current").status_code == 200
        response = post(sb, "user.current")
        assert response.status_code == 429 and response.json() == LIMITED


def test_operation_time_limit_per_method_until_reset() -> None:
    clock = FakeClock(1_760_000_030.0)
    with start_sandbox(
        port=0, rate=None, clock=clock, operating_limit=1.0, operating_cost=0.4
    ) as sb:
        used = [ok(sb, "crm.status.list")["time"]["operating"] for _ in range(3)]
        assert used == [0.4, 0.8, 1.2]
        refused = post(sb, "crm.status.list")
        assert refused.status_code == 429
        body = refused.json()
        assert body["error"] == "OPERATION_TIME_LIMIT"
        assert body["time"]["operating_reset_at"] == (1_760_000_030 // 60 + 10) * 60
        assert post(sb, "user.current").status_code == 200  # other methods carry on
        clock.advance(601)
        assert post(sb, "crm.status.list").status_code == 200


def test_forced_faults_answer_the_next_requests() -> None:
    with start_sandbox(port=0, rate=None) as sb:
        sb.faults.force(2)
        sb.faults.force(1, status=500, code="INTERNAL_SERVER_ERROR", description="boom")
        answers = [post(sb, "user.current") for _ in range(4)]
        assert [a.status_code for a in answers] == [503, 503, 500, 200]
        assert answers[0].json() == LIMITED
        assert sb.faults.pending == 0 and sb.requests == 4


def test_no_limit_when_rate_is_none() -> None:
    with start_sandbox(port=0, rate=None, burst=1) as sb, requests.Session() as session:
        codes = {
            session.post(sb.webhook_url + "user.current", timeout=5).status_code for _ in range(60)
        }
        assert codes == {200}


def test_a_small_burst_then_recovery() -> None:
    """On the sandbox's clock, so a slow machine cannot drain the bucket between requests."""
    clock = FakeClock()
    with start_sandbox(port=0, rate=5.0, burst=3, clock=clock) as sb, requests.Session() as session:
        url = sb.webhook_url + "user.current"
        codes = [session.post(url, timeout=5).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 503]
        clock.advance(0.3)  # drains 1.5 requests
        assert session.post(url, timeout=5).status_code == 200
        assert session.post(url, timeout=5).status_code == 503

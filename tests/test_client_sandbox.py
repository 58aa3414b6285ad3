"""The REST client against the sandbox portal over real HTTP on 127.0.0.1.

Timing is driven by one fake clock shared by the sandbox's limiters and the client's throttle,
so a "minute" of traffic runs in well under a second and the figures are exact.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.errors import AuthFailed, RateLimited, Refused, ReplyLost, ScopeMissing
from crmkit.sandbox import Sandbox, start_sandbox

CODE = "sandb0xc0de1234"


class FakeClock:
    """Unix time that moves only when someone sleeps."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += max(seconds, 0.0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="module")
def shared() -> Iterator[Sandbox]:
    # one portal for the tests that do not depend on a fresh state (starting one costs ~0.5 s)
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        yield sb


@pytest.fixture
def sandbox(shared: Sandbox) -> Iterator[Sandbox]:
    shared.faults.clear()
    yield shared
    shared.faults.clear()


def client_of(sb: Sandbox, clock: FakeClock | None = None, **kwargs: object) -> Bitrix24Client:
    if clock is not None:
        kwargs.setdefault("clock", clock)
        kwargs.setdefault("sleep", clock.sleep)
    kwargs.setdefault("random", lambda: 0.0)
    return Bitrix24Client(parse_webhook(sb.webhook_url), **kwargs)  # type: ignore[arg-type]


# -- the limits --------------------------------------------------------------------------------


def test_throttle_keeps_a_long_run_free_of_503(clock: FakeClock) -> None:
    with start_sandbox(port=0, rate=2.0, burst=5, code=CODE, clock=clock) as sb:
        client = client_of(sb, clock, rate=2.0, burst=5, max_retries=0)
        for _ in range(120):
            client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
        assert client.requests_sent == 120 == sb.requests
        assert client.retries == 0
        # 5 at once, then one every half second: the portal's own pace
        assert clock.now - 1_760_000_000.0 == pytest.approx(57.5)


def test_without_the_throttle_the_same_run_meets_503(clock: FakeClock) -> None:
    with start_sandbox(port=0, rate=2.0, burst=5, code=CODE, clock=clock) as sb:
        client = client_of(sb, clock, rate=None, max_retries=0)
        with pytest.raises(RateLimited, match="QUERY_LIMIT_EXCEEDED"):
            for _ in range(120):
                client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
        assert client.requests_sent == 6


def test_a_forced_503_burst_is_retried_with_backoff(sandbox: Sandbox, clock: FakeClock) -> None:
    sandbox.faults.force(3)  # 503 QUERY_LIMIT_EXCEEDED three times
    client = client_of(sandbox, clock)
    reply = client.call(
        "crm.status.add",
        {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "FAIR", "NAME": "Выставка"}},
    )
    assert isinstance(reply.result, int)
    assert client.requests_sent == 4 and client.retries == 3
    assert clock.slept[-3:] == [1.0, 2.0, 4.0]
    # the add ran once: retrying a rejected request is safe
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE", "STATUS_ID": "FAIR"}})
    assert len(rows.result) == 1


def test_retries_are_bounded(sandbox: Sandbox, clock: FakeClock) -> None:
    sandbox.faults.force(10)
    client = client_of(sandbox, clock, max_retries=4)
    with pytest.raises(RateLimited) as caught:
        client.call("crm.status.list", {})
    assert client.requests_sent == 5
    assert CODE not in str(caught.value)


def test_bare_429_is_retried_like_503(clock: FakeClock) -> None:
    with start_sandbox(port=0, rate=2.0, burst=3, code=CODE, clock=clock, limit_status=429) as sb:
        client = client_of(sb, clock, rate=None)
        for _ in range(6):
            client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
        assert client.retries >= 1
        assert sb.requests == client.requests_sent


def test_operation_time_limit_pauses_that_method_until_reset(clock: FakeClock) -> None:
    with start_sandbox(
        port=0, rate=None, code=CODE, clock=clock, operating_limit=1.0, operating_cost=0.6
    ) as sb:
        # a client that will not wait: it gives up at once, and other methods still work
        impatient = client_of(sb, clock, max_pause=0)
        impatient.call("crm.status.list", {})
        impatient.call("crm.status.list", {})
        with pytest.raises(RateLimited, match="OPERATION_TIME_LIMIT"):
            impatient.call("crm.status.list", {})
        impatient.call("crm.category.list", {"entityTypeId": 2})

        client = client_of(sb, clock)
        started = clock.now
        reply = client.call("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})
        assert reply.result
        reset = (int(started // 60) + 10) * 60  # the sandbox's ten one-minute buckets
        assert clock.now == pytest.approx(reset + 1.0)
        assert client.requests_sent == 2  # the refused call and the one after the pause


def test_a_500_on_a_write_is_never_repeated(sandbox: Sandbox, clock: FakeClock) -> None:
    sandbox.faults.force(1, status=500, code="INTERNAL_SERVER_ERROR", description="Internal error")
    client = client_of(sandbox, clock)
    before = sandbox.requests
    with pytest.raises(ReplyLost) as caught:
        client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Тендеры"}})
    assert client.requests_sent == 1 and sandbox.requests == before + 1
    assert "re-read" in str(caught.value) and CODE not in str(caught.value)
    # a read after a 500 is repeated
    sandbox.faults.force(1, status=500, code="INTERNAL_SERVER_ERROR", description="Internal error")
    assert client.call("crm.category.list", {"entityTypeId": 2}).result["categories"]
    assert client.retries == 1


# -- errors ------------------------------------------------------------------------------------


def test_a_wrong_code_is_an_auth_error_without_the_code(sandbox: Sandbox) -> None:
    wrong = sandbox.webhook_url.replace(CODE, "wr0ngc0de0000000")
    client = Bitrix24Client(parse_webhook(wrong), rate=None)
    with pytest.raises(AuthFailed) as caught:
        client.call("crm.status.list", {})
    assert caught.value.error == "NO_AUTH_FOUND" and caught.value.status == 401
    assert caught.value.exit_code == 1
    assert "wr0ngc0de0000000" not in str(caught.value) and "/rest/1/***/" in str(caught.value)


def test_a_missing_scope_is_its_own_error() -> None:
    with start_sandbox(port=0, rate=None, code=CODE, scopes=["user"]) as sb:
        client = client_of(sb)
        with pytest.raises(ScopeMissing) as caught:
            client.call("crm.status.list", {})
        assert caught.value.error == "insufficient_scope" and caught.value.status == 403


def test_the_portals_own_description_is_kept(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    with pytest.raises(Refused) as caught:
        client.call("crm.status.add", {"fields": {"ENTITY_ID": "STATUS", "NAME": "x"}})
    assert caught.value.error == ""
    assert "STATUS_ID" in caught.value.description
    assert "STATUS_ID" in str(caught.value) and "\n" not in str(caught.value)


# -- batch -------------------------------------------------------------------------------------


def test_batch_reports_partial_failures_per_command(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    result = client.batch(
        {
            "s_ok": (
                "crm.status.add",
                {
                    "fields": {
                        "ENTITY_ID": "SOURCE",
                        "STATUS_ID": "EXPO",
                        "NAME": "Выставка",
                        "SORT": 10,
                    }
                },
            ),
            "s_dup": (
                "crm.status.add",
                {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "EXPO", "NAME": "Снова"}},
            ),
            "s_list": ("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE", "STATUS_ID": "EXPO"}}),
            "nope": ("crm.nothing.here", {}),
        }
    )
    assert client.requests_sent == 1
    assert not result.ok
    assert result["s_ok"].ok and isinstance(result["s_ok"].result, int)
    assert result["s_dup"].status == "error"
    assert isinstance(result["s_dup"].error, Refused)
    assert result["s_dup"].error.error == "ERROR_CORE"
    assert "already exists" in result["s_dup"].error.description
    assert result["s_list"].ok and result["s_list"].result[0]["NAME"] == "Выставка"
    assert (
        result["nope"].error is not None and result["nope"].error.error == "ERROR_METHOD_NOT_FOUND"
    )
    assert set(result.errors) == {"s_dup", "nope"}
    with pytest.raises(Refused):
        result.value("s_dup")


def test_batch_halt_skips_the_rest(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    result = client.batch(
        {
            "a": ("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}}),
            "b": ("crm.status.get", {"id": 999999}),
            "c": ("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}}),
        },
        halt=True,
    )
    assert [result[k].status for k in "abc"] == ["ok", "error", "skipped"]
    with pytest.raises(KeyError, match="not run"):
        result.value("c")


def test_php_array_quirk_all_failed_and_none_failed(sandbox: Sandbox) -> None:
    """``result`` is ``[]`` when every command failed, ``result_error`` ``[]`` when none did."""
    client = client_of(sandbox)
    failed = client.batch({"x": ("crm.status.get", {"id": 999998}), "y": ("no.such", {})})
    assert [failed[k].status for k in ("x", "y")] == ["error", "error"]
    fine = client.batch({"x": ("crm.status.list", {"filter": {"ENTITY_ID": "STATUS"}})})
    assert fine.ok and fine.errors == {}
    assert fine["x"].total is not None and fine["x"].total >= 3


def test_batch_refuses_labels_that_php_would_turn_into_a_list(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    with pytest.raises(ValueError, match="label"):
        client.batch({"0": ("crm.status.list", {})})
    with pytest.raises(ValueError, match="at most 50"):
        client.batch({f"c{i}": ("crm.status.list", {}) for i in range(51)})
    with pytest.raises(ValueError, match="None"):
        client.batch({"c": ("crm.status.list", {"filter": {"ENTITY_ID": None}})})
    assert client.requests_sent == 0


def test_batch_many_chunks_by_fifty(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    commands = {
        f"s{i}": (
            "crm.status.add",
            {
                "fields": {
                    "ENTITY_ID": "SOURCE",
                    "STATUS_ID": f"SRC{i}",
                    "NAME": f"Источник {i}",
                    "SORT": i,
                }
            },
        )
        for i in range(120)
    }
    result = client.batch_many(commands)
    assert result.ok and len(result) == 120
    assert client.requests_sent == 3 == result.requests
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}}).result
    assert {f"SRC{i}" for i in range(120)} <= {r["STATUS_ID"] for r in rows}


def test_booleans_travel_as_y_n_in_batches_and_direct_calls(sandbox: Sandbox) -> None:
    client = client_of(sandbox)
    direct = client.call(
        "crm.category.add", {"entityTypeId": 2, "fields": {"name": "A", "isDefault": False}}
    )
    batched = client.batch(
        {
            "c": (
                "crm.category.add",
                {"entityTypeId": 2, "fields": {"name": "B", "isDefault": False}},
            )
        }
    )
    assert direct.result["category"]["isDefault"] == "N"
    assert batched.value("c")["category"]["isDefault"] == "N"


# -- masking -----------------------------------------------------------------------------------


def test_nothing_shows_the_code(sandbox: Sandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    sandbox.faults.force(2)
    client = client_of(sandbox, FakeClock())
    client.call("crm.status.list", {})
    errors = []
    for call in (
        lambda: client.call("crm.status.get", {"id": 424242}),
        lambda: client.call("crm.nothing", {}),
    ):
        try:
            call()
        except Exception as exc:  # noqa: BLE001 - collecting every error's text
            errors.append(exc)
    assert len(errors) == 2
    shown = [repr(client), str(client.webhook), repr(client.webhook)] + [str(e) for e in errors]
    shown += [repr(e.__dict__) for e in errors]
    assert all(CODE not in s for s in shown)
    assert CODE not in caplog.text
    assert "retrying" in caplog.text  # the warnings were logged, masked


# -- paging ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def deals() -> Iterator[Sandbox]:
    """A portal with 120 deals: 70 in pipeline 0, 50 in a second one."""
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        client = client_of(sb)
        cat = client.call("crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт"}})
        cid = cat.result["category"]["id"]
        commands = {
            f"d{i}": (
                "crm.deal.add",
                {"fields": {"TITLE": f"Сделка {i}", "CATEGORY_ID": 0 if i < 70 else cid}},
            )
            for i in range(120)
        }
        assert client.batch_many(commands).ok
        yield sb


def test_iter_list_follows_next(deals: Sandbox) -> None:
    client = client_of(deals)
    rows = list(client.iter_list("crm.deal.list", {"select": ["ID", "TITLE"]}))
    assert len(rows) == 120 and len({r["ID"] for r in rows}) == 120
    assert client.requests_sent == 3  # 50 + 50 + 20


def test_iter_keyset_pages_without_counting(deals: Sandbox) -> None:
    client = client_of(deals)
    rows = list(client.iter_keyset("crm.deal.list", {"filter": {"CATEGORY_ID": 0}}))
    assert len(rows) == 70
    ids = [int(r["ID"]) for r in rows]
    assert ids == sorted(ids)
    assert client.requests_sent == 2  # 50, then 20 (< 50: the end)
    everything = list(client.iter_keyset("crm.deal.list", {"select": ["ID"]}))
    assert len(everything) == 120


def test_count_reads_total(deals: Sandbox) -> None:
    client = client_of(deals)
    assert client.count("crm.deal.list") == 120
    assert client.count("crm.deal.list", {"CATEGORY_ID": 0}) == 70
    assert client.count("crm.deal.list", {">ID": 100}) == 20
    assert client.requests_sent == 3


def test_wrapped_lists_need_their_key(deals: Sandbox) -> None:
    client = client_of(deals)
    cats = list(client.iter_list("crm.category.list", {"entityTypeId": 2}, key="categories"))
    assert [c["name"] for c in cats][-1] == "Опт"

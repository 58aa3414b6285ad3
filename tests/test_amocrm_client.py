"""The amoCRM client on a fake transport and a fake clock: the 7 requests/s ceiling, 429
backoff, one-line refusals (the blocked account stops at once), retries that never repeat a
write, HAL paging and batch creates with request_id and validation errors by key path."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from amo_fake import ORIGIN, TOKEN, Sent, make_client, response

from crmkit.push.amocrm.errors import (
    AmoAuthFailed,
    AmoBlocked,
    AmoForbidden,
    AmoRateLimited,
    AmoRefused,
    AmoReplyLost,
    AmoUnavailable,
)
from crmkit.push.errors import PortalError

OK = response(200, {"_embedded": {"things": []}})


def test_the_bucket_never_lets_more_than_seven_requests_into_any_second() -> None:
    client, session, clock = make_client(route=lambda s: OK, rate=6.0)
    start = clock()
    for _ in range(100):
        client.get("/api/v4/account")
    times = [s.at for s in session.sent]
    # any 8 consecutive requests span a full second or more: no window of 1 s holds 8
    assert all(times[i + 7] - times[i] >= 1.0 for i in range(len(times) - 7))
    # and it does not crawl: 100 requests at 6/s after a burst of one
    assert clock() - start == pytest.approx(99 / 6, abs=0.01)


def test_the_default_client_limits_itself() -> None:
    client, _, _ = make_client(route=lambda s: OK, rate=6.0)
    assert client.bucket is not None and client.bucket.rate + client.bucket.burst <= 7


def test_429_is_waited_out_with_growing_pauses_then_succeeds() -> None:
    client, session, clock = make_client(
        response(429, {"title": "Too Many Requests", "status": 429}),
        response(429),
        response(200, {"id": 1}),
    )
    assert client.get("/api/v4/account") == {"id": 1}
    gaps = [b.at - a.at for a, b in zip(session.sent, session.sent[1:], strict=False)]
    assert gaps == [1.0, 2.0]  # jitter is 0 on this random source
    assert client.retries == 2


def test_429_honours_retry_after_and_retries_writes_too() -> None:
    client, session, _ = make_client(
        response(429, Retry_After="3"), response(200, {"_embedded": {"things": [{"id": 5}]}})
    )
    result = client.create("/api/v4/things", [{"name": "a"}], "things")
    assert list(result.created) == ["0"] and len(session.sent) == 2
    assert session.sent[1].at - session.sent[0].at == 3.0


def test_a_429_storm_ends_in_one_line_after_the_patience() -> None:
    client, session, clock = make_client(route=lambda s: response(429), limit_patience=30)
    with pytest.raises(AmoRateLimited) as caught:
        client.get("/api/v4/leads/pipelines")
    text = str(caught.value)
    assert "\n" not in text and ORIGIN in text and TOKEN not in text
    assert clock() - session.sent[0].at <= 30


@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_401_is_one_line_naming_the_account_and_never_the_token(lang: str) -> None:
    body = {"title": "Unauthorized", "status": 401, "detail": "Неверный логин или пароль"}
    client, session, _ = make_client(response(401, body), lang=lang)
    with pytest.raises(AmoAuthFailed) as caught:
        client.get("/api/v4/account")
    text = str(caught.value)
    assert "\n" not in text and ORIGIN in text and TOKEN not in text and "amoCRM" in text
    assert caught.value.exit_code == 1 and len(session.sent) == 1


@pytest.mark.parametrize(
    ("lang", "support"),
    [("ru", "поддержку amoCRM"), ("en", "amoCRM support"), ("uk", "підтримки amoCRM")],
)
def test_a_blocked_account_stops_at_once_and_says_to_contact_support(
    lang: str, support: str
) -> None:
    body = {
        "title": "Forbidden",
        "status": 403,
        "detail": "Аккаунт заблокирован, за неоднократное превышение количества запросов в секунду",
    }
    client, session, _ = make_client(response(403, body), route=lambda s: OK, lang=lang)
    with pytest.raises(AmoBlocked) as caught:
        client.get("/api/v4/account")
    assert support in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(AmoBlocked):
        client.get("/api/v4/leads/pipelines")
    assert len(session.sent) == 1  # nothing more was sent


def test_a_blocked_account_answering_html_is_blocked_too() -> None:
    client, session, _ = make_client(response(403, text="<html><h1>403 Forbidden</h1></html>"))
    with pytest.raises(AmoBlocked):
        client.get("/api/v4/account")
    with pytest.raises(AmoBlocked):
        client.get("/api/v4/account")
    assert len(session.sent) == 1


def test_403_without_rights_is_a_refusal_that_does_not_block() -> None:
    client, session, _ = make_client(
        response(403, {"title": "Forbidden", "status": 403, "detail": "Недостаточно прав"}),
        route=lambda s: OK,
    )
    with pytest.raises(AmoForbidden) as caught:
        client.create("/api/v4/leads/pipelines", [{"name": "x"}], "pipelines")
    assert "Недостаточно прав" in str(caught.value) and not isinstance(caught.value, AmoBlocked)
    client.get("/api/v4/account")
    assert len(session.sent) == 2


def test_reads_are_retried_after_5xx_and_lost_replies() -> None:
    client, session, _ = make_client(
        response(502, text="bad gateway"),
        requests.ConnectionError("connection reset by peer"),
        response(200, {"ok": True}),
    )
    assert client.get("/api/v4/account") == {"ok": True}
    assert len(session.sent) == 3


@pytest.mark.parametrize(
    "failure",
    [response(500, {"title": "Internal Server Error"}), requests.ReadTimeout("read timed out")],
)
def test_a_write_whose_reply_is_lost_is_never_sent_again(failure: Any) -> None:
    client, session, _ = make_client(failure, route=lambda s: OK)
    with pytest.raises(AmoReplyLost) as caught:
        client.create("/api/v4/leads/pipelines", [{"name": "x"}], "pipelines")
    assert len(session.sent) == 1
    assert "pull" in str(caught.value) and TOKEN not in str(caught.value)


def test_an_account_never_reached_is_unavailable_at_once() -> None:
    from urllib3.exceptions import NewConnectionError

    refused = requests.ConnectionError(
        requests.packages.urllib3.exceptions.MaxRetryError(  # type: ignore[attr-defined]
            None,
            "/",
            NewConnectionError(None, "refused"),  # type: ignore[arg-type]
        )
    )
    client, session, _ = make_client(refused)
    with pytest.raises(AmoUnavailable) as caught:
        client.patch("/api/v4/leads/pipelines/1", {"name": "x"})
    assert "connection refused" in str(caught.value) and len(session.sent) == 1


def test_the_token_goes_in_the_header_only() -> None:
    client, session, _ = make_client(OK)
    client.get("/api/v4/account", {"with": "users_groups"})
    sent = session.sent[0]
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in sent.url + repr(sent.params)
    assert TOKEN not in repr(client) + repr(client.account) + str(client.account)


# -- HAL paging -----------------------------------------------------------------------------------


def _page(rows: list[int], nxt: str | None) -> requests.Response:
    links: dict[str, Any] = {"self": {"href": "x"}}
    if nxt is not None:
        links["next"] = {"href": nxt}
    return response(200, {"_links": links, "_embedded": {"leads": [{"id": i} for i in rows]}})


def test_paging_follows_next_links_on_the_accounts_own_address() -> None:
    client, session, _ = make_client(
        _page([1, 2], "https://shard152.amocrm.ru/api/v4/leads?limit=2&page=2"),
        _page([3, 4], "https://acme.amocrm.ru/api/v4/leads?limit=2&page=3"),
        response(204),
    )
    assert [r["id"] for r in client.iter_pages("/api/v4/leads", "leads")] == [1, 2, 3, 4]
    assert all(s.url.startswith(ORIGIN + "/api/v4/leads") for s in session.sent)
    assert session.sent[0].params == {"limit": 250}  # the documented cap
    assert session.sent[1].url.endswith("?limit=2&page=2")


def test_an_empty_list_is_204_and_ends_at_once() -> None:
    client, session, _ = make_client(response(204))
    assert list(client.iter_pages("/api/v4/leads", "leads", {"filter": {"id": [1, 2]}})) == []
    assert session.sent[0].params == {"limit": 250, "filter[id][0]": 1, "filter[id][1]": 2}


def test_paging_stops_on_a_link_that_repeats() -> None:
    loop = "https://acme.amocrm.ru/api/v4/leads?page=2"
    client, session, _ = make_client(_page([1], loop), _page([2], loop), _page([3], loop))
    assert [r["id"] for r in client.iter_pages("/api/v4/leads", "leads")] == [1, 2]


# -- batch creates --------------------------------------------------------------------------------


def _echo_reversed(sent: Sent) -> requests.Response:
    rows = [{"id": 1000 + i, "request_id": item["request_id"]} for i, item in enumerate(sent.body)]
    return response(200, {"_embedded": {"statuses": rows[::-1]}})


def test_batches_of_fifty_matched_by_request_id() -> None:
    client, session, _ = make_client(route=_echo_reversed)
    labels = [f"s{i}" for i in range(120)]
    result = client.create(
        "/api/v4/leads/pipelines/7/statuses",
        [{"name": f"S{i}", "sort": i} for i in range(120)],
        "statuses",
        labels=labels,
    )
    assert [len(s.body) for s in session.sent] == [50, 50, 20]
    assert result.ok and result.requests == 3 and list(result.created) == labels
    # each row is the one made of the item with that label, whatever order the reply has
    for sent in session.sent:
        for index, item in enumerate(sent.body):
            assert result.created[item["request_id"]]["id"] == 1000 + index


def _invalid(sent: Sent) -> requests.Response:
    if any(item["request_id"] in ("s60", "s61") for item in sent.body):
        return response(
            400,
            {
                "validation-errors": [
                    {
                        "request_id": "s60",
                        "errors": [
                            {
                                "code": "NotSupportedChoice",
                                "path": "color",
                                "detail": "The value you selected is not a valid choice.",
                            }
                        ],
                    },
                    {
                        "request_id": "s61",
                        "errors": [
                            {
                                "code": "FieldMissing",
                                "path": "name",
                                "detail": "This field is missing.",
                            },
                            {
                                "code": "InvalidType",
                                "path": "sort",
                                "detail": "This value should be of type int.",
                            },
                        ],
                    },
                ],
                "title": "Bad Request",
                "status": 400,
                "detail": "Request validation failed",
            },
        )
    return _echo_reversed(sent)


def test_validation_errors_come_back_per_item_by_key_path() -> None:
    client, session, _ = make_client(route=_invalid)
    labels = [f"s{i}" for i in range(120)]
    result = client.create("/api/v4/x", [{"name": "n"}] * 120, "statuses", labels=labels)
    assert list(result.created) == labels[:50]
    assert set(result.errors) == {"s60", "s61"}
    assert result.lines() == [
        "s60: color: The value you selected is not a valid choice. (NotSupportedChoice)",
        "s61: name: This field is missing. (FieldMissing)",
        "s61: sort: This value should be of type int. (InvalidType)",
    ]
    # nothing of the refused batch was made; the batch after it was not sent (halt)
    assert set(result.skipped) == set(labels[50:]) - {"s60", "s61"}
    assert len(session.sent) == 2 and not result.ok


def test_a_single_refused_call_names_its_first_issue_in_one_line() -> None:
    client, _, _ = make_client(route=_invalid)
    with pytest.raises(AmoRefused) as caught:
        client.request("POST", "/api/v4/x", body=[{"request_id": "s60"}], write=True)
    text = str(caught.value)
    assert "\n" not in text and "s60: color: The value you selected" in text and "(+2)" in text


def test_every_error_text_is_free_of_the_token() -> None:
    """Replies that echo the token (a misbehaving proxy) are scrubbed before anyone sees them."""
    echo = {"title": "Bad Request", "status": 400, "detail": f"bad token {TOKEN}"}
    texts = []
    for status in (400, 401, 402, 403, 404, 422, 500):
        client, _, _ = make_client(response(status, echo), route=lambda s: OK, max_retries=0)
        with pytest.raises(PortalError) as caught:
            client.get("/api/v4/account")
        texts.append(str(caught.value) + repr(caught.value) + caught.value.description)
    assert texts and all(TOKEN not in t for t in texts)

"""An independent review of the sandbox against BITRIX24.md §1-§3, §5: each test pins a
discrepancy or a robustness bug found in review (over real HTTP, like the other sandbox tests)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import requests
from sandbox_util import TIMEOUT, FakeClock, fail, new_smart_process, ok, post, result

from crmkit.sandbox import Sandbox, start_sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox(port=0, rate=None) as portal:
        yield portal
        assert portal.internal_errors == []


def raw_http(sb: Sandbox, head: str, body: bytes = b"") -> bytes:
    """Send bytes as they are (a client that lies about its body) and read the whole answer."""
    with socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT) as conn:
        conn.sendall(head.encode("ascii") + body)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk
    return received


# --- §3.4: userfieldconfig enum items carry camelCase keys ------------------------------------
def test_userfieldconfig_enum_items_keep_their_xml_id(sb: Sandbox) -> None:
    kind = new_smart_process(sb)
    entity = f"CRM_{kind['id']}"
    field = result(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": entity,
                "fieldName": f"UF_{entity}_SIZE",
                "userTypeId": "enumeration",
                "enum": [{"value": "S", "xmlId": "small", "sort": 10}, {"value": "L", "sort": 20}],
            },
        },
    )["field"]
    assert [e["xmlId"] for e in field["enum"]][0] == "small"
    updated = result(
        sb,
        "userfieldconfig.update",
        {
            "moduleId": "crm",
            "id": field["id"],
            "field": {"userTypeId": "enumeration", "enum": [{"value": "M", "xmlId": "medium"}]},
        },
    )["field"]
    assert {e["value"]: e["xmlId"] for e in updated["enum"]}["M"] == "medium"
    duplicate = fail(
        sb,
        "userfieldconfig.update",
        {
            "moduleId": "crm",
            "id": field["id"],
            "field": {"userTypeId": "enumeration", "enum": [{"value": "XS", "xmlId": "small"}]},
        },
    )
    assert duplicate["error"] == "ERROR_CORE"


# --- §1.5: nested filters with "logic": "OR" on crm.item.list / crm.type.list -----------------
def test_nested_or_filters_on_item_and_type_lists(sb: Sandbox) -> None:
    etid = new_smart_process(sb, "Доставка")["entityTypeId"]
    for title, amount in (("alpha", 100), ("beta", 200), ("gamma", 300)):
        result(
            sb,
            "crm.item.add",
            {"entityTypeId": etid, "fields": {"title": title, "opportunity": amount}},
        )
    either = {"0": {"logic": "OR", "0": {"=title": "alpha"}, "1": {"=title": "gamma"}}}
    body = ok(sb, "crm.item.list", {"entityTypeId": etid, "filter": either, "select": ["title"]})
    assert sorted(i["title"] for i in body["result"]["items"]) == ["alpha", "gamma"]
    assert body["total"] == 2
    narrowed = {**either, ">opportunity": 150}  # the group is AND-ed with the other keys
    body = ok(sb, "crm.item.list", {"entityTypeId": etid, "filter": narrowed, "select": ["title"]})
    assert [i["title"] for i in body["result"]["items"]] == ["gamma"]
    top_or = {"logic": "OR", "=title": "beta", ">=opportunity": 300}
    body = ok(sb, "crm.item.list", {"entityTypeId": etid, "filter": top_or, "select": ["title"]})
    assert sorted(i["title"] for i in body["result"]["items"]) == ["beta", "gamma"]

    new_smart_process(sb, "Претензии")
    new_smart_process(sb, "Договоры")
    types = {"0": {"logic": "OR", "0": {"title": "Доставка"}, "1": {"title": "Договоры"}}}
    listed = result(sb, "crm.type.list", {"filter": types})["types"]
    assert sorted(t["title"] for t in listed) == ["Договоры", "Доставка"]


# --- §1.2: every method also accepts multipart/form-data --------------------------------------
def test_multipart_form_data_bodies_use_bracket_notation(sb: Sandbox) -> None:
    parts = {
        "fields[ENTITY_ID]": (None, "SOURCE"),
        "fields[STATUS_ID]": (None, "FAIR"),
        "fields[NAME]": (None, "Ярмарка"),
    }
    response = requests.post(sb.webhook_url + "crm.status.add", files=parts, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    row = result(sb, "crm.status.get", {"id": response.json()["result"]})
    assert (row["STATUS_ID"], row["NAME"]) == ("FAIR", "Ярмарка")
    broken = requests.post(
        sb.webhook_url + "user.current",
        data=b"--x\r\nnonsense",
        headers={"Content-Type": "multipart/form-data; boundary=x"},
        timeout=TIMEOUT,
    )
    assert broken.status_code == 200


# --- §3.2: a smart process's id passed as entityTypeId is NOT_FOUND ---------------------------
def test_unknown_entity_type_id_in_the_funnel_api_is_not_found(sb: Sandbox) -> None:
    for unknown in (13, 99):
        body = fail(sb, "crm.category.list", {"entityTypeId": unknown})
        assert body["error"] == "NOT_FOUND"
    # leads exist but have no funnels
    assert fail(sb, "crm.category.list", {"entityTypeId": 1})["error"] == (
        "ENTITY_TYPE_NOT_SUPPORTED"
    )


# --- §2: OPERATION_TIME_LIMIT only once the budget is exceeded --------------------------------
def test_operating_budget_refuses_only_when_exceeded() -> None:
    clock = FakeClock(1_760_000_030.0)
    with start_sandbox(
        port=0, rate=None, clock=clock, operating_limit=1.0, operating_cost=0.5
    ) as sb:
        assert [ok(sb, "crm.status.list")["time"]["operating"] for _ in range(2)] == [0.5, 1.0]
        assert post(sb, "crm.status.list").status_code == 200  # 1.0 does not exceed 1.0
        assert post(sb, "crm.status.list").status_code == 429  # 1.5 does
        assert sb.internal_errors == []


# --- robustness: wrong types in parameters answer 4xx/200, never 500 --------------------------
@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("crm.activity.list", {"filter": {"BINDINGS": 5}}),
        ("crm.activity.list", {"filter": {"BINDINGS": True}}),
        ("crm.deal.list", {"filter": {">=DATE_CREATE": True}}),
        ("crm.deal.list", {"filter": {"TITLE": True}}),
        ("crm.type.list", {"filter": {"title": False}}),
        (
            "crm.deal.userfield.add",
            {"fields": {"FIELD_NAME": "E1", "USER_TYPE_ID": "enumeration", "LIST": 5}},
        ),
        (
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": "E2", "USER_TYPE_ID": "enumeration", "LIST": True}},
        ),
        ("crm.item.add", {"entityTypeId": 2, "fields": {"title": "x", "opportunity": "abc"}}),
    ],
)
def test_wrong_types_in_params_are_not_internal_errors(
    sb: Sandbox, method: str, params: dict[str, Any]
) -> None:
    deal = result(sb, "crm.deal.add", {"fields": {"TITLE": "Rows to filter"}})
    result(sb, "crm.activity.add", {"fields": {"OWNER_TYPE_ID": 2, "OWNER_ID": deal}})
    new_smart_process(sb)
    response = post(sb, method, params)
    assert response.status_code in (200, 400), response.text
    assert sb.internal_errors == []


def test_wrong_types_for_enum_items_and_smart_item_amounts(sb: Sandbox) -> None:
    kind = new_smart_process(sb)
    etid, entity = kind["entityTypeId"], f"CRM_{kind['id']}"
    field = result(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": entity,
                "fieldName": f"UF_{entity}_E",
                "userTypeId": "enumeration",
            },
        },
    )["field"]
    for bad in (7, True, 1.5):
        response = post(
            sb,
            "userfieldconfig.update",
            {
                "moduleId": "crm",
                "id": field["id"],
                "field": {"userTypeId": "enumeration", "enum": bad},
            },
        )
        assert response.status_code in (200, 400), response.text
    for amount in ("abc", [1], {"a": 1}):
        response = post(
            sb, "crm.item.add", {"entityTypeId": etid, "fields": {"opportunity": amount}}
        )
        assert response.status_code in (200, 400), response.text
    assert sb.internal_errors == []


# --- robustness: the HTTP layer ----------------------------------------------------------------
def test_a_bad_content_length_is_a_400(sb: Sandbox) -> None:
    path = f"/rest/1/{sb.code}/user.current"
    answer = raw_http(
        sb, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\nConnection: close\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 400"), answer[:100]


def test_an_oversized_body_is_refused_and_the_connection_closed(sb: Sandbox) -> None:
    path = f"/rest/1/{sb.code}/user.current"
    # announced far beyond the limit, and never sent: the answer must not wait for it
    answer = raw_http(
        sb, f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413"), answer[:100]
    assert b"connection: close" in answer.lower()
    # the server goes on serving
    assert ok(sb, "user.current")["result"]["ID"] == "1"


def test_deeply_nested_bodies_are_not_internal_errors(sb: Sandbox) -> None:
    url = sb.webhook_url + "crm.deal.add"
    json_headers = {"Content-Type": "application/json"}
    # deeper than PHP's json_decode accepts (512): not valid JSON for the portal
    too_deep = b'{"fields": {"TITLE": "x", "UF_CRM_X": ' + b"[" * 5000 + b"]" * 5000 + b"}}"
    response = requests.post(url, data=too_deep, headers=json_headers, timeout=TIMEOUT)
    assert response.status_code == 400 and response.json()["error"] == "INVALID_REQUEST"
    # within the limit: stored, read back, listed
    deep = b'{"fields": {"TITLE": "x", "UF_CRM_X": ' + b"[" * 500 + b"]" * 500 + b"}}"
    response = requests.post(url, data=deep, headers=json_headers, timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    deal = response.json()["result"]
    assert result(sb, "crm.deal.get", {"id": deal})["ID"] == str(deal)
    assert ok(sb, "crm.deal.list", {"select": ["*", "UF_*"]})["total"] == 1
    # bracket keys nested beyond PHP's max_input_nesting_level (64) drop their variable,
    # as PHP does; a later pair starts it again
    deep_key = "fields[UF_CRM_Y]" + "[a]" * 5000 + "=1"
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    dropped = requests.post(
        url, data=f"fields[TITLE]=y&{deep_key}", headers=form_type, timeout=TIMEOUT
    )
    assert dropped.status_code == 400, dropped.text
    assert dropped.json()["error_description"] == "Parameter 'fields' must be array."
    restarted = requests.get(f"{url}?{deep_key}&fields[TITLE]=z", timeout=TIMEOUT)
    assert restarted.status_code == 200, restarted.text
    within = "fields[TITLE]=w&fields[UF_CRM_W]" + "[a]" * 63 + "=1"
    assert requests.post(url, data=within, headers=form_type, timeout=TIMEOUT).status_code == 200


def test_filter_groups_nested_very_deep_are_not_internal_errors(sb: Sandbox) -> None:
    etid = new_smart_process(sb)["entityTypeId"]
    result(sb, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "x"}})
    group: dict[str, Any] = {"title": "x"}
    for _ in range(450):  # within the JSON depth limit, deeper than the stack
        group = {"0": group}
    response = post(sb, "crm.item.list", {"entityTypeId": etid, "filter": group})
    assert response.status_code in (200, 400), response.text
    shallow = {"0": {"0": {"0": {"title": "x"}}}}
    assert ok(sb, "crm.item.list", {"entityTypeId": etid, "filter": shallow})["total"] == 1


def test_nan_and_infinity_are_not_json(sb: Sandbox) -> None:
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        response = requests.post(
            sb.webhook_url + "crm.deal.add",
            data=b'{"fields": {"TITLE": "x", "OPPORTUNITY": ' + literal + b"}}",
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 400 and response.json()["error"] == "INVALID_REQUEST"


def test_concurrent_writes_get_distinct_ids_and_no_errors(sb: Sandbox) -> None:
    def add(n: int) -> tuple[int, Any]:
        response = post(
            sb,
            "crm.status.add",
            {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": f"SRC_{n}", "NAME": f"Source {n}"}},
        )
        return response.status_code, response.json().get("result")

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(add, range(64)))
    assert {status for status, _ in answers} == {200}
    assert len({rid for _, rid in answers}) == 64
    listed = result(sb, "crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})
    assert sum(row["STATUS_ID"].startswith("SRC_") for row in listed) == 64

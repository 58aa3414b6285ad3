"""The webhook value: parsing, validation and masking (pure, no network)."""

from __future__ import annotations

import pytest

from crmkit.errors import ExitCode, InputError
from crmkit.push.bitrix24.encoding import command, encode_query, normalize
from crmkit.push.bitrix24.replies import as_mapping, rows_of
from crmkit.push.bitrix24.webhook import Webhook, is_loopback, mask_secrets, parse_webhook

CODE = "s3cr3tc0de4242xy"


@pytest.mark.parametrize(
    "url",
    [
        f"https://portal.example/rest/1/{CODE}/",
        f"https://portal.example/rest/1/{CODE}",
        f"https://portal.example/rest/1/{CODE}/profile.json",
        f"https://portal.example/rest/1/{CODE}/crm.status.list",
        f"  https://PORTAL.example/rest/1/{CODE}/  ",
    ],
)
def test_accepts_the_shapes_users_paste(url: str) -> None:
    hook = parse_webhook(url)
    assert hook.base_url == f"https://portal.example/rest/1/{CODE}/"
    assert hook.masked == "https://portal.example/rest/1/***/"
    assert hook.user_id == "1"


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/rest/7/abc/",
        "http://localhost/rest/1/abc",
        "http://[::1]:9/rest/1/abc/",
        "http://127.8.9.10/rest/1/abc/",
    ],
)
def test_plain_http_only_for_loopback(url: str) -> None:
    assert parse_webhook(url).scheme == "http"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        (f"http://portal.example/rest/1/{CODE}/", "https"),
        (f"http://10.0.0.1/rest/1/{CODE}/", "https"),
        (f"ftp://portal.example/rest/1/{CODE}/", "webhook"),
        ("https://portal.example/", "webhook"),
        (f"https://portal.example/rest/x/{CODE}/", "webhook"),
        (f"https://user:pw@portal.example/rest/1/{CODE}/", "webhook"),
        (f"https://portal.example/rest/1/{CODE}/?auth=1", "webhook"),
        ("https://portal.example:notaport/rest/1/abc/", "webhook"),
        ("", "no webhook"),
    ],
)
def test_bad_urls_are_input_errors_naming_the_source(url: str, words: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_webhook(url, source="CRMKIT_WEBHOOK")
    error = caught.value
    assert error.exit_code == ExitCode.BAD_INPUT
    assert str(error).startswith("CRMKIT_WEBHOOK: ")
    assert words in str(error)
    assert CODE not in str(error)


def test_errors_speak_russian_too() -> None:
    with pytest.raises(InputError, match="песочниц"):
        parse_webhook(f"http://portal.example/rest/1/{CODE}/", lang="ru")


def test_the_code_never_shows_in_repr_or_str() -> None:
    hook = parse_webhook(f"https://portal.example/rest/12/{CODE}/")
    for shown in (repr(hook), str(hook), f"{hook}", repr([hook]), hook.masked, hook.origin):
        assert CODE not in shown
    assert str(hook) == "https://portal.example/rest/12/***/"
    assert isinstance(hook, Webhook)


def test_masking_of_free_text() -> None:
    text = f"POST /rest/1/{CODE}/crm.status.list.json and http://x/rest/22/{CODE}"
    assert CODE not in mask_secrets(text)
    assert "/rest/1/***/crm.status.list.json" in mask_secrets(text)
    hook = parse_webhook(f"https://portal.example/rest/1/{CODE}/")
    assert hook.hide(f"code {CODE} alone") == "code *** alone"


def test_loopback_hosts() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("LOCALHOST")
    assert not is_loopback("portal.example") and not is_loopback("10.1.1.1")


# -- the batch encoder --


def test_php_bracket_encoding() -> None:
    query = encode_query(
        {
            "filter": {">ID": 5, "ENTITY_ID": "DEAL_STAGE_3"},
            "select": ["ID", "NAME"],
            "fields": {"NAME": "Счёт & оплата", "MULTIPLE": True, "MANDATORY": False},
        }
    )
    assert query == (
        "filter[%3EID]=5&filter[ENTITY_ID]=DEAL_STAGE_3&select[0]=ID&select[1]=NAME"
        "&fields[NAME]=%D0%A1%D1%87%D1%91%D1%82%20%26%20%D0%BE%D0%BF%D0%BB%D0%B0%D1%82%D0%B0"
        "&fields[MULTIPLE]=Y&fields[MANDATORY]=N"
    )
    assert command("crm.type.list") == "crm.type.list"
    assert command("crm.status.list", {"filter": {"LIST": [{"VALUE": "a"}]}}) == (
        "crm.status.list?filter[LIST][0][VALUE]=a"
    )


def test_none_is_refused_and_booleans_are_flags() -> None:
    with pytest.raises(ValueError, match="None"):
        encode_query({"fields": {"COLOR": None}})
    with pytest.raises(ValueError, match=r"params\[fields\]\[COLOR\]"):
        normalize({"fields": {"COLOR": None}})
    assert normalize({"a": [True, {"b": False}], "n": 0}) == {"a": ["Y", {"b": "N"}], "n": 0}


def test_php_array_shapes_are_read_as_mappings() -> None:
    assert as_mapping([]) == {}
    assert as_mapping(None) == {}
    assert as_mapping([{"error": "x"}, {"error": "y"}]) == {
        "0": {"error": "x"},
        "1": {"error": "y"},
    }
    assert as_mapping({"a": 1}) == {"a": 1}
    assert rows_of({"categories": [{"id": 0}]}, "categories") == [{"id": 0}]
    assert rows_of({"5": {"ID": "5"}}) == [{"ID": "5"}]
    assert rows_of(None) == []

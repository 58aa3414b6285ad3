"""``crmkit pull`` through the CLI: the happy path, JSON, and the four ways it fails — one line
on stderr each, the right exit code, the webhook's code never printed."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmkit.sandbox import Sandbox, start_sandbox

CODE = "c1is3cretc0de77"


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        yield sb


def one_line_without_code(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert CODE not in err
    assert lines[0].startswith("crmkit: ")
    return lines[0]


def test_pull_prints_a_blueprint(crmkit: Callable[..., Any], sandbox: Sandbox) -> None:
    result = crmkit("pull", "--webhook", sandbox.webhook_url, "--out", "-")
    assert result.code == 0, result.err
    assert "[blueprint]" in result.out and "[[pipelines.stages]]" in result.out
    assert CODE not in result.out + result.err
    assert result.err == ""


def test_pull_reads_the_webhook_from_the_environment_and_writes_json(
    crmkit: Callable[..., Any], sandbox: Sandbox, tmp_path: Path
) -> None:
    result = crmkit(
        "pull", "--format", "json", "--out", "p.json", CRMKIT_WEBHOOK=sandbox.webhook_url
    )
    assert result.code == 0, result.err
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert data["requests"] <= 3
    assert data["source"].startswith("http://127.0.0.1:")
    assert data["lang"] == "en"  # the sandbox's default names are English
    assert {p["kind"] for p in data["blueprint"]["pipelines"]} == {"lead", "deal"}
    assert "2 HTTP requests" in result.err  # no smart processes: no third request
    assert CODE not in (tmp_path / "p.json").read_text(encoding="utf-8") + result.err


def test_wrong_webhook_code(crmkit: Callable[..., Any], sandbox: Sandbox) -> None:
    wrong = sandbox.webhook_url.replace(CODE, "n0tth3r1ghtc0de")
    result = crmkit("pull", "--webhook", wrong)
    assert result.code == 1
    line = one_line_without_code(result.err)
    assert "n0tth3r1ghtc0de" not in line
    assert "NO_AUTH_FOUND" in line and "/rest/1/***/" in line
    assert result.out == ""


def test_unreachable_host(crmkit: Callable[..., Any]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # free once the socket closes: nobody listens there
    result = crmkit("pull", "--webhook", f"http://127.0.0.1:{port}/rest/1/{CODE}/")
    assert result.code == 1
    line = one_line_without_code(result.err)
    assert "connection refused" in line and f"127.0.0.1:{port}/rest/1/***/" in line


def test_plain_http_to_a_real_portal_is_bad_input(crmkit: Callable[..., Any]) -> None:
    result = crmkit("pull", "--webhook", f"http://portal.example/rest/1/{CODE}/")
    assert result.code == 2
    line = one_line_without_code(result.err)
    assert line.startswith("crmkit: --webhook: ") and "https://" in line
    from_env = crmkit("pull", CRMKIT_WEBHOOK=f"http://portal.example/rest/1/{CODE}/")
    assert from_env.code == 2
    assert one_line_without_code(from_env.err).startswith("crmkit: CRMKIT_WEBHOOK: ")


def test_no_webhook_at_all(crmkit: Callable[..., Any]) -> None:
    result = crmkit("pull", lang="ru")
    assert result.code == 2
    assert "CRMKIT_WEBHOOK" in one_line_without_code(result.err)


def test_missing_scope(crmkit: Callable[..., Any]) -> None:
    with start_sandbox(port=0, rate=None, code=CODE, scopes=["user"]) as sb:
        result = crmkit("pull", "--webhook", sb.webhook_url, lang="ru")
    assert result.code == 1
    line = one_line_without_code(result.err)
    assert "insufficient_scope" in line and "CRM (crm)" in line


def test_help_in_both_languages(crmkit: Callable[..., Any]) -> None:
    ru = crmkit("pull", "--help", lang="ru")
    en = crmkit("pull", "--help", lang="en")
    assert ru.code == en.code == 0
    assert "воронки сделок" in ru.out and "CRMKIT_WEBHOOK" in ru.out
    assert "deal pipelines" in en.out and "--webhook" in en.out
    listing = crmkit("--help", lang="ru")
    assert "Прочитать настройки портала" in listing.out


def test_without_the_userfieldconfig_scope_smart_process_fields_are_noted(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook

    with start_sandbox(port=0, rate=None, code=CODE, scopes=["crm"]) as sb:
        with Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
            client.call("crm.type.add", {"fields": {"title": "Доставка", "isStagesEnabled": True}})
        result = crmkit("pull", "--webhook", sb.webhook_url, "--out", "p.toml", lang="ru")
    assert result.code == 0, result.err
    text = (tmp_path / "p.toml").read_text(encoding="utf-8")
    assert "# Поля смарт-процессов (dostavka) не прочитаны" in text
    assert 'code = "dostavka"' in text

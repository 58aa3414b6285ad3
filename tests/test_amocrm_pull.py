"""Pulling an amoCRM account: the reader's PortalState (pipelines with statuses in order, the
system statuses, loss reasons, fields with enums and required statuses) and the blueprint pull
makes of it; ``crmkit pull --target amocrm`` over real HTTP, the token in no output or file."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from amo_fake import make_client, response

from crmkit.blueprints.lint import lint
from crmkit.push.amocrm.reader import read_account
from crmkit.push.pull import state_to_blueprint

TOKEN = "eyJ0eXAi.pull-t0ken-s3cret.c2ln"
LEADS, SALES = 501, 502


def _status(pid: int, sid: int, name: str, sort: int, color: str, kind: int = 0) -> dict[str, Any]:
    return {
        "id": sid,
        "name": name,
        "sort": sort,
        "is_editable": sid not in (142, 143) and kind == 0,
        "pipeline_id": pid,
        "color": color,
        "type": kind,
    }


def _pipeline(
    pid: int, name: str, sort: int, main: bool, statuses: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "sort": sort,
        "is_main": main,
        "is_unsorted_on": True,
        "is_archive": False,
        "_embedded": {"statuses": statuses},
    }


PIPELINES = [
    # listed out of order on purpose: the reader sorts by sort, then id
    _pipeline(
        SALES,
        "Продажи",
        1,
        True,
        [
            _status(SALES, 142, "Успешно реализовано", 10000, "#CCFF66"),
            _status(SALES, 7002, "Переговоры", 30, "#ffcc66"),
            _status(SALES, 7000, "Неразобранное", 10, "#c1c1c1", kind=1),
            _status(SALES, 7001, "Первичный контакт", 20, "#99ccff"),
            _status(SALES, 143, "Закрыто и не реализовано", 11000, "#D5D8DB"),
        ],
    ),
    _pipeline(
        LEADS,
        "Лиды",
        2,
        False,
        [
            _status(LEADS, 6000, "Неразобранное", 10, "#c1c1c1", kind=1),
            _status(LEADS, 6001, "Контакт получен", 20, "#d6eaff"),
            _status(LEADS, 6002, "Квалификация", 30, "#fffeb2"),
            _status(LEADS, 142, "Передан в продажи", 10000, "#CCFF66"),
            _status(LEADS, 143, "Закрыто и не реализовано", 11000, "#D5D8DB"),
        ],
    ),
    {**_pipeline(503, "Старая", 3, False, []), "is_archive": True},
]
REASONS = [
    {"id": 2, "name": "Дорого", "sort": 20},
    {"id": 1, "name": "Не дозвонились", "sort": 10},
]
LEAD_FIELDS = [
    {
        "id": 11,
        "name": "Источник",
        "code": "LEAD_SOURCE",
        "sort": 500,
        "type": "select",
        "enums": [
            {"id": 3, "value": "Сайт", "sort": 2, "code": None},
            {"id": 2, "value": "Звонок", "sort": 1, "code": "CALL"},
        ],
        # needed to leave «Контакт получен»: required from «Квалификация» up to won
        "required_statuses": [
            {"pipeline_id": LEADS, "status_id": 6002},
            {"pipeline_id": LEADS, "status_id": 142},
        ],
    },
    {
        "id": 12,
        "name": "Бюджет клиента",
        "code": None,
        "sort": 501,
        "type": "numeric",
        "enums": None,
        # required to close as lost: no blueprint stage says that (the header does)
        "required_statuses": [{"pipeline_id": SALES, "status_id": 143}],
    },
    {
        "id": 13,
        "name": "Реквизиты",
        "code": None,
        "sort": 502,
        "type": "legal_entity",
        "enums": None,
    },
]
CONTACT_FIELDS = [
    {"id": 20, "name": "Телефон", "code": "PHONE", "type": "multitext", "is_predefined": True},
    {
        "id": 21,
        "name": "Тема письма",
        "code": None,
        "sort": 1,
        "type": "textarea",
        "is_predefined": False,
    },
]
COMPANY_FIELDS = [
    {
        "id": 30,
        "name": "Отрасль",
        "code": "INDUSTRY",
        "sort": 1,
        "type": "multiselect",
        "enums": [{"id": 9, "value": "ИТ", "sort": 1}],
    }
]

ROUTES: dict[str, tuple[str, list[dict[str, Any]]]] = {
    "/api/v4/leads/pipelines": ("pipelines", PIPELINES),
    "/api/v4/leads/loss_reasons": ("loss_reasons", REASONS),
    "/api/v4/leads/custom_fields": ("custom_fields", LEAD_FIELDS),
    "/api/v4/contacts/custom_fields": ("custom_fields", CONTACT_FIELDS),
    "/api/v4/companies/custom_fields": ("custom_fields", COMPANY_FIELDS),
}
PAGE = 2  # small pages, so paging is part of every read


def page_of(path: str, query: dict[str, list[str]], origin: str) -> tuple[int, Any]:
    """The HAL page amoCRM would answer (204 past the end)."""
    if path not in ROUTES:
        return 404, {"title": "Not Found", "status": 404}
    key, rows = ROUTES[path]
    page = int(query.get("page", ["1"])[0])
    chunk = rows[(page - 1) * PAGE : page * PAGE]
    if not chunk:
        return 204, None
    links: dict[str, Any] = {"self": {"href": f"{origin}{path}?page={page}"}}
    if page * PAGE < len(rows):
        # amoCRM's links name shard hosts: the client must ask its own address instead
        links["next"] = {"href": f"https://shard7.amocrm.ru{path}?page={page + 1}&limit={PAGE}"}
    return 200, {"_page": page, "_links": links, "_embedded": {key: chunk}}


def fake_route(sent: Any) -> Any:
    parts = urlsplit(sent.url)
    status, body = page_of(parts.path, parse_qs(parts.query), "https://acme.amocrm.ru")
    return response(status, body)


def test_the_reader_gives_pipelines_statuses_reasons_and_fields() -> None:
    client, session, _ = make_client(route=fake_route)
    state = read_account(client)
    assert state.target == "amocrm" and state.requests == len(session.sent)
    assert [(f.kind, f.name, f.category_id, f.is_default) for f in state.funnels] == [
        ("lead", "Лиды", LEADS, False),
        ("deal", "Продажи", SALES, True),
    ]  # the archived pipeline is left out; the lead funnel comes first
    sales = state.funnels[1]
    assert [(s.id, s.code, s.semantics, s.unsorted) for s in sales.stages] == [
        (7000, "UNSORTED", "process", True),
        (7001, "PERVICHNYY", "process", False),
        (7002, "PEREGOVORY", "process", False),
        (142, "WON", "success", False),
        (143, "LOST", "failure", False),
    ]
    assert [s.color for s in sales.stages][:2] == ["#C1C1C1", "#99CCFF"]
    assert [(r.id, r.name) for r in state.loss_reasons] == [(1, "Не дозвонились"), (2, "Дорого")]
    by_id = {f.id: f for f in state.fields}
    assert 20 not in by_id  # the predefined phone is the CRM's own
    source = by_id[11]
    assert (source.owner, source.field_name, source.type, source.native_type) == (
        "deal",
        "LEAD_SOURCE",
        "enumeration",
        "select",
    )
    assert [(i.value, i.xml_id) for i in source.items] == [("Звонок", "CALL"), ("Сайт", "")]
    assert source.required_statuses == ((LEADS, 6002), (LEADS, 142))
    assert by_id[12].field_name == "BYUDZHET_KLIENTA" and by_id[12].type == "double"
    assert (by_id[21].type, by_id[21].native_type, by_id[21].owner) == (
        "string",
        "textarea",
        "contact",
    )
    assert by_id[30].multiple and by_id[30].owner == "company"


def test_pull_makes_a_blueprint_that_lints() -> None:
    client, _, _ = make_client(route=fake_route)
    result = state_to_blueprint(
        read_account(client), source="https://acme.amocrm.ru", lang="en", now=0
    )
    bp = result.blueprint
    leads, sales = bp.pipelines
    assert (leads.code, leads.kind, leads.name.get("ru")) == ("leads", "lead", "Лиды")
    assert (sales.kind, sales.name.get("ru")) == ("deal", "Продажи")
    # the unsorted status is not a stage; won, lost and then the account's loss reasons
    assert [(s.code, s.semantics) for s in sales.stages] == [
        ("PERVICHNYY", "process"),
        ("PEREGOVORY", "process"),
        ("WON", "success"),
        ("LOST", "failure"),
        ("NE_DOZVONILIS", "failure"),
        ("DOROGO", "failure"),
    ]
    assert [s.name.get("ru") for s in leads.stages][:3] == [
        "Контакт получен",
        "Квалификация",
        "Передан в продажи",
    ]
    # required from "Квалификация" up to won → needed to leave the stage before it
    assert leads.stage("KONTAKT_POLUCHEN").required_fields == ("UF_CRM_LEAD_SOURCE",)  # type: ignore[union-attr]
    assert [s.code for s in leads.stages if s.required_fields] == ["KONTAKT_POLUCHEN"]
    assert all(not s.required_fields for s in sales.stages)  # required on "lost": in the header
    fields = {(f.entity, f.code): f for f in bp.fields}
    assert set(fields) == {
        ("deal", "LEAD_SOURCE"),
        ("deal", "BYUDZHET_KLIENTA"),
        ("contact", "TEMA_PISMA"),
        ("company", "INDUSTRY"),
    }
    assert fields[("company", "INDUSTRY")].multiple
    assert [(s.entity, s.type) for s in result.skipped] == [("deal", "legal_entity")]
    header = "\n".join(result.header)
    assert "amoCRM token is not stored" in header and "Бюджет клиента" in header
    assert "legal_entity" in header
    # what pull makes is a blueprint crmkit accepts
    errors = [f"{f.rule} {f.path}: {f.message}" for f in lint(bp) if f.severity == "error"]
    assert errors == []


# -- over real HTTP, through the CLI ------------------------------------------------------------


@pytest.fixture(scope="module")
def account() -> Iterator[str]:
    """A tiny amoCRM stand-in over HTTP (until the sandbox serves it): the pages above, the
    token checked on every request."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(
                    401,
                    {"title": "Unauthorized", "status": 401, "detail": "Неверный логин или пароль"},
                )
                return
            parts = urlsplit(self.path)
            origin = f"http://{self.headers['Host']}"
            self._answer(*page_of(parts.path, parse_qs(parts.query), origin))

        def _answer(self, status: int, body: Any) -> None:
            data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/hal+json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_cli_pull_writes_portal_toml_and_never_the_token(
    crmkit: Callable[..., Any], account: str, tmp_path: Path
) -> None:
    result = crmkit("pull", "--target", "amocrm", "--url", account, "--token", TOKEN, lang="ru")
    assert result.code == 0, result.err
    text = (tmp_path / "portal.toml").read_text(encoding="utf-8")
    assert 'name = {ru = "Продажи"' in text or "Продажи" in text
    assert "# Токен amoCRM в этот файл не записан." in text
    assert "[[pipelines.stages]]" in text and 'code = "WON"' in text
    for shown in (text, result.out, result.err):
        assert TOKEN not in shown
    assert "portal.toml" in result.err
    linted = crmkit("blueprint", "lint", "portal.toml")
    assert linted.code == 0, linted.out + linted.err


def test_cli_pull_json_with_the_credentials_in_the_environment(
    crmkit: Callable[..., Any], account: str, tmp_path: Path
) -> None:
    result = crmkit(
        "pull",
        "--target",
        "amocrm",
        "--format",
        "json",
        "--out",
        "p.json",
        CRMKIT_AMO_URL=account,
        CRMKIT_AMO_TOKEN=TOKEN,
    )
    assert result.code == 0, result.err
    data = json.loads((tmp_path / "p.json").read_text(encoding="utf-8"))
    assert data["source"] == account and data["lang"] == "ru"
    assert [p["code"] for p in data["blueprint"]["pipelines"]] == ["leads", "prodazhi"]
    assert data["requests"] == 7  # pages: pipelines 2, reasons 1, fields 2 + 1 + 1
    assert TOKEN not in (tmp_path / "p.json").read_text(encoding="utf-8") + result.err + result.out


def test_the_target_is_inferred_from_the_token(crmkit: Callable[..., Any], account: str) -> None:
    result = crmkit("pull", "--url", account, "--token", TOKEN, "--out", "-")
    assert result.code == 0, result.err
    assert "[blueprint]" in result.out and TOKEN not in result.out + result.err


def test_a_wrong_token_is_one_line_with_exit_1(crmkit: Callable[..., Any], account: str) -> None:
    wrong = "eyJ0eXAi.not-the-t0ken.c2ln"
    for lang in ("ru", "en", "uk"):
        result = crmkit("pull", "--target", "amocrm", "--url", account, "--token", wrong, lang=lang)
        assert result.code == 1
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("crmkit: ") and "amoCRM" in lines[0]
        assert wrong not in result.err and account in lines[0] and result.out == ""


def test_a_loopback_address_without_token_or_target_is_a_usage_error(
    crmkit: Callable[..., Any], account: str
) -> None:
    result = crmkit("pull", "--url", account)
    assert (
        result.code == 2 and "--target" in result.err and len(result.err.strip().splitlines()) == 1
    )


def test_plain_http_to_a_real_account_is_refused_before_anything_is_sent(
    crmkit: Callable[..., Any],
) -> None:
    result = crmkit("pull", "--url", "http://acme.amocrm.ru", "--token", TOKEN)
    assert result.code == 2 and result.err.startswith("crmkit: --url: ") and TOKEN not in result.err

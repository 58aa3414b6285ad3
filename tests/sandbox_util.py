"""Helpers for the sandbox tests: a fake clock and short-hand REST calls over real HTTP."""

from __future__ import annotations

from typing import Any

import requests

from crmkit.sandbox import Sandbox

TIMEOUT = 5


class FakeClock:
    """Unix time that moves only when a test says so."""

    def __init__(self, start: float = 1_760_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def post(sb: Sandbox, method: str, params: dict[str, Any] | None = None) -> requests.Response:
    """POST a JSON body to ``<webhook>/<method>``."""
    return requests.post(sb.webhook_url + method, json=params or {}, timeout=TIMEOUT)


def ok(sb: Sandbox, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The envelope of a call that must succeed."""
    response = post(sb, method, params)
    assert response.status_code == 200, (method, response.status_code, response.text)
    body = response.json()
    assert isinstance(body, dict)
    return body


def result(sb: Sandbox, method: str, params: dict[str, Any] | None = None) -> Any:
    return ok(sb, method, params)["result"]


def fail(
    sb: Sandbox, method: str, params: dict[str, Any] | None = None, status: int = 400
) -> dict[str, Any]:
    """The error body of a call that must fail with ``status``."""
    response = post(sb, method, params)
    assert response.status_code == status, (method, response.status_code, response.text)
    body = response.json()
    assert set(body) >= {"error", "error_description"}
    return body


def new_pipeline(sb: Sandbox, name: str = "Партнёры") -> int:
    category = result(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": name}})
    return int(category["category"]["id"])


def new_smart_process(sb: Sandbox, title: str = "Заявки на доставку") -> dict[str, Any]:
    created = result(sb, "crm.type.add", {"fields": {"title": title, "isCategoriesEnabled": "Y"}})
    kind: dict[str, Any] = created["type"]
    return kind


def stages(sb: Sandbox, entity_id: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = result(
        sb, "crm.status.list", {"filter": {"ENTITY_ID": entity_id}, "order": {"SORT": "ASC"}}
    )
    return rows

"""Helpers for the amoCRM sandbox tests: authorised calls over real HTTP on 127.0.0.1."""

from __future__ import annotations

from typing import Any

import requests

from crmkit.sandbox.amocrm import AmoSandbox

TIMEOUT = 5


def call(
    sb: AmoSandbox,
    verb: str,
    path: str,
    body: Any = None,
    token: str | None = None,
    **params: Any,
) -> requests.Response:
    headers = {"Authorization": f"Bearer {sb.token if token is None else token}"}
    return requests.request(
        verb,
        sb.base_url + path,
        json=body,
        params=params or None,
        headers=headers,
        timeout=TIMEOUT,
    )


def ok(sb: AmoSandbox, verb: str, path: str, body: Any = None, **params: Any) -> Any:
    """The JSON of a call that must succeed (200 or 201) as ``application/hal+json``."""
    response = call(sb, verb, path, body, **params)
    assert response.status_code in (200, 201), (path, response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/hal+json"
    return response.json()


def refused(sb: AmoSandbox, verb: str, path: str, body: Any = None, status: int = 400) -> Any:
    """The problem document of a call that must fail with ``status``."""
    response = call(sb, verb, path, body)
    assert response.status_code == status, (path, response.status_code, response.text)
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["status"] == status and problem["type"] == f"https://httpstatus.es/{status}"
    return problem


def errors_of(problem: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``validation-errors`` as (request_id, code, path) triples."""
    return [
        (item["request_id"], error["code"], error["path"])
        for item in problem["validation-errors"]
        for error in item["errors"]
    ]


def pipeline_model(name: str = "Опт", **extra: Any) -> dict[str, Any]:
    return {"name": name, "sort": 20, "is_main": False, "is_unsorted_on": True, **extra}


def new_pipeline(sb: AmoSandbox, name: str = "Опт", statuses: list[Any] | None = None) -> Any:
    model = pipeline_model(name, _embedded={"statuses": statuses or []})
    return ok(sb, "POST", "/api/v4/leads/pipelines", [model])["_embedded"]["pipelines"][0]


def every_page(sb: AmoSandbox, path: str, key: str, **params: Any) -> list[Any]:
    """All items of a list, following ``_links.next`` until there is none."""
    response = call(sb, "GET", path, **params)
    items: list[Any] = []
    while response.status_code == 200:
        body = response.json()
        items += body["_embedded"][key]
        following = body["_links"].get("next")
        if following is None:
            break
        response = requests.get(
            following["href"], headers={"Authorization": f"Bearer {sb.token}"}, timeout=TIMEOUT
        )
    assert response.status_code in (200, 204)
    return items

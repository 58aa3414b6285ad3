"""Bench: ``crmkit pull`` of a portal with 20 pipelines × 15 stages and 100 user fields.

Starts a sandbox with the real limits on (2 requests/s, burst 50), fills it through the client
in batches (18 deal pipelines and one smart process with two pipelines, 15 stages each; 25 user
fields on each of lead, deal, contact, company), then times ``pull`` and counts its HTTP requests.
Target: at most 3 requests. Run: ``python bench/bench_pull.py``.
"""

from __future__ import annotations

import time
from typing import Any

from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.pull import pull_portal
from crmkit.sandbox import start_sandbox

DEAL_PIPELINES = 18  # the default one and 17 more
SP_PIPELINES = 2
STAGES = 15
FIELDS_PER_ENTITY = 25
FIELD_TYPES = ("string", "integer", "enumeration", "date", "boolean")

Commands = dict[str, tuple[str, dict[str, Any]]]


def _stage(entity_id: str, code: str, name: str, sort: int) -> tuple[str, dict[str, Any]]:
    fields = {"ENTITY_ID": entity_id, "STATUS_ID": code, "NAME": name, "SORT": sort}
    return "crm.status.add", {"fields": fields}


def fill(client: Bitrix24Client) -> None:
    # pipelines: a new deal pipeline comes with 8 stages (5 in progress, WON, LOSE, APOLOGY)
    added = client.batch(
        {
            f"cat{i}": ("crm.category.add", {"entityTypeId": 2, "fields": {"name": f"Воронка {i}"}})
            for i in range(1, DEAL_PIPELINES)
        }
    )
    cat_ids = [0] + [added.value(f"cat{i}")["category"]["id"] for i in range(1, DEAL_PIPELINES)]
    sp = client.call(
        "crm.type.add",
        {"fields": {"title": "Тендеры", "isCategoriesEnabled": True, "isStagesEnabled": True}},
    ).result["type"]
    etid = sp["entityTypeId"]
    client.call("crm.category.add", {"entityTypeId": etid, "fields": {"name": "Госзакупки"}})
    sp_cats = client.call("crm.category.list", {"entityTypeId": etid}).result["categories"]

    stages: Commands = {}
    for cid in cat_ids:
        entity_id = "DEAL_STAGE" if cid == 0 else f"DEAL_STAGE_{cid}"
        for n in range(STAGES - 8):  # between FINAL_INVOICE (50) and WON (60)
            stages[f"d{cid}_{n}"] = _stage(entity_id, f"STEP{n}", f"Шаг {n}", 51 + n)
    for cat in sp_cats:
        cid = cat["id"]
        entity_id = f"DYNAMIC_{etid}_STAGE_{cid}"
        for n in range(STAGES - 5):  # between CLIENT (30) and SUCCESS (40)
            stages[f"s{cid}_{n}"] = _stage(entity_id, f"STEP{n}", f"Шаг {n}", 31 + n // 2)
    fields: Commands = {}
    for entity in ("lead", "deal", "contact", "company"):
        for n in range(FIELDS_PER_ENTITY):
            kind = FIELD_TYPES[n % len(FIELD_TYPES)]
            body: dict[str, Any] = {
                "FIELD_NAME": f"BENCH_{n}",
                "USER_TYPE_ID": kind,
                "EDIT_FORM_LABEL": {"ru": f"Поле {n}", "en": f"Field {n}"},
            }
            if kind == "enumeration":
                body["LIST"] = [{"VALUE": f"Вариант {v}", "XML_ID": f"V{v}"} for v in range(4)]
            fields[f"{entity}_{n}"] = (f"crm.{entity}.userfield.add", {"fields": body})
    result = client.batch_many({**stages, **fields})
    if not result.ok:
        raise SystemExit(f"setup failed: {next(iter(result.errors.values()))}")


def main() -> None:
    with start_sandbox(port=0, rate=2.0, burst=50) as sb:
        hook = parse_webhook(sb.webhook_url)
        started = time.perf_counter()
        with Bitrix24Client(hook) as setup:
            fill(setup)
        setup_time = time.perf_counter() - started

        with Bitrix24Client(hook) as client:
            before = sb.requests
            started = time.perf_counter()
            pulled = pull_portal(client, source=hook.origin, lang="ru", now=time.time())
            wall = time.perf_counter() - started
            text = pulled.toml()
        bp = pulled.blueprint
        deal_like = [p for p in bp.pipelines if p.kind != "lead"]
        print(f"setup: {setup.requests_sent} HTTP requests, {setup_time:.2f} s")
        print(
            f"portal: {len(deal_like)} pipelines (+ the lead funnel), "
            f"{sum(len(p.stages) for p in deal_like)} stages in them, "
            f"{len(bp.fields)} user fields, {len(bp.smart_processes)} smart process"
        )
        print(
            f"pull: {client.requests_sent} HTTP requests (portal saw {sb.requests - before}), "
            f"{wall * 1000:.0f} ms wall, {client.retries} retries, "
            f"{len(text.encode('utf-8')) / 1024:.0f} KiB of TOML"
        )
        status = "OK" if client.requests_sent <= 3 else "OVER TARGET"
        print(f"target ≤ 3 requests: {status}")


if __name__ == "__main__":
    main()

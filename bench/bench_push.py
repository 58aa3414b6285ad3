"""Bench: ``crmkit push`` of the largest library blueprint into a fresh sandbox with the real
limits (2 requests/s sustained, burst 50), beside a baseline that sends one call per change, in
the same run.

Target for the push: the read batches + ⌈writes / 50⌉ + one verification read. The baseline
runs the same plan's calls one HTTP request each (the way a script calling the REST API method by
method would), so the difference is what batching buys under the portal's rate limit.
Run: ``python bench/bench_push.py``.
"""

from __future__ import annotations

import time
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.reader import read_portal
from crmkit.push.bitrix24.replies import BatchItem
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.bitrix24.writer import count_items, resolve
from crmkit.push.plan import plan_push
from crmkit.push.record import Record
from crmkit.push.service import push
from crmkit.sandbox import start_sandbox


class _Memory:
    def __init__(self) -> None:
        self.record = Record()

    def load_record(self) -> Record:
        return self.record

    def save_record(self, record: Record) -> None:
        self.record = record

    def save_backup(self, text: str) -> str:
        return "(memory)"


def largest() -> Any:
    library = Library.default()
    blueprints = [library.load(i) for i in library.ids()]
    return max(blueprints, key=lambda bp: (bp.stage_count(), len(bp.fields)))


def batched(bp: Any) -> dict[str, Any]:
    with start_sandbox(port=0, rate=2.0, burst=50, portal_lang="ru") as sb:
        with Bitrix24Client(parse_webhook(sb.webhook_url), rate=2.0, burst=50) as client:
            began = time.perf_counter()
            outcome = push(
                client, bp, _Memory(), portal=sb.base_url, lang="ru", now="bench", apply=True
            )
            seconds = time.perf_counter() - began
        return {
            "requests": outcome.requests,
            "writes": len(outcome.plan.calls),
            "seconds": seconds,
            "verified": outcome.verified,
            "rounds": outcome.rounds,
        }


def one_call_per_change(bp: Any) -> dict[str, Any]:
    sb = start_sandbox(port=0, rate=2.0, burst=50, portal_lang="ru")
    with sb, Bitrix24Client(parse_webhook(sb.webhook_url), rate=2.0, burst=50) as client:
        began = time.perf_counter()
        state = read_portal(client)
        plan = plan_push(bp, state, lang="ru")
        if plan.needs:
            plan = plan_push(bp, state, lang="ru", counts=count_items(client, plan.needs))
        done: dict[str, BatchItem] = {}
        for call in plan.calls:
            reply = client.call(call.method, resolve(call.params, done, set()))
            done[call.label] = BatchItem(call.label, call.method, "ok", result=reply.result)
        seconds = time.perf_counter() - began
        return {"requests": client.requests_sent, "writes": len(plan.calls), "seconds": seconds}


def main() -> None:
    bp = largest()
    print(
        f"blueprint: {bp.id} ({len(bp.pipelines)} pipelines, {bp.stage_count()} stages, "
        f"{len(bp.fields)} fields); sandbox at 2 requests/s, burst 50"
    )
    ours = batched(bp)
    target = 1 + 4 + -(-ours["writes"] // 50) + 4
    print(
        f"crmkit push --apply: {ours['requests']} HTTP requests for {ours['writes']} writes "
        f"(target ≤ {target}: preflight, reads and a count, ⌈writes/50⌉, verification), "
        f"{ours['seconds']:.2f} s, verified: {ours['verified']}, rounds: {ours['rounds']}"
    )
    base = one_call_per_change(bp)
    print(f"one call per change:  {base['requests']} HTTP requests, {base['seconds']:.2f} s")
    print(
        f"ratio: {base['requests'] / ours['requests']:.1f}× fewer requests, "
        f"{base['seconds'] / ours['seconds']:.1f}× faster"
    )


if __name__ == "__main__":
    main()

"""Bench: ``crmkit push`` of the largest library blueprint into a fresh amoCRM sandbox under the
real limit (7 requests/s, the sandbox's token bucket on; the client keeps to 6/s, burst 1),
beside a baseline that sends one HTTP request per call of the same plan, in the same run.

crmkit sends the plan's creates to one route as one batch of up to 50 (``request_id`` matching
the replies), then reads the account again to verify. The baseline sends the very same calls one
by one (as a script calling API v4 object by object would), with no verification read, so the
difference is what batching buys under amoCRM's rate limit. Both runs start from a fresh account
and both must leave it holding the blueprint.
Run: ``python bench/bench_push_amocrm.py``.
"""

from __future__ import annotations

import time
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.push.amocrm.account import parse_account
from crmkit.push.amocrm.apply import amocrm_driver
from crmkit.push.amocrm.client import AmoClient
from crmkit.push.amocrm.plan import plan_amocrm
from crmkit.push.amocrm.reader import read_account
from crmkit.push.amocrm.writer import Execution, execute
from crmkit.push.record import Record
from crmkit.push.service import push
from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox

RATE = 7.0


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


def _client(sb: AmoSandbox) -> AmoClient:
    return AmoClient(parse_account(sb.base_url, sb.token))  # the client's own 6/s, burst 1


def batched(bp: Any) -> dict[str, Any]:
    with start_amocrm_sandbox(port=0, rate=RATE, burst=7) as sb, _client(sb) as client:
        began = time.perf_counter()
        outcome = push(
            client,
            bp,
            _Memory(),
            portal=sb.base_url,
            lang="ru",
            now="bench",
            apply=True,
            driver=amocrm_driver(),
        )
        seconds = time.perf_counter() - began
        return {
            "requests": outcome.requests,
            "calls": len(outcome.plan.calls),
            "changes": outcome.plan.changes,
            "seconds": seconds,
            "verified": outcome.verified,
            "rounds": outcome.rounds,
            "limited": sb.limited,
        }


def one_call_per_change(bp: Any) -> dict[str, Any]:
    with start_amocrm_sandbox(port=0, rate=RATE, burst=7) as sb, _client(sb) as client:
        began = time.perf_counter()
        state = read_account(client)
        plan = plan_amocrm(bp, state, lang="ru")
        done = Execution()
        for call in plan.calls:  # in phase order: a reference is filled from an earlier reply
            execute(client, [call], results=done)
        seconds = time.perf_counter() - began
        sent = client.requests_sent  # the read and the calls; the check below is not counted
        assert not done.failed(), done.failed()
        left = plan_amocrm(bp, read_account(client), lang="ru").changes
        return {
            "requests": sent,
            "seconds": seconds,
            "left": left,
            "limited": sb.limited,
        }


def main() -> None:
    bp = largest()
    print(
        f"blueprint: {bp.id} ({len(bp.pipelines)} pipelines, {bp.stage_count()} stages, "
        f"{len(bp.fields)} fields); amoCRM sandbox at {RATE:g} requests/s"
    )
    ours = batched(bp)
    print(
        f"crmkit push --apply: {ours['requests']} HTTP requests for {ours['calls']} calls "
        f"({ours['changes']} changes; preflight, reads, batches of ≤50, verification), "
        f"{ours['seconds']:.2f} s, verified: {ours['verified']}, rounds: {ours['rounds']}, "
        f"429s: {ours['limited']}"
    )
    base = one_call_per_change(bp)
    print(
        f"one call per change:  {base['requests']} HTTP requests, {base['seconds']:.2f} s, "
        f"changes left: {base['left']}, 429s: {base['limited']}"
    )
    print(
        f"ratio: {base['requests'] / ours['requests']:.1f}× fewer requests, "
        f"{base['seconds'] / ours['seconds']:.1f}× faster"
    )


if __name__ == "__main__":
    main()

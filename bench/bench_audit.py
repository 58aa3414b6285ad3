"""Bench: ``crmkit audit`` of a large portal at the real limits, beside a naive read.

Starts ``crmkit sandbox --seed 7 --deals 100000 --leads 20000 --activities 300000`` with the real
limit (2 requests/s sustained, burst 50) in a process of its own, then runs ``crmkit audit
--format json`` in another (so its peak memory is its own) and reads the requests it made for the
core figures and what the stage history added. The naive read pages the open deals and the open
activities one page of 50 per request (``start`` = 0, 50, …); it is measured for ``NAIVE_PAGES``
pages in the same run and the whole is extrapolated from the totals.
Targets: ≤ 100 requests for the core figures, ≤ 300 MB peak. Run: ``python bench/bench_audit.py``
(``--small`` for a tenth of the size).
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
NAIVE_PAGES = 60


def start_sandbox(deals: int, leads: int, activities: int) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmkit",
            "sandbox",
            "--seed",
            "7",
            "--deals",
            str(deals),
            "--leads",
            str(leads),
            "--activities",
            str(activities),
            "--rate",
            "2",
            "--burst",
            "50",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("READY "), line
    return process, line.split()[1]


def audit(url: str) -> tuple[dict[str, object], float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    env["CRMKIT_WEBHOOK"] = url
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "crmkit", "audit", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=True,
    )
    seconds = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return json.loads(done.stdout), seconds, peak_mb


def naive(url: str) -> tuple[int, float, int]:
    """Page by page, as a script without batch or keyset would; measured for NAIVE_PAGES pages
    (the whole is counted from the totals the first pages report)."""
    session = requests.Session()
    sent = 0
    whole = 0
    began = time.perf_counter()
    lists = [
        ("crm.deal.list", {"filter": {"STAGE_SEMANTIC_ID": "P"}, "select": ["ID", "STAGE_ID"]}),
        (
            "crm.activity.list",
            {
                "filter": {"COMPLETED": "N", "OWNER_TYPE_ID": 2},
                "select": ["ID", "OWNER_ID", "DEADLINE"],
            },
        ),
    ]
    for method, params in lists:
        start = 0
        first = True
        while sent < NAIVE_PAGES or first:
            reply = session.post(url + method, json={**params, "start": start}, timeout=60)
            if reply.status_code == 503:
                time.sleep(0.5)
                continue
            sent += 1
            body = reply.json()
            if first:
                whole += -(-int(body.get("total") or 0) // 50)
                first = False
            if "next" not in body:
                break
            start = body["next"]
    seconds = time.perf_counter() - began
    return sent, seconds, whole


def main() -> None:
    small = "--small" in sys.argv
    size = (10_000, 2_000, 30_000) if small else (100_000, 20_000, 300_000)
    began = time.perf_counter()
    process, url = start_sandbox(*size)
    seeded = time.perf_counter() - began
    try:
        print(
            f"sandbox: {size[0]} deals, {size[1]} leads, {size[2]} activities, seeded in "
            f"{seeded:.1f} s; 2 requests/s, burst 50"
        )
        data, seconds, peak = audit(url)
        requests_made = data["requests"]
        assert isinstance(requests_made, dict)
        deals = data["deals"]
        assert isinstance(deals, dict)
        print(
            f"crmkit audit: {requests_made['core']} HTTP requests for the core figures "
            f"(target ≤ 100), {requests_made['stage_history']} more for the stage history "
            f"({seconds:.1f} s in all, peak memory {peak:.0f} MB, "
            f"target ≤ 300 MB)"
        )
        sent, naive_seconds, whole = naive(url)
        # The burst is spent by then: the rest goes at the sustained 2 requests/s.
        rest_seconds = max(whole - sent, 0) / 2.0
        print(
            f"naive page by page: {sent} requests in {naive_seconds:.1f} s measured; the two "
            f"lists need ≈ {whole} requests, ≈ {(naive_seconds + rest_seconds) / 60:.1f} min "
            "at 2 requests/s"
        )
        core = int(requests_made["core"])
        print(
            f"ratio: ≈ {whole / max(core, 1):.0f}× fewer requests for the open deals and "
            "their activities alone"
        )
    finally:
        process.terminate()
        process.wait(timeout=30)


if __name__ == "__main__":
    main()

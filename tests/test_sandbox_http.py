"""The sandbox's HTTP layer, persistence, seed and the ``crmkit sandbox`` command."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sandbox_util import FakeClock, ok, result

from crmkit.sandbox import Sandbox, is_loopback, start_sandbox
from crmkit.sandbox.params import parse_php_query, php_array

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox(port=0, rate=None) as portal:
        yield portal


def test_php_query_parsing_and_array_shapes() -> None:
    parsed = parse_php_query(
        "fields[NAME]=x&fields[LIST][0][VALUE]=a&fields[LIST][1][VALUE]=b&select[]=ID"
        "&select[]=TITLE&filter[%3E%3DID]=5&plain=%D0%AF"
    )
    assert parsed == {
        "fields": {"NAME": "x", "LIST": [{"VALUE": "a"}, {"VALUE": "b"}]},
        "select": ["ID", "TITLE"],
        "filter": {">=ID": "5"},
        "plain": "Я",
    }
    assert php_array({}) == [] and php_array({"0": 1, "1": 2}) == [1, 2]
    assert php_array({"1": 1}) == {"1": 1} and php_array({"a": 1}) == {"a": 1}


def test_envelope_time_block_and_json_suffix(sb: Sandbox) -> None:
    body = requests.post(sb.webhook_url + "crm.status.list.json", json={}, timeout=5).json()
    assert set(body["time"]) == {
        "start",
        "finish",
        "duration",
        "processing",
        "date_start",
        "date_finish",
        "operating_reset_at",
        "operating",
    }
    assert body["total"] == len(body["result"])


def test_form_and_query_bodies_use_bracket_notation(sb: Sandbox) -> None:
    url = sb.webhook_url + "crm.deal.userfield.add"
    form = {
        "fields[FIELD_NAME]": "kind",
        "fields[USER_TYPE_ID]": "enumeration",
        "fields[LIST][0][VALUE]": "Один",
        "fields[LIST][1][VALUE]": "Два",
    }
    fid = requests.post(url, data=form, timeout=5).json()["result"]
    got = requests.get(
        sb.webhook_url + "crm.deal.userfield.get", params={"id": fid}, timeout=5
    ).json()["result"]
    assert got["FIELD_NAME"] == "UF_CRM_KIND"
    assert [i["VALUE"] for i in got["LIST"]] == ["Один", "Два"]
    listed = requests.get(
        sb.webhook_url + "crm.status.list?filter[ENTITY_ID]=STATUS", timeout=5
    ).json()
    assert listed["total"] == 5


def test_unknown_paths_and_bad_json(sb: Sandbox) -> None:
    assert requests.get(f"{sb.base_url}/nothing", timeout=5).status_code == 404
    no_hook = requests.post(f"{sb.base_url}/rest/user.current", timeout=5)
    assert no_hook.status_code == 401 and no_hook.json()["error"] == "NO_AUTH_FOUND"
    bad = requests.post(
        sb.webhook_url + "user.current",
        data=b"{",
        headers={"Content-Type": "application/json"},
        timeout=5,
    )
    assert bad.status_code == 400


def test_start_refuses_a_non_loopback_host() -> None:
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.10")
    with pytest.raises(ValueError, match="loopback"):
        start_sandbox(host="0.0.0.0")


def test_stop_is_idempotent_and_the_port_is_released() -> None:
    sb = start_sandbox(port=0, rate=None)
    url = sb.webhook_url
    sb.stop()
    sb.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "user.current", timeout=2)


def test_state_persists_across_restarts(tmp_path: Path) -> None:
    with start_sandbox(port=0, rate=None, state_dir=tmp_path) as sb:
        cid = result(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Опт"}})[
            "category"
        ]["id"]
        result(
            sb,
            "crm.status.add",
            {
                "fields": {
                    "ENTITY_ID": f"DEAL_STAGE_{cid}",
                    "STATUS_ID": "BID",
                    "NAME": "Bid",
                    "SORT": 15,
                }
            },
        )
        result(
            sb,
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": "INN", "USER_TYPE_ID": "string"}},
        )
    with start_sandbox(port=0, rate=None, state_dir=tmp_path) as sb:
        names = [
            c["name"] for c in result(sb, "crm.category.list", {"entityTypeId": 2})["categories"]
        ]
        assert names == ["General", "Опт"]
        codes = [
            s["STATUS_ID"]
            for s in result(sb, "crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{cid}"}})
        ]
        assert f"C{cid}:BID" in codes and len(codes) == 9
        assert [f["FIELD_NAME"] for f in result(sb, "crm.lead.userfield.list")] == ["UF_CRM_INN"]
        again = result(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "B"}})
        assert again["category"]["id"] == cid + 1  # id sequences survive too
    with start_sandbox(port=0, rate=None) as sb:  # without state_dir: a fresh portal
        assert len(result(sb, "crm.category.list", {"entityTypeId": 2})["categories"]) == 1


def _snapshot(sb: Sandbox) -> dict[str, Any]:
    volatile = {"DATE_MODIFY", "CREATED", "LAST_UPDATED"}

    def rows(method: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        start: Any = 0
        while start is not None:
            envelope = ok(sb, method, {"start": start})
            out += [{k: v for k, v in r.items() if k not in volatile} for r in envelope["result"]]
            start = envelope.get("next")
        return out

    return {
        m: rows(m)
        for m in (
            "crm.lead.list",
            "crm.deal.list",
            "crm.contact.list",
            "crm.company.list",
            "crm.activity.list",
            "user.get",
        )
    }


def test_seed_is_deterministic_fast_and_realistic() -> None:
    clock = FakeClock(1_760_000_000.0)
    started = time.perf_counter()
    with start_sandbox(port=0, rate=None, seed=42, clock=clock) as sb:
        elapsed = time.perf_counter() - started
        first = _snapshot(sb)
    with start_sandbox(port=0, rate=None, seed=42, clock=clock) as sb:
        assert _snapshot(sb) == first
    with start_sandbox(port=0, rate=None, seed=43, clock=clock) as sb:
        assert _snapshot(sb)["crm.deal.list"] != first["crm.deal.list"]
    assert elapsed < 1.0

    total = sum(len(rows) for rows in first.values())
    assert total > 300
    users = first["user.get"]
    assert any(
        "продаж" in u["WORK_POSITION"].lower() and "Руководитель" in u["WORK_POSITION"]
        for u in users
    )
    assert len({lead["STATUS_ID"] for lead in first["crm.lead.list"]}) >= 4
    deals = first["crm.deal.list"]
    assert len({d["CATEGORY_ID"] for d in deals}) >= 2
    assert all(float(d["OPPORTUNITY"]) > 0 for d in deals)
    now_iso = "2025-10-09T12:00:00+03:00"  # noon of the fake day, when the seed is anchored
    acts = first["crm.activity.list"]
    overdue = [a for a in acts if a["COMPLETED"] == "N" and a["DEADLINE"] < now_iso]
    assert overdue and {a["TYPE_ID"] for a in acts} >= {"1", "2", "6"}
    open_deals = {d["ID"] for d in deals if d["STAGE_SEMANTIC_ID"] == "P"}
    with_activity = {a["OWNER_ID"] for a in acts}
    assert open_deals - with_activity  # some open deals have no activity at all


def test_seed_is_applied_once_to_a_stored_portal(tmp_path: Path) -> None:
    with start_sandbox(port=0, rate=None, seed=1, state_dir=tmp_path) as sb:
        deals = ok(sb, "crm.deal.list", {"select": ["ID"]})["total"]
    with start_sandbox(port=0, rate=None, seed=1, state_dir=tmp_path) as sb:
        assert ok(sb, "crm.deal.list", {"select": ["ID"]})["total"] == deals


# --- the command -------------------------------------------------------------------------------
def _read_line(stream: Any, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert box, "no READY line in time"
    return box[0]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_cli_prints_ready_serves_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmkit",
            "sandbox",
            "--port",
            "0",
            "--seed",
            "5",
            "--state",
            str(tmp_path / "state"),
            "--code",
            "clitest1234",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        line = _read_line(process.stdout, timeout=15)
        assert line.startswith("READY http://127.0.0.1:") and line.endswith(
            "/rest/1/clitest1234/\n"
        )
        url = line.split()[1]
        assert requests.post(url + "user.current", timeout=5).json()["result"]["ID"] == "1"
        process.send_signal(sig)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0
    assert out == "" and "Traceback" not in err
    assert (tmp_path / "state" / "sandbox.sqlite3").exists()


def test_cli_refuses_a_non_loopback_host(crmkit: Callable[..., Any]) -> None:
    run = crmkit("sandbox", "--host", "0.0.0.0")
    assert run.code == 2 and run.out == ""
    assert run.err.count("\n") == 1 and "0.0.0.0" in run.err and run.err.startswith("crmkit: ")
    bad = crmkit("sandbox", "--code", "no/slashes")
    assert bad.code == 2


def test_cli_help_in_both_languages(crmkit: Callable[..., Any]) -> None:
    english = crmkit("sandbox", "--help")
    russian = crmkit("sandbox", "--help", lang="ru")
    assert english.code == russian.code == 0
    assert "READY" in english.out and "песочниц" in russian.out.lower()
    assert json.dumps(english.out)  # printable


def test_cli_reports_a_busy_port_and_a_corrupt_state(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    with start_sandbox(port=0, rate=None) as sb:
        busy = crmkit("sandbox", "--port", str(sb.port))
    assert busy.code == 2 and busy.err.startswith("crmkit: ") and busy.err.count("\n") == 1
    (tmp_path / "sandbox.sqlite3").write_text("not a database")
    corrupt = crmkit("sandbox", "--state", str(tmp_path))
    assert corrupt.code == 2 and "database" in corrupt.err

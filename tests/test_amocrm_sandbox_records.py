"""The amoCRM sandbox's records, paging, tokens, rate limit, faults, seed and CLI over real HTTP
(docs/amocrm-sandbox.md)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from amo_util import call, errors_of, every_page, new_pipeline, ok, refused
from sandbox_util import FakeClock

from crmkit.sandbox import company
from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox
from crmkit.sandbox.limiter import Scheduled, parse_faults

ROOT = Path(__file__).resolve().parent.parent
LEADS = "/api/v4/leads"


@pytest.fixture
def sb() -> Iterator[AmoSandbox]:
    with start_amocrm_sandbox(port=0, rate=None) as account:
        yield account
        assert account.internal_errors == []


@pytest.fixture(scope="module")
def seeded() -> Iterator[AmoSandbox]:
    with start_amocrm_sandbox(port=0, rate=None, seed=11) as account:
        yield account


def test_batch_adds_echo_request_ids_and_one_bad_item_fails_the_batch(sb: AmoSandbox) -> None:
    field = call(
        sb,
        "POST",
        "/api/v4/leads/custom_fields",
        [{"name": "Канал", "type": "select", "enums": [{"value": "Сайт", "sort": 1}]}],
    ).json()["_embedded"]["custom_fields"][0]
    good = {"name": "Сделка", "price": 1000, "request_id": "mine"}
    bad = [
        {"name": 5},
        {"custom_fields_values": [{"field_id": field["id"], "values": [{"enum_id": 1}]}]},
        {"custom_fields_values": [{"field_id": field["id"], "values": [{"value": "Радио"}]}]},
        {"pipeline_id": 1},
        {"responsible_user_id": 99},
    ]
    problem = refused(sb, "POST", LEADS, [good, *bad])
    assert errors_of(problem) == [
        ("1", "InvalidType", "name"),
        ("2", "NotSupportedChoice", "custom_fields_values.0.values.0.enum_id"),
        ("3", "NotSupportedChoice", "custom_fields_values.0.values.0.value"),
        ("4", "NotSupportedChoice", "pipeline_id"),
        ("5", "NotSupportedChoice", "responsible_user_id"),
    ]
    assert call(sb, "GET", LEADS).status_code == 204  # nothing was made
    value = {"field_id": field["id"], "values": [{"value": "Сайт"}]}
    made = ok(sb, "POST", LEADS, [good, {"custom_fields_values": [value]}])["_embedded"]["leads"]
    assert [m["request_id"] for m in made] == ["mine", "1"]
    lead = ok(sb, "GET", f"{LEADS}/{made[1]['id']}")
    assert lead["custom_fields_values"][0]["values"] == [
        {"value": "Сайт", "enum_id": field["enums"][0]["id"], "enum_code": None}
    ]
    assert lead["name"] == f"Сделка #{lead['id']}" and lead["status_id"] not in (142, 143)
    assert refused(sb, "POST", LEADS, [{}] * 251)["detail"].startswith("At most 250")
    assert call(sb, "GET", f"{LEADS}/1").status_code == 204


def test_a_move_writes_an_event_and_closing_sets_closed_at(sb: AmoSandbox) -> None:
    pipeline = new_pipeline(sb, statuses=[{"name": "A", "sort": 1}, {"name": "B", "sort": 2}])
    pid, (first, second) = pipeline["id"], [s["id"] for s in pipeline["_embedded"]["statuses"][1:3]]
    (made,) = ok(sb, "POST", LEADS, [{"pipeline_id": pid}])["_embedded"]["leads"]
    assert ok(sb, "GET", f"{LEADS}/{made['id']}")["status_id"] == first
    edited = ok(sb, "PATCH", LEADS, [{"id": made["id"], "status_id": second, "request_id": "x"}])
    assert edited["_embedded"]["leads"][0]["request_id"] == "x"
    ok(sb, "PATCH", f"{LEADS}/{made['id']}", {"status_id": 142})
    lead = ok(sb, "GET", f"{LEADS}/{made['id']}")
    assert lead["status_id"] == 142 and lead["pipeline_id"] == pid and lead["closed_at"]
    moves = ok(sb, "GET", "/api/v4/events", **{"filter[type]": "lead_status_changed"})
    pairs = [
        (e["value_before"][0]["lead_status"]["id"], e["value_after"][0]["lead_status"]["id"])
        for e in moves["_embedded"]["events"]
    ]
    assert pairs == [(second, 142), (first, second)]  # newest first
    into_won = ok(
        sb,
        "GET",
        "/api/v4/events",
        **{
            "filter[value_after][leads_statuses][0][pipeline_id]": str(pid),
            "filter[value_after][leads_statuses][0][status_id]": "142",
        },
    )["_embedded"]["events"]
    assert [e["entity_id"] for e in into_won] == [made["id"]]
    event = into_won[0]
    assert ok(sb, "GET", f"/api/v4/events/{event['id']}")["type"] == "lead_status_changed"
    problem = call(sb, "GET", "/api/v4/events", **{"filter[entity_id][]": "1"})
    assert problem.status_code == 400


def test_paging_follows_next_to_the_end_and_an_empty_page_is_204(seeded: AmoSandbox) -> None:
    total = seeded.store.count("lead")
    first = ok(seeded, "GET", LEADS, limit="50")
    assert first["_page"] == 1 and len(first["_embedded"]["leads"]) == 50
    assert "next" in first["_links"] and "prev" not in first["_links"]
    assert "_total_items" not in first  # no totals in lists: scan the pages
    assert len(every_page(seeded, LEADS, "leads", limit="40")) == total
    assert len(ok(seeded, "GET", LEADS, limit="1000")["_embedded"]["leads"]) == min(total, 250)
    past = call(seeded, "GET", LEADS, page="99")
    assert past.status_code == 204 and past.content == b""
    assert refused(seeded, "GET", f"{LEADS}?limit=0")["detail"].startswith("limit")
    events = ok(seeded, "GET", "/api/v4/events", limit="250")["_embedded"]["events"]
    assert len(events) == 100  # the events' cap


def test_lead_filters_match_the_store(seeded: AmoSandbox) -> None:
    rows = seeded.store.rows("lead")
    pid = rows[0]["pipeline_id"]
    in_pipeline = every_page(
        seeded, LEADS, "leads", **{"filter[pipeline_id]": str(pid), "limit": "250"}
    )
    assert {r["id"] for r in in_pipeline} == {r["id"] for r in rows if r["pipeline_id"] == pid}
    status = rows[0]["status_id"]
    by_status = every_page(
        seeded,
        LEADS,
        "leads",
        **{
            "filter[statuses][0][pipeline_id]": str(pid),
            "filter[statuses][0][status_id]": str(status),
        },
    )
    assert {r["id"] for r in by_status} == {
        r["id"] for r in rows if (r["pipeline_id"], r["status_id"]) == (pid, status)
    }
    middle = sorted(r["created_at"] for r in rows)[len(rows) // 2]
    recent = every_page(seeded, LEADS, "leads", **{"filter[created_at][from]": str(middle)})
    assert {r["id"] for r in recent} == {r["id"] for r in rows if r["created_at"] >= middle}
    newest = ok(seeded, "GET", LEADS, **{"order[created_at]": "desc", "limit": "3"})
    stamps = [r["created_at"] for r in newest["_embedded"]["leads"]]
    assert stamps == sorted((r["created_at"] for r in rows), reverse=True)[:3]


def test_tasks_open_and_overdue_match_the_store(seeded: AmoSandbox) -> None:
    now = int(time.time())
    tasks = seeded.store.rows("task")
    open_tasks = every_page(seeded, "/api/v4/tasks", "tasks", **{"filter[is_completed]": "0"})
    assert {t["id"] for t in open_tasks} == {t["id"] for t in tasks if not t["is_completed"]}
    overdue = [t for t in open_tasks if t["complete_till"] < now]
    assert 0 < len(overdue) < len(open_tasks)
    lead = tasks[0]["entity_id"]
    bound = every_page(
        seeded,
        "/api/v4/tasks",
        "tasks",
        **{"filter[entity_type]": "leads", "filter[entity_id]": str(lead)},
    )
    assert {t["id"] for t in bound} == {t["id"] for t in tasks if t["entity_id"] == lead}
    closest = min(
        (t["complete_till"] for t in tasks if t["entity_id"] == lead and not t["is_completed"]),
        default=None,
    )
    assert ok(seeded, "GET", f"{LEADS}/{lead}")["closest_task_at"] == closest


def test_tasks_contacts_companies_users_account(sb: AmoSandbox) -> None:
    (company_,) = ok(sb, "POST", "/api/v4/companies", [{"name": "ООО «Ромашка»"}])["_embedded"][
        "companies"
    ]
    contact = {
        "first_name": "Иван",
        "last_name": "Петров",
        "_embedded": {"companies": [{"id": company_["id"]}]},
    }
    (made,) = ok(sb, "POST", "/api/v4/contacts", [contact])["_embedded"]["contacts"]
    shown = ok(sb, "GET", f"/api/v4/contacts/{made['id']}")
    assert (
        shown["name"] == "Иван Петров"
        and shown["_embedded"]["companies"][0]["id"] == company_["id"]
    )
    task = {
        "text": "Позвонить",
        "complete_till": 1_800_000_000,
        "entity_type": "contacts",
        "entity_id": made["id"],
    }
    (added,) = ok(sb, "POST", "/api/v4/tasks", [task])["_embedded"]["tasks"]
    assert errors_of(refused(sb, "POST", "/api/v4/tasks", [{"text": "x"}])) == [
        ("0", "FieldMissing", "complete_till")
    ]
    ok(
        sb,
        "PATCH",
        f"/api/v4/tasks/{added['id']}",
        {"is_completed": True, "result": {"text": "Готово"}},
    )
    done = ok(sb, "GET", f"/api/v4/tasks/{added['id']}")
    assert done["is_completed"] and done["result"] == {"text": "Готово"}
    users = ok(sb, "GET", "/api/v4/users")["_embedded"]["users"]
    assert [u["id"] for u in users] == [1, 2, 3, 4] and users[0]["rights"]["is_admin"]
    account = ok(sb, "GET", "/api/v4/account", **{"with": "task_types"})
    assert account["current_user_id"] == 1 and account["is_loss_reason_enabled"]
    assert [t["id"] for t in account["_embedded"]["task_types"]] == [1, 2]
    summary = ok(sb, "GET", "/api/v4/leads/unsorted/summary")
    assert summary["total"] == 0 and set(summary["categories"]) == {"sip", "mail", "forms", "chats"}


def test_tokens_and_a_blocked_account(sb: AmoSandbox) -> None:
    for token in ("", "wrong", sb.token + "x"):
        response = call(sb, "GET", "/api/v4/account", token=token)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json() == {
            "title": "Unauthorized",
            "type": "https://httpstatus.es/401",
            "status": 401,
            "detail": "Неверный логин или пароль",
        }
    bare = requests.get(sb.base_url + "/api/v4/account", timeout=5)
    assert bare.status_code == 401
    sb.block()
    blocked = call(sb, "GET", "/api/v4/leads")
    assert blocked.status_code == 403 and "заблокирован" in blocked.json()["detail"]
    assert call(sb, "GET", "/api/v4/leads", token="wrong").status_code == 403  # any request
    sb.block("html")
    page = call(sb, "POST", LEADS, [{"name": "x"}])
    assert page.status_code == 403 and page.headers["Content-Type"] == "text/html"
    assert "nginx" in page.text
    sb.unblock()
    assert call(sb, "GET", "/api/v4/account").status_code == 200
    assert sb.store.count("lead") == 0
    assert refused(sb, "GET", "/api/v4/nothing", status=404)["title"] == "Not Found"
    assert refused(sb, "PUT", LEADS, status=405)["title"] == "Method Not Allowed"


def test_seven_a_second_then_429_and_repeated_excess_blocks_the_account() -> None:
    clock = FakeClock()
    with start_amocrm_sandbox(port=0, clock=clock, block_after=3) as sb, requests.Session() as s:
        headers = {"Authorization": f"Bearer {sb.token}"}
        codes = [
            s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5).status_code
            for _ in range(8)
        ]
        assert codes == [200] * 7 + [429]
        limited = s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5)
        assert (
            limited.status_code == 429
            and limited.headers["Content-Type"] == "application/problem+json"
        )
        assert limited.json()["detail"] == "Превышено допустимое количество запросов в секунду"
        clock.advance(0.15)  # one token back
        assert s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5).status_code == 200
        assert s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5).status_code == 429
        assert sb.blocked == "json"  # the third 429
        clock.advance(60)
        assert s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5).status_code == 403


def test_a_burst_over_real_time_is_cut_to_the_bucket() -> None:
    with start_amocrm_sandbox(port=0) as sb, requests.Session() as s:
        headers = {"Authorization": f"Bearer {sb.token}"}
        started = time.monotonic()
        codes = [
            s.get(sb.base_url + "/api/v4/account", headers=headers, timeout=5).status_code
            for _ in range(20)
        ]
        elapsed = time.monotonic() - started
    # at most the 7 of the bucket and 7 a second more while the burst lasted
    assert 7 <= codes.count(200) <= 7 + 7 * elapsed + 1 and 429 in codes


def test_faults_before_and_after_execution() -> None:
    assert parse_faults("429x3@2,drop-after@5") == [
        Scheduled("429", 2, 3),
        Scheduled("drop-after", 5),
    ]
    faults = [Scheduled("429", 2, 3), Scheduled("drop-after", 5), Scheduled("500-after", 6)]
    with start_amocrm_sandbox(port=0, rate=None, faults=faults) as sb:
        codes = [call(sb, "GET", "/api/v4/account").status_code for _ in range(4)]
        assert codes == [200, 429, 429, 429]
        with pytest.raises(requests.ConnectionError):
            call(sb, "POST", LEADS, [{"name": "Потерянный ответ"}])
        assert [r["name"] for r in sb.store.rows("lead")] == ["Потерянный ответ"]  # it ran
        answer = call(sb, "POST", LEADS, [{"name": "Ответ 500"}])
        assert answer.status_code == 500 and answer.json()["status"] == 500
        assert sb.store.count("lead") == 2 and sb.writes == 2
        sb.faults.force(2, status=429)
        assert [call(sb, "GET", "/api/v4/account").status_code for _ in range(3)] == [429, 429, 200]
        assert [status for _verb, _path, status in sb.log][4:6] == [0, 500]


def test_the_seed_is_the_shared_company_in_amocrm_shape(seeded: AmoSandbox) -> None:
    store = seeded.store
    low, high = company.DEALS
    assert low <= store.count("lead") <= high
    assert company.CONTACTS[0] <= store.count("contact") <= company.CONTACTS[1]
    assert company.COMPANIES[0] <= store.count("company") <= company.COMPANIES[1]
    assert company.LEADS[0] <= store.count("unsorted") <= company.LEADS[1]
    pipelines = store.rows("pipeline")
    assert 2 <= len(pipelines) <= 3
    assert all(store.count_indexed("lead", "pipeline_id", p["id"]) for p in pipelines)
    statuses = {r["status_id"] for r in store.rows("lead")}
    assert {142, 143} <= statuses and len(statuses) > 4
    lost = [r for r in store.rows("lead") if r["status_id"] == 143]
    assert all(r["loss_reason_id"] for r in lost) and all(r["closed_at"] for r in lost)
    moves = [e for e in store.rows("event") if e["type"] == "lead_status_changed"]
    now = time.time()
    assert moves and all(now - 91 * 86400 <= e["created_at"] <= now for e in moves)
    open_leads = {r["id"] for r in store.rows("lead") if r["status_id"] not in (142, 143)}
    with_tasks = {t["entity_id"] for t in store.rows("task") if not t["is_completed"]}
    assert open_leads - with_tasks  # some open leads have no task: the audit must find them
    names = {u["name"] for u in store.rows("user")}
    assert "Игорь Петров" in names  # the head of sales every sandbox has
    with start_amocrm_sandbox(port=0, rate=None, seed=11) as again:
        assert again.store.rows("lead") == store.rows("lead")


def _read_line(stream: Any, timeout: float) -> str:
    box: list[str] = []
    reader = threading.Thread(target=lambda: box.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert box, "no READY line in time"
    return box[0]


def test_cli_prints_ready_and_a_token_file_never_the_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    token_file = tmp_path / "amo.token"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "crmkit",
            "sandbox",
            "--target",
            "amocrm",
            "--seed",
            "2",
            "--token-file",
            str(token_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        line = _read_line(process.stdout, timeout=15)
        url, where = line.removeprefix("READY ").split()
        assert url.startswith("http://127.0.0.1:") and where == f"token-file={token_file}"
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        token = token_file.read_text().strip()
        answer = requests.get(
            url + "/api/v4/account", headers={"Authorization": f"Bearer {token}"}, timeout=5
        )
        assert answer.status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    assert process.returncode == 0 and token not in out + err + line
    assert "Ctrl-C" in err


def test_cli_token_from_the_environment_and_bitrix24_options_refused(
    crmkit: Callable[..., Any], tmp_path: Path
) -> None:
    from crmkit.cli.sandbox_amocrm import resolve_token

    assert resolve_token({"CRMKIT_AMO_TOKEN": "t0k"}, None, None) == (
        "t0k",
        "token-env=CRMKIT_AMO_TOKEN",
    )
    token, where = resolve_token({}, tmp_path, None)
    assert (
        where == f"token-file={tmp_path / 'token'}"
        and resolve_token({}, tmp_path, None)[0] == token
    )
    run = crmkit("sandbox", "--target", "amocrm", "--code", "abcd1234")
    assert run.code == 2 and run.err.startswith("crmkit: ") and "--code" in run.err
    other = crmkit("sandbox", "--token-file", str(tmp_path / "t"))
    assert other.code == 2 and "--target amocrm" in other.err

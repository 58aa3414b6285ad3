"""``crmkit audit`` on an amoCRM account: the one findings engine fed by amoCRM's figures.

On a seeded amoCRM sandbox over real HTTP, every figure the audit reports equals the truth
counted directly from the sandbox's store (its rows, not crmkit's code path): totals, stale
leads, open leads without an open task or with an overdue one, the failure reasons and the
«Другое» share, conversion and time in stage from the events, speed to lead, the level. The
scans are bounded (and say so when the bound is hit), the rate-limited client stays under 7
requests a second, the token is in no output, file or error, and the figures amoCRM has no
counterpart for are said, in every language."""

from __future__ import annotations

import json
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests

from crmkit.assess.audit import Audit, to_data
from crmkit.assess.audit_report import to_html, to_markdown, to_text
from crmkit.assess.audit_run import run_audit
from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.push.amocrm.account import parse_account
from crmkit.push.amocrm.client import AmoClient
from crmkit.push.amocrm.reader import read_account
from crmkit.push.amocrm.usage import audit_view, read_usage
from crmkit.sandbox.amocrm import start_amocrm_sandbox

NOW = time.time()
DAY = 86400
WON, LOST = 142, 143
LEAD_NAMES = {"лиды", "leads", "ліди"}
#: a manager who left, and open leads with neither a contact nor a company (set in the store)
LEFT = 3
WITHOUT_CLIENT = 3


def _client(sb: Any, **kwargs: Any) -> AmoClient:
    account = parse_account(
        sb.base_url, sb.token, url_source="--url", token_source="--token", lang="en"
    )
    return AmoClient(account, **{"rate": None, **kwargs})


def _troubles(sb: Any) -> None:
    """What the seed leaves at zero, set in the store so the figures have something to find."""
    store = sb.store
    user = store.get("user", LEFT)
    store.put("user", LEFT, {**user, "is_active": False})
    open_leads = [r for r in store.rows("lead") if r["status_id"] not in (WON, LOST)]
    for lead in open_leads[:WITHOUT_CLIENT]:
        store.put("lead", lead["id"], {**lead, "contacts": [], "company_id": None})


@pytest.fixture(scope="module")
def seeded() -> Any:
    with start_amocrm_sandbox(port=0, rate=None, seed=5) as sb:
        _troubles(sb)
        with _client(sb) as client:
            result = run_audit(client, portal=sb.base_url, target="amocrm", lang="en", now=NOW)
        yield sb, to_data(result), result


# -- the truth, from the store -------------------------------------------------------------------


def _pipelines(sb: Any) -> dict[int, Any]:
    return {p["id"]: p for p in sb.store.rows("pipeline") if not p.get("is_archive")}


def _lead_pipeline(pipelines: dict[int, Any]) -> int | None:
    named = [p for p in pipelines.values() if p["name"].strip().casefold() in LEAD_NAMES]
    return min(named, key=lambda p: (p["sort"], p["id"]))["id"] if named else None


def _unsorted(pipelines: dict[int, Any]) -> set[int]:
    return {s["id"] for p in pipelines.values() for s in p["statuses"] if s["type"] == 1}


def _path(pipeline: Any) -> list[int]:
    """In-progress statuses in order, then won: the positions conversion counts on."""
    ordered = sorted(pipeline["statuses"], key=lambda s: (s["sort"], s["id"]))
    process = [s["id"] for s in ordered if s["type"] == 0 and s["id"] not in (WON, LOST)]
    return process + [WON]


def _truth(sb: Any, now: float = NOW) -> dict[str, Any]:
    store = sb.store
    pipelines = _pipelines(sb)
    lead_pid = _lead_pipeline(pipelines)
    unsorted = _unsorted(pipelines)
    rows = [
        r
        for r in store.rows("lead")
        if r["pipeline_id"] in pipelines and r["status_id"] not in unsorted
    ]
    leads = [r for r in rows if r["pipeline_id"] == lead_pid]
    deals = [r for r in rows if r["pipeline_id"] != lead_pid]
    open_deals = [d for d in deals if d["status_id"] not in (WON, LOST)]
    tasks = store.rows("task")
    open_tasks = [t for t in tasks if not t["is_completed"] and t["entity_type"] == "leads"]
    with_open = {t["entity_id"] for t in open_tasks}
    overdue = {t["entity_id"] for t in open_tasks if t["complete_till"] < now}
    reasons = {r["id"]: r["name"] for r in store.rows("loss_reason")}

    def failure(row: Any) -> tuple[int, str]:
        reason = row.get("loss_reason_id")
        return row["pipeline_id"], f"LOSS_{reason}" if reason in reasons else "LOST"

    lost_deals = Counter(failure(d) for d in deals if d["status_id"] == LOST)
    lost_leads = Counter(failure(r) for r in leads if r["status_id"] == LOST)
    lost = [r for r in rows if r["status_id"] == LOST]
    other = sum(1 for r in lost if reasons.get(r.get("loss_reason_id")) == "Другое")
    cutoff = now - 7 * DAY
    inactive = {u["id"] for u in store.rows("user") if not u.get("is_active", True)}
    truth: dict[str, Any] = {
        "deals.total": len(deals),
        "deals.by_stage": Counter(
            failure(d) if d["status_id"] == LOST else (d["pipeline_id"], d["status_id"])
            for d in deals
        ),
        "deals.open": len(open_deals),
        "deals.without": sum(1 for d in open_deals if d["id"] not in with_open),
        "deals.overdue": sum(1 for d in open_deals if d["id"] in overdue),
        "without_client": sum(
            1 for d in open_deals if not d.get("contacts") and not d.get("company_id")
        ),
        "inactive": sum(1 for d in open_deals if d["responsible_user_id"] in inactive),
        "top_owner": max(Counter(d["responsible_user_id"] for d in open_deals).values()),
        "failures.deals": lost_deals,
        "failures.leads": lost_leads,
        "failures.other": other / len(lost) if lost else None,
        "contacts": store.count("contact"),
        "companies": store.count("company"),
        "activities": len(tasks),
    }
    if lead_pid is not None:
        first = _path(pipelines[lead_pid])[0]
        in_first = [r for r in leads if r["status_id"] == first]
        truth["leads.total"] = len(leads)
        truth["leads.first"] = len(in_first)
        truth["leads.stale"] = sum(1 for r in in_first if r["created_at"] < cutoff)
        truth["leads.by_status"] = Counter(
            failure(r) if r["status_id"] == LOST else (r["pipeline_id"], r["status_id"])
            for r in leads
        )
    else:  # the requests through Неразобранное are the leads
        requests_ = store.rows("unsorted")
        waiting = [r for r in requests_ if r["state"] == "new"]
        truth["leads.total"] = len(requests_)
        truth["leads.first"] = len(waiting)
        truth["leads.stale"] = sum(1 for r in waiting if r["created_at"] < cutoff)
    truth.update(_history_truth(sb, now, pipelines, lead_pid, rows, open_deals))
    return truth


def _moves(sb: Any, start: float) -> dict[int, list[tuple[int, int, int, int, int]]]:
    """lead → its moves of the window in time order: (when, pid, sid, pid before, sid before)."""
    out: dict[int, list[tuple[int, int, int, int, int]]] = {}
    events = sorted(sb.store.rows("event"), key=lambda e: (e["created_at"], e["id"]))
    for event in events:
        if event["type"] != "lead_status_changed" or event["created_at"] < start:
            continue
        after = event["value_after"][0]["lead_status"]
        before = event["value_before"][0]["lead_status"]
        out.setdefault(event["entity_id"], []).append(
            (
                event["created_at"],
                after["pipeline_id"],
                after["id"],
                before["pipeline_id"],
                before["id"],
            )
        )
    return out


def _history_truth(
    sb: Any,
    now: float,
    pipelines: dict[int, Any],
    lead_pid: int | None,
    rows: list[Any],
    open_deals: list[Any],
) -> dict[str, Any]:
    start = int(now - 90 * DAY)
    moves = _moves(sb, start)
    unsorted = _unsorted(pipelines)
    deal_pids = {pid for pid in pipelines if pid != lead_pid}
    stays: dict[tuple[int, int], list[int]] = {}
    started: Counter[int] = Counter()
    furthest: dict[int, Counter[int]] = {pid: Counter() for pid in deal_pids}
    by_id = {r["id"]: r for r in rows}
    for rid in set(moves) | {r["id"] for r in rows if r["created_at"] >= start}:
        lead = by_id.get(rid)
        steps = []
        created = lead is not None and lead["created_at"] >= start
        if created:
            first = moves.get(rid, [None])[0]
            where = (first[3], first[4]) if first else (lead["pipeline_id"], lead["status_id"])
            steps.append((lead["created_at"], *where))
        steps += [(w, p, s) for w, p, s, _bp, _bs in moves.get(rid, [])]
        previous = None
        for when, pid, sid in steps:
            if pid not in deal_pids or sid in unsorted:
                previous = None
                continue
            if previous is not None and previous[0] == pid:
                stays.setdefault((pid, previous[1]), []).append(max(0, (when - previous[2]) // 60))
            previous = (pid, sid, when)
        if created and steps[0][1] in deal_pids:
            started[steps[0][1]] += 1
            path = _path(pipelines[steps[0][1]])
            visited = [path.index(s) for _w, p, s in steps if p == steps[0][1] and s in path]
            if visited:
                furthest[steps[0][1]][max(visited)] += 1
    conversion = {}
    for pid in deal_pids:
        path = _path(pipelines[pid])
        entered = [sum(n for pos, n in furthest[pid].items() if pos >= i) for i in range(len(path))]
        went_on = [sum(n for pos, n in furthest[pid].items() if pos > i) for i in range(len(path))]
        rates = [
            None if i == len(path) - 1 or not entered[i] else round(went_on[i] / entered[i], 4)
            for i in range(len(path))
        ]
        conversion[pipelines[pid]["name"]] = {
            "started": started[pid],
            "entered": entered,
            "rates": rates,
        }
    stuck = measured = 0
    for deal in open_deals:
        own = moves.get(deal["id"], [])
        entered_at = max(deal["created_at"], start)
        if own and (own[-1][1], own[-1][2]) == (deal["pipeline_id"], deal["status_id"]):
            entered_at = own[-1][0]
        here = stays.get((deal["pipeline_id"], deal["status_id"]), [])
        if len(here) < 5:
            continue
        measured += 1
        stuck += int((now - entered_at) // 60) > int(2 * statistics.median(here))
    # speed to lead: the leads of the last 30 days (every pipeline when there is no lead one)
    first_task: dict[int, int] = {}
    for task in sb.store.rows("task"):
        if task["entity_type"] == "leads":
            rid = task["entity_id"]
            first_task[rid] = min(first_task.get(rid, task["created_at"]), task["created_at"])
    response = []
    for row in rows:
        if row["created_at"] < now - 30 * DAY:
            continue
        if lead_pid is not None and row["pipeline_id"] != lead_pid:
            continue
        firsts = [m[0] for m in moves.get(row["id"], [])[:1]]
        firsts += [first_task[row["id"]]] if row["id"] in first_task else []
        if firsts:
            response.append(max(0, (min(firsts) - row["created_at"]) // 60))
    return {
        "stays": stays,
        "conversion": conversion,
        "stuck": (stuck, measured),
        "speed": statistics.median(response) if response else None,
    }


def _codes(result: Audit) -> dict[str, tuple[int, Any]]:
    """The audit's stage codes → (pipeline, status id or ``LOSS_<reason>``/``LOST``)."""
    out = {}
    for funnel in result.state.funnels:
        for stage in funnel.stages:
            key = stage.id if stage.semantics != "failure" else stage.code
            out[stage.status_id] = (funnel.category_id, key)
    return out


def _as_truth(counts: dict[str, int], codes: dict[str, tuple[int, Any]]) -> Counter[Any]:
    return Counter({codes[code]: n for code, n in counts.items() if n})


# -- the figures ----------------------------------------------------------------------------------


def test_every_figure_equals_the_truth_of_the_store(seeded: Any) -> None:
    sb, data, result = seeded
    truth = _truth(sb)
    codes = _codes(result)
    assert data["leads"]["total"] == truth["leads.total"]
    assert data["leads"]["stale_in_first_stage"] == truth["leads.stale"]
    assert data["deals"]["total"] == truth["deals.total"]
    assert _as_truth(data["deals"]["by_stage"], codes) == truth["deals.by_stage"]
    assert data["deals"]["open"] == truth["deals.open"]
    assert data["deals"]["open_without_open_activity"] == truth["deals.without"]
    assert data["deals"]["open_with_overdue_activity"] == truth["deals.overdue"]
    assert _as_truth(data["failures"]["by_reason"]["deals"], codes) == truth["failures.deals"]
    assert data["failures"]["other_share"] == pytest.approx(truth["failures.other"], abs=1e-6)
    entities = data["entities"]
    assert (entities["contacts"], entities["companies"], entities["activities"]) == (
        truth["contacts"],
        truth["companies"],
        truth["activities"],
    )
    findings = {f["key"]: f for f in data["findings"]}
    stale = findings["stale_leads"]
    assert stale["denominator"] == truth["leads.first"]
    assert stale["value"] == pytest.approx(truth["leads.stale"] / truth["leads.first"], abs=1e-6)
    open_deals = truth["deals.open"]
    expect = {
        "deals_without_open_activity": truth["deals.without"],
        "overdue_activities": truth["deals.overdue"],
        "deals_without_client": truth["without_client"],
        "inactive_owners": truth["inactive"],
        "owner_concentration": truth["top_owner"],
    }
    for key, count in expect.items():
        assert findings[key]["denominator"] == open_deals, key
        assert findings[key]["value"] == pytest.approx(count / open_deals, abs=1e-6), key
    assert truth["without_client"] == WITHOUT_CLIENT and truth["inactive"] > 0
    # samples are the account's leads, linked as amoCRM links them
    for finding in data["findings"]:
        for sample in finding["samples"]:
            assert sb.store.get("lead", sample["id"]) is not None
            assert sample["url"] == f"{sb.base_url}/leads/detail/{sample['id']}"


def test_conversion_time_in_stage_and_speed_come_from_the_events(seeded: Any) -> None:
    sb, data, result = seeded
    truth = _truth(sb)
    findings = {f["key"]: f for f in data["findings"]}
    detail = findings["conversion"]["detail"]
    assert set(detail) == set(truth["conversion"])
    lowest = None
    for name, expected in truth["conversion"].items():
        steps = detail[name]["steps"]
        assert detail[name]["started"] == expected["started"], name
        assert [s["entered"] for s in steps] == expected["entered"], name
        assert [s["conversion"] for s in steps] == expected["rates"], name
        rates = [r for r in expected["rates"] if r is not None]
        if expected["started"] >= 20 and rates:
            lowest = min(rates) if lowest is None else min(lowest, min(rates))
    assert findings["conversion"]["value"] == pytest.approx(lowest, abs=1e-6)
    # time in stage: every stay the events show, per status
    codes = _codes(result)
    history = result.usage.deal_history
    assert history is not None
    stays = {
        codes[stage]: sorted(v) for (_pid, stage), v in history.stays.items() if stage in codes
    }
    assert stays == {k: sorted(v) for k, v in truth["stays"].items()}
    stuck, measured = truth["stuck"]
    assert findings["stuck_deals"]["denominator"] == measured > 0
    assert findings["stuck_deals"]["value"] == pytest.approx(stuck / measured, abs=1e-6)
    assert findings["speed_to_lead"]["value"] == pytest.approx(truth["speed"])


def test_the_level_is_held_by_the_open_leads_without_tasks(seeded: Any) -> None:
    sb, data, result = seeded
    truth = _truth(sb)
    without = truth["deals.without"] / truth["deals.open"]
    overdue = truth["deals.overdue"] / truth["deals.open"]
    assert without > 0.15 or overdue > 0.15  # the seed's troubles: "action needed"
    status = {f["key"]: f["status"] for f in data["findings"]}
    assert "action" in (status["deals_without_open_activity"], status["overdue_activities"])
    assert data["level_estimate"]["dimensions"]["activities"]["level"] == 2
    assert data["level_estimate"]["level"] == 2 == result.level


def test_a_lead_funnel_pipeline_holds_the_leads(tmp_path: Path) -> None:
    """An account with a «Лиды» pipeline: its leads are the blueprint's leads (stale ones in its
    first working status, lost ones by reason), the other pipelines' leads its deals."""
    with start_amocrm_sandbox(port=0, rate=None, seed=9) as sb, _client(sb) as client:
        made = client.create(
            "/api/v4/leads/pipelines",
            [
                {
                    "name": "Лиды",
                    "sort": 50,
                    "is_main": False,
                    "is_unsorted_on": False,
                    "_embedded": {
                        "statuses": [
                            {"name": "Новый", "sort": 20},
                            {"name": "В работе", "sort": 30},
                        ]
                    },
                }
            ],
            "pipelines",
        )
        pid = int(made.created["0"]["id"])
        statuses = client.get(f"/api/v4/leads/pipelines/{pid}/statuses")["_embedded"]["statuses"]
        first = next(s["id"] for s in statuses if s["name"] == "Новый")
        other = next(r["id"] for r in sb.store.rows("loss_reason") if r["name"] == "Другое")
        ages = [1, 3, 10, 20, 40]
        leads = [
            {
                "name": f"Заявка {n}",
                "pipeline_id": pid,
                "status_id": first,
                "created_at": int(NOW - age * DAY),
            }
            for n, age in enumerate(ages)
        ]
        leads.append(
            {
                "name": "Отказ",
                "pipeline_id": pid,
                "status_id": LOST,
                "loss_reason_id": other,
                "created_at": int(NOW - 5 * DAY),
            }
        )
        assert client.create("/api/v4/leads", leads, "leads").ok
        result = run_audit(client, portal=sb.base_url, target="amocrm", lang="ru", now=NOW)
    data = to_data(result)
    truth = _truth(sb)
    assert data["leads"]["total"] == truth["leads.total"] == len(leads)
    assert _as_truth(data["leads"]["by_status"], _codes(result)) == truth["leads.by_status"]
    assert data["leads"]["stale_in_first_stage"] == truth["leads.stale"] == 3
    stale = next(f for f in data["findings"] if f["key"] == "stale_leads")
    assert stale["denominator"] == len(ages) and len(stale["samples"]) == 3
    assert data["deals"]["total"] == truth["deals.total"]
    assert _as_truth(data["failures"]["by_reason"]["leads"], _codes(result)) == Counter(
        {(pid, f"LOSS_{other}"): 1}
    )
    assert data["failures"]["other_share"] == pytest.approx(truth["failures.other"], abs=1e-6)


# -- bounded, polite, secret ---------------------------------------------------------------------


def _pages(rows: int, size: int) -> int:
    return max(1, -(-rows // size))


def test_the_requests_are_bounded_by_the_pages_of_the_lists(seeded: Any) -> None:
    sb, data, _result = seeded
    store = sb.store
    scans = sum(
        _pages(store.count(kind), 250) for kind in ("lead", "task", "contact", "company", "user")
    )
    settings = 1 + 1 + 3  # pipelines, loss reasons, three custom-field lists (one page each)
    summary = 2  # every request, and those older than the staleness
    assert data["requests"]["core"] <= settings + scans + summary
    start = NOW - 90 * DAY
    moves = sum(
        1
        for e in store.rows("event")
        if e["type"] == "lead_status_changed" and e["created_at"] >= start
    )
    assert data["requests"]["stage_history"] == _pages(moves, 100)


def test_a_scan_that_hits_its_cap_says_the_figure_is_partial() -> None:
    with start_amocrm_sandbox(port=0, rate=None, seed=5) as sb, _client(sb) as client:
        view = audit_view(read_account(client))
        before = client.requests_sent
        usage = read_usage(client, view, now=NOW, max_rows=40, history=False)
        sent = client.requests_sent - before
    assert (
        usage.partial.get("leads") == "page_cap" and usage.partial.get("activities") == "page_cap"
    )
    assert (usage.deals_total or 0) + (usage.leads_total or 0) <= 40 + len(
        sb.store.rows("unsorted")
    )
    assert usage.activities_total == 40
    assert sent <= 8  # one page per list: the cap stops the scan


def test_the_rate_limited_client_stays_under_seven_a_second() -> None:
    sent: list[float] = []

    class Timed(requests.Session):
        def send(self, request: Any, **kwargs: Any) -> Any:  # type: ignore[override]
            sent.append(time.monotonic())
            return super().send(request, **kwargs)

    with start_amocrm_sandbox(port=0, rate=7.0, burst=7, seed=5) as sb:
        with _client(sb, rate=6.0, burst=1, session=Timed()) as client:
            run_audit(client, portal=sb.base_url, target="amocrm", lang="en", now=NOW)
        assert sb.limited == 0
    assert len(sent) > 10
    busiest = max(sum(1 for t in sent if s <= t < s + 1.0) for s in sent)
    assert busiest <= 7


def test_the_cli_audits_amocrm_through_the_seam_and_never_shows_the_token(
    tmp_path: Path, capsys: Any
) -> None:
    with start_amocrm_sandbox(port=0, rate=None, seed=5) as sb:
        token = sb.token
        app = AppContext(lang="en", environ={}, cwd=tmp_path)
        given = ["--url", sb.base_url, "--token", token]
        assert run(["audit", *given, "--format", "json"], app) == 0
        out = capsys.readouterr()
        data = json.loads(out.out)
        assert data["portal"] == sb.base_url and data["deals"]["total"] == _truth(sb)["deals.total"]
        assert token not in out.out + out.err
        # the environment, the target named; text; the client documents into reports/
        env = {"CRMKIT_AMO_URL": sb.base_url, "CRMKIT_AMO_TOKEN": token}
        app = AppContext(lang="ru", environ=env, cwd=tmp_path)
        assert run(["audit", "--target", "amocrm"], app) == 0
        out = capsys.readouterr()
        assert "В amoCRM этим показателям нет соответствия" in out.out
        assert token not in out.out + out.err
        for fmt in ("html", "md"):
            assert run(["audit", "--target", "amocrm", "--format", fmt], app) == 0
            out = capsys.readouterr()
            page = (tmp_path / "reports" / f"audit.{fmt}").read_text(encoding="utf-8")
            assert "нет соответствия" in page and "127.0.0.1" not in page
            assert token not in out.out + out.err
        # a wrong token: one line, exit 1, the token never echoed
        bad = "wrong-" + token[::-1]
        code = run(["audit", "--url", sb.base_url, "--token", bad], app)
        err = capsys.readouterr().err
        assert code == 1 and len(err.strip().splitlines()) == 1
        assert bad not in err and token not in err
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert token not in path.read_text(encoding="utf-8", errors="replace"), path


def test_what_has_no_amocrm_counterpart_is_said_in_every_language(seeded: Any) -> None:
    _sb, data, result = seeded
    findings = {f["key"]: f for f in data["findings"]}
    for key, reason in (
        ("past_close_date", "no_close_date"),
        ("required_fill", "required_per_status"),
    ):
        assert findings[key]["status"] == "not_applicable"
        assert findings[key]["detail"] == {"no_counterpart": reason}
        assert data["no_counterpart"][key] == reason
    assert "Digital Pipeline" in data["configuration"]["robots"]
    said = {
        "ru": "нет планируемой даты закрытия",
        "en": "no expected close date",
        "uk": "немає запланованої дати закриття",
    }
    for lang, words in said.items():
        localized = type(result)(**{**result.__dict__, "lang": lang})
        for page in (to_text(localized), to_markdown(localized), to_html(localized)):
            assert words in page, lang

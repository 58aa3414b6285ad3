"""``crmkit audit`` against a sandbox seeded with known data: every figure of the JSON equals the
truth counted directly from the sandbox's store (not through crmkit's own code path); an empty
portal is "not applicable"; thresholds, answers and a partial webhook behave as documented."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from crmkit.assess.audit import shipped_rules, to_data
from crmkit.assess.audit_run import run_audit
from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.sandbox import Sandbox, start_sandbox
from crmkit.sandbox.volume import Volume

ROOT = Path(__file__).resolve().parent.parent
NOW = time.time()


@pytest.fixture(scope="module")
def seeded() -> Any:
    with start_sandbox(port=0, rate=None, seed=11, volume=Volume(2500, 500, 7000)) as sb:
        with Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
            result = run_audit(client, portal=sb.base_url, lang="en", now=NOW)
        yield sb, to_data(result), result


def _moment(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def _truth(sb: Sandbox) -> dict[str, Any]:
    """The figures, counted from the store's rows."""
    store = sb.store
    leads = store.rows("lead")
    deals = store.rows("deal")
    activities = store.rows("activity")
    statuses = sorted(store.rows("status"), key=lambda r: (r["SORT"], r["ID"]))
    lead_statuses = [s for s in statuses if s["ENTITY_ID"] == "STATUS"]
    first = lead_statuses[0]["STATUS_ID"]
    cutoff = NOW - 7 * 86400
    open_deals = [d for d in deals if d["STAGE_SEMANTIC_ID"] == "P"]
    open_acts = [a for a in activities if a["COMPLETED"] == "N" and a["OWNER_TYPE_ID"] == 2]
    with_open = {a["OWNER_ID"] for a in open_acts}
    overdue = {a["OWNER_ID"] for a in open_acts if _moment(a["DEADLINE"]) < NOW}
    lead_failures = {
        s["STATUS_ID"] for s in statuses if s["SEMANTICS"] == "F" and s["ENTITY_ID"] == "STATUS"
    }
    deal_failures = {
        s["STATUS_ID"]: s["NAME"]
        for s in statuses
        if s["SEMANTICS"] == "F" and s["ENTITY_ID"].startswith("DEAL_STAGE")
    }
    lead_names = {s["STATUS_ID"]: s["NAME"] for s in lead_statuses}
    by_lead = Counter(lead["STATUS_ID"] for lead in leads if lead["STATUS_ID"] in lead_failures)
    by_deal = Counter(d["STAGE_ID"] for d in deals if d["STAGE_ID"] in deal_failures)
    other = sum(n for code, n in by_lead.items() if re.match("other", lead_names[code], re.I))
    other += sum(n for code, n in by_deal.items() if re.match("other", deal_failures[code], re.I))
    by_reason = {"leads": dict(by_lead), "deals": dict(by_deal)}
    failures_total = sum(by_lead.values()) + sum(by_deal.values())
    today = datetime.fromtimestamp(NOW).date().isoformat()
    return {
        "leads.total": len(leads),
        "leads.by_status": Counter(lead["STATUS_ID"] for lead in leads),
        "leads.stale": sum(
            1
            for lead in leads
            if lead["STATUS_ID"] == first and _moment(lead["DATE_CREATE"]) < cutoff
        ),
        "deals.total": len(deals),
        "deals.by_stage": Counter(d["STAGE_ID"] for d in deals),
        "deals.open": len(open_deals),
        "deals.without": sum(1 for d in open_deals if d["ID"] not in with_open),
        "deals.overdue": sum(1 for d in open_deals if d["ID"] in overdue),
        "failures.by_reason": by_reason,
        "failures.other": other / failures_total,
        "entities": {
            "leads": len(leads),
            "contacts": store.count("contact"),
            "companies": store.count("company"),
            "deals": len(deals),
            "activities": len(activities),
        },
        "without_client": sum(1 for d in open_deals if not d["CONTACT_ID"] and not d["COMPANY_ID"]),
        "past_close": sum(1 for d in open_deals if d["CLOSEDATE"] < today),
        "inactive": sum(
            1 for d in open_deals if not store.get("user", d["ASSIGNED_BY_ID"])["ACTIVE"]
        ),
        "filled": sum(1 for d in open_deals if d.get("UF_CRM_DEAL_SOURCE_DETAIL")),
        "top_owner": max(Counter(d["ASSIGNED_BY_ID"] for d in open_deals).values()),
    }


def test_every_figure_equals_the_truth_of_the_store(seeded: Any) -> None:
    sb, data, _result = seeded
    truth = _truth(sb)
    assert data["leads"]["total"] == truth["leads.total"]
    assert data["leads"]["by_status"] == dict(truth["leads.by_status"])
    assert data["leads"]["stale_in_first_stage"] == truth["leads.stale"]
    assert data["deals"]["total"] == truth["deals.total"]
    assert {k: v for k, v in data["deals"]["by_stage"].items() if v} == dict(
        truth["deals.by_stage"]
    )
    assert data["deals"]["open"] == truth["deals.open"]
    assert data["deals"]["open_without_open_activity"] == truth["deals.without"]
    assert data["deals"]["open_with_overdue_activity"] == truth["deals.overdue"]
    assert {k: v for k, v in data["failures"]["by_reason"].items() if v} == truth[
        "failures.by_reason"
    ]
    assert data["failures"]["other_share"] == pytest.approx(truth["failures.other"], abs=1e-6)
    for key, value in truth["entities"].items():
        assert data["entities"][key] == value, key
    findings = {f["key"]: f for f in data["findings"]}
    open_deals = truth["deals.open"]
    expect = {
        "deals_without_open_activity": truth["deals.without"],
        "overdue_activities": truth["deals.overdue"],
        "deals_without_client": truth["without_client"],
        "past_close_date": truth["past_close"],
        "inactive_owners": truth["inactive"],
        "owner_concentration": truth["top_owner"],
    }
    for key, count in expect.items():
        finding = findings[key]
        assert finding["denominator"] == open_deals, key
        assert finding["value"] == pytest.approx(count / open_deals, abs=1e-6), key
    assert findings["required_fill"]["value"] == pytest.approx(
        truth["filled"] / open_deals, abs=1e-6
    )
    # every finding has the stable keys; samples are real records with links to the portal
    for finding in data["findings"]:
        assert {"id", "status", "value", "denominator", "threshold", "samples"} <= set(finding)
        for sample in finding["samples"]:
            kind = "lead" if finding["key"] == "stale_leads" else "deal"
            assert sb.store.get(kind, sample["id"]) is not None
            assert sample["url"] == f"{sb.base_url}/crm/{kind}/details/{sample['id']}/"
    assert {
        "leads",
        "deals",
        "failures",
        "entities",
        "configuration",
        "level_estimate",
        "findings",
    } <= set(data)


def test_the_seeded_troubles_are_found_and_the_level_is_held_by_them(seeded: Any) -> None:
    _sb, data, result = seeded
    status = {f["key"]: f["status"] for f in data["findings"]}
    assert status["deals_without_open_activity"] == "action"  # 20 % of open deals by design
    assert status["generic_failures"] in ("review", "action")
    assert data["level_estimate"]["level"] == 2
    assert data["level_estimate"]["dimensions"]["activities"]["level"] == 2
    costliest = result.costliest(3)
    assert len(costliest) == 3 and all(f.status == "action" for f in costliest)
    # the core figures in few requests; the stage history says what it adds
    assert data["requests"]["core"] <= 12 and data["requests"]["stage_history"] >= 1


def test_an_empty_portal_is_not_applicable_never_a_division_by_zero(tmp_path: Path) -> None:
    sb = start_sandbox(port=0, rate=None)
    with sb, Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
        result = run_audit(client, portal=sb.base_url, lang="ru", now=NOW)
    data = to_data(result)
    status = {f["key"]: f["status"] for f in data["findings"]}
    assert status["deals_without_open_activity"] == "not_applicable"
    assert status["only_leads"] == "not_applicable"
    assert data["failures"]["other_share"] is None
    assert data["level_estimate"]["level"] == 0  # neither leads nor deals: data lives elsewhere
    from crmkit.assess.audit_report import to_html, to_markdown, to_text

    assert "неприменимо" in to_text(result)
    assert to_markdown(result) and "<svg" in to_html(result)


def test_answers_are_put_beside_the_data(tmp_path: Path, capsys: Any) -> None:
    with start_sandbox(port=0, rate=None, seed=11, volume=Volume(600, 120, 1800)) as sb:
        app = AppContext(lang="en", environ={"CRMKIT_WEBHOOK": sb.webhook_url}, cwd=tmp_path)
        answers = ROOT / "examples" / "assessment-level3.toml"
        code = run(["audit", "--answers", str(answers), "--format", "json"], app)
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    side = data["level_estimate"]["side_by_side"]
    assert data["level_estimate"]["says_level"] == 3
    assert side["activities"] == {"says": 3, "data": 2, "disagree": True}


def test_thresholds_from_a_file_and_their_errors(tmp_path: Path, capsys: Any) -> None:
    with start_sandbox(port=0, rate=None, seed=11, volume=Volume(600, 120, 1800)) as sb:
        env = {"CRMKIT_WEBHOOK": sb.webhook_url}
        loose = tmp_path / "loose.toml"
        loose.write_text("[thresholds.AUD001]\nok = 0.9\nreview = 0.95\n", encoding="utf-8")
        app = AppContext(lang="en", environ=env, cwd=tmp_path)
        assert run(["audit", "--thresholds", str(loose), "--format", "json"], app) == 0
        data = json.loads(capsys.readouterr().out)
        first = next(f for f in data["findings"] if f["id"] == "AUD001")
        assert first["status"] == "ok" and first["threshold"]["ok"] == 0.9
        bad = tmp_path / "bad.toml"
        bad.write_text("[thresholds.AUD999]\nok = 1\n", encoding="utf-8")
        assert run(["audit", "--thresholds", str(bad)], app) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"crmkit: {bad}:1") and "AUD999" in err and len(err.splitlines()) == 1


def test_a_webhook_that_sees_part_of_the_data_says_so(tmp_path: Path) -> None:
    sb = start_sandbox(port=0, rate=None, seed=11, volume=Volume(300, 60, 900), admin=False)
    with sb, Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
        data = to_data(run_audit(client, portal=sb.base_url, lang="en", now=NOW))
    assert data["partial"] is True and data["unread"]["all"] == "not_admin"
    assert all(f["partial"] for f in data["findings"])


def test_the_html_report_is_written_and_tells_the_client_nothing_of_the_tool(
    seeded: Any, tmp_path: Path
) -> None:
    _sb, _data, result = seeded
    from crmkit.assess.audit_report import to_html, to_markdown, to_text

    for lang in ("ru", "en"):
        localized = type(result)(**{**result.__dict__, "lang": lang})
        for page in (to_html(localized), to_markdown(localized)):
            assert page.count("<svg") >= 3 or "<svg" not in page
            assert "crmkit " not in page and "AUD0" not in page
            # a portal on this machine: named a test portal, its records not linked
            assert "127.0.0.1" not in page and "/crm/deal/details/" not in page
    assert "<svg" in to_html(result)
    # the terminal keeps the address and the links (they work where the audit ran)
    assert "127.0.0.1" in to_text(result) and "/crm/deal/details/" in to_text(result)
    # a real portal's records are linked in the documents
    real = type(result)(**{**result.__dict__, "portal": "https://company.bitrix24.ru"})
    assert "https://company.bitrix24.ru/crm/deal/details/" in to_markdown(real)
    assert len(shipped_rules()) >= 14
    _ = timedelta

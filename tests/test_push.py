"""``crmkit push`` against the sandbox over real HTTP with the real client: every library
blueprint lands whole and a second push writes nothing; faults of every kind end, after a plain
re-run, in the same portal as a clean push; what must not be deleted is not; the webhook stays
secret. Traffic goes to 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from push_util import LIBRARY, assert_holds, client_for, counts, push_to, shape, state_of
from sandbox_util import ok, result

from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.push.plan import CHANGES
from crmkit.sandbox import start_sandbox
from crmkit.sandbox.limiter import Scheduled

ROOT = Path(__file__).resolve().parent.parent
BLUEPRINTS = LIBRARY.ids()


@pytest.mark.parametrize("portal_lang", ["ru", "en"])
@pytest.mark.parametrize("blueprint_id", BLUEPRINTS)
def test_every_library_blueprint_lands_whole_and_a_second_push_writes_nothing(
    tmp_path: Path, blueprint_id: str, portal_lang: str
) -> None:
    bp = LIBRARY.load(blueprint_id)
    with start_sandbox(port=0, rate=None, portal_lang=portal_lang) as sb:
        first = push_to(sb, bp, tmp_path, lang=portal_lang)
        assert first.verified, first.final and [
            e.address for e in first.final.entries if e.action in CHANGES
        ]
        assert not first.failures and not first.plan.conflicts
        assert_holds(state_of(sb), bp, portal_lang)
        before = sb.requests
        again = push_to(sb, bp, tmp_path, lang=portal_lang)
        assert again.plan.changes == 0 and again.writes == 0
        assert again.verified
        # the second push only read: preflight, three reads (and perhaps a count)
        assert sb.requests - before <= 5
        assert sb.internal_errors == []


def test_a_clean_push_takes_the_reads_the_write_batches_and_one_verification(
    tmp_path: Path,
) -> None:
    bp = LIBRARY.load("complete-b2b")
    with start_sandbox(port=0, rate=None, portal_lang="ru") as sb:
        outcome = push_to(sb, bp, tmp_path)
    writes = len(outcome.plan.calls)
    assert outcome.verified and outcome.rounds == 1
    # preflight + 3 reads (+ 1 count) + ⌈writes / 50⌉ + 3 verification reads (+ 1 count)
    assert outcome.requests <= 1 + 4 + -(-writes // 50) + 4


# -- faults: each followed by a plain re-run, the same portal as a clean push ------------------


def _clean(tmp_path: Path, bp: Any) -> Any:
    with start_sandbox(port=0, rate=None, portal_lang="ru", seed=3) as sb:
        push_to(sb, bp, tmp_path / "clean")
        return state_of(sb)


def _user_made_stage(sb: Any) -> dict[str, Any]:
    """A stage a person made in the UI (a generated code), in the default pipeline."""
    ok(
        sb,
        "crm.status.add",
        {
            "fields": {
                "ENTITY_ID": "DEAL_STAGE",
                "STATUS_ID": "UC_K2J4PQ",
                "NAME": "Ждём звонка",
                "SORT": 15,
            }
        },
    )
    rows = result(sb, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
    return next(r for r in rows if r["STATUS_ID"] == "UC_K2J4PQ")


def _deals(sb: Any) -> list[tuple[Any, ...]]:
    rows = [r for r in sb.store.rows("deal")]
    return sorted((r["ID"], r["STAGE_ID"], r["CATEGORY_ID"], r.get("TITLE")) for r in rows)


def _leads(sb: Any) -> list[tuple[Any, ...]]:
    return sorted((r["ID"], r["STATUS_ID"]) for r in sb.store.rows("lead"))


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


FAULTS: dict[str, list[Scheduled]] = {
    # the first write batch runs, its answer is lost
    "reply lost after the write": [Scheduled("drop-after", 6)],
    "500 after the write": [Scheduled("500-after", 6)],
    "two lost replies in one apply": [Scheduled("drop-after", 6), Scheduled("drop-after", 11)],
    # refused before running, 6 in a row: 1+2+4+8+8+8 s of backoff, a 30-second storm
    "a 503 storm of 30 s": [Scheduled("503", 6, 6)],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_then_a_plain_rerun_ends_like_a_clean_push(tmp_path: Path, fault: str) -> None:
    bp = LIBRARY.load("complete-b2b")
    clean = _clean(tmp_path, bp)
    with start_sandbox(port=0, rate=None, portal_lang="ru", seed=3) as sb:
        user_stage = _user_made_stage(sb)
        deals, leads = _deals(sb), _leads(sb)
        sb.faults.schedule(*[Scheduled(f.kind, sb.requests + f.at, f.count) for f in FAULTS[fault]])
        fake = FakeTime()
        first = push_to(sb, bp, tmp_path, clock=fake.clock, sleep=fake.sleep)
        if "503" in fault:
            assert first.verified and fake.now - 1_760_000_000.0 >= 30
        else:
            assert first.lost >= 1 or "500" in fault
        rerun = push_to(sb, bp, tmp_path)
        assert rerun.verified
        now = state_of(sb)
        assert_holds(now, bp, "ru")
        # the same portal as a clean push: nothing doubled (the user's stage is the one extra)
        same = counts(now)
        same["stages"] -= 1
        assert same == counts(clean)
        assert shape(now).processes == shape(clean).processes
        kept = next(s for f in now.deal_funnels() for s in f.stages if s.status_id == "UC_K2J4PQ")
        assert kept.name == user_stage["NAME"]
        assert _deals(sb) == deals and _leads(sb) == leads
        assert sb.internal_errors == []


def test_a_push_killed_in_the_middle_then_run_again_ends_like_a_clean_push(
    tmp_path: Path,
) -> None:
    """SIGKILL of the crmkit process at random moments of an apply (the portal keeps its real
    pace: 25 requests/s, burst 3); a plain re-run finishes with nothing doubled."""
    bp = LIBRARY.load("complete-b2b")
    clean = _clean(tmp_path, bp)
    rng = random.Random(5)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    for attempt in range(3):
        folder = tmp_path / f"client{attempt}"
        folder.mkdir()
        with start_sandbox(port=0, rate=25.0, burst=3, portal_lang="ru", seed=3) as sb:
            args = [
                sys.executable,
                "-m",
                "crmkit",
                "push",
                "complete-b2b",
                "--apply",
                "--yes",
                "--names",
                "ru",
                "--state",
                str(folder),
                "--webhook",
                sb.webhook_url,
            ]
            process = subprocess.Popen(
                args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            time.sleep(rng.uniform(0.6, 1.2))
            process.kill()
            process.wait(timeout=20)
            done = subprocess.run(
                args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stdout[-2000:] + done.stderr
            now = state_of(sb)
            assert_holds(now, bp, "ru")
            assert counts(now) == counts(clean)
            assert sb.code not in done.stdout + done.stderr


# -- what must not be done is not ----------------------------------------------------------------


def _cli(tmp_path: Path, *args: str, capsys: Any) -> tuple[int, str, str]:
    app = AppContext(lang="en", environ={}, cwd=tmp_path, interactive=False)
    code = run(list(args), app)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_prune_never_deletes_a_stage_that_holds_deals(tmp_path: Path, capsys: Any) -> None:
    bp_file = tmp_path / "bp.toml"
    assert (
        run(
            ["blueprint", "new", "--from", "deal-b2b-short", "--out", str(bp_file)],
            AppContext(lang="en", cwd=tmp_path),
        )
        == 0
    )
    capsys.readouterr()
    with start_sandbox(port=0, rate=None, portal_lang="ru") as sb:
        hook = ["--webhook", sb.webhook_url]
        code, out, err = _cli(
            tmp_path, "push", str(bp_file), "--apply", "--yes", *hook, capsys=capsys
        )
        assert code == 0, err
        # a deal sits in the stage POSTPONED, then the blueprint drops that stage
        stages = result(sb, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
        postponed = next(s for s in stages if s["STATUS_ID"] == "POSTPONED")
        ok(sb, "crm.deal.add", {"fields": {"TITLE": "Ждёт", "STAGE_ID": "POSTPONED"}})
        text = bp_file.read_text(encoding="utf-8")
        start = text.index('code = "POSTPONED"')
        block_start = text.rindex("[[pipelines.stages]]", 0, start)
        block_end = text.find("[[pipelines.stages]]", start)
        bp_file.write_text(text[:block_start] + text[block_end:], encoding="utf-8")
        code, out, err = _cli(
            tmp_path, "push", str(bp_file), "--apply", "--yes", "--prune", *hook, capsys=capsys
        )
        assert code == 1, out + err
        assert "holds 1 item;" in out and "partly done" in err
        still = result(sb, "crm.status.get", {"id": postponed["ID"]})
        assert still["STATUS_ID"] == "POSTPONED"
        # empty now: --prune deletes the stage crmkit made
        deal = result(sb, "crm.deal.list", {"filter": {"STAGE_ID": "POSTPONED"}})[0]
        ok(sb, "crm.deal.update", {"id": deal["ID"], "fields": {"STAGE_ID": "NEW"}})
        code, out, err = _cli(
            tmp_path, "push", str(bp_file), "--apply", "--yes", "--prune", *hook, capsys=capsys
        )
        assert code == 0, out + err
        gone = post_status(sb, postponed["ID"])
        assert gone == 400


def post_status(sb: Any, rid: Any) -> int:
    import requests

    return requests.post(sb.webhook_url + "crm.status.get", json={"id": rid}, timeout=5).status_code


def test_a_field_of_the_same_name_and_another_type_is_a_conflict(
    tmp_path: Path, capsys: Any
) -> None:
    with start_sandbox(port=0, rate=None) as sb:
        ok(
            sb,
            "crm.deal.userfield.add",
            {"fields": {"FIELD_NAME": "SCORING_CLASS", "USER_TYPE_ID": "string"}},
        )
        code, out, err = _cli(
            tmp_path,
            "push",
            "fields-scoring",
            "--apply",
            "--yes",
            "--webhook",
            sb.webhook_url,
            capsys=capsys,
        )
        assert code == 1, out + err
        assert "field.deal.UF_CRM_SCORING_CLASS" in out and "type string" in out
        fields = result(sb, "crm.deal.userfield.list", {})
        mine = [f for f in fields if f["FIELD_NAME"] == "UF_CRM_SCORING_CLASS"]
        assert len(mine) == 1 and mine[0]["USER_TYPE_ID"] == "string"  # untouched
        assert any(f["FIELD_NAME"] == "UF_CRM_SCORING_VALUE" for f in fields)  # the rest done


def test_a_saved_plan_is_refused_once_the_portal_changed(tmp_path: Path, capsys: Any) -> None:
    with start_sandbox(port=0, rate=None) as sb:
        hook = ["--webhook", sb.webhook_url]
        plan = tmp_path / "plan.json"
        code, out, err = _cli(
            tmp_path, "push", "deal-retail", "--plan-out", str(plan), *hook, capsys=capsys
        )
        assert code == 0 and plan.exists(), err
        saved = json.loads(plan.read_text(encoding="utf-8"))
        assert saved["kind"] == "crmkit-push-plan" and sb.code not in plan.read_text()
        ok(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Кто-то добавил"}})
        code, out, err = _cli(tmp_path, "push", str(plan), "--apply", "--yes", *hook, capsys=capsys)
        assert code == 1 and "changed since the plan was made" in err
        assert len(result(sb, "crm.category.list", {"entityTypeId": 2})["categories"]) == 2
        # a fresh plan applies, and a saved plan of an unchanged portal applies exactly
        code, out, err = _cli(
            tmp_path, "push", "deal-retail", "--plan-out", str(plan), *hook, capsys=capsys
        )
        code, out, err = _cli(tmp_path, "push", str(plan), "--apply", "--yes", *hook, capsys=capsys)
        assert code == 0, err
        assert "Verified" in out


def test_a_webhook_that_is_not_an_administrators_pushes_what_it_may(
    tmp_path: Path, capsys: Any
) -> None:
    with start_sandbox(port=0, rate=None, admin=False) as sb:
        code, out, err = _cli(
            tmp_path,
            "push",
            "complete-b2b",
            "--apply",
            "--yes",
            "--webhook",
            sb.webhook_url,
            capsys=capsys,
        )
        assert code == 1, out + err
        assert "not an administrator" in out and "only an administrator" in out
        state = state_of(sb)
        bp = LIBRARY.load("complete-b2b")
        wanted = sum(1 for p in bp.pipelines if p.kind == "deal")
        assert len(state.deal_funnels()) == wanted and state.lead_funnel() is not None
        assert any(f.field_name == "UF_CRM_SCORING_CLASS" for f in state.fields)
        assert not sb.store.rows("type")  # no smart process was made


def test_the_webhook_never_appears_in_plan_backup_record_or_output(
    tmp_path: Path, capsys: Any
) -> None:
    with start_sandbox(port=0, rate=None, code="n0tv1s1bl3c0d3") as sb:
        hook = ["--webhook", sb.webhook_url]
        outputs = []
        for args in (
            ["push", "complete-b2b", "--plan-out", str(tmp_path / "plan.json")],
            ["push", "complete-b2b", "--format", "json"],
            ["push", "complete-b2b", "--apply", "--yes"],
            ["push", "complete-b2b", "--apply", "--yes", "--format", "json"],
        ):
            code, out, err = _cli(tmp_path, *args, *hook, capsys=capsys)
            assert code == 0, err
            outputs.append(out + err)
        files = [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()]
        assert len(files) >= 3  # the plan, a backup, the record
        for text in outputs + files:
            assert "n0tv1s1bl3c0d3" not in text


def test_drift_is_shown_apart_from_the_changes(tmp_path: Path) -> None:
    bp = LIBRARY.load("deal-retail")
    with start_sandbox(port=0, rate=None, portal_lang="ru") as sb:
        push_to(sb, bp, tmp_path)
        stages = result(sb, "crm.status.list", {"filter": {"ENTITY_ID": "DEAL_STAGE"}})
        wanted = bp.pipelines[0].stage("CONSULT")
        assert wanted is not None
        # a stock stage took it over: found by its name, whatever its code
        consult = next(s for s in stages if s["NAME"] == wanted.name.get("ru"))
        ok(sb, "crm.status.update", {"id": consult["ID"], "fields": {"NAME": "Консультация!"}})
        plan = push_to(sb, bp, tmp_path, apply=False).plan
    assert [(d.address, d.attribute, d.now) for d in plan.drift] == [
        ("deal.deal_retail.stage.CONSULT", "name", "Консультация!")
    ]
    entry = plan.entry("deal.deal_retail.stage.CONSULT")
    assert entry is not None and entry.action == "update"
    assert entry.changes[0].before == "Консультация!"


def test_check_exits_3_while_the_plan_is_not_empty(tmp_path: Path, capsys: Any) -> None:
    with start_sandbox(port=0, rate=None) as sb:
        hook = ["--webhook", sb.webhook_url]
        assert _cli(tmp_path, "push", "deal-repeat", "--check", *hook, capsys=capsys)[0] == 3
        assert (
            _cli(tmp_path, "push", "deal-repeat", "--apply", "--yes", *hook, capsys=capsys)[0] == 0
        )
        assert _cli(tmp_path, "push", "deal-repeat", "--check", *hook, capsys=capsys)[0] == 0
    _ = (client_for, signal)


def test_field_groups_become_sections_of_a_saved_common_card(tmp_path: Path) -> None:
    """Merged into the layout the portal keeps: its sections stay, the group's fields move into
    a section of their own; a portal that keeps the default card gets the steps by hand."""
    bp = LIBRARY.load("fields-scoring")
    layout = [
        {
            "name": "main",
            "title": "О сделке",
            "type": "section",
            "elements": [
                {"name": "TITLE", "optionFlags": 1},
                {"name": "OPPORTUNITY_WITH_CURRENCY", "options": {"isPayButtonVisible": "true"}},
                {"name": "UF_CRM_SCORING_VALUE"},
            ],
        },
    ]
    with start_sandbox(port=0, rate=None, portal_lang="ru") as sb:
        plan = push_to(sb, bp, tmp_path, apply=False).plan
        manual = [e for e in plan.entries if e.kind == "card"]
        assert manual and all(
            e.action == "manual" and e.note == "manual_card_default" for e in manual
        )
        ok(
            sb,
            "crm.item.details.configuration.set",
            {"entityTypeId": 2, "scope": "C", "data": layout},
        )
        outcome = push_to(sb, bp, tmp_path)
        assert outcome.verified
        card = result(sb, "crm.item.details.configuration.get", {"entityTypeId": 2, "scope": "C"})
        assert [s["name"] for s in card] == ["main", "crmkit_scoring"]
        main = card[0]["elements"]
        assert [e["name"] for e in main] == ["TITLE", "OPPORTUNITY_WITH_CURRENCY"]
        assert main[0]["optionFlags"] == "1" and main[1]["options"] == {
            "isPayButtonVisible": "true"
        }
        group = {e["name"] for e in card[1]["elements"]}
        assert group == {f.field_name for f in bp.fields}
        again = push_to(sb, bp, tmp_path)
        assert again.writes == 0
        assert next(e for e in again.plan.entries if e.kind == "card").action == "unchanged"

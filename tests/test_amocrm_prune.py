"""crmkit push --prune on amoCRM, over real HTTP against the amoCRM sandbox: what crmkit made and
the blueprint dropped (a status of a pipeline it still manages, a whole pipeline, a custom field)
is deleted, statuses before pipelines, and a second prune plans nothing; a status or pipeline
that holds a lead is a conflict and stays (amoCRM would move the status's leads, and refuses to
delete a pipeline with leads); what crmkit did not make — adopted by name, or added by hand — is
never deleted."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint
from crmkit.push.amocrm.apply import amocrm_driver, count_leads
from crmkit.push.folder import PushFolder
from crmkit.push.service import PushOutcome, push
from crmkit.push.state import FunnelState, PortalState
from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox
from tests.test_amocrm_push import NOW, client_for, held, state_of

FULL = Library.default().load("complete-b2b")
SHORT, DROPPED_STAGE = "deal_b2b_short", "INVOICE"  # «Счёт выставлен»
DROPPED_PIPELINE = "deal_reanimation"  # «Реанимация»
DROPPED_FIELD = "MKT_INTEREST"  # «Интерес», required on no stage
PIPELINES = "/api/v4/leads/pipelines"


def reduced(bp: Blueprint) -> Blueprint:
    """``bp`` without one stage, one pipeline and one field (and without robots, which are
    manual steps only: none of them may point at the dropped stage)."""
    pipes = []
    for pipe in bp.pipelines:
        if pipe.code == DROPPED_PIPELINE:
            continue
        stages = tuple(
            replace(s, automation=())
            for s in pipe.stages
            if not (pipe.code == SHORT and s.code == DROPPED_STAGE)
        )
        pipes.append(replace(pipe, stages=stages))
    fields = tuple(f for f in bp.fields if f.code != DROPPED_FIELD)
    return replace(bp, pipelines=tuple(pipes), fields=fields)


def push_to(sb: AmoSandbox, bp: Blueprint, folder: Path, *, prune: bool = False) -> PushOutcome:
    with client_for(sb) as c:
        return push(
            c,
            bp,
            PushFolder(folder, sb.base_url, 1_760_000_000.0),
            portal=sb.base_url,
            lang="ru",
            now=NOW,
            prune=prune,
            apply=True,
            driver=amocrm_driver(),
        )


def pipeline_named(bp: Blueprint, code: str) -> str:
    return next(p.name.ru for p in bp.pipelines if p.code == code)


def funnel(state: PortalState, name: str) -> FunnelState | None:
    return next((f for f in state.funnels if f.name == name), None)


def status_id(state: PortalState, pipeline: str, stage: str) -> tuple[int, int]:
    found = funnel(state, pipeline)
    assert found is not None and found.category_id is not None
    return found.category_id, next(s.id for s in found.stages if s.name == stage)


def add_lead(sb: AmoSandbox, pipeline_id: int, status: int) -> None:
    with client_for(sb) as c:
        made = c.create(
            "/api/v4/leads",
            [{"name": "Клиент в работе", "pipeline_id": pipeline_id, "status_id": status}],
            "leads",
        )
        assert made.ok


SHORT_NAME = pipeline_named(FULL, SHORT)
DROPPED_NAME = pipeline_named(FULL, DROPPED_PIPELINE)
STAGE_NAME = next(
    s.name.ru
    for p in FULL.pipelines
    if p.code == SHORT
    for s in p.stages
    if s.code == DROPPED_STAGE
)
FIELD_LABEL = next(f.label.ru for f in FULL.fields if f.code == DROPPED_FIELD)


def without_dropped(before: dict[str, Any]) -> dict[str, Any]:
    """What the account held, less what a prune of ``reduced`` deletes."""
    pipelines = {k: v for k, v in before["pipelines"].items() if k != DROPPED_NAME}
    pipelines[SHORT_NAME] = [s for s in pipelines[SHORT_NAME] if s[0] != STAGE_NAME]
    fields = {k: v for k, v in before["fields"].items() if k != ("deal", DROPPED_FIELD)}
    return {**before, "pipelines": pipelines, "fields": fields}


def test_prune_deletes_what_crmkit_made_and_the_blueprint_dropped_then_plans_nothing(
    tmp_path: Path,
) -> None:
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        assert push_to(sb, FULL, tmp_path).verified
        before = held(state_of(sb))
        plain = push_to(sb, reduced(FULL), tmp_path)  # without --prune nothing is deleted
        assert plain.verified and plain.plan.count("delete") == 0
        assert held(state_of(sb)) == before
        start = len(sb.log)
        pruned = push_to(sb, reduced(FULL), tmp_path, prune=True)
        assert pruned.verified and not pruned.failures and not pruned.plan.conflicts
        deleted = {e.address: e.kind for e in pruned.plan.entries if e.action == "delete"}
        assert deleted == {
            f"deal.{SHORT}.stage.{DROPPED_STAGE}": "stage",
            f"deal.{DROPPED_PIPELINE}": "funnel",
            f"field.deal.UF_CRM_{DROPPED_FIELD}": "field",
        }
        assert held(state_of(sb)) == without_dropped(before)
        deletes = [(path, code) for verb, path, code in sb.log[start:] if verb == "DELETE"]
        assert [code for _path, code in deletes] == [204, 204, 204]
        kinds = [path.split("/")[-2] for path, _code in deletes]
        assert kinds == ["statuses", "custom_fields", "pipelines"]  # a pipeline's statuses first
        # the counts asked before deleting: one list of at most one lead each
        counted = [path for verb, path, _code in sb.log[start:] if path == "/api/v4/leads"]
        assert len(counted) == 2  # the dropped status and the dropped pipeline
        writes = sb.writes
        again = push_to(sb, reduced(FULL), tmp_path, prune=True)
        assert again.verified and again.plan.changes == 0 and not again.plan.calls
        assert sb.writes == writes


def test_a_dropped_status_or_pipeline_that_holds_a_lead_is_a_conflict_and_stays(
    tmp_path: Path,
) -> None:
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        assert push_to(sb, FULL, tmp_path).verified
        state = state_of(sb)
        short_id, invoice = status_id(state, SHORT_NAME, STAGE_NAME)
        add_lead(sb, short_id, invoice)
        dropped = funnel(state, DROPPED_NAME)
        assert dropped is not None and dropped.category_id is not None
        first_working = next(s.id for s in dropped.stages if not s.unsorted)
        add_lead(sb, dropped.category_id, first_working)
        pruned = push_to(sb, reduced(FULL), tmp_path, prune=True)
        conflicts = {e.address: e.text("en") for e in pruned.plan.conflicts}
        assert conflicts == {
            f"deal.{SHORT}.stage.{DROPPED_STAGE}": f"'{STAGE_NAME}' holds leads — not deleted: "
            "move them first",
            f"deal.{DROPPED_PIPELINE}": f"'{DROPPED_NAME}' holds leads — not deleted: "
            "move them first",
        }
        assert pruned.partial and not pruned.failures
        after = state_of(sb)
        assert status_id(after, SHORT_NAME, STAGE_NAME) == (short_id, invoice)  # still there
        assert funnel(after, DROPPED_NAME) is not None
        assert all(f.field_name != DROPPED_FIELD for f in after.fields)  # no leads: deleted
        with client_for(sb) as c:
            assert count_leads(c, [("status", str(short_id), str(invoice))]) == {
                ("status", str(short_id), str(invoice)): 1  # the lead was not moved
            }
        assert not [e for e in sb.log if e[0] == "DELETE" and "/pipelines/" in e[1]]


def test_what_crmkit_did_not_make_is_never_deleted(tmp_path: Path) -> None:
    """A pipeline and a field the account had before (crmkit adopted them by name and code),
    and a pipeline, a status and a field added by hand later: none is deleted by a prune."""
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        with client_for(sb) as c:
            c.create(
                PIPELINES,
                [{"name": DROPPED_NAME, "sort": 900, "is_main": False, "is_unsorted_on": False}],
                "pipelines",
            )
            field = {"name": FIELD_LABEL, "type": "text", "code": DROPPED_FIELD}
            assert c.create("/api/v4/leads/custom_fields", [field], "custom_fields").ok
        assert push_to(sb, FULL, tmp_path).verified
        short_id, _invoice = status_id(state_of(sb), SHORT_NAME, STAGE_NAME)
        with client_for(sb) as c:
            hand = {"name": "Чужая воронка", "sort": 950, "is_main": False, "is_unsorted_on": False}
            assert c.create(PIPELINES, [hand], "pipelines").ok
            status = {"name": "Этап от руки", "sort": 5000}
            assert c.create(f"{PIPELINES}/{short_id}/statuses", [status], "statuses").ok
            other = {"name": "Поле от руки", "type": "text"}
            assert c.create("/api/v4/leads/custom_fields", [other], "custom_fields").ok
        before = held(state_of(sb))
        pruned = push_to(sb, reduced(FULL), tmp_path, prune=True)
        assert pruned.verified and not pruned.failures
        deleted = [e.address for e in pruned.plan.entries if e.action == "delete"]
        assert deleted == [f"deal.{SHORT}.stage.{DROPPED_STAGE}"]  # crmkit's own status only
        after = held(state_of(sb))
        assert set(after["pipelines"]) == set(before["pipelines"])
        assert "Этап от руки" in [name for name, _color in after["pipelines"][SHORT_NAME]]
        assert STAGE_NAME not in [name for name, _color in after["pipelines"][SHORT_NAME]]
        assert after["fields"] == before["fields"]

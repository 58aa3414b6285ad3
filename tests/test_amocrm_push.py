"""crmkit push on amoCRM, over real HTTP against the amoCRM sandbox, through the shared apply
loop (``crmkit.push.service`` with the amoCRM driver): every library blueprint lands and a second
push writes nothing; required statuses and palette colours as the account holds them; faults of
every kind end, after a plain re-run, with the account a clean push leaves — nothing doubled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint
from crmkit.push.amocrm.account import parse_account
from crmkit.push.amocrm.apply import amocrm_driver
from crmkit.push.amocrm.client import AmoClient
from crmkit.push.amocrm.plan import PALETTE, nearest_color
from crmkit.push.amocrm.reader import read_account
from crmkit.push.folder import PushFolder
from crmkit.push.service import PushOutcome, push
from crmkit.push.state import PortalState
from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox
from crmkit.sandbox.limiter import Scheduled

LIBRARY = Library.default()
NOW = "2026-12-01T00:00:00+00:00"


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def client_for(sb: AmoSandbox, **kwargs: Any) -> AmoClient:
    kwargs.setdefault("rate", None)
    return AmoClient(parse_account(sb.base_url, sb.token), **kwargs)


def push_to(
    sb: AmoSandbox, bp: Blueprint, folder: Path, *, lang: str = "ru", **client: Any
) -> PushOutcome:
    with client_for(sb, **client) as c:
        return push(
            c,
            bp,
            PushFolder(folder, sb.base_url, 1_760_000_000.0),
            portal=sb.base_url,
            lang=lang,  # type: ignore[arg-type]
            now=NOW,
            apply=True,
            driver=amocrm_driver(),
        )


def state_of(sb: AmoSandbox) -> PortalState:
    with client_for(sb) as c:
        return read_account(c)


def held(state: PortalState) -> dict[str, Any]:
    """What the account holds, without ids: pipelines with their statuses in order (name,
    colour), loss reasons, and fields with their enums and required statuses by name."""
    names = {(f.category_id, s.id): (f.name, s.name) for f in state.funnels for s in f.stages}
    return {
        "pipelines": {f.name: [(s.name, s.color.lower()) for s in f.stages] for f in state.funnels},
        "loss_reasons": sorted(r.name for r in state.loss_reasons),
        "fields": {
            (f.owner, f.field_name): (
                f.labels,
                f.native_type or f.type,
                tuple(i.value for i in f.items),
                sorted(names[k] for k in f.required_statuses),
            )
            for f in state.fields
        },
    }


def crm_pipelines(bp: Blueprint) -> list[Any]:
    return [p for p in bp.pipelines if p.kind in ("lead", "deal")]


@pytest.mark.parametrize("bid", LIBRARY.ids())
def test_every_library_blueprint_lands_and_a_second_push_writes_nothing(
    tmp_path: Path, bid: str
) -> None:
    bp = LIBRARY.load(bid)
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        first = push_to(sb, bp, tmp_path)
        assert first.verified and not first.failures and not first.plan.conflicts, bid
        state = state_of(sb)
        for pipe in crm_pipelines(bp):
            funnel = next(f for f in state.funnels if f.name == pipe.name.ru)
            working = [s.name.ru for s in pipe.stages if s.semantics == "process"]
            statuses = [s for s in funnel.stages if not s.unsorted]
            assert [s.name for s in statuses[:-2]] == working
            assert [s.id for s in statuses[-2:]] == [142, 143]
            assert statuses[-2].name == pipe.stages_with("success")[0].name.ru
            assert funnel.kind == ("lead" if pipe.kind == "lead" else "deal")
        reasons = {s.name.ru for p in crm_pipelines(bp) for s in p.stages_with("failure")}
        assert {r.name for r in state.loss_reasons} == reasons
        writes, requests = sb.writes, sb.requests
        second = push_to(sb, bp, tmp_path)
        assert second.verified and second.plan.changes == 0 and not second.plan.calls
        assert sb.writes == writes  # nothing sent that writes
        assert sb.requests - requests == second.requests
        assert held(state_of(sb)) == held(state)


def test_required_fields_of_a_stage_set_required_statuses_exactly_after_it(tmp_path: Path) -> None:
    bp = LIBRARY.load("deal-marketing")
    pipe = bp.pipelines[0]
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        assert push_to(sb, bp, tmp_path).verified
        state = state_of(sb)
        funnel = next(f for f in state.funnels if f.name == pipe.name.ru)
        field = next(f for f in state.fields if f.field_name == "MKT_SEGMENT")
        by_id = {s.id: s.name for s in funnel.stages}
        required = [by_id[sid] for pid, sid in field.required_statuses if pid == funnel.category_id]
        names = [s.name.ru for s in pipe.stages]
        after = names[names.index("Сегментирован") + 1 : names.index("Передан в продажи") + 1]
        assert required == after  # Прогрев … Квалификация, then won (142)
        assert set(field.required_statuses) == {
            (funnel.category_id, s) for s in by_id if by_id[s] in after
        }
        untouched = next(f for f in state.fields if f.field_name == "MKT_INTEREST")
        assert untouched.required_statuses == ()


def test_stage_colours_are_the_nearest_palette_colours(tmp_path: Path) -> None:
    bp = LIBRARY.load("escalation-no-answer")  # sixteen shades, reds among them
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        assert push_to(sb, bp, tmp_path).verified
        funnel = next(f for f in state_of(sb).funnels if f.kind == "lead")
        got = {s.name: s.color.lower() for s in funnel.stages}
        for stage in bp.pipelines[0].stages:
            if stage.semantics == "process":
                assert got[stage.name.ru] == nearest_color(stage.shown_color)
                assert got[stage.name.ru] in PALETTE


def test_a_push_in_another_language_renames_and_doubles_nothing(tmp_path: Path) -> None:
    bp = LIBRARY.load("deal-b2b-short")
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        assert push_to(sb, bp, tmp_path, lang="ru").verified
        before = held(state_of(sb))
        (tmp_path / "other").mkdir()
        again = push_to(sb, bp, tmp_path / "other", lang="en")  # no record: by name
        assert again.verified
        after = held(state_of(sb))
        assert len(after["pipelines"]) == len(before["pipelines"])
        assert len(after["loss_reasons"]) == len(before["loss_reasons"])
        assert set(after["pipelines"]) >= {p.name.en for p in bp.pipelines}


# -- faults: each followed by a plain re-run, the same account as a clean push -------------------

#: request 1 is the preflight, 2–6 the reading of a fresh account; 7 is the first write
FAULTS: dict[str, list[Scheduled]] = {
    "reply lost after the write": [Scheduled("drop-after", 7)],
    "500 after the write": [Scheduled("500-after", 7)],
    "two lost replies in one apply": [Scheduled("drop-after", 7), Scheduled("drop-after", 9)],
    # refused before running, 6 in a row: 1+2+4+8+8+8 s of backoff
    "a 429 storm of 30 s": [Scheduled("429", 7, 6)],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_fault_then_a_plain_rerun_ends_like_a_clean_push(tmp_path: Path, fault: str) -> None:
    bp = LIBRARY.load("complete-b2b")
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        push_to(sb, bp, tmp_path / "clean")
        clean = held(state_of(sb))
    with start_amocrm_sandbox(port=0, rate=None) as sb:
        sb.faults.schedule(*[Scheduled(f.kind, sb.requests + f.at, f.count) for f in FAULTS[fault]])
        fake = FakeTime()
        first = push_to(sb, bp, tmp_path / "faulty", clock=fake.clock, sleep=fake.sleep)
        if "429" in fault:
            assert first.verified and first.lost == 0
            assert fake.now - 1_760_000_000.0 >= 30
        else:
            assert first.lost >= 1
            assert sb.log[6][0] == "POST" and sb.log[6][2] in (0, 500)  # it ran, no answer
        rerun = push_to(sb, bp, tmp_path / "faulty")
        assert rerun.verified and rerun.plan.changes == 0
        assert held(state_of(sb)) == clean


def test_a_batch_refused_for_one_item_sends_the_others_and_names_the_key_path(
    tmp_path: Path,
) -> None:
    """A colour outside the palette (as a hand-edited plan might send) fails its item by key
    path; the rest of the batch is sent again on its own and made."""
    from crmkit.push.amocrm.writer import execute
    from crmkit.push.plan import Call

    calls = [
        Call("a", "POST /api/v4/leads/loss_reasons", {"name": "Дорого", "sort": 10}, 1),
        Call("b", "POST /api/v4/leads/loss_reasons", {"name": "", "sort": "x"}, 1),
        Call("c", "POST /api/v4/leads/loss_reasons", {"name": "Долго", "sort": 30}, 1),
    ]
    with start_amocrm_sandbox(port=0, rate=None) as sb, client_for(sb) as c:
        done = execute(c, calls)
        assert done.results["a"].ok and done.results["c"].ok
        failed = done.failed()
        assert list(failed) == ["b"]
        assert "b: sort" in str(failed["b"].error) or "b: name" in str(failed["b"].error)
        assert sorted(r.name for r in state_of(sb).loss_reasons) == ["Долго", "Дорого"]

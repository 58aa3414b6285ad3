"""The amoCRM push planner, pure: the mapping of a blueprint onto an account's state (seed 002,
issue 15) — pipelines and their statuses, won/lost, loss reasons, the palette, required
statuses, limits, what stays manual — without any HTTP."""

from __future__ import annotations

from dataclasses import replace

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint, Pipeline, Stage
from crmkit.i18n import Text, msg
from crmkit.push.amocrm.plan import MAX_PIPELINES, PALETTE, nearest_color, plan_amocrm
from crmkit.push.plan import Plan
from crmkit.push.report import plan_data
from crmkit.push.state import FieldState, FunnelState, PortalState, StageState

LIBRARY = Library.default()


def status(sid: int, name: str, sort: int, color: str = "#98CBFF") -> StageState:
    semantics = "success" if sid == 142 else "failure" if sid == 143 else "process"
    return StageState(sid, f"S{sid}", name, sort, color, semantics, sid in (142, 143))  # type: ignore[arg-type]


def pipeline(pid: int, name: str, *working: tuple[int, str], won: str = "Успешно") -> FunnelState:
    stages = (
        StageState(pid * 100, "UNSORTED", "Неразобранное", 10, "#C1C1C1", "process", True, True),
        *(status(sid, n, 20 + 10 * i) for i, (sid, n) in enumerate(working)),
        status(142, won, 10000, "#CCFF66"),
        status(143, "Закрыто и не реализовано", 11000, "#D5D8DB"),
    )
    return FunnelState("deal", 2, pid, name, pid, pid == 1, stages)


FRESH = PortalState(
    funnels=(pipeline(1, "Воронка", (11, "Первичный контакт"), (12, "Принимают решение")),),
    target="amocrm",
)


def plan_of(bp: Blueprint, state: PortalState = FRESH, lang: str = "ru") -> Plan:
    return plan_amocrm(bp, state, lang=lang)  # type: ignore[arg-type]


def test_palette_colours_map_to_themselves_and_others_to_the_nearest() -> None:
    assert len(PALETTE) == 21
    for color in PALETTE:
        assert nearest_color(color.upper()) == color
    assert nearest_color("#39A8EF") == "#98cbff"  # Bitrix24's blue → amoCRM's blue
    assert nearest_color("#FF5752") == "#ff8f92"  # red → the palette's red
    assert nearest_color("#9DCF00") == "#deff81"  # green → green
    assert nearest_color("#FFA900") == "#ffce5a"  # orange → orange


def test_every_library_blueprint_plans_within_the_palette_and_shows_both_colours() -> None:
    for bid in LIBRARY.ids():
        plan = plan_of(LIBRARY.load(bid))
        assert not plan.conflicts, bid
        for call in plan.calls:
            statuses = call.params.get("_embedded", {}).get("statuses", [])
            colors = [s["color"] for s in statuses if "color" in s]
            if "color" in call.params:
                colors.append(call.params["color"])
            assert all(c in PALETTE for c in colors), (bid, colors)
    entry = plan_of(LIBRARY.load("lead-funnel")).entry("lead.leads.stage.NEW")
    assert entry is not None
    assert ("color", None, "#39A8EF → #98cbff") in [
        (c.attribute, c.before, c.after) for c in entry.changes
    ]


def test_the_lead_funnel_and_each_deal_pipeline_become_pipelines_of_their_own() -> None:
    plan = plan_of(LIBRARY.load("complete-b2b"))
    creates = [c for c in plan.calls if c.method == "POST /api/v4/leads/pipelines"]
    names = [c.params["name"] for c in creates]
    bp = LIBRARY.load("complete-b2b")
    crm = [p for p in bp.pipelines if p.kind in ("lead", "deal")]
    assert names == [p.name.ru for p in crm]
    lead = creates[0].params
    assert lead["is_unsorted_on"] is True and lead["is_main"] is False
    assert all(c.params["is_unsorted_on"] is False for c in creates[1:])
    # the account's own main pipeline is left as it is
    assert plan.entry("deal.#1") is not None and plan.entry("deal.#1").action == "unmanaged"  # type: ignore[union-attr]


def test_working_stages_are_statuses_in_order_and_success_names_status_142() -> None:
    bp = LIBRARY.load("deal-b2b-full")
    pipe = bp.pipelines[0]
    call = next(c for c in plan_of(bp).calls if c.method == "POST /api/v4/leads/pipelines")
    statuses = call.params["_embedded"]["statuses"]
    working = [s for s in pipe.stages if s.semantics == "process"]
    assert [s["name"] for s in statuses[:-1]] == [s.name.ru for s in working]
    sorts = [s["sort"] for s in statuses[:-1]]
    assert sorts == sorted(sorts) and sorts[0] > 10 and sorts[-1] < 10000
    won = pipe.stages_with("success")[0]
    assert statuses[-1] == {"id": 142, "name": won.name.ru}


def test_failure_stages_become_loss_reasons_each_name_once() -> None:
    bp = LIBRARY.load("deal-b2b-short")  # two pipelines with the same four reasons
    plan = plan_of(bp)
    made = [c.params["name"] for c in plan.calls if c.method == "POST /api/v4/leads/loss_reasons"]
    reasons = {s.name.ru for p in bp.pipelines for s in p.stages_with("failure")}
    assert sorted(made) == sorted(reasons) and len(made) == len(set(made)) == 4


def test_a_stage_s_required_fields_require_exactly_the_statuses_after_it_up_to_won() -> None:
    bp = LIBRARY.load("deal-marketing")
    pipe = bp.pipelines[0]
    # the account already holds the pipeline: every status has its id
    working = [s for s in pipe.stages if s.semantics == "process"]
    held = pipeline(7, pipe.name.ru, *((700 + i, s.name.ru) for i, s in enumerate(working)))
    state = PortalState(funnels=(*FRESH.funnels, held), target="amocrm")
    plan = plan_of(bp, state)
    field = next(c for c in plan.calls if c.params.get("code") == "MKT_SEGMENT")
    segmented = [s.code for s in working].index("SEGMENTED")
    expected = [
        {"pipeline_id": 7, "status_id": 700 + i} for i in range(segmented + 1, len(working))
    ]
    expected.append({"pipeline_id": 7, "status_id": 142})
    assert field.params["required_statuses"] == expected
    # a field nobody requires gets none
    other = next(c for c in plan.calls if c.params.get("code") == "MKT_INTEREST")
    assert "required_statuses" not in other.params


def test_required_statuses_of_a_new_pipeline_refer_to_the_statuses_it_comes_back_with() -> None:
    data = plan_data(plan_of(LIBRARY.load("deal-marketing")))
    field = next(
        c
        for e in data["plan"]
        for c in e.get("calls", [])
        if c["params"].get("code") == "MKT_SEGMENT"
    )
    required = field["params"]["required_statuses"]
    assert required[0]["pipeline_id"] == "$result[p1][id]"
    assert required[0]["status_id"] == "$result[p1][_embedded][statuses][Прогрев][id]"
    assert required[-1]["status_id"] == 142


def test_standard_required_fields_robots_processes_groups_and_roles_are_manual() -> None:
    bp = LIBRARY.load("complete-b2b")
    for lang in ("ru", "en", "uk"):
        plan = plan_of(bp, lang=lang)
        manual = {e.address: e for e in plan.entries if e.action == "manual"}
        assert "manual.process.delivery" in manual
        assert "manual.access_roles" in manual
        assert any(a.startswith("manual.robot.leads.") for a in manual)
        assert "manual.required.deal_b2b_full.NEEDS.OPPORTUNITY" in manual
        assert "manual.field.company.UF_CRM_ACCOUNT_MANAGER" in manual  # an employee field
        assert any(a.startswith("manual.group.") for a in manual)
        for entry in manual.values():
            assert entry.steps and entry.text(lang)  # type: ignore[arg-type]
        # a custom deal field required on a stage is not manual: required_statuses set it
        assert not any(a.endswith(".MKT_SEGMENT") for a in manual)
    robot = plan_of(bp, lang="ru").entry("manual.robot.leads.NEW.1")
    assert robot is not None and "Digital Pipeline" in robot.steps[0]


def test_the_account_s_limits_are_conflicts_and_nothing_past_them_is_sent() -> None:
    full = PortalState(
        funnels=tuple(pipeline(i, f"P{i}") for i in range(1, MAX_PIPELINES + 1)), target="amocrm"
    )
    plan = plan_of(LIBRARY.load("deal-b2b-short"), full)
    assert [e.address for e in plan.conflicts] == ["deal.deal_b2b_full", "deal.deal_b2b_short"]
    assert not [c for c in plan.calls if c.method == "POST /api/v4/leads/pipelines"]
    assert "50" in plan.conflicts[0].text("ru")
    # a pipeline of 98 working stages needs 101 statuses with the three system ones
    many = tuple(
        Stage(f"S{i}", Text(ru=f"Этап {i}", en=f"Stage {i}"), "process") for i in range(98)
    )
    won = Stage("WON", Text(ru="Успех", en="Won"), "success")
    big = Pipeline("big", "deal", Text(ru="Большая", en="Big"), (*many, won))
    bp = replace(LIBRARY.load("deal-b2b-full"), pipelines=(big,), fields=())
    plan = plan_of(bp)
    assert [e.address for e in plan.conflicts] == ["deal.big"]
    assert msg("push.note.amo.limit_statuses", "en", name="Большая", count=101, limit=100) in [
        e.text("en") for e in plan.conflicts
    ]


@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_names_in_any_language_of_the_blueprint_are_found_again(lang: str) -> None:
    """An account set up in another language: nothing is created twice, names are updated."""
    bp = LIBRARY.load("deal-b2b-full")
    pipe = bp.pipelines[0]
    other = "en" if lang != "en" else "ru"
    working = [s for s in pipe.stages if s.semantics == "process"]
    held = pipeline(
        7,
        pipe.name.get(other),
        *((700 + i, s.name.get(other)) for i, s in enumerate(working)),  # type: ignore[arg-type]
    )
    plan = plan_of(bp, PortalState(funnels=(held,), target="amocrm"), lang=lang)
    assert plan.count("create") == len(pipe.stages_with("failure"))  # only the loss reasons
    assert plan.entry("deal.deal_b2b_full").action == "update"  # type: ignore[union-attr]
    renames = [c for c in plan.calls if c.method.startswith("PATCH")]
    assert len(renames) == 1 + len(working)  # the pipeline and its statuses
    assert plan.count("manual") >= 1  # won's name is set only at creation: by hand
    assert plan.entry("manual.won.deal_b2b_full") is not None


def test_a_field_of_another_type_is_a_conflict_and_its_enums_are_kept() -> None:
    bp = LIBRARY.load("fields-scoring")
    text_field = FieldState(
        5, "deal", "SCORING_CLASS", "string", (("ru", "Класс сделки"),), native_type="text"
    )
    plan = plan_of(bp, replace(FRESH, fields=(text_field,)))
    assert [e.address for e in plan.conflicts] == ["field.deal.UF_CRM_SCORING_CLASS"]

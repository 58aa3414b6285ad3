"""The push plan as a pure function of (blueprint, portal state, record): small table-driven
cases, no portal (pip-tools' test_diff_* style)."""

from __future__ import annotations

from typing import Any

import pytest

from crmkit.blueprints.model import Blueprint, CustomField, FieldItem, Pipeline, Stage
from crmkit.i18n import Text
from crmkit.push.plan import Plan, plan_push, target_sorts
from crmkit.push.record import Managed, Record
from crmkit.push.state import EnumItemState, FieldState, FunnelState, PortalState, StageState


def stage(code: str, name: str, semantics: str = "process", color: str = "") -> Stage:
    return Stage(code=code, name=Text(ru=name, en=name), semantics=semantics, color=color)  # type: ignore[arg-type]


def pipeline(code: str, name: str, stages: list[Stage], kind: str = "deal") -> Pipeline:
    return Pipeline(code=code, kind=kind, name=Text(ru=name, en=name), stages=tuple(stages))  # type: ignore[arg-type]


def blueprint(*pipelines: Pipeline, fields: tuple[CustomField, ...] = ()) -> Blueprint:
    return Blueprint(id="t", name=Text(ru="t", en="t"), pipelines=pipelines, fields=fields)


_ids = iter(range(1000, 100000))


def st(
    status_id: str,
    name: str,
    sort: int,
    semantics: str = "process",
    system: bool = False,
    color: str = "#39A8EF",
) -> StageState:
    return StageState(next(_ids), status_id, name, sort, color, semantics, system)  # type: ignore[arg-type]


def deal_funnel(
    cid: int, name: str, stages: list[StageState], default: bool = False
) -> FunnelState:
    return FunnelState("deal", 2, cid, name, 500, default or cid == 0, tuple(stages))


DEFAULT = deal_funnel(
    0,
    "General",
    [
        st("NEW", "New", 10, system=True),
        st("PREPARATION", "Document preparation", 20),
        st("WON", "Deal successful", 60, "success", True, "#7BD500"),
        st("LOSE", "Deal failed", 70, "failure", True, "#FF5752"),
    ],
)
SIMPLE = [
    stage("NEW", "Новая", color="#39A8EF"),
    stage("WON", "Успех", "success", "#7BD500"),
    stage("LOSE", "Провал", "failure", "#FF5752"),
]


def plan(bp: Blueprint, state: PortalState, **kwargs: Any) -> Plan:
    """The plan, with every item count it asks for answered 0 (an empty portal)."""
    if "counts" not in kwargs:
        kwargs["counts"] = {key: 0 for key in plan_push(bp, state, lang="ru", **kwargs).needs}
    return plan_push(bp, state, lang="ru", **kwargs)


def actions(p: Plan, prefix: str = "") -> dict[str, str]:
    return {e.address: e.action for e in p.entries if e.address.startswith(prefix)}


# -- sorts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "wanted"),
    [
        ([10, 20, 30], [10, 20, 30]),  # in order: nothing moves
        ([10, None, 20], [10, 15, 20]),  # a new stage between two
        ([10, None, None, 20], [10, 13, 16, 20]),
        ([30, 10, 20], [5, 10, 20]),  # the longest increasing run stays, the rest moves
        ([10, None, 11], [10, 20, 30]),  # no room between: renumbered
        ([None, None], [10, 20]),
        ([50, None], [50, 60]),
    ],
)
def test_target_sorts_keep_what_is_in_order(current: list[int | None], wanted: list[int]) -> None:
    got = target_sorts(current)
    assert got == wanted
    assert all(a < b for a, b in zip(got, got[1:], strict=False))


# -- pipelines and stages ---------------------------------------------------------------------


def test_the_first_deal_pipeline_is_the_portals_default_one() -> None:
    p = plan(blueprint(pipeline("sales", "Продажи", SIMPLE)), PortalState(funnels=(DEFAULT,)))
    entry = p.entry("deal.sales")
    assert entry is not None and entry.action == "update" and entry.portal == "category 0"
    assert entry.changes[0].after == "Продажи"
    assert actions(p, "deal.sales.stage.") == {
        "deal.sales.stage.NEW": "update",
        "deal.sales.stage.WON": "update",
        "deal.sales.stage.LOSE": "update",
        "deal.sales.stage.#PREPARATION": "unmanaged",  # a stock stage the blueprint does not use
    }


def test_prefixed_codes_match_and_ui_made_codes_match_by_name() -> None:
    other = deal_funnel(
        3,
        "Опт",
        [
            st("C3:NEW", "Новая", 10, system=True),
            st("C3:UC_LAFJPE", "Переговоры", 20),  # made in the UI: a generated code
            st("C3:WON", "Успех", 60, "success", True, "#7BD500"),
            st("C3:LOSE", "Провал", 70, "failure", True, "#FF5752"),
        ],
    )
    bp = blueprint(
        pipeline("retail", "Розница", SIMPLE),
        pipeline("wholesale", "Опт", [SIMPLE[0], stage("TALKS", "Переговоры"), *SIMPLE[1:]]),
    )
    p = plan(bp, PortalState(funnels=(DEFAULT, other)))
    talks = p.entry("deal.wholesale.stage.TALKS")
    assert talks is not None and talks.portal == "C3:UC_LAFJPE"
    assert actions(p, "deal.wholesale") == {
        "deal.wholesale": "unchanged",
        "deal.wholesale.stage.NEW": "unchanged",
        "deal.wholesale.stage.TALKS": "unchanged",
        "deal.wholesale.stage.WON": "unchanged",
        "deal.wholesale.stage.LOSE": "unchanged",
    }


def test_a_new_pipeline_reuses_its_stock_stages_and_deletes_the_rest() -> None:
    bp = blueprint(
        pipeline("a", "А", SIMPLE),
        pipeline("b", "Б", [stage("NEW", "Новая"), stage("CALL", "Звонок"), *SIMPLE[1:]]),
    )
    p = plan(bp, PortalState(funnels=(DEFAULT,)))
    created = p.entry("deal.b")
    assert created is not None and created.action == "create"
    assert created.calls[0].method == "crm.category.add"
    call = p.entry("deal.b.stage.CALL")
    assert call is not None and call.action == "update" and call.portal == "PREPARATION"
    methods = [c.method for c in call.calls]
    assert methods == ["crm.status.list", "crm.status.update"]  # found by code once made
    deleted = {a for a, act in actions(p, "deal.b.stage.#").items() if act == "delete"}
    assert deleted == {
        "deal.b.stage.#PREPAYMENT_INVOICE",
        "deal.b.stage.#EXECUTING",
        "deal.b.stage.#FINAL_INVOICE",
        "deal.b.stage.#APOLOGY",
    }
    # nothing is doubled: no crm.status.add for a code the portal makes by itself
    added = [c for e in p.entries for c in e.calls if c.method == "crm.status.add"]
    assert all(c.params["fields"]["STATUS_ID"] not in ("NEW", "WON", "LOSE") for c in added)
    # calls run in phases: the pipeline before its stages, deletes last
    order = [c.method for c in p.calls]
    assert order.index("crm.category.add") < order.index("crm.status.update")
    assert order[-1] == "crm.status.delete"


def test_a_stock_stage_that_holds_deals_is_the_clients() -> None:
    bp = blueprint(pipeline("a", "А", [stage("NEW", "Новая"), stage("X", "Икс"), *SIMPLE[1:]]))
    state = PortalState(funnels=(DEFAULT,))
    first = plan_push(bp, state, lang="ru")
    assert ("stage", "DEAL_STAGE", "PREPARATION") in first.needs
    busy = plan_push(bp, state, lang="ru", counts={("stage", "DEAL_STAGE", "PREPARATION"): 4})
    assert busy.entry("deal.a.stage.X").action == "create"  # type: ignore[union-attr]
    assert busy.entry("deal.a.stage.#PREPARATION").action == "unmanaged"  # type: ignore[union-attr]
    free = plan(bp, state)
    assert free.entry("deal.a.stage.X").portal == "PREPARATION"  # type: ignore[union-attr]


def test_semantics_are_fixed_at_creation() -> None:
    bp = blueprint(
        pipeline(
            "a",
            "А",
            [
                stage("NEW", "Новая"),
                stage("LOSE", "Ждём"),
                *SIMPLE[1:2],
                stage("NO", "Нет", "failure"),
            ],
        )
    )
    p = plan(bp, PortalState(funnels=(DEFAULT,)))
    conflict = p.entry("deal.a.stage.LOSE")
    assert conflict is not None and conflict.action == "conflict" and not conflict.calls
    assert "semantics" in conflict.text("en") or "fixed" in conflict.text("en")


def test_prune_deletes_only_what_crmkit_made_and_never_the_last_of_a_group() -> None:
    made = st("C5:OLD", "Старая", 20)
    funnel = deal_funnel(
        5,
        "Б",
        [
            st("C5:NEW", "Новая", 10, system=True),
            made,
            st("C5:THEIRS", "Их стадия", 30),
            st("C5:WON", "Успех", 60, "success", True, "#7BD500"),
            st("C5:LOSE", "Провал", 70, "failure", True, "#FF5752"),
        ],
    )
    record = Record(
        managed={
            "deal.b": Managed(ids=(("category_id", 5), ("entity_type_id", 2)), created=True),
            "deal.b.stage.OLD": Managed(
                ids=(("id", made.id), ("status_id", "C5:OLD")), created=True
            ),
        }
    )
    bp = blueprint(pipeline("a", "А", SIMPLE), pipeline("b", "Б", SIMPLE))
    state = PortalState(funnels=(DEFAULT, funnel))
    kept = plan(bp, state, record=record)
    assert kept.entry("deal.b.stage.#OLD").action == "unmanaged"  # type: ignore[union-attr]
    pruned = plan(bp, state, record=record, prune=True)
    assert pruned.entry("deal.b.stage.#OLD").action == "delete"  # type: ignore[union-attr]
    assert pruned.entry("deal.b.stage.#THEIRS").action == "unmanaged"  # type: ignore[union-attr]
    holding = plan_push(
        bp,
        state,
        lang="ru",
        record=record,
        prune=True,
        counts={("stage", "DEAL_STAGE_5", "C5:OLD"): 2},
    )
    refused = holding.entry("deal.b.stage.#OLD")
    assert refused is not None and refused.action == "conflict" and "2" in refused.text("en")


def test_the_portal_keeps_what_the_blueprint_does_not_name() -> None:
    theirs = deal_funnel(9, "Партнёры", [st("C9:NEW", "Новая", 10, system=True)])
    p = plan(blueprint(pipeline("a", "А", SIMPLE)), PortalState(funnels=(DEFAULT, theirs)))
    entry = p.entry("deal.#9")
    assert entry is not None and entry.action == "unmanaged" and not entry.calls


# -- fields -----------------------------------------------------------------------------------


def field(code: str, kind: str = "string", **kwargs: Any) -> CustomField:
    return CustomField(
        entity="deal", code=code, type=kind, label=Text(ru="Поле", en="Field"), **kwargs
    )


def portal_field(name: str, kind: str = "string", **kwargs: Any) -> FieldState:
    return FieldState(
        next(_ids), "deal", name, kind, labels=(("ru", "Поле"), ("en", "Field")), **kwargs
    )


@pytest.mark.parametrize(
    ("wanted", "there", "action"),
    [
        (field("A"), None, "create"),
        (field("A"), portal_field("UF_CRM_A"), "unchanged"),
        (field("A", mandatory=True), portal_field("UF_CRM_A"), "update"),
        (field("A", "integer"), portal_field("UF_CRM_A"), "conflict"),  # type fixed
        (field("A", multiple=True), portal_field("UF_CRM_A"), "conflict"),  # multiple fixed
        (
            field("E", "enumeration", items=(FieldItem(Text(ru="Да", en="Yes")),)),
            portal_field("UF_CRM_E", "enumeration", items=(EnumItemState(7, "Да", "", False, 10),)),
            "unchanged",
        ),
        (
            field(
                "E",
                "enumeration",
                items=(FieldItem(Text(ru="Да", en="Yes")), FieldItem(Text(ru="Нет", en="No"))),
            ),
            portal_field("UF_CRM_E", "enumeration", items=(EnumItemState(7, "Да", "", False, 10),)),
            "update",
        ),
    ],
)
def test_fields(wanted: CustomField, there: FieldState | None, action: str) -> None:
    state = PortalState(funnels=(DEFAULT,), fields=(there,) if there else ())
    p = plan(blueprint(fields=(wanted,)), state)
    entry = p.entry(f"field.deal.{wanted.field_name}")
    assert entry is not None and entry.action == action
    if action == "conflict":
        assert not entry.calls
    if action == "update" and wanted.type == "enumeration":
        sent = entry.calls[0].params["fields"]["LIST"]
        assert sent[0]["ID"] == 7 and "ID" not in sent[1]  # the existing item kept by its id


def test_a_field_crmkit_made_is_pruned_and_a_clients_field_never() -> None:
    mine = portal_field("UF_CRM_OLD", xml_id="crmkit")
    theirs = portal_field("UF_CRM_THEIRS")
    state = PortalState(funnels=(DEFAULT,), fields=(mine, theirs))
    p = plan(blueprint(), state, prune=True)
    assert actions(p, "field.") == {
        "field.#deal.UF_CRM_OLD": "delete",
        "field.#deal.UF_CRM_THEIRS": "unmanaged",
    }


def test_smart_processes_need_an_administrator() -> None:
    from crmkit.blueprints.model import SmartProcess

    bp = Blueprint(
        id="t",
        name=Text(ru="t", en="t"),
        smart_processes=(SmartProcess(code="delivery", title=Text(ru="Доставка", en="Delivery")),),
        pipelines=(
            Pipeline(
                code="d",
                kind="smart_process",
                process="delivery",
                name=Text(ru="Доставка", en="Delivery"),
                stages=tuple(SIMPLE),
            ),
        ),
    )
    p = plan(bp, PortalState(funnels=(DEFAULT,)), admin=False)
    assert actions(p, "process.") == {"process.delivery": "conflict"}
    assert p.entry("smart_process.d").action == "conflict"  # type: ignore[union-attr]
    assert not p.calls

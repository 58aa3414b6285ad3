"""The workbook's cost sheet: the cost of ownership per finalist as live formulas over the input
cells, giving crmkit's totals, and the budget knock-out reaching the matrix as crmkit's does.

Evaluated with the small evaluator of test_select_xlsx (LibreOffice recalculates the same
workbooks in test_select_xlsx_libreoffice.py).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from test_select_xlsx import (
    DASH,
    Sheet,
    assert_same,
    expected_columns,
    is_number,
    openpyxl,
    sheet_columns,
)

from crmkit.select.catalog import shipped_catalog
from crmkit.select.problems import library
from crmkit.select.run import run_selection
from crmkit.select.selection import Selection, parse_selection_text, read_selection
from crmkit.select.xlsx import (
    COST_INPUTS,
    COST_ITEMS,
    cost_layout,
    cost_systems,
    matrix_layout,
    matrix_systems,
    render_xlsx,
    sheet_names,
)

pytestmark = pytest.mark.skipif(
    "cost" not in Selection.__dataclass_fields__, reason="no cost of ownership in this crmkit"
)
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "selection.toml"
#: Bitrix24 within the budget, amoCRM above it, Megaplan partly known (its total unknown)
COST = """
[cost]
users = 8
budget = 600000
[cost.systems.bitrix24]
licence_plan_month = 5000
implementation = 150000
integrations = 40000
training = 20000
addons_per_year = 12000
[cost.systems.amocrm]
licence_per_user_month = 1500
implementation = 200000
integrations = 60000
training = 30000
addons_per_year = 0
[cost.systems.megaplan]
licence_per_user_month = 700
implementation = 90000
"""


def without_cost(text: str) -> str:
    """The example without its own ``[cost]`` (and the comment lines just above it)."""
    head = text.split("\n[cost]", 1)[0].rstrip().splitlines()
    while head and head[-1].lstrip().startswith("#"):
        head.pop()
    return "\n".join(head) + "\n"


def cost_result(cost: str = COST):
    text = without_cost(EXAMPLE.read_text(encoding="utf-8")) + cost
    catalog, lib = shipped_catalog(), library()
    return run_selection(
        read_selection(parse_selection_text(text, "s.toml"), catalog, lib), catalog, lib
    )


def changed(old: str, new: str):
    assert COST.count(old) == 1, old
    return cost_result(COST.replace(old, new))


def books(result, lang="en") -> tuple[Any, Any]:
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, lang)))
    names = sheet_names(lang)
    return wb[names["cost"]], wb[names["matrix"]]


def cost_columns(ws: Any, result) -> dict[str, dict[str, Any]]:
    lay = cost_layout(len(cost_systems(result)))
    sheet = Sheet(ws)
    out = {}
    for j, system in enumerate(cost_systems(result)):
        col = lay["first_system_col"] + j
        out[system] = {
            "items": [sheet.value(lay["amounts"][k], col) for k in COST_ITEMS],
            "total": sheet.value(lay["total_row"], col),
            "known": sheet.value(lay["known_row"], col),
            "per_user": sheet.value(lay["per_user_row"], col),
            "over": sheet.value(lay["status_row"], col) != "",
        }
    return out


def crmkit_columns(result) -> dict[str, dict[str, Any]]:
    out = {}
    for system in cost_systems(result):
        c = result.cost.of(system)
        out[system] = {
            "items": [DASH if i.amount is None else i.amount for i in c.items],
            "total": DASH if c.total is None else c.total,
            "known": c.known,
            "per_user": DASH if c.per_user_month is None else c.per_user_month,
            "over": c.over_budget,
        }
    return out


def assert_cost_same(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for system, w in want.items():
        g = got[system]
        for key in ("items", "total", "known", "per_user"):
            gv, wv = g[key], w[key]
            gv, wv = (gv, wv) if isinstance(gv, list) else ([gv], [wv])
            for a, b in zip(gv, wv, strict=True):
                assert a == (b if b == DASH else pytest.approx(b, rel=1e-12)), (system, key)
        assert g["over"] == w["over"], system


def test_the_cost_sheet_shows_the_finalists_first_and_the_matrix_systems_with_a_cost():
    result = cost_result()
    assert result.finalists == ("bitrix24", "amocrm")
    assert cost_systems(result) == ["bitrix24", "amocrm", "megaplan"]
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "ru")))
    names = sheet_names("ru")
    assert wb.sheetnames.index(names["cost"]) == wb.sheetnames.index(names["matrix"]) + 1


@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_cost_formulas_give_crmkits_cost_of_ownership(lang):
    result = cost_result()
    ws, _ = books(result, lang)
    assert_cost_same(cost_columns(ws, result), crmkit_columns(result))
    lay = cost_layout(3)
    # the inputs are numbers (an unknown one empty), the amounts formulas
    assert ws.cell(lay["inputs"]["licence_plan_month"], 2).value == 5000
    assert ws.cell(lay["inputs"]["licence_per_user_month"], 2).value is None
    assert ws.cell(lay["inputs"]["integrations"], 4).value is None
    for key in COST_INPUTS:  # amoCRM: every input but a plan price (its licence is per user)
        value = ws.cell(lay["inputs"][key], 3).value
        assert is_number(value) == (key != "licence_plan_month"), key
    for key in COST_ITEMS:
        assert str(ws.cell(lay["amounts"][key], 2).value).startswith("=IF(")
    assert ws.cell(lay["users_row"], 2).value == 8 and ws.cell(lay["years_row"], 2).value == 3
    assert "₽" in ws.cell(lay["total_row"], 2).number_format


def test_the_budget_knock_out_is_crmkits_and_live_in_the_matrix():
    result = cost_result()
    assert {e.system for e in result.step4.excluded} == {"amocrm", "envycrm"}
    _, matrix = books(result)
    m = result.step4
    lay = matrix_layout(len(m.weights), len(matrix_systems(m)))
    assert_same(sheet_columns(Sheet(matrix), lay, matrix_systems(m)), expected_columns(result))
    status = matrix.cell(
        lay["status_row"], lay["first_system_col"] + matrix_systems(m).index("amocrm")
    )
    assert status.value.startswith("=IF(")  # a formula over the cost sheet, not the reason as text


@pytest.mark.parametrize(
    "edit",
    [
        # amoCRM's implementation estimate lowered: within the budget, back in the ranking
        ("implementation = 200000", "implementation = 50000", "amocrm", "implementation", 50000),
        # the budget lowered: Bitrix24 (the leader) is above it too
        ("budget = 600000", "budget = 400000", None, "budget_row", 400000),
        # more users: the per-user licences cost more
        ("users = 8", "users = 20", None, "users_row", 20),
        # a plan price where Megaplan had a per-user one: still its total unknown
        ("licence_per_user_month = 700", "licence_plan_month = 3000", "megaplan", None, None),
    ],
)
def test_editing_a_cost_input_recomputes_as_crmkit(edit):
    old, new, system, key, value = edit
    result = cost_result()
    expected = changed(old, new)
    ws, matrix = books(result)
    systems = cost_systems(result)
    lay = cost_layout(len(systems))
    if system is None:
        ws.cell(lay[key], lay["value_col"], value)
    elif key is None:  # the licence moves from one basis to the other
        col = lay["first_system_col"] + systems.index(system)
        ws.cell(lay["inputs"]["licence_per_user_month"], col).value = None
        ws.cell(lay["inputs"]["licence_plan_month"], col, 3000)
    else:
        ws.cell(lay["inputs"][key], lay["first_system_col"] + systems.index(system), value)
    assert cost_systems(expected) == systems
    assert_cost_same(cost_columns(ws, result), crmkit_columns(expected))
    m = result.step4
    mlay = matrix_layout(len(m.weights), len(matrix_systems(m)))
    assert_same(sheet_columns(Sheet(matrix), mlay, matrix_systems(m)), expected_columns(expected))
    summary = Sheet(matrix.parent["Summary"])
    assert summary.value(3, 2) == expected.name(expected.step4.ranking[0].system)


def test_without_cost_inputs_there_is_no_cost_sheet():
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(cost_result(""), "en")))
    assert sheet_names("en")["cost"] not in wb.sheetnames

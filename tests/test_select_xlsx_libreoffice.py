"""The workbook recalculated by LibreOffice gives crmkit's totals, ranking, knock-outs and leader.

Every workbook of this module is converted in one LibreOffice run (headless, a profile of its
own so a LibreOffice the user has open, or a parallel test, does not take the job), each sheet to
a CSV file with the UTF-8 filter; the tests read the recalculated values from those files. The
edited workbooks are changed with openpyxl as a client would change them in a spreadsheet (a
weight, a score below a minimum) and compared with crmkit run on the same change.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from test_select_xlsx import DASH, openpyxl, run_of, selection_of, with_score

from crmkit.select.selection import Selection
from crmkit.select.xlsx import (
    COST_ITEMS,
    cost_layout,
    cost_systems,
    matrix_layout,
    matrix_systems,
    render_xlsx,
    sheet_names,
)

HAS_COST = "cost" in Selection.__dataclass_fields__
NO_COST = "no cost of ownership in this crmkit"
if HAS_COST:
    from test_select_xlsx_cost import changed as cost_changed
    from test_select_xlsx_cost import cost_result
SOFFICE = shutil.which("soffice") or shutil.which("libreoffice")
pytestmark = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (soffice) is not installed")

# the CSV filter's options: comma, double quote, character set 76 (UTF-8), from line 1, no
# column types, language default, quoted text not as text, detect numbers, cells as stored
# (not as shown), no formulas, no BOM, and -1: every sheet to a file "<name>-<sheet>.csv"
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,false,false,false,-1"


@dataclasses.dataclass
class Case:
    result: Any  # crmkit's result the workbook is rendered from
    expected: Any  # crmkit's result of the same change as the workbook's edit
    lang: str
    content: bytes


def _weight_flip() -> tuple[Any, Any, dict[str, float]]:
    """selection.toml with the critical criterion's points just past its flip: crmkit's new
    ranking, and the points to type into the sheet."""
    selection = selection_of("selection.toml")
    result = run_of(selection)
    flip = result.step4.robustness.critical
    points = dict(selection.points)
    points[flip.criterion] *= flip.flip_weight / flip.weight * 1.1
    return result, run_of(dataclasses.replace(selection, points=points)), points


def _edited(
    result: Any, lang: str, edits: list[tuple[int, int, float]], sheet: str = "matrix"
) -> bytes:
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, lang)))
    ws = wb[sheet_names(lang)[sheet]]
    for row, col, value in edits:
        ws.cell(row, col, value)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _cases() -> dict[str, Case]:
    cases = {}
    for name, example, lang in (
        ("points-ru", "selection.toml", "ru"),
        ("points-uk", "selection.toml", "uk"),
        ("ahp-en", "selection-ahp.toml", "en"),
    ):
        result = run_of(selection_of(example))
        cases[name] = Case(result, result, lang, render_xlsx(result, lang))
    result, moved, points = _weight_flip()
    lay = _layout(result)
    crits = list(result.step4.weights)
    edits = [(lay["first_row"] + i, lay["points_col"], points[c]) for i, c in enumerate(crits)]
    cases["weight-en"] = Case(result, moved, "en", _edited(result, "en", edits))
    # Bitrix24 (the leader) falls below the tasks minimum 3; EnvyCRM reaches it
    selection = selection_of("selection.toml")
    changed = with_score(with_score(selection, "bitrix24", "tasks", 2), "envycrm", "tasks", 3)
    systems = matrix_systems(result.step4)
    edits = [
        (lay["first_row"] + crits.index("tasks"), lay["first_system_col"] + systems.index(s), v)
        for s, v in (("bitrix24", 2), ("envycrm", 3))
    ]
    cases["minimum-ru"] = Case(result, run_of(changed), "ru", _edited(result, "ru", edits))
    if HAS_COST:
        result = cost_result()
        cases["cost-ru"] = Case(result, result, "ru", render_xlsx(result, "ru"))
        # the budget lowered below Bitrix24's cost: the leader knocked out by the budget
        lay = cost_layout(len(cost_systems(result)))
        edits = [(lay["budget_row"], lay["value_col"], 400000)]
        moved = cost_changed("budget = 600000", "budget = 400000")
        cases["budget-en"] = Case(result, moved, "en", _edited(result, "en", edits, "cost"))
    return cases


def _layout(result: Any) -> dict[str, Any]:
    m = result.step4
    return matrix_layout(len(m.weights), len(matrix_systems(m)))


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory) -> dict[str, tuple[Case, dict[str, list[list[str]]]]]:
    """Each case with its sheets as LibreOffice recalculated them (sheet name → CSV rows)."""
    work = tmp_path_factory.mktemp("libreoffice")
    cases = _cases()
    files = []
    for name, case in cases.items():
        path = work / f"{name}.xlsx"
        path.write_bytes(case.content)
        files.append(str(path))
    out = work / "csv"
    done = subprocess.run(
        [
            str(SOFFICE),
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(out),
            *files,
        ],
        timeout=240,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    sheets: dict[str, tuple[Case, dict[str, list[list[str]]]]] = {}
    for name, case in cases.items():
        tables = {}
        for title in sheet_names(case.lang).values():
            path = Path(out) / f"{name}-{title}.csv"
            if path.exists():
                tables[title] = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
        assert tables, (name, sorted(p.name for p in Path(out).iterdir()), done.stdout)
        sheets[name] = (case, tables)
    return sheets


def _cell(rows: list[list[str]], row: int, col: int) -> str:
    """The text of a cell (1-based), "" beyond what the CSV holds."""
    if row - 1 >= len(rows) or col - 1 >= len(rows[row - 1]):
        return ""
    return rows[row - 1][col - 1]


def _columns(case: Case, tables: dict[str, list[list[str]]]) -> dict[str, dict[str, Any]]:
    """Per system column of the matrix: total, rank (or —), knocked out."""
    rows = tables[sheet_names(case.lang)["matrix"]]
    lay = _layout(case.result)
    out = {}
    for j, system in enumerate(matrix_systems(case.result.step4)):
        col = lay["first_system_col"] + j
        place = _cell(rows, lay["rank_row"], col)
        out[system] = {
            "total": float(_cell(rows, lay["total_row"], col)),
            "rank": DASH if place == DASH else int(float(place)),
            "out": _cell(rows, lay["status_row"], col) != "",
        }
    return out


def _crmkit(result: Any) -> dict[str, dict[str, Any]]:
    m = result.step4
    out = {r.system: {"total": r.score, "rank": r.rank, "out": False} for r in m.ranking}
    for e in m.excluded:
        if e.score is not None:
            out[e.system] = {"total": e.score, "rank": DASH, "out": True}
    return out


CASES = ["points-ru", "points-uk", "ahp-en", "weight-en", "minimum-ru"]
COST_CASES = ["cost-ru", "budget-en"]
CASES += [
    pytest.param(c, marks=pytest.mark.skipif(not HAS_COST, reason=NO_COST)) for c in COST_CASES
]


@pytest.mark.parametrize("name", CASES)
def test_libreoffice_totals_ranks_and_knock_outs_are_crmkits(recalculated, name):
    case, tables = recalculated[name]
    got, want = _columns(case, tables), _crmkit(case.expected)
    assert set(got) == set(want)
    for system, w in want.items():
        assert got[system]["total"] == pytest.approx(w["total"], abs=1e-6), system
        assert (got[system]["rank"], got[system]["out"]) == (w["rank"], w["out"]), system


@pytest.mark.parametrize("name", CASES)
def test_libreoffice_summary_recommends_crmkits_leader(recalculated, name):
    case, tables = recalculated[name]
    summary = tables[sheet_names(case.lang)["summary"]]
    m = case.expected.step4
    leader = case.expected.name(m.ranking[0].system, case.lang)
    assert _cell(summary, 3, 2) == leader
    assert float(_cell(summary, 4, 2)) == pytest.approx(m.ranking[0].score, abs=1e-6)
    assert float(_cell(summary, 5, 2)) == pytest.approx(m.robustness.gap, abs=1e-6)
    matrix = tables[sheet_names(case.lang)["matrix"]]
    assert _cell(matrix, _layout(case.result)["leader_row"], 2) == leader


def test_the_edits_really_change_the_leader(recalculated):
    """The edited cases are not the export's answer again: the leader moved."""
    for name in ("weight-en", "minimum-ru"):
        case, tables = recalculated[name]
        before = case.result.step4.ranking[0].system
        after = case.expected.step4.ranking[0].system
        assert before != after, name
        summary = tables[sheet_names(case.lang)["summary"]]
        assert _cell(summary, 3, 2) != case.result.name(before, case.lang)


def test_libreoffice_summary_table_reads_the_matrix(recalculated):
    case, tables = recalculated["minimum-ru"]
    summary = tables[sheet_names("ru")["summary"]]
    systems = matrix_systems(case.result.step4)
    want = _crmkit(case.expected)
    for j, system in enumerate(systems):
        row = 9 + j
        assert _cell(summary, row, 1) == case.result.name(system, "ru")
        assert float(_cell(summary, row, 2)) == pytest.approx(want[system]["total"], abs=1e-6)
        place = _cell(summary, row, 3)
        assert (DASH if place == DASH else int(float(place))) == want[system]["rank"]
        assert (_cell(summary, row, 4) != "") == want[system]["out"]


@pytest.mark.skipif(not HAS_COST, reason=NO_COST)
@pytest.mark.parametrize("name", COST_CASES)
def test_libreoffice_cost_sheet_is_crmkits_cost_of_ownership(recalculated, name):
    case, tables = recalculated[name]
    rows = tables[sheet_names(case.lang)["cost"]]
    systems = cost_systems(case.result)
    lay = cost_layout(len(systems))
    for j, system in enumerate(systems):
        col = lay["first_system_col"] + j
        want = case.expected.cost.of(system)

        def number(row: int, col: int = col) -> Any:
            text = _cell(rows, row, col)
            return DASH if text == DASH else float(text)

        for item in want.items:
            shown = number(lay["amounts"][item.item])
            assert shown == (DASH if item.amount is None else pytest.approx(item.amount)), system
        assert [i.item for i in want.items] == list(COST_ITEMS)
        total = DASH if want.total is None else pytest.approx(want.total)
        assert number(lay["total_row"]) == total, system
        assert number(lay["known_row"]) == pytest.approx(want.known), system
        per_user = DASH if want.per_user_month is None else pytest.approx(want.per_user_month)
        assert number(lay["per_user_row"]) == per_user, system
        assert (_cell(rows, lay["status_row"], col) != "") == want.over_budget, system

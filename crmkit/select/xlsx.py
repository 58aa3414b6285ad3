"""The selection as a workbook to present: the answer first, the model live behind it.

Sheets, named in the run's language: the summary (the recommended system and its lead as
formulas, a chart of the totals, and a plain line on what is as of the export), the matrix (the
live model), the cost of ownership when the selection has one, the evidence of the scores, the
shortlist, the knock-outs, the sensitivity and the vendor questions.

The matrix sheet is the model. The consultant or the client may edit the yellow cells — each
criterion's points, its minimum, and every score 1–5 — and everything below recomputes, the same
way ``matrix.evaluate`` computes it:

- total: ``ROUND(SUMPRODUCT(points, scores) / SUM(points), TIE_DIGITS)`` — the weighted mean,
  rounded as ``matrix.rank`` compares scores (equal to 9 decimals: one shared rank);
- below the minimum: ``SUMPRODUCT((scores < minimums) * (minimums <> ""))`` — a score strictly
  below its criterion's minimum knocks the system out; a criterion without one never does;
- knock-out: that reason as a formula, or, for a system step 3 knocked out (the shortlist's
  facts are not in the workbook), the reason as text;
- total in the ranking: the total, or "—" when knocked out; rank: ``RANK`` over those (RANK
  skips text, so knocked-out systems leave the ranking as ``matrix.rank`` leaves them out);
- leader: ``INDEX``/``MATCH`` of the highest total in the ranking.

The cost sheet holds the inputs of ``cost.system_cost`` (users, years, budget, each system's
licence price per user or per plan, implementation, integrations, training, add-ons per year;
an empty cell is an unknown amount) and computes the amounts, the total (unknown while an
amount is), the known part, the cost per user per month and the budget check as formulas. A
system the budget check finds above the budget is knocked out on the matrix sheet by formula,
as ``run`` knocks it out; the cost criterion's scores, if the selection has one, are the
matrix's scores as of the export.

The win probability (a simulation), the sensitivity and the verdict cannot recompute in a sheet:
the workbook says they are as of the export.

Numbers are stored as numbers. Their format codes are locale-neutral (``0.00``, ``0%``): Excel
and LibreOffice show the decimal mark of the reader's locale (4,30 in a Russian one), which is
the most a format code can do.

Every text cell is written as text (``_put``): a name, note or answer from the selection file
or a catalog that starts with ``=``, ``+``, ``-`` or ``@`` is never a formula (no formula
injection); characters XML cannot hold are dropped and a text longer than Excel's cell limit is
cut, so the workbook opens without a repair prompt.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.formatting.rule import ColorScaleRule, FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from crmkit.i18n import Lang, msg
from crmkit.select.matrix import SCORE_MAX, SCORE_MIN, TIE_DIGITS, MatrixResult
from crmkit.select.report import flip_points, view
from crmkit.select.run import SelectionResult

#: the formula subset this module writes (the tests evaluate exactly these)
FUNCTIONS = (
    "SUM",
    "SUMPRODUCT",
    "ROUND",
    "RANK",
    "INDEX",
    "MATCH",
    "MAX",
    "LARGE",
    "COUNT",
    "COUNTIF",
    "IF",
    "IFERROR",
    "ISNUMBER",
)
HEADER_ROW = 3
FIRST_ROW = 4
#: the sheets, in order (their names: ``select.book.sheet_<key>``)
SHEETS = ("summary", "matrix", "evidence", "shortlist", "knocked", "sensitivity", "vendor")
#: the cost sheet, after the matrix, when the selection has a cost of ownership
COST_SHEET = "cost"
#: Excel's limit on the characters of one cell
CELL_MAX = 32767
#: Excel's limits on a sheet name
SHEET_NAME_MAX = 31
SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
DASH = "—"
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# the look: a light header, yellow for what may be edited, grey for what is knocked out
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DCE6F1")
_EDIT_FILL = PatternFill("solid", fgColor="FFF2CC")
_OUT_FILL = PatternFill("solid", bgColor="E7E6E6")
_OUT_FONT = Font(color="808080", italic=True)
_FIRST_FONT = Font(bold=True, color="006100")
_FIRST_FILL = PatternFill("solid", bgColor="C6EFCE")
_THIN = Side(style="thin", color="A6A6A6")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
# number formats: locale-neutral codes, shown with the reader's decimal mark
_TWO = "0.00"
_THREE = "0.000"
_SHARE = "0.0%"
_PERCENT = "0%"
_MOVE = "+0%;−0%;0%"


def _put(ws: Worksheet, row: int, col: int, value: Any) -> Any:
    """Write a value; a string is always stored as text, never as a formula."""
    if not isinstance(value, str):
        return ws.cell(row, col, value)
    cell = ws.cell(row, col, _NOT_XML.sub("", value)[:CELL_MAX])
    cell.data_type = "s"
    return cell


def _formula(ws: Worksheet, row: int, col: int, text: str) -> Any:
    """Write one of this module's own formulas (never text from a file)."""
    return ws.cell(row, col, "=" + text)


def sheet_names(lang: Lang) -> dict[str, str]:
    """The sheets' names in ``lang``, as Excel allows them (≤ 31 characters, none of []:*?/\\)."""
    out = {}
    for key in (*SHEETS, COST_SHEET):
        name = SHEET_NAME_BAD.sub(" ", msg(f"select.book.sheet_{key}", lang))
        out[key] = name[:SHEET_NAME_MAX]
    return out


def matrix_systems(m: MatrixResult) -> list[str]:
    """The columns of the matrix sheet: the ranking, then the knocked-out systems that have every
    score (they stay in the sheet, so raising a score over the minimum brings one back)."""
    ranked = [r.system for r in m.ranking]
    return ranked + [e.system for e in m.excluded if e.score is not None and e.system in m.scores]


def matrix_layout(n_criteria: int, n_systems: int) -> dict[str, Any]:
    """Where things are on the matrix sheet (1-based rows and columns)."""
    last = FIRST_ROW + n_criteria - 1
    return {
        "header_row": HEADER_ROW,
        "first_row": FIRST_ROW,
        "last_row": last,
        "total_row": last + 1,
        "below_row": last + 2,
        "status_row": last + 3,
        "ranked_row": last + 4,
        "rank_row": last + 5,
        "leader_row": last + 7,
        "criterion_col": 1,
        "minimum_col": 2,
        "points_col": 3,
        "share_col": 4,
        "first_system_col": 5,
        "last_system_col": 4 + n_systems,
    }


@dataclass(frozen=True)
class MatrixSheet:
    """The matrix sheet as the other sheets refer to it."""

    ws: Worksheet
    layout: dict[str, Any]
    systems: list[str]

    def col(self, system: str) -> int:
        return int(self.layout["first_system_col"]) + self.systems.index(system)

    def ref(self, row: int, col: int) -> str:
        return f"{_quoted(self.ws.title)}!${get_column_letter(col)}${row}"

    def row_range(self, row: int) -> str:
        """The systems' cells of one row, absolute, with the sheet's name."""
        lay = self.layout
        a = get_column_letter(lay["first_system_col"])
        b = get_column_letter(lay["last_system_col"])
        return f"{_quoted(self.ws.title)}!${a}${row}:${b}${row}"


def _quoted(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


# -- the workbook ---------------------------------------------------------------------------------


def render_xlsx(result: SelectionResult, lang: Lang) -> bytes:
    """The workbook of a selection, in ``lang``."""
    names = sheet_names(lang)
    v = view(result, lang)
    wb = Workbook()
    summary = wb.active
    summary.title = names["summary"]
    m = result.step4
    systems = matrix_systems(m) if m is not None else []
    if m is None or not systems:
        _no_matrix_summary(summary, v["title"], lang)
    else:
        cost = _cost_plan(result, names["cost"])
        mx = _matrix_sheet(wb.create_sheet(names["matrix"]), result, m, systems, cost, lang)
        _summary_sheet(summary, result, m, mx, v, lang)
        if cost is not None:
            _cost_sheet(wb.create_sheet(names["cost"]), result, cost, lang)
        _evidence_sheet(wb.create_sheet(names["evidence"]), result, m, lang)
    _shortlist_sheet(wb.create_sheet(names["shortlist"]), result, v["s3"], lang)
    _knocked_sheet(wb.create_sheet(names["knocked"]), result, lang)
    if m is not None and systems:
        _sensitivity_sheet(wb.create_sheet(names["sensitivity"]), result, m, v["s4"], lang)
    _vendor_sheet(wb.create_sheet(names["vendor"]), v["s5"], lang)
    return _save(wb)


def _save(wb: Workbook) -> bytes:
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# -- the matrix sheet -----------------------------------------------------------------------------


def _matrix_sheet(
    ws: Worksheet,
    result: SelectionResult,
    m: MatrixResult,
    systems: list[str],
    cost: CostPlan | None,
    lang: Lang,
) -> MatrixSheet:
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    lay = matrix_layout(len(m.weights), len(systems))
    mx = MatrixSheet(ws, lay, systems)
    _put(ws, 1, 1, result.selection.title or t("select.head.title")).font = _TITLE
    _put(ws, 2, 1, t("select.book.edit_hint"))
    heads = [
        t("select.col.criterion"),
        t("select.col.minimum"),
        t("select.col.points"),
        t("select.col.weight"),
    ]
    heads += [result.name(s, lang) for s in systems]
    _header_row(ws, HEADER_ROW, heads)
    _matrix_criteria(ws, m, systems, lay, lang)
    _matrix_totals(mx, result, m, cost, lang)
    _matrix_checks(ws, lay, lang)
    _matrix_look(mx, m, lang)
    return mx


def _matrix_criteria(
    ws: Worksheet, m: MatrixResult, systems: list[str], lay: dict[str, Any], lang: Lang
) -> None:
    """One row per criterion: name, minimum, points, weight (a formula) and the scores."""
    first, last = lay["first_row"], lay["last_row"]
    pts = get_column_letter(lay["points_col"])
    points_range = f"${pts}${first}:${pts}${last}"
    criteria = {c.id: c for c in m.criteria}
    ahp = m.ahp is not None
    for i, cid in enumerate(m.weights):
        row = first + i
        _put(ws, row, lay["criterion_col"], criteria[cid].name.get(lang))
        minimum = ws.cell(row, lay["minimum_col"], criteria[cid].min_score)
        point = ws.cell(row, lay["points_col"], m.points[cid])
        point.number_format = _THREE if ahp else "0.##"
        share = _formula(ws, row, lay["share_col"], f"{pts}{row}/SUM({points_range})")
        share.number_format = _SHARE
        for cell in (minimum, point):
            cell.fill = _EDIT_FILL
        for j, system in enumerate(systems):
            score = ws.cell(row, lay["first_system_col"] + j, m.scores[system][cid].value)
            score.fill = _EDIT_FILL


def _matrix_totals(
    mx: MatrixSheet, result: SelectionResult, m: MatrixResult, cost: CostPlan | None, lang: Lang
) -> None:
    """Per system: total, criteria below the minimum, knock-out, total in the ranking, rank;
    then the leader. The formulas of the module's docstring; a system on the cost sheet is
    also knocked out when that sheet finds it over the budget."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    ws, lay = mx.ws, mx.layout
    first, last = lay["first_row"], lay["last_row"]
    pts = get_column_letter(lay["points_col"])
    low = get_column_letter(lay["minimum_col"])
    points_range = f"${pts}${first}:${pts}${last}"
    minimum_range = f"${low}${first}:${low}${last}"
    ranked_range = _local_row(lay, lay["ranked_row"])
    labels = {
        "total_row": "select.book.total",
        "below_row": "select.book.below",
        "status_row": "select.book.status",
        "ranked_row": "select.book.ranked",
        "rank_row": "select.col.rank",
        "leader_row": "select.col.leader",
    }
    for row_key, label in labels.items():
        _put(ws, lay[row_key], 1, t(label)).font = _BOLD
    knocked_text = _literal(t("select.book.below_minimum"))
    on_cost = set(cost.systems) if cost is not None else set()
    early = {
        e.system: e.reason.get(lang)
        for e in m.excluded
        if _fixed_knock_out(result, e.system, on_cost)
    }
    for system in mx.systems:
        col = mx.col(system)
        c = get_column_letter(col)
        scores = f"{c}{first}:{c}{last}"
        total = _formula(
            ws,
            lay["total_row"],
            col,
            f"ROUND(SUMPRODUCT({points_range},{scores})/SUM({points_range}),{TIE_DIGITS})",
        )
        total.number_format = _TWO
        _formula(
            ws,
            lay["below_row"],
            col,
            f'SUMPRODUCT(({scores}<{minimum_range})*({minimum_range}<>""))',
        )
        status_row = lay["status_row"]
        if system in early:
            _put(ws, status_row, col, early[system])
        else:
            budget = '""'
            if cost is not None and system in on_cost:
                budget_cell = cost.ref(cost.layout["status_row"], cost.col(system))
                budget = f'IF({budget_cell}<>"",{budget_cell},"")'
            below = f"{c}{lay['below_row']}"
            _formula(ws, status_row, col, f"IF({below}>0,{knocked_text},{budget})")
        ws.cell(status_row, col).alignment = _WRAP
        ranked = _formula(
            ws, lay["ranked_row"], col, f'IF({c}{status_row}="",{c}{lay["total_row"]},"{DASH}")'
        )
        ranked.number_format = _TWO
        ranked.font = _BOLD
        ranked_cell = f"{c}{lay['ranked_row']}"
        _formula(
            ws,
            lay["rank_row"],
            col,
            f'IF(ISNUMBER({ranked_cell}),RANK({ranked_cell},{ranked_range}),"{DASH}")',
        ).font = _BOLD
    header = _local_row(lay, HEADER_ROW)
    _formula(ws, lay["leader_row"], 2, _leader(header, ranked_range)).font = _BOLD


def _fixed_knock_out(result: SelectionResult, system: str, on_cost: set[str]) -> bool:
    """Knocked out for a reason the workbook does not hold: at step 3 (the catalog's facts),
    or by the budget for a system not on the cost sheet. Such a knock-out is written as text."""
    if result.step3.knockout(system) is not None:
        return True
    cost = getattr(result, "cost", None)
    item = cost.of(system) if cost is not None else None
    return bool(item is not None and item.over_budget and system not in on_cost)


def _local_row(lay: dict[str, Any], row: int) -> str:
    a = get_column_letter(lay["first_system_col"])
    b = get_column_letter(lay["last_system_col"])
    return f"${a}${row}:${b}${row}"


def _literal(text: str) -> str:
    """A text as a string literal inside a formula."""
    return '"' + text.replace('"', '""') + '"'


def _leader(names: str, ranked: str) -> str:
    """The name above the highest total in the ranking ("—" when every system is out)."""
    return f'IFERROR(INDEX({names},1,MATCH(MAX({ranked}),{ranked},0)),"{DASH}")'


def _matrix_checks(ws: Worksheet, lay: dict[str, Any], lang: Lang) -> None:
    """What may be typed: scores 1–5, points not negative, a minimum 1–5 or nothing."""
    first, last = lay["first_row"], lay["last_row"]
    c0 = get_column_letter(lay["first_system_col"])
    c1 = get_column_letter(lay["last_system_col"])
    low, high = f"{SCORE_MIN:g}", f"{SCORE_MAX:g}"
    scores = DataValidation(
        type="decimal", operator="between", formula1=low, formula2=high, showErrorMessage=True
    )
    scores.error = msg("select.wiz.bad_number", lang, low=low, high=high)
    scores.add(f"{c0}{first}:{c1}{last}")
    minimum = DataValidation(
        type="decimal",
        operator="between",
        formula1=low,
        formula2=high,
        allow_blank=True,
        showErrorMessage=True,
    )
    minimum.error = scores.error
    mn = get_column_letter(lay["minimum_col"])
    minimum.add(f"{mn}{first}:{mn}{last}")
    points = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True
    )
    pts = get_column_letter(lay["points_col"])
    points.add(f"{pts}{first}:{pts}{last}")
    for dv in (scores, minimum, points):
        ws.add_data_validation(dv)


def _matrix_look(mx: MatrixSheet, m: MatrixResult, lang: Lang) -> None:
    """Borders, a colour scale on the scores, knocked-out columns greyed, the first place
    marked, frozen headers, widths, notes and the print set-up."""
    ws, lay = mx.ws, mx.layout
    c0 = get_column_letter(lay["first_system_col"])
    c1 = get_column_letter(lay["last_system_col"])
    for row in range(HEADER_ROW, lay["rank_row"] + 1):
        for col in range(1, lay["last_system_col"] + 1):
            ws.cell(row, col).border = _BORDER
    score_box = f"{c0}{lay['first_row']}:{c1}{lay['last_row']}"
    ws.conditional_formatting.add(score_box, _score_scale())
    columns = f"{c0}{HEADER_ROW}:{c1}{lay['rank_row']}"
    ws.conditional_formatting.add(
        columns,
        FormulaRule(
            formula=[f'{c0}${lay["status_row"]}<>""'],
            fill=_OUT_FILL,
            font=_OUT_FONT,
            stopIfTrue=True,
        ),
    )
    rank_cells = f"{c0}{lay['rank_row']}:{c1}{lay['rank_row']}"
    ws.conditional_formatting.add(
        rank_cells,
        FormulaRule(formula=[f"{c0}{lay['rank_row']}=1"], fill=_FIRST_FILL, font=_FIRST_FONT),
    )
    note_row = lay["leader_row"] + 2
    notes = [msg("select.text.absolute", lang), view_weights_note(m, lang)]
    for i, line in enumerate(notes):
        _put(ws, note_row + i, 1, line)
    ws.column_dimensions["A"].width = 36
    for col in range(2, lay["share_col"] + 1):
        ws.column_dimensions[get_column_letter(col)].width = 11
    for col in range(lay["first_system_col"], lay["last_system_col"] + 1):
        ws.column_dimensions[get_column_letter(col)].width = 16
    ws.row_dimensions[HEADER_ROW].height = 32
    ws.freeze_panes = ws.cell(lay["first_row"], lay["first_system_col"])
    _print_setup(ws, landscape=len(mx.systems) > 3, rows=f"{HEADER_ROW}:{HEADER_ROW}", cols="A:A")


def view_weights_note(m: MatrixResult, lang: Lang) -> str:
    """How the weights were set, in a sentence (points, or pairwise comparisons)."""
    if m.ahp is None:
        return msg("select.text.weights_points", lang)
    return msg("select.book.weights_ahp", lang)


def _score_scale() -> ColorScaleRule:
    """Red for the lowest mark, yellow in the middle, green for the highest."""
    mid = (SCORE_MIN + SCORE_MAX) / 2
    return ColorScaleRule(
        start_type="num",
        start_value=SCORE_MIN,
        start_color="F8CBAD",
        mid_type="num",
        mid_value=mid,
        mid_color="FFEB84",
        end_type="num",
        end_value=SCORE_MAX,
        end_color="A9D08E",
    )


# -- the cost sheet -------------------------------------------------------------------------------

#: the inputs of the cost sheet, one row each, as ``SystemCostInput`` names them
COST_INPUTS = (
    "licence_per_user_month",
    "licence_plan_month",
    "implementation",
    "integrations",
    "training",
    "addons_per_year",
)
#: the amounts over the years, one row each (``cost.ITEMS``)
COST_ITEMS = ("licences", "implementation", "integrations", "training", "addons")


def cost_layout(n_systems: int) -> dict[str, Any]:
    """Where things are on the cost sheet (1-based rows and columns)."""
    inputs_head = 7
    amounts_head = inputs_head + len(COST_INPUTS) + 3
    first_amount = amounts_head + 1
    last_amount = first_amount + len(COST_ITEMS) - 1
    return {
        "users_row": 3,
        "years_row": 4,
        "budget_row": 5,
        "inputs_head": inputs_head,
        "inputs": {key: inputs_head + 1 + i for i, key in enumerate(COST_INPUTS)},
        "source_row": inputs_head + 1 + len(COST_INPUTS),
        "amounts_head": amounts_head,
        "amounts": {key: first_amount + i for i, key in enumerate(COST_ITEMS)},
        "total_row": last_amount + 1,
        "known_row": last_amount + 2,
        "per_user_row": last_amount + 3,
        "status_row": last_amount + 4,
        "value_col": 2,
        "first_system_col": 2,
        "last_system_col": 1 + n_systems,
    }


@dataclass(frozen=True)
class CostPlan:
    """The cost sheet, known before it is written (the matrix refers to its budget check)."""

    title: str
    layout: dict[str, Any]
    systems: list[str]

    def col(self, system: str) -> int:
        return int(self.layout["first_system_col"]) + self.systems.index(system)

    def ref(self, row: int, col: int) -> str:
        return f"{_quoted(self.title)}!${get_column_letter(col)}${row}"


def cost_systems(result: SelectionResult) -> list[str]:
    """The columns of the cost sheet: the finalists, then every other system of the matrix
    that has a cost entered or known (the budget may knock it out)."""
    cost = getattr(result, "cost", None)
    if cost is None:
        return []
    inside = matrix_systems(result.step4) if result.step4 is not None else []
    out = [s for s in result.finalists if cost.of(s) is not None]
    for item in cost.systems:
        known = any(i.amount is not None or i.unit_price is not None for i in item.items)
        if item.system not in out and item.system in inside and known:
            out.append(item.system)
    return out


def _cost_plan(result: SelectionResult, title: str) -> CostPlan | None:
    systems = cost_systems(result)
    if not systems:
        return None
    return CostPlan(title, cost_layout(len(systems)), systems)


def _cost_sheet(ws: Worksheet, result: SelectionResult, plan: CostPlan, lang: Lang) -> None:
    """The cost of ownership: the inputs (users, years, budget, each system's prices and
    estimates — editable) and the amounts over the years, totals and the budget check as
    formulas, the way ``cost.system_cost`` computes them."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    cost: Any = getattr(result, "cost", None)  # present whenever a plan was made
    lay = plan.layout
    money = _money_format(cost.currency)
    _put(ws, 1, 1, t("select.book.cost_title")).font = _TITLE
    _put(ws, 2, 1, t("select.book.cost_hint"))
    for row, key, value, fmt in (
        (lay["users_row"], "cost_users", cost.users, "0"),
        (lay["years_row"], "cost_years", cost.years, "0"),
        (lay["budget_row"], "cost_budget", cost.budget, money),
    ):
        _put(ws, row, 1, t(f"select.book.{key}")).font = _BOLD
        cell = ws.cell(row, lay["value_col"], value)
        cell.fill, cell.number_format, cell.border = _EDIT_FILL, fmt, _BORDER
    names = [result.name(s, lang) for s in plan.systems]
    _header_row(ws, lay["inputs_head"], [t("select.book.cost_inputs"), *names])
    _header_row(ws, lay["amounts_head"], [t("select.book.cost_over", years=cost.years), *names])
    for key, row in lay["inputs"].items():
        _put(ws, row, 1, t(f"select.book.cost_{key}"))
    _put(ws, lay["source_row"], 1, t("select.book.cost_source"))
    labels = {lay["amounts"][k]: f"cost_item_{k}" for k in COST_ITEMS}
    labels |= {lay[k]: f"cost_{k[:-4]}" for k in ("total_row", "known_row", "per_user_row")}
    labels[lay["status_row"]] = "cost_budget_check"
    for row, key in labels.items():
        _put(ws, row, 1, t(f"select.book.{key}")).font = (
            _BOLD if row >= lay["total_row"] else Font()
        )
    for system in plan.systems:
        _cost_column(ws, plan, cost.of(system), cost.currency, lang)
    _cost_look(ws, plan)


def _cost_column(ws: Worksheet, plan: CostPlan, item: Any, currency: str, lang: Lang) -> None:
    """One system: its inputs as numbers (an unknown one left empty), then the formulas."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    money = _money_format(currency)
    lay = plan.layout
    col = plan.col(item.system)
    c = get_column_letter(col)
    inputs = lay["inputs"]
    by_item = {i.item: i for i in item.items}
    licence = by_item["licences"]
    values = {
        "licence_per_user_month": licence.unit_price if licence.basis == "per_user_month" else None,
        "licence_plan_month": licence.unit_price if licence.basis == "plan_month" else None,
        "implementation": by_item["implementation"].amount,
        "integrations": by_item["integrations"].amount,
        "training": by_item["training"].amount,
        "addons_per_year": by_item["addons"].unit_price,
    }
    for key, row in inputs.items():
        cell = ws.cell(row, col, values[key])
        cell.fill, cell.number_format = _EDIT_FILL, money
    source = {
        "input": t("select.book.cost_entered"),
        "catalog": t("select.book.cost_catalog", as_of=licence.as_of or DASH),
    }.get(licence.origin, t("select.book.cost_unknown"))
    _put(ws, lay["source_row"], col, source).alignment = _WRAP
    users = f"${get_column_letter(lay['value_col'])}${lay['users_row']}"
    years = f"${get_column_letter(lay['value_col'])}${lay['years_row']}"
    budget = f"${get_column_letter(lay['value_col'])}${lay['budget_row']}"
    per_user = f"{c}{inputs['licence_per_user_month']}"
    plan_month = f"{c}{inputs['licence_plan_month']}"
    formulas = {
        "licences": f"IF(ISNUMBER({per_user}),IF(ISNUMBER({users}),{per_user}*{users}*12*{years},"
        f'"{DASH}"),IF(ISNUMBER({plan_month}),{plan_month}*12*{years},"{DASH}"))',
        "addons": f"IF(ISNUMBER({c}{inputs['addons_per_year']}),"
        f'{c}{inputs["addons_per_year"]}*{years},"{DASH}")',
    }
    for key in ("implementation", "integrations", "training"):
        formulas[key] = f'IF(ISNUMBER({c}{inputs[key]}),{c}{inputs[key]},"{DASH}")'
    for key, row in lay["amounts"].items():
        _formula(ws, row, col, formulas[key]).number_format = money
    amounts = f"{c}{lay['amounts']['licences']}:{c}{lay['amounts']['addons']}"
    total = f"{c}{lay['total_row']}"
    over = _literal(t("select.book.cost_over_budget"))
    rows = {
        "total_row": f'IF(COUNT({amounts})={len(COST_ITEMS)},SUM({amounts}),"{DASH}")',
        "known_row": f"SUM({amounts})",
        "per_user_row": f"IF(ISNUMBER({total}),IF(ISNUMBER({users}),"
        f'{total}/({users}*12*{years}),"{DASH}"),"{DASH}")',
        "status_row": f'IF(ISNUMBER({budget}),IF({c}{lay["known_row"]}>{budget},{over},""),"")',
    }
    for key, text in rows.items():
        cell = _formula(ws, lay[key], col, text)
        cell.number_format = _money_format(currency, 2) if key == "per_user_row" else money
        cell.font = _BOLD
    ws.cell(lay["status_row"], col).alignment = _WRAP


def _money_format(currency: str, digits: int = 0) -> str:
    """Thousands grouped, the currency after the figure (the reader's locale shows the group
    and decimal marks)."""
    decimals = "." + "0" * digits if digits else ""
    return f'#,##0{decimals} "{currency.replace(chr(34), "")}"'


def _cost_look(ws: Worksheet, plan: CostPlan) -> None:
    lay = plan.layout
    last_col = lay["last_system_col"]
    blocks = [
        (lay["inputs_head"], lay["source_row"]),
        (lay["amounts_head"], lay["status_row"]),
    ]
    for top, bottom in blocks:
        for row in range(top, bottom + 1):
            for col in range(1, last_col + 1):
                ws.cell(row, col).border = _BORDER
    c0, c1 = get_column_letter(lay["first_system_col"]), get_column_letter(last_col)
    ws.conditional_formatting.add(
        f"{c0}{lay['amounts_head']}:{c1}{lay['status_row']}",
        FormulaRule(
            formula=[f'{c0}${lay["status_row"]}<>""'],
            fill=_OUT_FILL,
            font=_OUT_FONT,
            stopIfTrue=True,
        ),
    )
    money = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", allow_blank=True
    )
    money.showErrorMessage = True
    first_input = min(lay["inputs"].values())
    last_input = max(lay["inputs"].values())
    money.add(f"{c0}{first_input}:{c1}{last_input}")
    value = get_column_letter(lay["value_col"])
    money.add(f"{value}{lay['budget_row']}")
    ws.add_data_validation(money)
    whole = DataValidation(
        type="whole", operator="greaterThanOrEqual", formula1="1", allow_blank=True
    )
    whole.showErrorMessage = True
    whole.add(f"{value}{lay['users_row']}:{value}{lay['years_row']}")
    ws.add_data_validation(whole)
    ws.column_dimensions["A"].width = 38
    for col in range(2, last_col + 1):
        ws.column_dimensions[get_column_letter(col)].width = 18
    ws.freeze_panes = "B1"  # the labels stay in view
    _print_setup(ws, landscape=len(plan.systems) > 3, cols="A:A")


# -- the summary sheet ----------------------------------------------------------------------------


def _summary_sheet(
    ws: Worksheet,
    result: SelectionResult,
    m: MatrixResult,
    mx: MatrixSheet,
    v: dict[str, Any],
    lang: Lang,
) -> None:
    """The answer first: the recommended system and its lead (formulas), each system's total,
    rank and knock-out (formulas), the win probability (as of the export), a chart."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    lay = mx.layout
    ranked = mx.row_range(lay["ranked_row"])
    names = mx.row_range(HEADER_ROW)
    _put(ws, 1, 1, v["title"]).font = _TITLE
    answers = [
        ("select.book.recommended", _leader(names, ranked), None),
        ("select.book.leader_total", f'IF(COUNT({ranked})=0,"{DASH}",MAX({ranked}))', _TWO),
        (
            "select.book.lead",
            f'IF(COUNT({ranked})<2,"{DASH}",MAX({ranked})-LARGE({ranked},2))',
            _TWO,
        ),
    ]
    for i, (label, formula, fmt) in enumerate(answers):
        row = 3 + i
        _put(ws, row, 1, t(label)).font = _BOLD
        cell = _formula(ws, row, 2, formula)
        cell.font = Font(bold=True, size=13 if i == 0 else 11)
        cell.alignment = Alignment(horizontal="left")
        if fmt:
            cell.number_format = fmt
    tie = _literal(t("select.book.tie"))
    _formula(ws, 6, 1, f'IF(COUNTIF({ranked},MAX({ranked}))>1,{tie},"")').font = _BOLD
    end = _summary_table(ws, m, mx, result, lang, first_row=8)
    lines = [
        (t("select.book.as_of_head"), _BOLD),
        (t("select.book.as_of"), None),
        (v["s4"]["verdict"], None),
        *((note, None) for note in v["s4"]["verdict_notes"]),
        (t("select.book.win_note"), None),
    ]
    for i, (line, font) in enumerate(lines):
        cell = _put(ws, end + 2 + i, 1, line)
        if font:
            cell.font = font
    _summary_chart(ws, mx, t("select.book.chart"), anchor="G3")
    ws.column_dimensions["A"].width = 34
    for col, width in zip("BCDE", (14, 10, 30, 16), strict=True):
        ws.column_dimensions[col].width = width
    _print_setup(ws, landscape=True)


def _summary_table(
    ws: Worksheet,
    m: MatrixResult,
    mx: MatrixSheet,
    result: SelectionResult,
    lang: Lang,
    *,
    first_row: int,
) -> int:
    """Each system's total, rank and knock-out read from the matrix; returns the last row."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    lay = mx.layout
    heads = [
        t("select.col.system"),
        t("select.book.total"),
        t("select.col.rank"),
        t("select.book.status"),
        t("select.book.win_as_of"),
    ]
    _header_row(ws, first_row, heads)
    ranked = {r.system for r in m.ranking}
    row = first_row
    for system in mx.systems:
        row += 1
        col = mx.col(system)
        _put(ws, row, 1, result.name(system, lang))
        _formula(ws, row, 2, mx.ref(lay["total_row"], col)).number_format = _TWO
        _formula(ws, row, 3, mx.ref(lay["rank_row"], col))
        _formula(ws, row, 4, mx.ref(lay["status_row"], col)).alignment = _WRAP
        win = m.robustness.win.get(system, 0.0) if system in ranked else DASH
        _put(ws, row, 5, win).number_format = _PERCENT
    for r in range(first_row, row + 1):
        for col in range(1, len(heads) + 1):
            ws.cell(r, col).border = _BORDER
    if row > first_row:
        box = f"A{first_row + 1}:E{row}"
        ws.conditional_formatting.add(
            box,
            FormulaRule(
                formula=[f'$D{first_row + 1}<>""'], fill=_OUT_FILL, font=_OUT_FONT, stopIfTrue=True
            ),
        )
        ws.conditional_formatting.add(
            box, FormulaRule(formula=[f"$C{first_row + 1}=1"], fill=_FIRST_FILL, font=_FIRST_FONT)
        )
    return row


def _summary_chart(ws: Worksheet, mx: MatrixSheet, title: str, *, anchor: str) -> None:
    """A bar per system: its total in the ranking, read from the matrix's formula cells (a
    knocked-out system has no bar)."""
    lay = mx.layout
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.legend = None
    data = Reference(
        mx.ws,
        min_col=lay["first_system_col"],
        max_col=lay["last_system_col"],
        min_row=lay["ranked_row"],
        max_row=lay["ranked_row"],
    )
    names = Reference(
        mx.ws,
        min_col=lay["first_system_col"],
        max_col=lay["last_system_col"],
        min_row=HEADER_ROW,
        max_row=HEADER_ROW,
    )
    chart.add_data(data, from_rows=True, titles_from_data=False)
    chart.set_categories(names)
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = SCORE_MAX
    chart.y_axis.majorUnit = 1
    chart.y_axis.number_format = "0"
    chart.x_axis.delete = False  # openpyxl hides both axes unless told
    chart.y_axis.delete = False
    chart.dataLabels = DataLabelList()
    chart.dataLabels.showVal = True
    chart.dataLabels.numFmt = _TWO
    chart.width, chart.height = 16, 8
    ws.add_chart(chart, anchor)


def _no_matrix_summary(ws: Worksheet, title: str, lang: Lang) -> None:
    _put(ws, 1, 1, title).font = _TITLE
    _put(ws, 3, 1, msg("select.book.no_scores", lang))
    ws.column_dimensions["A"].width = 90
    _print_setup(ws, landscape=False)


# -- the sheets of values as of the export --------------------------------------------------------


def _evidence_sheet(ws: Worksheet, result: SelectionResult, m: MatrixResult, lang: Lang) -> None:
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    names = {c.id: c.name.get(lang) for c in m.criteria}
    rows = [
        [
            result.name(system, lang),
            names[cid],
            score.value,
            t(f"select.ev.{score.evidence}"),
            t(f"select.conf.{score.confidence}"),
            score.note or DASH,
        ]
        for system, row in m.scores.items()
        for cid, score in row.items()
    ]
    heads = ["system", "criterion", "score", "evidence", "confidence", "note"]
    _table(ws, [t(f"select.col.{h}") for h in heads], rows, widths=(18, 30, 8, 16, 14, 60))
    ws.conditional_formatting.add(f"C2:C{len(rows) + 1}", _score_scale())
    _print_setup(ws, landscape=True, rows="1:1")


def _shortlist_sheet(
    ws: Worksheet, result: SelectionResult, s3: dict[str, Any], lang: Lang
) -> None:
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    rows = [
        [result.name(c.system, lang), c.confirmed, c.unknown, c.lacking, shown["open"]]
        for c, shown in zip(result.step3.chosen, s3["chosen"], strict=True)
    ]
    heads = ["system", "fit", "unknown_share", "lacking_share", "open"]
    end = _table(
        ws,
        [t(f"select.col.{h}") for h in heads],
        rows,
        widths=(18, 16, 16, 16, 60),
        formats={2: _PERCENT, 3: _PERCENT, 4: _PERCENT},
    )
    _lines(ws, end + 2, [s3["rule"], *s3["leads_in_deals"], s3["trial"], s3["beginners"]])
    _print_setup(ws, landscape=True, rows="1:1")


def _knocked_sheet(ws: Worksheet, result: SelectionResult, lang: Lang) -> None:
    """Who is out and why, as of the export (the matrix's knock-out row recomputes)."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    m = result.step4
    rows: list[list[Any]] = []
    in_matrix = set()
    for e in m.excluded if m is not None else ():
        in_matrix.add(e.system)
        score = e.score if e.score is not None else DASH
        place = e.would_rank if e.would_rank is not None else DASH
        rows.append([result.name(e.system, lang), e.reason.get(lang), score, place])
    for k in result.step3.knocked_out:
        if k.system not in in_matrix:
            rows.append([result.name(k.system, lang), k.reason(lang), DASH, DASH])
    heads = ["system", "reason", "score", "would_rank"]
    end = _table(
        ws,
        [t(f"select.col.{h}") for h in heads],
        rows,
        widths=(18, 70, 10, 16),
        formats={3: _TWO},
    )
    _lines(ws, end + 2, [t("select.book.knocked_note")])
    _print_setup(ws, landscape=True, rows="1:1")


def _sensitivity_sheet(
    ws: Worksheet, result: SelectionResult, m: MatrixResult, s4: dict[str, Any], lang: Lang
) -> None:
    """For each criterion, the weight (and points) at which the leader changes, as of the
    export."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    names = {c.id: c.name.get(lang) for c in m.criteria}
    rows: list[list[Any]] = []
    for f in m.sensitivity:
        points = flip_points(f, m.points)
        move = f.relative_move
        if move is not None and f.flip_weight is not None and f.flip_weight < f.weight:
            move = -move
        rows.append(
            [
                names[f.criterion],
                f.weight,
                f.flip_weight if f.flip_weight is not None else DASH,
                points if points is not None else DASH,
                result.name(f.flips_to, lang) if f.flips_to else DASH,
                DASH if move is None else ("∞" if move == float("inf") else move),
            ]
        )
    heads = ["criterion", "weight", "flip", "flip_points", "flips_to", "move"]
    end = _table(
        ws,
        [t(f"select.col.{h}") for h in heads],
        rows,
        widths=(32, 10, 16, 16, 18, 14),
        formats={2: _THREE, 3: _THREE, 4: "0.0" if m.ahp is None else _THREE, 6: _MOVE},
    )
    _lines(ws, end + 2, [s4["flip_rule"], t("select.book.sensitivity_note")])
    _print_setup(ws, landscape=True, rows="1:1")


def _vendor_sheet(ws: Worksheet, s5: list[dict[str, Any]], lang: Lang) -> None:
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    rows = [
        [sheet["name"], q["kind"], q["question"], q["answer"]]
        for sheet in s5
        for q in sheet["questions"]
    ]
    heads = [t("select.col.system"), t("select.book.kind"), t("select.col.question")]
    heads.append(t("select.col.answer"))
    _table(ws, heads, rows, widths=(18, 22, 60, 40))
    _print_setup(ws, landscape=True, rows="1:1")


# -- helpers --------------------------------------------------------------------------------------


def _header_row(ws: Worksheet, row: int, texts: Sequence[str]) -> None:
    for col, text in enumerate(texts, 1):
        cell = _put(ws, row, col, text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = _WRAP
        cell.border = _BORDER


def _table(
    ws: Worksheet,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    widths: Sequence[int],
    formats: dict[int, str] | None = None,
) -> int:
    """A header row and the rows below it, bordered, text wrapped, the header frozen; returns
    the last row written."""
    _header_row(ws, 1, headers)
    for r, values in enumerate(rows, 2):
        for col, value in enumerate(values, 1):
            cell = _put(ws, r, col, value)
            cell.border = _BORDER
            cell.alignment = _WRAP
            if formats and col in formats and not isinstance(value, str):
                cell.number_format = formats[col]
    for col, width in enumerate(widths, 1):
        ws.column_dimensions[get_column_letter(col)].width = width
    ws.freeze_panes = "A2"
    return len(rows) + 1


def _lines(ws: Worksheet, row: int, lines: Sequence[str]) -> None:
    for i, line in enumerate(lines):
        _put(ws, row + i, 1, line)


def _print_setup(
    ws: Worksheet, *, landscape: bool, rows: str | None = None, cols: str | None = None
) -> None:
    """A4, one page wide (as many pages down as it takes), the header repeated on each page."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if rows:
        ws.print_title_rows = rows
    if cols:
        ws.print_title_cols = cols

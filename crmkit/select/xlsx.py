"""The selection as an Excel workbook with live formulas.

The "Matrix" sheet holds the weights (points, editable) and the scores (editable, 1–5); the
weighted mean of every system is ``ROUND(SUMPRODUCT(weights, scores) / SUM(weights), 9)`` (the
tie rule of ``matrix.rank``: scores equal to 9 decimals share a rank) and
its place ``RANK(score, scores)``, so a client who changes a weight in Excel sees the ranking
move. The other sheets (evidence, knock-outs, sensitivity, vendor questions) are the values
crmkit computed for the weights as delivered; the sensitivity sheet also gives each flip in
points, the editable unit (the flip weight times the sum of the points).

Every text cell is written as text (``_put``): a name, note or answer from the selection file
or a catalog that starts with ``=``, ``+``, ``-`` or ``@`` is never a formula (no formula
injection); characters XML cannot hold are dropped and a text longer than Excel's cell limit is
cut, so the workbook opens without a repair prompt.
"""

from __future__ import annotations

import io
import re
from typing import Any

from crmkit.i18n import Lang, msg
from crmkit.select.matrix import TIE_DIGITS
from crmkit.select.report import view
from crmkit.select.run import SelectionResult

#: the formula subset this module writes (the tests evaluate exactly these)
FUNCTIONS = ("SUM", "SUMPRODUCT", "ROUND", "RANK", "INDEX", "MATCH", "MAX")
HEADER_ROW = 3
FIRST_ROW = 4
#: Excel's limit on the characters of one cell
CELL_MAX = 32767
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _put(ws: Any, row: int, col: int, value: Any) -> Any:
    """Write a value; a string is always stored as text, never as a formula."""
    if not isinstance(value, str):
        return ws.cell(row, col, value)
    cell = ws.cell(row, col, _NOT_XML.sub("", value)[:CELL_MAX])
    cell.data_type = "s"
    return cell


def matrix_layout(n_criteria: int, n_systems: int) -> dict[str, Any]:
    """Where things are on the Matrix sheet (1-based rows and columns)."""
    last = FIRST_ROW + n_criteria - 1
    return {
        "first_row": FIRST_ROW,
        "last_row": last,
        "total_row": last + 1,
        "rank_row": last + 2,
        "leader_row": last + 4,
        "points_col": 2,
        "share_col": 3,
        "first_system_col": 4,
        "last_system_col": 3 + n_systems,
    }


def render_xlsx(result: SelectionResult, lang: Lang) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    v = view(result, lang)
    m = result.step4
    wb = Workbook()
    ws = wb.active
    ws.title = "Matrix"
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="F1F5F9")
    edit_fill = PatternFill("solid", fgColor="FFF7D6")
    _put(ws, 1, 1, v["title"]).font = Font(bold=True, size=14)
    if m is None or not m.ranking:
        _put(ws, 3, 1, t("select.text.no_matrix"))
        return _save(wb, io)
    systems = [r.system for r in m.ranking]
    crits = list(m.weights)
    lay = matrix_layout(len(crits), len(systems))
    first, last = lay["first_row"], lay["last_row"]
    total_row, rank_row = lay["total_row"], lay["rank_row"]
    c0, c1 = lay["first_system_col"], lay["last_system_col"]
    pts = get_column_letter(lay["points_col"])
    heads = [t("select.col.criterion"), t("select.col.points"), t("select.col.weight")]
    heads += [result.name(s, lang) for s in systems]
    for col, text in enumerate(heads, 1):
        cell = _put(ws, HEADER_ROW, col, text)
        cell.font = bold
        cell.fill = head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    names = {c.id: c.name.get(lang) for c in m.criteria}
    weights_range = f"${pts}${first}:${pts}${last}"
    for i, cid in enumerate(crits):
        row = first + i
        _put(ws, row, 1, names[cid])
        point = ws.cell(row, 2, m.points[cid])
        point.fill = edit_fill
        share = ws.cell(row, 3, f"={pts}{row}/SUM({weights_range})")
        share.number_format = "0.000"
        for j, s in enumerate(systems):
            cell = ws.cell(row, c0 + j, m.scores[s][cid].value)
            cell.fill = edit_fill
    _put(ws, total_row, 1, t("select.col.score")).font = bold
    _put(ws, rank_row, 1, t("select.col.rank")).font = bold
    first_total = f"${get_column_letter(c0)}${total_row}"
    last_total = f"${get_column_letter(c1)}${total_row}"
    for j in range(len(systems)):
        col = get_column_letter(c0 + j)
        total = ws.cell(
            total_row,
            c0 + j,
            f"=ROUND(SUMPRODUCT({weights_range},{col}{first}:{col}{last})"
            f"/SUM({weights_range}),{TIE_DIGITS})",
        )
        total.font = bold
        total.number_format = "0.00"
        ws.cell(rank_row, c0 + j, f"=RANK({col}{total_row},{first_total}:{last_total})")
    leader_row = lay["leader_row"]
    _put(ws, leader_row, 1, t("select.col.leader")).font = bold
    header_range = f"${get_column_letter(c0)}${HEADER_ROW}:${get_column_letter(c1)}${HEADER_ROW}"
    totals = f"{first_total}:{last_total}"
    ws.cell(leader_row, 2, f"=INDEX({header_range},1,MATCH(MAX({totals}),{totals},0))").font = bold
    _put(ws, leader_row + 2, 1, t("select.text.weights_points"))
    _put(ws, leader_row + 3, 1, t("select.text.absolute"))
    scores_box = f"{get_column_letter(c0)}{first}:{get_column_letter(c1)}{last}"
    dv = DataValidation(
        type="decimal", operator="between", formula1="1", formula2="5", showErrorMessage=True
    )
    dv.error = t("select.wiz.bad_number", low=1, high=5)
    ws.add_data_validation(dv)
    dv.add(scores_box)
    points_dv = DataValidation(
        type="decimal", operator="greaterThanOrEqual", formula1="0", showErrorMessage=True
    )
    ws.add_data_validation(points_dv)
    points_dv.add(f"{pts}{first}:{pts}{last}")
    ws.column_dimensions["A"].width = 34
    for col in range(2, c1 + 1):
        ws.column_dimensions[get_column_letter(col)].width = 14
    ws.freeze_panes = ws.cell(first, c0)

    s4 = v["s4"]
    ev = wb.create_sheet("Evidence")
    _rows(
        ev,
        [
            t("select.col.system"),
            t("select.col.criterion"),
            t("select.col.score"),
            t("select.col.evidence"),
            t("select.col.confidence"),
            t("select.col.note"),
        ],
        [
            [
                r["system"],
                r["criterion"],
                float(r["score"]),
                r["evidence"],
                r["confidence"],
                r["note"],
            ]
            for r in s4["evidence"]
        ],
        bold,
        head_fill,
    )
    short = wb.create_sheet("Shortlist")
    s3 = v["s3"]
    _rows(
        short,
        [
            t("select.col.system"),
            t("select.col.fit"),
            t("select.col.unknown_share"),
            t("select.col.lacking_share"),
            t("select.col.open"),
        ],
        [[r["name"], r["fit"], r["unknown"], r["lacking"], r["open"]] for r in s3["chosen"]],
        bold,
        head_fill,
    )
    row = len(s3["chosen"]) + 3
    for line in [s3["rule"], *s3["leads_in_deals"], s3["trial"], s3["beginners"]]:
        _put(short, row, 1, line)
        row += 1
    ko = wb.create_sheet("Knocked out")
    _rows(
        ko,
        [
            t("select.col.system"),
            t("select.col.reason"),
            t("select.col.score"),
            t("select.col.would_rank"),
        ],
        [[r["name"], r["reason"], r["score"], r["would_rank"]] for r in s4["excluded"]]
        + [
            [r["name"], r["reason"], "—", "—"]
            for r in v["s3"]["knocked"]
            if r["name"] not in {x["name"] for x in s4["excluded"]}
        ],
        bold,
        head_fill,
    )
    sens = wb.create_sheet("Sensitivity")
    _rows(
        sens,
        [
            t("select.col.criterion"),
            t("select.col.weight"),
            t("select.col.flip"),
            t("select.col.flip_points"),
            t("select.col.flips_to"),
            t("select.col.move"),
        ],
        [
            [
                r["name"],
                float(r["weight"]),
                r["flip"],
                r["flip_points_value"] if r["flip_points_value"] is not None else "—",
                r["to"],
                r["move"],
            ]
            for r in s4["sensitivity"]
        ],
        bold,
        head_fill,
    )
    row = len(s4["sensitivity"]) + 3
    for line in [s4["flip_rule"], *s4["robustness"], s4["verdict"], s4["verdict_rule"]]:
        _put(sens, row, 1, line)
        row += 1
    vendor = wb.create_sheet("Vendor")
    rows: list[list[Any]] = []
    for sheet in v["s5"]:
        for q in sheet["questions"]:
            rows.append([sheet["name"], q["kind"], q["question"], q["answer"]])
    _rows(
        vendor,
        [t("select.col.system"), "", t("select.col.question"), t("select.col.answer")],
        rows,
        bold,
        head_fill,
    )
    return _save(wb, io)


def _rows(ws: Any, headers: list[str], rows: list[list[Any]], bold: Any, fill: Any) -> None:
    from openpyxl.utils import get_column_letter

    for col, text in enumerate(headers, 1):
        cell = _put(ws, 1, col, text)
        cell.font = bold
        cell.fill = fill
    for r, values in enumerate(rows, 2):
        for col, value in enumerate(values, 1):
            _put(ws, r, col, value)
    for col in range(1, len(headers) + 1):
        ws.column_dimensions[get_column_letter(col)].width = 18 if col != 3 else 60


def _save(wb: Any, io_module: Any) -> bytes:
    buffer = io_module.BytesIO()
    wb.save(buffer)
    data: bytes = buffer.getvalue()
    return data

"""The workbook: its live formulas give crmkit's totals, ranks, knock-outs and leader, checked by
evaluating them; its structure (sheets in the run's language, a chart, frozen panes, print set-up,
conditional formats, numbers as numbers, no tool text).

A small evaluator below understands exactly the formula subset ``crmkit.select.xlsx`` writes
(numbers, text, cell references and ranges, also on another sheet, + - * / and comparisons,
SUM, SUMPRODUCT, ROUND, RANK, INDEX, MATCH, MAX, LARGE, COUNT, COUNTIF, IF, IFERROR, ISNUMBER),
so these tests run anywhere; tests/test_select_xlsx_libreoffice.py recalculates the same
workbooks with LibreOffice where it is installed.
"""

from __future__ import annotations

import dataclasses
import io
import math
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.i18n import LANGS
from crmkit.select.catalog import shipped_catalog
from crmkit.select.matrix import rank
from crmkit.select.problems import library
from crmkit.select.run import run_selection
from crmkit.select.selection import load_selection
from crmkit.select.xlsx import (
    FUNCTIONS,
    SHEETS,
    cost_systems,
    matrix_layout,
    matrix_systems,
    render_xlsx,
    sheet_names,
)

openpyxl = pytest.importorskip("openpyxl")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DASH = "—"

# -- a small formula evaluator ------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<str>\"(?:[^\"]|\"\")*\")"
    r"|(?P<ref>(?:'(?:[^']|'')+'!|[A-Za-z_][\w.]*!)?\$?[A-Z]+\$?\d+(?::\$?[A-Z]+\$?\d+)?)"
    r"|(?P<fn>[A-Z]+)\(|(?P<num>\d+(?:\.\d+)?)|(?P<op><=|>=|<>|[-+*/(),<>=]))"
)
_COMPARE = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    ">": lambda a, b: a > b,
    "<=": lambda a, b: a <= b,
    ">=": lambda a, b: a >= b,
}
_ARITH = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
}


class FormulaError(Exception):
    """#N/A, #NUM!, #VALUE!, #DIV/0!: what IFERROR catches."""


def _cell_rc(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


def is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _as_number(v: Any) -> float:
    if v is None or v == "":
        return 0.0
    if isinstance(v, bool):
        return float(v)
    if is_number(v):
        return float(v)
    raise FormulaError(f"#VALUE! {v!r}")


def _order_key(v: Any) -> tuple[int, Any]:
    """Excel's order across types: numbers < text < logical; an empty cell is 0 or ""."""
    if isinstance(v, bool):
        return (2, v)
    if is_number(v):
        return (0, float(v))
    return (1, str(v).lower())


def _compare(op: str, a: Any, b: Any) -> bool:
    if a is None:
        a = "" if isinstance(b, str) else 0.0
    if b is None:
        b = "" if isinstance(a, str) else 0.0
    return bool(_COMPARE[op](_order_key(a), _order_key(b)))


def _elementwise(f: Any, a: Any, b: Any) -> Any:
    if isinstance(a, list) or isinstance(b, list):
        rows = a if isinstance(a, list) else b
        pick = lambda x, i, j: x[i][j] if isinstance(x, list) else x  # noqa: E731
        return [
            [f(pick(a, i, j), pick(b, i, j)) for j in range(len(rows[0]))] for i in range(len(rows))
        ]
    return f(a, b)


def _flat(value: Any) -> list[Any]:
    return [v for row in value for v in row] if isinstance(value, list) else [value]


def _numbers(*args: Any) -> list[float]:
    """The numbers among the arguments (text and blanks in a range are skipped, as in Excel)."""
    return [float(v) for a in args for v in _flat(a) if is_number(v)]


class Book:
    """The workbook's cells, evaluated on demand (each formula once)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        self.cache: dict[tuple[str, int, int], Any] = {}

    def value(self, sheet: str, row: int, col: int) -> Any:
        key = (sheet, row, col)
        if key not in self.cache:
            raw = self.wb[sheet].cell(row, col).value
            if isinstance(raw, str) and raw.startswith("="):
                self.cache[key] = self.evaluate(parse(raw[1:]), sheet)
            else:
                self.cache[key] = raw
        return self.cache[key]

    def evaluate(self, node: Any, sheet: str) -> Any:
        kind = node[0]
        if kind in ("num", "str"):
            return node[1]
        if kind == "ref":
            return self.reference(node[1], sheet)
        if kind == "neg":
            return _elementwise(lambda a, _: -_as_number(a), self.evaluate(node[1], sheet), 0)
        if kind == "bin":
            op, a, b = node[1], self.evaluate(node[2], sheet), self.evaluate(node[3], sheet)
            if op in _COMPARE:
                return _elementwise(lambda x, y: _compare(op, x, y), a, b)

            def arith(x: Any, y: Any) -> float:
                try:
                    return float(_ARITH[op](_as_number(x), _as_number(y)))
                except ZeroDivisionError as exc:
                    raise FormulaError("#DIV/0!") from exc

            return _elementwise(arith, a, b)
        assert kind == "fn"
        name, args = node[1], node[2]
        assert name in FUNCTIONS, name
        if name == "IF":
            test = self.evaluate(args[0], sheet)
            chosen = args[1] if _as_number(test) else (args[2] if len(args) > 2 else None)
            return False if chosen is None else self.evaluate(chosen, sheet)
        if name == "IFERROR":
            try:
                return self.evaluate(args[0], sheet)
            except FormulaError:
                return self.evaluate(args[1], sheet)
        return getattr(self, "fn_" + name.lower())(*(self.evaluate(a, sheet) for a in args))

    def reference(self, text: str, sheet: str) -> Any:
        if "!" in text:
            name, text = text.rsplit("!", 1)
            sheet = name[1:-1].replace("''", "'") if name.startswith("'") else name
        if ":" not in text:
            return self.value(sheet, *_cell_rc(text))
        a, b = text.split(":")
        (r1, c1), (r2, c2) = _cell_rc(a), _cell_rc(b)
        return [[self.value(sheet, r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]

    # the functions, as Excel and LibreOffice define them for these arguments

    def fn_sum(self, *args: Any) -> float:
        return math.fsum(_numbers(*args))

    def fn_sumproduct(self, *arrays: Any) -> float:
        flats = [_flat(a) for a in arrays]
        total = 0.0
        for values in zip(*flats, strict=True):
            product = 1.0
            for v in values:
                product *= float(v) if is_number(v) or isinstance(v, bool) else 0.0
            total += product
        return total

    def fn_round(self, x: Any, digits: Any) -> float:
        return round(_as_number(x), int(_as_number(digits)))

    def fn_max(self, *args: Any) -> float:
        return max(_numbers(*args), default=0.0)

    def fn_large(self, values: Any, k: Any) -> float:
        numbers = sorted(_numbers(values), reverse=True)
        if not 1 <= int(k) <= len(numbers):
            raise FormulaError("#NUM!")
        return numbers[int(k) - 1]

    def fn_count(self, *args: Any) -> int:
        return len(_numbers(*args))

    def fn_countif(self, values: Any, x: Any) -> int:
        return sum(1 for v in _flat(values) if is_number(v) and v == x)

    def fn_isnumber(self, x: Any) -> bool:
        return is_number(x)

    def fn_rank(self, x: Any, values: Any) -> int:  # descending, ties share the best rank
        if not is_number(x):
            raise FormulaError("#VALUE!")
        return 1 + sum(1 for v in _numbers(values) if v > x)

    def fn_match(self, x: Any, values: Any, mode: Any) -> int:
        assert mode == 0
        for i, v in enumerate(_flat(values)):
            if type(v) is type(x) and v == x or is_number(v) and is_number(x) and v == x:
                return i + 1
        raise FormulaError("#N/A")

    def fn_index(self, values: Any, row: Any, col: Any) -> Any:
        try:
            return values[int(row) - 1][int(col) - 1]
        except IndexError as exc:
            raise FormulaError("#REF!") from exc


def parse(text: str) -> Any:
    """A formula's syntax tree: ("num", x), ("str", s), ("ref", text), ("neg", node),
    ("bin", op, a, b), ("fn", NAME, [args])."""
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m and m.end() > pos, f"cannot parse {text[pos:]!r}"
        kind = m.lastgroup or ""
        tokens.append((kind, m.group(kind)))
        pos = m.end()
    tokens.append(("end", ""))
    at = 0

    def peek() -> tuple[str, str]:
        return tokens[at]

    def take() -> tuple[str, str]:
        nonlocal at
        at += 1
        return tokens[at - 1]

    def binary(ops: tuple[str, ...], below: Any) -> Any:
        def level() -> Any:
            node = below()
            while peek()[0] == "op" and peek()[1] in ops:
                op = take()[1]
                node = ("bin", op, node, below())
            return node

        return level

    def unary() -> Any:
        if peek() == ("op", "-"):
            take()
            return ("neg", unary())
        return primary()

    def primary() -> Any:
        kind, value = take()
        if kind == "num":
            return ("num", float(value))
        if kind == "str":
            return ("str", value[1:-1].replace('""', '"'))
        if kind == "ref":
            return ("ref", value)
        if (kind, value) == ("op", "("):
            node = expr()
            assert take() == ("op", ")")
            return node
        if kind == "fn":
            args = []
            if peek() != ("op", ")"):
                args.append(expr())
                while peek() == ("op", ","):
                    take()
                    args.append(expr())
            assert take() == ("op", ")")
            return ("fn", value, args)
        raise AssertionError(f"unexpected {value!r} in {text!r}")

    term = binary(("*", "/"), unary)
    additive = binary(("+", "-"), term)
    expr = binary(tuple(_COMPARE), additive)
    tree = expr()
    assert peek() == ("end", ""), text
    return tree


class Sheet:
    """One sheet of a workbook, its formulas evaluated (references to other sheets too)."""

    def __init__(self, ws: Any) -> None:
        self.title = ws.title
        self.book = Book(ws.parent)

    def value(self, row: int, col: int) -> Any:
        return self.book.value(self.title, row, col)


# -- helpers --------------------------------------------------------------------------------------


def selection_of(name: str):
    return load_selection(EXAMPLES / name, shipped_catalog(), library())


def run_of(selection):
    return run_selection(selection, shipped_catalog(), library())


def result_for(name: str):
    return run_of(selection_of(name))


def workbook(result, lang="en"):
    return openpyxl.load_workbook(io.BytesIO(render_xlsx(result, lang)))


def matrix_sheet(content: bytes, lang="en") -> tuple[Any, Sheet]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb[sheet_names(lang)["matrix"]]
    return ws, Sheet(ws)


def with_score(selection, system: str, criterion: str, value: float):
    """The selection with one score changed (as a consultant would retype it)."""
    scores = {s: dict(row) for s, row in selection.scores.items()}
    scores[system][criterion] = dataclasses.replace(scores[system][criterion], value=value)
    return dataclasses.replace(selection, scores=scores)


def expected_columns(result) -> dict[str, dict[str, Any]]:
    """crmkit's own figures for each column of the matrix sheet: total, rank (or —), out."""
    m = result.step4
    out = {r.system: {"total": r.score, "rank": r.rank, "out": False} for r in m.ranking}
    for e in m.excluded:
        if e.score is not None:
            out[e.system] = {"total": e.score, "rank": DASH, "out": True}
    return out


def sheet_columns(sheet: Sheet, lay: dict[str, Any], systems: list[str]) -> dict[str, dict]:
    """What the workbook computes for each system column."""
    out = {}
    for j, system in enumerate(systems):
        col = lay["first_system_col"] + j
        out[system] = {
            "total": sheet.value(lay["total_row"], col),
            "rank": sheet.value(lay["rank_row"], col),
            "out": sheet.value(lay["status_row"], col) != "",
        }
    return out


def assert_same(got: dict[str, dict], want: dict[str, dict]) -> None:
    assert set(got) == set(want)
    for system, w in want.items():
        g = got[system]
        assert g["total"] == pytest.approx(w["total"], abs=1e-6), system
        assert (g["rank"], g["out"]) == (w["rank"], w["out"]), system


# -- the formulas give crmkit's figures -----------------------------------------------------------


@pytest.mark.parametrize("example", ["selection.toml", "selection-ahp.toml"])
@pytest.mark.parametrize("lang", LANGS)
def test_formulas_give_crmkit_totals_ranks_knock_outs_and_leader(example, lang):
    result = result_for(example)
    m = result.step4
    systems = matrix_systems(m)
    ws, sheet = matrix_sheet(render_xlsx(result, lang), lang)
    lay = matrix_layout(len(m.weights), len(systems))
    for j in range(len(systems)):
        formula = ws.cell(lay["total_row"], lay["first_system_col"] + j).value
        assert formula.startswith("=ROUND(SUMPRODUCT(")  # live
    assert_same(sheet_columns(sheet, lay, systems), expected_columns(result))
    for i, w in enumerate(m.weights.values()):
        assert sheet.value(lay["first_row"] + i, lay["share_col"]) == pytest.approx(w)
    leader = result.name(m.ranking[0].system, lang)
    assert sheet.value(lay["leader_row"], 2) == leader
    summary = Sheet(ws.parent[sheet_names(lang)["summary"]])
    assert summary.value(3, 2) == leader
    assert summary.value(4, 2) == pytest.approx(m.ranking[0].score, abs=1e-6)
    assert summary.value(5, 2) == pytest.approx(m.robustness.gap, abs=1e-6)
    assert summary.value(6, 1) == ""  # no tie at the top


def test_the_example_has_a_system_knocked_out_by_a_minimum():
    """selection.toml: EnvyCRM scores 2 on tasks (minimum 3): out in crmkit, out in the sheet."""
    result = result_for("selection.toml")
    assert [e.system for e in result.step4.excluded] == ["envycrm"]
    cols = expected_columns(result)
    assert cols["envycrm"]["out"] and cols["envycrm"]["rank"] == DASH


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_changing_a_weight_in_the_workbook_moves_the_ranking_like_crmkit(data):
    result = result_for("selection.toml")
    m = result.step4
    systems = matrix_systems(m)
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    lay = matrix_layout(len(m.weights), len(systems))
    crits = list(m.weights)
    new_points = dict(m.points)
    for cid in data.draw(st.lists(st.sampled_from(crits), min_size=1, max_size=3, unique=True)):
        new_points[cid] = float(data.draw(st.integers(0, 60)))
    if not any(new_points.values()):
        new_points[crits[0]] = 1.0
    for i, cid in enumerate(crits):
        ws.cell(lay["first_row"] + i, lay["points_col"], new_points[cid])
    sheet = Sheet(ws)
    active = [r.system for r in m.ranking]
    values = {s: {c: m.scores[s][c].value for c in crits} for s in active}
    expected = {r.system: r for r in rank(new_points, values)}
    for j, system in enumerate(active):
        col = lay["first_system_col"] + j
        total = sheet.value(lay["total_row"], col)
        assert total == pytest.approx(expected[system].score, abs=1e-6)
        assert sheet.value(lay["rank_row"], col) == expected[system].rank
    top = [s for s, r in expected.items() if r.rank == 1]
    assert sheet.value(lay["leader_row"], 2) in {result.name(s) for s in top}


def test_a_weight_that_changes_the_leader_in_crmkit_changes_it_in_the_workbook():
    selection = selection_of("selection.toml")
    result = run_of(selection)
    flip = result.step4.robustness.critical
    points = dict(selection.points)
    points[flip.criterion] = points[flip.criterion] * flip.flip_weight / flip.weight * 1.1
    moved = run_of(dataclasses.replace(selection, points=points))
    assert moved.step4.ranking[0].system != result.step4.ranking[0].system
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    lay = matrix_layout(len(result.step4.weights), len(matrix_systems(result.step4)))
    row = lay["first_row"] + list(result.step4.weights).index(flip.criterion)
    ws.cell(row, lay["points_col"], points[flip.criterion])
    summary = Sheet(ws.parent["Summary"])
    assert summary.value(3, 2) == moved.name(moved.step4.ranking[0].system)
    assert_same(
        sheet_columns(Sheet(ws), lay, matrix_systems(result.step4)), expected_columns(moved)
    )


@pytest.mark.parametrize(
    "changes",
    [
        [("bitrix24", "tasks", 2.0)],  # the leader falls below the minimum: out
        [("envycrm", "tasks", 3.0)],  # the knocked-out system reaches it: back in
        [("bitrix24", "tasks", 2.5), ("envycrm", "tasks", 4.0)],
    ],
)
def test_a_score_below_a_minimum_knocks_out_in_the_workbook_as_in_crmkit(changes):
    selection = selection_of("selection.toml")
    result = run_of(selection)
    changed = selection
    for system, criterion, value in changes:
        changed = with_score(changed, system, criterion, value)
    expected = run_of(changed)
    m = result.step4
    systems = matrix_systems(m)
    lay = matrix_layout(len(m.weights), len(systems))
    ws, _ = matrix_sheet(render_xlsx(result, "ru"), "ru")
    crits = list(m.weights)
    for system, criterion, value in changes:
        ws.cell(
            lay["first_row"] + crits.index(criterion),
            lay["first_system_col"] + systems.index(system),
            value,
        )
    assert_same(sheet_columns(Sheet(ws), lay, systems), expected_columns(expected))
    summary = Sheet(ws.parent[sheet_names("ru")["summary"]])
    assert summary.value(3, 2) == expected.name(expected.step4.ranking[0].system, "ru")


def test_a_minimum_raised_in_the_workbook_knocks_out_as_a_minimum_in_crmkit():
    selection = selection_of("selection.toml")
    result = run_of(selection)
    criteria = tuple(
        dataclasses.replace(c, min_score=4.0) if c.id == "interface" else c
        for c in selection.criteria
    )
    expected = run_of(dataclasses.replace(selection, criteria=criteria))
    assert "bitrix24" in {e.system for e in expected.step4.excluded}  # it scored 3
    m = result.step4
    systems = matrix_systems(m)
    lay = matrix_layout(len(m.weights), len(systems))
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    ws.cell(lay["first_row"] + list(m.weights).index("interface"), lay["minimum_col"], 4)
    assert_same(sheet_columns(Sheet(ws), lay, systems), expected_columns(expected))


def test_every_system_knocked_out_leaves_no_leader():
    result = result_for("selection.toml")
    m = result.step4
    systems = matrix_systems(m)
    lay = matrix_layout(len(m.weights), len(systems))
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    ws.cell(lay["first_row"], lay["minimum_col"], 5)  # tasks: only a 5 stays in
    for j in range(len(systems)):
        ws.cell(lay["first_row"], lay["first_system_col"] + j, 4)
    summary = Sheet(ws.parent["Summary"])
    assert [summary.value(r, 2) for r in (3, 4, 5)] == [DASH, DASH, DASH]


def test_a_tie_at_the_top_is_said_on_the_summary():
    result = result_for("selection.toml")
    m = result.step4
    systems = matrix_systems(m)
    lay = matrix_layout(len(m.weights), len(systems))
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    for i, cid in enumerate(m.weights):  # amoCRM scores as Bitrix24 does
        ws.cell(lay["first_row"] + i, lay["first_system_col"] + 1, m.scores["bitrix24"][cid].value)
    summary = Sheet(ws.parent["Summary"])
    assert summary.value(5, 2) == 0
    assert "tie" in summary.value(6, 1)


# -- structure ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_sheets_are_named_in_the_run_language_summary_first(lang):
    result = result_for("selection.toml")
    wb = workbook(result, lang)
    names = sheet_names(lang)
    expected = [names[k] for k in SHEETS]
    if cost_systems(result):  # the cost of ownership follows the matrix
        expected.insert(2, names["cost"])
    assert wb.sheetnames == expected
    for name in wb.sheetnames:
        assert len(name) <= 31 and not re.search(r"[\[\]:*?/\\]", name)
    if lang != "en":
        assert not any(re.search("[A-Za-z]", n) for n in wb.sheetnames), wb.sheetnames
    assert len({tuple(sheet_names(x).values()) for x in LANGS}) == 3


def test_the_summary_has_a_chart_of_the_matrix_totals():
    result = result_for("selection.toml")
    wb = workbook(result, "ru")
    summary = wb[sheet_names("ru")["summary"]]
    assert len(summary._charts) == 1
    chart = summary._charts[0]
    assert chart.tagname == "barChart"
    lay = matrix_layout(len(result.step4.weights), len(matrix_systems(result.step4)))
    ref = chart.series[0].val.numRef.f
    assert ref.startswith(f"'{sheet_names('ru')['matrix']}'!")
    assert ref.endswith(f"${lay['ranked_row']}")
    # the cells it reads are formulas
    ws = wb[sheet_names("ru")["matrix"]]
    assert str(ws.cell(lay["ranked_row"], lay["first_system_col"]).value).startswith("=IF(")


def test_freeze_panes_print_setup_and_conditional_formats():
    result = result_for("selection.toml")
    wb = workbook(result, "en")
    lay = matrix_layout(len(result.step4.weights), len(matrix_systems(result.step4)))
    matrix = wb["Matrix"]
    assert matrix.freeze_panes == "E4"
    assert matrix.print_title_rows == "$3:$3" and matrix.print_title_cols == "$A:$A"
    for ws in wb:
        setup = ws.page_setup
        assert int(setup.paperSize) == int(ws.PAPERSIZE_A4) == 9, ws.title
        assert int(setup.fitToWidth) == 1 and int(setup.fitToHeight) == 0, ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        if ws.title == "Cost of ownership":
            assert ws.freeze_panes == "B1" and ws.print_title_cols == "$A:$A"
        elif ws.title != "Summary":
            assert ws.freeze_panes in ("A2", "E4"), ws.title
            assert ws.print_title_rows, ws.title
    assert matrix.page_setup.orientation == "landscape"  # five systems: wide
    rules = {str(rng.sqref): [r.type for r in rng.rules] for rng in matrix.conditional_formatting}
    score_box = f"E{lay['first_row']}:I{lay['last_row']}"
    assert rules[score_box] == ["colorScale"]
    knocked = next(
        r
        for rng in matrix.conditional_formatting
        for r in rng.rules
        if r.type == "expression" and '<>""' in r.formula[0]
    )
    assert knocked.formula == [f'E${lay["status_row"]}<>""']
    summary_rules = [r.type for rng in wb["Summary"].conditional_formatting for r in rng.rules]
    assert "expression" in summary_rules
    assert wb["Summary"].page_setup.orientation == "landscape"


def test_numbers_are_stored_as_numbers_with_formats():
    result = result_for("selection.toml")
    wb = workbook(result, "ru")
    names = sheet_names("ru")
    m = result.step4
    lay = matrix_layout(len(m.weights), len(matrix_systems(m)))
    matrix = wb[names["matrix"]]
    for row in range(lay["first_row"], lay["last_row"] + 1):
        assert is_number(matrix.cell(row, lay["points_col"]).value)
        for col in range(lay["first_system_col"], lay["last_system_col"] + 1):
            assert is_number(matrix.cell(row, col).value)
    assert is_number(matrix.cell(lay["first_row"], lay["minimum_col"]).value)
    assert matrix.cell(lay["total_row"], lay["first_system_col"]).number_format == "0.00"
    assert matrix.cell(lay["first_row"], lay["share_col"]).number_format.endswith("%")
    summary = wb[names["summary"]]
    win = summary.cell(9, 5)
    assert is_number(win.value) and win.number_format == "0%"
    evidence = wb[names["evidence"]]
    assert all(is_number(evidence.cell(r, 3).value) for r in range(2, evidence.max_row + 1))
    shortlist = wb[names["shortlist"]]
    assert is_number(shortlist.cell(2, 2).value) and shortlist.cell(2, 2).number_format == "0%"
    knocked = wb[names["knocked"]]
    envy = next(r for r in knocked.iter_rows(min_row=2) if r[0].value == "EnvyCRM")
    assert envy[2].value == pytest.approx(3.0) and envy[3].value == 5
    sens = wb[names["sensitivity"]]
    assert all(is_number(sens.cell(r, 2).value) for r in range(2, len(m.sensitivity) + 2))
    text = {c.value for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert not any(re.fullmatch(r"[−+-]?\d+(?:[.,]\d+)?%?", t) for t in text), "a number as text"


def _tool_words() -> list[str]:
    """What belongs in the terminal, never in the client's workbook."""
    lib = library()
    ids = {c for c in lib.functions if "_" in c} | {p for p in lib.problems if "_" in p}
    ids |= {"support_paid", "min_period", "hide_data", "web_forms", "access_rights"}
    return ["crmkit", ".toml", "seed", "зерно", "зерна", "127.0.0.1", "[scores]", "/work/", *ids]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("example", ["selection.toml", "selection-ahp.toml"])
def test_no_tool_text_in_the_workbook(example, lang):
    wb = workbook(result_for(example), lang)
    words = _tool_words()
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str) and not cell.value.startswith("="):
                    found = [w for w in words if w in cell.value.lower()]
                    assert not found, (ws.title, cell.coordinate, cell.value)


def test_without_scores_the_summary_says_so():
    selection = dataclasses.replace(selection_of("selection.toml"), scores={})
    result = run_of(selection)
    wb = workbook(result, "ru")
    names = sheet_names("ru")
    assert wb.sheetnames[0] == names["summary"]
    assert names["matrix"] not in wb.sheetnames
    assert "Оценок пока нет" in wb[names["summary"]]["A3"].value


def test_scores_points_and_minimums_are_editable_cells_with_validation():
    result = result_for("selection.toml")
    ws, _ = matrix_sheet(render_xlsx(result, "ru"), "ru")
    lay = matrix_layout(len(result.step4.weights), len(matrix_systems(result.step4)))
    assert isinstance(ws.cell(lay["first_row"], lay["first_system_col"]).value, (int, float))
    ranges = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    scores = ranges[f"E{lay['first_row']}:I{lay['last_row']}"]
    assert (scores.formula1, scores.formula2) == ("1", "5")
    assert ranges[f"B{lay['first_row']}:B{lay['last_row']}"].allow_blank
    assert ranges[f"C{lay['first_row']}:C{lay['last_row']}"].operator == "greaterThanOrEqual"


def test_cli_writes_xlsx(tmp_path, capsys):
    out = tmp_path / "r.xlsx"
    code = run(
        [
            "select",
            "--input",
            str(EXAMPLES / "selection.toml"),
            "--format",
            "xlsx",
            "--out",
            str(out),
        ],
        AppContext(lang="en", environ={}, cwd=tmp_path, interactive=False),
    )
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes()[:2] == b"PK"

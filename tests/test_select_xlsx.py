"""The XLSX's live formulas give crmkit's scores and ranks — checked by evaluating them.

A tiny evaluator below understands exactly the formula subset ``crmkit.select.xlsx`` writes
(numbers, cell references and ranges, + - * /, SUM, SUMPRODUCT, ROUND, RANK, INDEX, MATCH, MAX).
Where LibreOffice is installed the workbook is also recalculated headless.
"""

from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.select.catalog import shipped_catalog
from crmkit.select.matrix import rank
from crmkit.select.problems import library
from crmkit.select.run import run_selection
from crmkit.select.selection import load_selection
from crmkit.select.xlsx import FUNCTIONS, matrix_layout, render_xlsx

openpyxl = pytest.importorskip("openpyxl")
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# -- a tiny formula evaluator -------------------------------------------------------------------

_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d+(?:\.\d+)?)|(?P<range>\$?[A-Z]+\$?\d+:\$?[A-Z]+\$?\d+)"
    r"|(?P<ref>\$?[A-Z]+\$?\d+)|(?P<fn>[A-Z]+)\(|(?P<op>[-+*/(),]))"
)


def _cell_rc(ref: str) -> tuple[int, int]:
    m = re.fullmatch(r"\$?([A-Z]+)\$?(\d+)", ref)
    assert m, ref
    col = 0
    for ch in m.group(1):
        col = col * 26 + ord(ch) - 64
    return int(m.group(2)), col


class Sheet:
    def __init__(self, ws: Any) -> None:
        self.cells = {(c.row, c.column): c.value for row in ws.iter_rows() for c in row}
        self.cache: dict[tuple[int, int], Any] = {}

    def value(self, row: int, col: int) -> Any:
        key = (row, col)
        if key not in self.cache:
            raw = self.cells.get(key)
            self.cache[key] = (
                self.formula(raw[1:]) if isinstance(raw, str) and raw.startswith("=") else raw
            )
        return self.cache[key]

    def formula(self, text: str) -> Any:
        tokens = []
        pos = 0
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            assert m and m.end() > pos, f"cannot parse {text[pos:]!r}"
            kind = m.lastgroup
            tokens.append((kind, m.group(kind)))
            pos = m.end()
        saved = getattr(self, "tokens", None), getattr(self, "i", 0)  # formulas nest via refs
        self.tokens, self.i = tokens, 0
        result = self.expr()
        assert self.i == len(tokens), text
        self.tokens, self.i = saved
        return result

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def expr(self) -> Any:
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            rhs = self.term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term(self) -> Any:
        value = self.factor()
        while self.peek() in (("op", "*"), ("op", "/")):
            op = self.take()[1]
            rhs = self.factor()
            value = value * rhs if op == "*" else value / rhs
        return value

    def factor(self) -> Any:
        kind, text = self.take()
        if kind == "num":
            return float(text)
        if kind == "ref":
            return self.value(*_cell_rc(text))
        if kind == "range":
            a, b = text.split(":")
            (r1, c1), (r2, c2) = _cell_rc(a), _cell_rc(b)
            return [[self.value(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]
        if kind == "op" and text == "-":
            return -self.factor()
        if kind == "op" and text == "(":
            value = self.expr()
            assert self.take() == ("op", ")")
            return value
        if kind == "fn":
            assert text in FUNCTIONS, text
            args = []
            if self.peek() != ("op", ")"):
                args.append(self.expr())
                while self.peek() == ("op", ","):
                    self.take()
                    args.append(self.expr())
            assert self.take() == ("op", ")")
            return getattr(self, "fn_" + text.lower())(*args)
        raise AssertionError(f"unexpected {text!r}")

    @staticmethod
    def flat(value: Any) -> list[Any]:
        return [v for row in value for v in row] if isinstance(value, list) else [value]

    def fn_sum(self, *args: Any) -> float:
        return sum(float(v) for a in args for v in self.flat(a) if v is not None)

    def fn_sumproduct(self, a: Any, b: Any) -> float:
        return sum(float(x) * float(y) for x, y in zip(self.flat(a), self.flat(b), strict=True))

    def fn_round(self, x: float, digits: float) -> float:
        return round(x, int(digits))

    def fn_max(self, *args: Any) -> float:
        return max(float(v) for a in args for v in self.flat(a))

    def fn_rank(self, x: float, values: Any) -> int:  # descending, ties share the best rank
        return 1 + sum(1 for v in self.flat(values) if v > x)

    def fn_match(self, x: Any, values: Any, mode: float) -> int:
        assert mode == 0
        return self.flat(values).index(x) + 1

    def fn_index(self, values: Any, row: float, col: float) -> Any:
        return values[int(row) - 1][int(col) - 1]


# -- helpers --------------------------------------------------------------------------------------


def result_for(name: str):
    catalog, lib = shipped_catalog(), library()
    return run_selection(load_selection(EXAMPLES / name, catalog, lib), catalog, lib)


def matrix_sheet(content: bytes) -> tuple[Any, Sheet]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    ws = wb["Matrix"]
    return ws, Sheet(ws)


@pytest.mark.parametrize("example", ["selection.toml", "selection-ahp.toml"])
def test_formulas_give_crmkit_scores_and_ranks(example):
    result = result_for(example)
    m = result.step4
    ws, sheet = matrix_sheet(render_xlsx(result, "en"))
    lay = matrix_layout(len(m.weights), len(m.ranking))
    for j, r in enumerate(m.ranking):
        col = lay["first_system_col"] + j
        assert ws.cell(lay["total_row"], col).value.startswith("=ROUND(SUMPRODUCT(")  # live
        assert sheet.value(lay["total_row"], col) == pytest.approx(r.score, abs=1e-6)
        assert sheet.value(lay["rank_row"], col) == r.rank
    for i, w in enumerate(m.weights.values()):
        assert sheet.value(lay["first_row"] + i, lay["share_col"]) == pytest.approx(w)
    assert sheet.value(lay["leader_row"], 2) == result.name(m.ranking[0].system)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_changing_a_weight_in_the_workbook_moves_the_ranking_like_crmkit(data):
    result = result_for("selection.toml")
    m = result.step4
    ws, _ = matrix_sheet(render_xlsx(result, "en"))
    lay = matrix_layout(len(m.weights), len(m.ranking))
    crits = list(m.weights)
    new_points = dict(m.points)
    for cid in data.draw(st.lists(st.sampled_from(crits), min_size=1, max_size=3, unique=True)):
        new_points[cid] = float(data.draw(st.integers(0, 60)))
    if not any(new_points.values()):
        new_points[crits[0]] = 1.0
    for i, cid in enumerate(crits):
        ws.cell(lay["first_row"] + i, lay["points_col"], new_points[cid])
    sheet = Sheet(ws)
    values = {r.system: {c: m.scores[r.system][c].value for c in crits} for r in m.ranking}
    expected = {r.system: r for r in rank(new_points, values)}
    for j, r in enumerate(m.ranking):
        col = lay["first_system_col"] + j
        assert sheet.value(lay["total_row"], col) == pytest.approx(
            expected[r.system].score, abs=1e-6
        )
        assert sheet.value(lay["rank_row"], col) == expected[r.system].rank


def test_scores_are_editable_cells_with_validation():
    result = result_for("selection.toml")
    ws, _ = matrix_sheet(render_xlsx(result, "ru"))
    lay = matrix_layout(len(result.step4.weights), len(result.step4.ranking))
    assert isinstance(ws.cell(lay["first_row"], lay["first_system_col"]).value, (int, float))
    ranges = [str(dv.sqref) for dv in ws.data_validations.dataValidation]
    assert any(r.startswith("D4") for r in ranges)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "ru")))
    assert wb.sheetnames == [
        "Matrix",
        "Evidence",
        "Shortlist",
        "Knocked out",
        "Sensitivity",
        "Vendor",
    ]


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


@pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed"
)
def test_libreoffice_recalculates_the_same_scores(tmp_path):  # pragma: no cover - optional
    result = result_for("selection.toml")
    src = tmp_path / "s.xlsx"
    src.write_bytes(render_xlsx(result, "en"))
    # the filter options: comma, double quote, character set 76 (UTF-8), from the first line;
    # a profile of its own, so a LibreOffice the user has open does not take the job
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76,1",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        timeout=120,
        capture_output=True,
    )
    text = (tmp_path / "s.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    lay = matrix_layout(len(result.step4.weights), len(result.step4.ranking))
    totals = rows[lay["total_row"] - 1][lay["first_system_col"] - 1 :]
    for cell, r in zip(totals, result.step4.ranking, strict=False):
        assert float(cell) == pytest.approx(r.score, abs=1e-2)

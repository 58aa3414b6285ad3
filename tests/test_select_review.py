"""An adversarial review of `crmkit select`: each test here pins a bug the review found.

Bad input (NaN/inf numbers, a system scored twice under an alias, a pair compared twice,
a rubric of numbers, huge points), ties listed by id despite float noise, the XLSX (text from
the selection file is never a formula, control characters, validation that is enforced, the
sensitivity in the points a client edits), and a hypothesis fuzz of the selection loader:
every wrong value is one line naming file:line:key, exit 2 — never a traceback.
"""

from __future__ import annotations

import copy
import io
import math
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.errors import CrmkitError
from crmkit.schema import MAX_TEXT
from crmkit.select import report
from crmkit.select.catalog import load_catalog, shipped_catalog
from crmkit.select.matrix import normalise, rank, sensitivity
from crmkit.select.problems import library
from crmkit.select.run import run_selection
from crmkit.select.selection import parse_selection_text, read_selection
from crmkit.select.xlsx import (
    cost_layout,
    cost_systems,
    matrix_layout,
    matrix_systems,
    render_xlsx,
)

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "selection.toml"
EXAMPLE_AHP = ROOT / "examples" / "selection-ahp.toml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
TEXT_AHP = EXAMPLE_AHP.read_text(encoding="utf-8")


def app(tmp_path: Path) -> AppContext:
    return AppContext(lang="en", environ={}, cwd=tmp_path, interactive=False)  # type: ignore[arg-type]


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


def line_of(text: str, fragment: str) -> int:
    for number, line in enumerate(text.splitlines(), 1):
        if fragment in line:
            return number
    raise AssertionError(fragment)


# -- bad numbers: one line, file:line:key, exit 2, nothing written ---------------------------------

BITRIX_TASKS = 'tasks = {score = 5, evidence = "trial", confidence = "high", note = "дела'
BAD_NUMBERS = {
    "NaN score": (
        TEXT,
        BITRIX_TASKS,
        BITRIX_TASKS.replace("5", "nan"),
        "scores.bitrix24.tasks.score",
    ),
    "NaN bare score": (
        TEXT,
        "reports = 10\n",
        "reports = 10\n",  # the weights line stays; the score below is broken
        None,
    ),
    "inf points": (TEXT, "tasks = 20\n", "tasks = inf\n", "weights.points.tasks"),
    "NaN points": (TEXT, "funnel = 15\n", "funnel = nan\n", "weights.points.funnel"),
    "NaN ratio": (TEXT_AHP, "ratio = 2\n", "ratio = nan\n", "weights.pairwise[0].ratio"),
    "NaN min_score": (TEXT, "min_score = 3", "min_score = nan", "criteria[0].min_score"),
}
BAD_NUMBERS["NaN bare score"] = (
    TEXT,
    'reports = {score = 4, evidence = "trial", confidence = "medium"}',
    "reports = nan",
    "scores.bitrix24.reports",
)


@pytest.mark.parametrize("case", list(BAD_NUMBERS))
@pytest.mark.parametrize("fmt", ["json", "xlsx"])
def test_nan_and_inf_are_one_line_exit_2(tmp_path, capsys, case, fmt):
    base, old, new, key = BAD_NUMBERS[case]
    text = replace_once(base, old, new)
    path = tmp_path / "selection.toml"
    path.write_text(text, encoding="utf-8")
    out_file = tmp_path / "reports" / f"out.{fmt}"
    code = run(
        ["select", "--input", str(path), "--format", fmt, "--out", str(out_file)], app(tmp_path)
    )
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and err.count("\n") == 1, err
    assert err.startswith(f"crmkit: {path}:{line_of(text, new.strip())}: {key}: "), err
    assert "finite" in err
    assert not out_file.exists()


def test_huge_points_do_not_overflow(tmp_path, capsys):
    """Points are only proportions: 1e308 and 1e308 weigh like 1 and 1."""
    assert normalise({"a": 1e308, "b": 1e308, "c": 0}) == {"a": 0.5, "b": 0.5, "c": 0.0}
    values = {"X": {"a": 5, "b": 1, "c": 3}, "Y": {"a": 1, "b": 4, "c": 3}}
    huge = rank({"a": 1e308, "b": 1e308, "c": 0}, values)
    small = rank({"a": 1, "b": 1, "c": 0}, values)
    assert [(r.system, r.score) for r in huge] == [(r.system, r.score) for r in small]


def _run_text(tmp_path: Path, capsys: Any, text: str) -> tuple[int, str, str, Path]:
    path = tmp_path / "selection.toml"
    path.write_text(text, encoding="utf-8")
    code = run(["select", "--input", str(path), "--format", "json"], app(tmp_path))
    out, err = capsys.readouterr()
    return code, out, err, path


def test_a_system_scored_twice_under_an_alias_is_an_error(tmp_path, capsys):
    row = TEXT.split("[scores.amocrm]")[1].split("[scores.megaplan]")[0]
    text = replace_once(TEXT, "[scores.megaplan]", "[scores.AmoCRM]" + row + "[scores.megaplan]")
    code, _, err, path = _run_text(tmp_path, capsys, text)
    assert code == 2, err
    assert err.startswith(f"crmkit: {path}:{line_of(text, '[scores.AmoCRM]')}: scores.AmoCRM: ")
    assert "twice" in err


def test_a_pair_compared_twice_is_an_error(tmp_path, capsys):
    text = TEXT_AHP + '\n[[weights.pairwise]]\na = "tasks"\nb = "funnel"\nratio = 9\n'
    code, _, err, path = _run_text(tmp_path, capsys, text)
    assert code == 2, err
    line = len(text.splitlines()) - 3  # the [[weights.pairwise]] header of the repeat
    assert re.match(rf"crmkit: {re.escape(str(path))}:\d+: weights\.pairwise\[\d+\]", err), err
    assert "twice" in err and int(err.split(":")[2]) >= line


def test_a_rubric_of_numbers_is_an_error(tmp_path, capsys):
    text = replace_once(
        TEXT,
        '[[criteria]]\nid = "support"',
        '[[criteria]]\nid = "support"\nrubric = [1, 2, 3, 4, 5]',
    )
    code, _, err, path = _run_text(tmp_path, capsys, text)
    assert code == 2, err
    line = line_of(text, "rubric = [1")
    assert err.startswith(f"crmkit: {path}:{line}: criteria[9].rubric"), err


# -- ties: listed by id, whatever the float noise --------------------------------------------------


def test_tied_systems_are_listed_by_id_despite_float_noise():
    # 0.75·3 + 0.25·2 and 0.75·2 + 0.25·5 are both 2.75, but not in floating point
    weights = {"c0": 0.3, "c1": 0.1}
    values = {"z": {"c0": 2, "c1": 5}, "y": {"c0": 3, "c1": 2.5}, "x": {"c0": 3, "c1": 2}}
    ranking = rank(weights, values)
    assert [(r.system, r.rank) for r in ranking] == [("y", 1), ("x", 2), ("z", 2)]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.sampled_from([0.1, 0.3, 1 / 3, 1, 2, 3, 7]), min_size=2, max_size=4),
    st.data(),
)
def test_every_tie_group_is_in_id_order_and_the_leader_is_its_first(weights_list, data):
    weights = {f"c{i}": w for i, w in enumerate(weights_list)}
    score = st.sampled_from([1, 2, 2.5, 3, 3.3, 4, 5])
    systems = data.draw(st.lists(st.sampled_from("abcdef"), min_size=2, max_size=5, unique=True))
    values = {s: {c: data.draw(score) for c in weights} for s in systems}
    ranking = rank(weights, values)
    for a, b in zip(ranking, ranking[1:], strict=False):
        assert a.score >= b.score - 1e-9
        if a.rank == b.rank:
            assert a.system < b.system
    flips = sensitivity(weights, values)
    for f in flips:  # a flip never names the current leader
        assert f.flips_to != ranking[0].system


# -- the XLSX --------------------------------------------------------------------------------------

openpyxl = pytest.importorskip("openpyxl")

INJECTED = '=HYPERLINK("http://evil.example","click")'


def _injected_result(tmp_path: Path):
    text = replace_once(TEXT, 'title = "Выбор CRM для ООО «Окна Севера»"', 'title = "=1+2"')
    text = replace_once(
        text, '[[criteria]]\nid = "support"', '[[criteria]]\nid = "support"\nname = "=SUM(1,2)"'
    )
    text = replace_once(text, 'note = "чат и телефон"', "note = \"=cmd|' /C calc'!A0\"")
    text = replace_once(
        text, 'support_paid = "Чат и телефон входят в тариф"', 'support_paid = "@SUM(1)"'
    )
    text = replace_once(
        text, 'note = "через интеграцию', 'note = "+1\\u0001\\u0007 через интеграцию'
    )
    extra = tmp_path / "catalog.toml"
    extra.write_text(f"[systems.s2]\nname = {tomli_w.dumps({'n': INJECTED})[4:]}", encoding="utf-8")
    catalog, lib = load_catalog(extra), library()
    doc = parse_selection_text(text, "selection.toml")
    return run_selection(read_selection(doc, catalog, lib), catalog, lib)


def test_xlsx_text_from_the_selection_file_is_never_a_formula(tmp_path):
    result = _injected_result(tmp_path)
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "en")))
    formulas = []
    for ws in wb:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append((ws.title, cell.row, cell.column))
    # crmkit's own formulas only: on the Matrix sheet the shares, the rows from the total to the
    # rank and the leader; on the Summary the answers and the table that reads the matrix
    n_systems = len(matrix_systems(result.step4))
    lay = matrix_layout(len(result.step4.weights), n_systems)
    allowed = {
        ("Matrix", r, lay["share_col"]) for r in range(lay["first_row"], lay["last_row"] + 1)
    }
    for col in range(lay["first_system_col"], lay["last_system_col"] + 1):
        allowed |= {("Matrix", r, col) for r in range(lay["total_row"], lay["rank_row"] + 1)}
    allowed.add(("Matrix", lay["leader_row"], 2))
    allowed |= {("Summary", r, 2) for r in (3, 4, 5)} | {("Summary", 6, 1)}
    allowed |= {("Summary", 9 + j, c) for j in range(n_systems) for c in (2, 3, 4)}
    if cost_systems(result):  # the cost sheet: the amounts to the budget check
        cost = cost_layout(len(cost_systems(result)))
        allowed |= {
            ("Cost of ownership", r, c)
            for r in range(min(cost["amounts"].values()), cost["status_row"] + 1)
            for c in range(cost["first_system_col"], cost["last_system_col"] + 1)
        }
    assert set(formulas) <= allowed
    for col in range(lay["first_system_col"], lay["last_system_col"] + 1):
        assert {("Matrix", lay["total_row"], col), ("Matrix", lay["rank_row"], col)} <= set(
            formulas
        )
    ws = wb["Matrix"]
    assert ws["A1"].value == "=1+2" and ws["A1"].data_type == "s"
    names = [
        ws.cell(3, c).value for c in range(lay["first_system_col"], lay["last_system_col"] + 1)
    ]
    assert INJECTED in names
    texts = {c.value for w in wb for row in w.iter_rows() for c in row if isinstance(c.value, str)}
    assert "=SUM(1,2)" in texts and "=cmd|' /C calc'!A0" in texts and "@SUM(1)" in texts
    assert any(t.startswith("+1") and "через интеграцию" in t for t in texts)  # control chars gone


def test_xlsx_long_text_fits_an_excel_cell(tmp_path):
    # the longest text a file may hold (MAX_TEXT); Excel's cell limit is 32,767
    text = replace_once(TEXT, 'note = "чат и телефон"', 'note = "' + "ж" * MAX_TEXT + '"')
    catalog, lib = shipped_catalog(), library()
    result = run_selection(
        read_selection(parse_selection_text(text, "s.toml"), catalog, lib), catalog, lib
    )
    wb = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "en")))
    longest = max(
        len(c.value) for w in wb for r in w.iter_rows() for c in r if isinstance(c.value, str)
    )
    assert 1000 < longest <= 32767


def test_xlsx_score_validation_is_enforced():
    catalog, lib = shipped_catalog(), library()
    result = run_selection(
        read_selection(parse_selection_text(TEXT, "s.toml"), catalog, lib), catalog, lib
    )
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "en")))["Matrix"]
    assert ws.data_validations.dataValidation
    for dv in ws.data_validations.dataValidation:
        assert dv.showErrorMessage, dv.sqref


@pytest.mark.parametrize("example", [EXAMPLE, EXAMPLE_AHP])
def test_xlsx_sensitivity_in_points_moves_the_leader_in_the_workbook(example):
    """flip_weight is on the scale of the normalised weights with the others unchanged, so in
    the points a client edits it is flip_weight × (sum of points); typing just past it into the
    Matrix sheet makes flips_to the leader, as the Sensitivity sheet says."""
    from test_select_xlsx import Sheet  # the tiny evaluator of the formulas

    catalog, lib = shipped_catalog(), library()
    result = run_selection(
        read_selection(parse_selection_text(example.read_text("utf-8"), "s.toml"), catalog, lib),
        catalog,
        lib,
    )
    m = result.step4
    content = render_xlsx(result, "en")
    wb = openpyxl.load_workbook(io.BytesIO(content))
    sens = wb["Sensitivity"]
    header = [c.value for c in sens[1]]
    points_col = header.index("Points at which the leader changes") + 1
    lay = matrix_layout(len(m.weights), len(m.ranking))
    total = math.fsum(m.points.values())
    crits = list(m.weights)
    moved = 0
    for i, flip in enumerate(m.sensitivity):
        shown = sens.cell(2 + i, points_col).value
        if flip.flip_weight is None:
            assert shown == "—"
            continue
        assert shown == pytest.approx(flip.flip_weight * total, rel=1e-9)
        ws = openpyxl.load_workbook(io.BytesIO(content))["Matrix"]
        up = flip.flip_weight > flip.weight
        ws.cell(
            lay["first_row"] + crits.index(flip.criterion),
            lay["points_col"],
            shown * (1.001 if up else 0.999),
        )
        assert Sheet(ws).value(lay["leader_row"], 2) == result.name(flip.flips_to)
        moved += 1
    assert moved


def test_text_and_markdown_show_the_flip_in_points_too():
    catalog, lib = shipped_catalog(), library()
    result = run_selection(
        read_selection(parse_selection_text(TEXT, "s.toml"), catalog, lib), catalog, lib
    )
    text = report.render_text(result, "en")
    md = report.render_markdown(result, "en")
    # interface: weight 0.150 (15 of 100 points) flips at 0.225 with the others unchanged: 22.5
    sens = text.split("Sensitivity to the weights:")[1]
    row = next(line for line in sens.splitlines() if line.startswith("Interface simplicity  "))
    assert "0.225" in row and "22.5" in row
    assert "| Interface simplicity | 0.150 | 0.225 | 22.5 | amoCRM |" in md.replace("\\", "")
    assert "other weights unchanged" in text
    data = report.to_data(result, "en")
    flip = next(f for f in data["sensitivity"] if f["criterion"] == "interface")
    assert flip["flip_points"] == pytest.approx(22.5)


# -- fuzzing the loader ----------------------------------------------------------------------------


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


CATALOG, LIB = shipped_catalog(), library()
BASES = [tomllib.loads(TEXT), tomllib.loads(TEXT_AHP)]
ODD_VALUES = [
    0, -1, 1, 2.5, 9, 10, 1 / 9, 1e308, math.inf, -math.inf, math.nan, True, "", "x", "=1+1",
    "bitrix24", "AmoCRM", "tasks", "ahp", "points", [], [1], ["x"], ["bitrix24", "bitrix24"],
    {}, {"ru": "a"}, {"score": 3}, {"score": math.nan}, 2**70,
    # hostile: nested past the limit, beyond 64 bits, longer than any text may be
    _nested(40), -(2**64), "N" * (MAX_TEXT + 1),
]  # fmt: skip
KEYS = ["extra", "x", "bitrix24", "Bitrix24", "tasks", "score", "ru", "a", "ratio"]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        out.append(prefix + (key,))
        out += _paths(item, prefix + (key,))
    return out


@st.composite
def mutated_documents(draw: st.DrawFn) -> str:
    doc = copy.deepcopy(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["set", "delete", "add", "repeat"]))
        value = copy.deepcopy(draw(st.sampled_from(ODD_VALUES)))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = value
        elif action == "repeat" and isinstance(parent, list):
            parent.append(copy.deepcopy(parent[path[-1]]))
        else:
            parent[path[-1]] = value
    return tomli_w.dumps(doc)


@st.composite
def mangled_texts(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from([TEXT, TEXT_AHP]))
    for _ in range(draw(st.integers(1, 3))):
        pos = draw(st.integers(0, len(text) - 1))
        action = draw(st.sampled_from(["insert", "cut", "repeat line"]))
        if action == "insert":
            bit = draw(
                st.sampled_from(
                    [
                        "=",
                        '"',
                        "[",
                        "]",
                        "{",
                        "}",
                        ",",
                        "\n",
                        "#",
                        "x",
                        "1",
                        ".",
                        "[[",
                        "\t",
                        "nan",
                        "inf",
                    ]
                )
            )
            text = text[:pos] + bit + text[pos:]
        elif action == "cut":
            text = text[:pos] + text[pos + draw(st.integers(1, 20)) :]
        else:
            lines = text.split("\n")
            line = lines[draw(st.integers(0, len(lines) - 1))]
            lines.insert(draw(st.integers(0, len(lines))), line)
            text = "\n".join(lines)
    return text


def _with(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    """A copy of ``doc`` with the value at ``path`` replaced."""
    doc = copy.deepcopy(doc)
    parent: Any = doc
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    return doc


def _load_and_render(text: str) -> None:
    name = "sel.toml"
    try:
        doc = parse_selection_text(text, name)
        result = run_selection(read_selection(doc, CATALOG, LIB), CATALOG, LIB)
    except CrmkitError as exc:
        message = str(exc)
        assert "\n" not in message, message
        assert message.startswith(name), message
        # a line is named unless a required top-level table is missing
        assert re.match(rf"{name}:\d+", message) or "required key" in message, message
        return
    report.to_data(result, "en")
    report.render_text(result, "ru")
    report.render_html(result, "en")
    render_xlsx(result, "en")


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
@example(tomli_w.dumps(_with(BASES[0], ("scores", "s2", "reports"), math.nan)))
@example(tomli_w.dumps(_with(BASES[0], ("weights", "points", "tasks"), math.inf)))
@example(tomli_w.dumps(_with(BASES[1], ("weights", "pairwise", 0, "ratio"), math.nan)))
def test_fuzz_mutated_selection_files_never_crash(text):
    _load_and_render(text)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mangled_texts())
def test_fuzz_mangled_toml_never_crashes(text):
    _load_and_render(text)


def test_a_candidate_between_two_near_ties_does_not_reorder_them():
    """Ties are decided per system (its score rounded), never by chaining neighbours: a system
    scoring between two others cannot merge them into one tie and re-sort them by id."""
    weights = {"c": 1.0}
    two = {"z": {"c": 1.0 + 1.5e-9}, "a": {"c": 1.0}}
    three = {**two, "m": {"c": 1.0 + 0.75e-9}}
    order = [r.system for r in rank(weights, two)]
    assert [r.system for r in rank(weights, three) if r.system != "m"] == order


def test_freshoffice_training_materials_are_not_its_support():
    """Seed 001 says FreshOffice's vendor has training materials for the start; it says nothing
    about its technical support, so support is unknown (not "training materials")."""
    system = shipped_catalog().get("freshoffice")
    data = system.to_dict("en")
    assert data["support"] == "unknown"
    assert "training materials" in data["notes"]
    assert system.deployment == "both"


def test_xlsx_ranks_break_ties_like_crmkit():
    """S2 scores 1e-7 above Megaplan: crmkit ranks them 3 and 4, so must the workbook."""
    from test_select_xlsx import Sheet

    text = replace_once(
        TEXT,
        'support = {score = 4, evidence = "trial", confidence = "medium"}\n\n[scores.envycrm]',
        'support = {score = 4.000002, evidence = "trial", confidence = "medium"}\n\n'
        "[scores.envycrm]",
    )
    catalog, lib = shipped_catalog(), library()
    result = run_selection(
        read_selection(parse_selection_text(text, "s.toml"), catalog, lib), catalog, lib
    )
    m = result.step4
    assert [(r.system, r.rank) for r in m.ranking][2:] == [("s2", 3), ("megaplan", 4)]
    ws = openpyxl.load_workbook(io.BytesIO(render_xlsx(result, "en")))["Matrix"]
    lay = matrix_layout(len(m.weights), len(m.ranking))
    sheet = Sheet(ws)
    ranks = [sheet.value(lay["rank_row"], lay["first_system_col"] + j) for j in range(4)]
    assert ranks == [r.rank for r in m.ranking]

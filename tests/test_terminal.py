"""Terminal text fits 100 columns: tables share the width and wrap their cells at word
boundaries; prose wraps with its indentation; the select and catalog reports fit, in ru and en."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crmkit.terminal import WIDTH, fit, table, wrap

ROOT = Path(__file__).resolve().parent.parent
words = st.text(alphabet="абвгдеёжзabcdefgh", min_size=1, max_size=12)
cells = st.lists(words, min_size=0, max_size=30).map(" ".join)


@given(st.lists(st.lists(cells, min_size=3, max_size=3), min_size=1, max_size=6))
def test_a_table_fits_and_keeps_every_word(rows):
    lines = table(["Система", "Соответствие", "Не подтверждено"], rows)
    assert all(len(line) <= WIDTH for line in lines)
    text = " ".join(lines)
    for row in rows:
        for cell in row:
            for word in cell.split():
                assert word in text


def test_a_cell_wraps_at_a_word_boundary():
    lines = table(["a", "b"], [["x" * 40, " ".join(["слово"] * 40)]])
    assert max(len(line) for line in lines) <= WIDTH
    second = [line[42:] for line in lines[2:]]
    assert all(not part or part.split()[-1] == "слово" for part in second)


def test_prose_wraps_with_its_indent():
    line = "  - " + " ".join(["воронка"] * 30)
    out = wrap(line)
    assert len(out) > 1 and all(len(x) <= WIDTH for x in out)
    assert out[0].startswith("  - ") and all(x.startswith("    воронка") for x in out[1:])
    assert fit("short\n" + line).split("\n")[0] == "short"


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize(
    "args",
    [
        ["select", "--input", str(ROOT / "examples" / "selection.toml")],
        ["select", "--input", str(ROOT / "examples" / "selection-ahp.toml")],
        ["select", "catalog"],
    ],
)
def test_text_reports_fit_100_columns(crmkit, args, lang):
    result = crmkit(*args, lang=lang)
    assert result.code == 0, result.err
    too_long = [line for line in result.out.splitlines() if len(line) > WIDTH]
    assert not too_long, too_long[:3]

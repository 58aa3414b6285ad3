"""The selection document: stacked contribution bars and a score heatmap as inline SVG (segments
and cells counted, cell text contrast computed), numbers per language, the page-one summary,
and no tool text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from crmkit.export.svg import AA_NORMAL, contrast_ratio
from crmkit.files import read_toml
from crmkit.select.catalog import load_catalog
from crmkit.select.problems import library
from crmkit.select.report import (
    contributions_svg,
    heatmap_svg,
    render_html,
    render_markdown,
    summary_markdown,
)
from crmkit.select.run import run_selection
from crmkit.select.selection import read_selection

ROOT = Path(__file__).resolve().parent.parent
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module", params=["selection.toml", "selection-ahp.toml"])
def result(request: pytest.FixtureRequest):
    catalog, lib = load_catalog(None), library()
    selection = read_selection(read_toml(ROOT / "examples" / request.param), catalog, lib)
    return run_selection(selection, catalog, lib)


def test_stacked_bars_one_segment_per_criterion_and_system(result) -> None:
    m = result.step4
    svg = ET.fromstring(contributions_svg(result, "ru"))
    segments = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "seg"]
    assert len(segments) == len(m.ranking) * len(m.criteria)
    swatches = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "swatch"]
    assert len(swatches) == len(m.criteria)
    texts = "".join(svg.itertext())
    for r in m.ranking:
        assert result.name(r.system, "ru") in texts
        assert f"{r.score:.2f}".replace(".", ",") in texts  # the total, in Russian
    # a bar is as long as its total: the same length per point for every system
    n = len(m.criteria)
    per_point = [
        sum(float(s.get("width")) + 1 for s in segments[i * n : (i + 1) * n]) / r.score
        for i, r in enumerate(m.ranking)
    ]
    assert max(per_point) - min(per_point) < 0.1 * n


def test_heatmap_one_cell_per_score_with_aa_contrast(result) -> None:
    m = result.step4
    svg = ET.fromstring(heatmap_svg(result, "en"))
    cells = [r for r in svg.iter(f"{SVG}rect") if r.get("class") == "cell"]
    inks = [t for t in svg.iter(f"{SVG}text") if t.get("class") == "cell-text"]
    assert len(cells) == len(inks) == len(m.ranking) * len(m.criteria)
    for cell, ink in zip(cells, inks, strict=True):
        assert contrast_ratio(cell.get("fill"), ink.get("fill")) >= AA_NORMAL
    shown = [t.text for t in inks]
    expected = [f"{m.scores[r.system][c.id].value:g}" for c in m.criteria for r in m.ranking]
    assert shown == expected


def test_heatmap_contrast_holds_on_every_score_of_the_scale() -> None:
    from crmkit.export.svg import readable_ink, score_color

    for tenth in range(10, 51):
        paint = readable_ink(score_color(tenth / 10))
        assert contrast_ratio(paint.fill, paint.ink) >= AA_NORMAL


def test_html_has_both_charts_instead_of_contributions_as_text(result) -> None:
    html = render_html(result, "ru")
    assert html.count('class="seg"') == len(result.step4.ranking) * len(result.step4.criteria)
    assert html.count('class="cell"') == len(result.step4.ranking) * len(result.step4.criteria)
    assert "<script" not in html
    # no run of "criterion 1.00 + criterion 0.75 + …" any more
    assert not re.search(r"\d[.,]\d\d \\?\+ ", html)


def test_numbers_are_written_with_a_comma_in_russian(result) -> None:
    ru = render_markdown(result, "ru")
    leader = result.step4.ranking[0]
    assert f"{leader.score:.2f}".replace(".", ",") in ru
    assert not re.search(r"\| \d\.\d\d \|", ru)  # no 4.30 in a Russian table
    assert "\u202f%" in ru
    en = render_markdown(result, "en")
    assert f"{leader.score:.2f}" in en


def test_summary_is_three_to_six_bullets_with_the_answer(result) -> None:
    for lang in ("ru", "en", "uk"):
        summary = summary_markdown(result, lang)
        lines = summary.strip().splitlines()
        assert 3 <= len(lines) <= 6 and all(line.startswith("- ") for line in lines)
        assert "#" not in summary
        assert result.name(result.step4.ranking[0].system, lang) in summary
    en = summary_markdown(result, "en")
    assert "points (" in en and "of the draws" in en and "weights ±20%" in en
    md = render_markdown(result, "en")
    title_end = md.index("\n\n") + 2
    assert md[title_end:].startswith(summary_markdown(result, "en"))  # right after the title


def test_the_document_has_no_tool_text(result) -> None:
    for lang in ("ru", "en"):
        for text in (render_markdown(result, lang), render_html(result, lang)):
            lowered = text.lower()
            assert "crmkit " not in lowered and "crmkit select" not in lowered
            assert "seed" not in lowered and "зерно" not in lowered
            assert ".toml" not in lowered and "[scores]" not in lowered


def test_the_sensitivity_chart_shows_every_criterion_name_whole(result) -> None:
    from crmkit.select.report import sensitivity_svg

    m = result.step4
    svg = ET.fromstring(sensitivity_svg(result, "ru"))
    shown = " ".join(
        " ".join(t.itertext()) for t in svg.iter(f"{SVG}text") if t.find(f"{SVG}tspan") is not None
    )
    for flip in m.sensitivity:
        name = next(c.name.get("ru") for c in m.criteria if c.id == flip.criterion)
        for word in name.split():
            assert word in shown, (name, word)
    assert "…" not in shown
    ticks = [t.text for t in svg.iter(f"{SVG}text") if t.get("text-anchor") == "middle"]
    assert ticks and all("." not in (t or "") for t in ticks)  # 0,25 — the Russian comma

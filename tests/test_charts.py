"""Charts a client reads: every text readable (WCAG AA contrast against the shape it sits on, or
the white page), whole (never cut with «…», never wider than its shape by the width estimate),
and labels wrapped at word boundaries. Checked on every SVG the documents draw: the funnel of
every library blueprint, the maturity profile of the example assessments, an audit's figures."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from browser_util import chromium

from crmkit.assess.model import Questionnaire
from crmkit.assess.scoring import Assessment
from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Pipeline, Stage
from crmkit.export.funnel import funnel_mermaid, funnel_svg
from crmkit.export.svg import (
    AA_LARGE,
    AA_NORMAL,
    DARK_INK,
    LIGHT_INK,
    PAGE,
    contrast_ratio,
    readable_ink,
    relative_luminance,
    text_width,
    wrap_text,
)
from crmkit.i18n import Text as Names

SVG = "{http://www.w3.org/2000/svg}"


# -- reading a drawing back -----------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    left: float
    top: float
    right: float
    bottom: float
    fill: str

    def holds(self, other: Box) -> bool:
        return (
            self.left - 0.5 <= other.left
            and other.right <= self.right + 0.5
            and self.top - 0.5 <= other.top
            and other.bottom <= self.bottom + 0.5
        )

    def meets(self, other: Box) -> bool:
        return not (
            other.right <= self.left
            or other.left >= self.right
            or other.bottom <= self.top
            or other.top >= self.bottom
        )


@dataclass(frozen=True)
class Line:
    """One line of text, its estimated box, and what it is drawn on."""

    text: str
    box: Box
    size: float
    bold: bool
    ink: str


def _shapes(root: ET.Element) -> list[Box]:
    """Filled rectangles in painting order (later ones are drawn over earlier ones)."""
    boxes = []
    for rect in root.iter(f"{SVG}rect"):
        fill = rect.get("fill", "#000000")
        if fill == "none" or not fill.startswith("#"):
            continue
        x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
        width, height = float(rect.get("width", 0)), float(rect.get("height", 0))
        if width > 0 and height > 0:
            boxes.append(Box(x, y, x + width, y + height, fill))
    return boxes


def _lines(root: ET.Element) -> Iterator[Line]:
    for text in root.iter(f"{SVG}text"):
        size = float(text.get("font-size", 16))
        bold = text.get("font-weight") == "bold"
        anchor = text.get("text-anchor", "start")
        ink = text.get("fill", "#000000")
        spans = text.findall(f"{SVG}tspan") or [text]
        y = float(text.get("y", 0))
        for span in spans:
            x = float(span.get("x", text.get("x", 0)))
            y += float(span.get("dy", 0)) if span is not text else 0
            content = "".join(span.itertext())
            width = text_width(content, size, bold=bold)
            left = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
            # ascenders about 0.8 em above the baseline, descenders 0.2 below
            box = Box(left, y - 0.8 * size, left + width, y + 0.2 * size, ink)
            yield Line(content, box, size, bold, ink)


def problems(svg: str) -> list[str]:
    """What a reader would stumble on in ``svg``: a cut text, a text wider than its shape or
    straddling a shape's edge, a text below AA contrast on what it sits on."""
    root = ET.fromstring(svg)
    width, height = (float(v) for v in root.get("viewBox", "0 0 0 0").split()[2:])
    canvas = Box(0, 0, width, height, PAGE)
    shapes = _shapes(root)
    found = []
    for line in _lines(root):
        if "…" in line.text or "..." in line.text:
            found.append(f"cut: {line.text!r}")
        if not line.text.strip():
            continue
        met = [shape for shape in shapes if shape.meets(line.box)]
        ground = met[-1] if met else canvas
        if not ground.holds(line.box):
            found.append(f"wider than its shape ({ground}): {line.text!r} {line.box}")
        elif any(
            not ground.holds(s) and s.meets(line.box) for s in met[:-1] if s.fill != ground.fill
        ):
            found.append(f"across a shape's edge: {line.text!r}")
        large = line.size >= 24 or (line.bold and line.size >= 18.66)
        ratio = contrast_ratio(line.ink, ground.fill)
        if ratio < (AA_LARGE if large else AA_NORMAL):
            found.append(f"contrast {ratio:.2f} of {line.ink} on {ground.fill}: {line.text!r}")
    return found


def _whole(text: ET.Element) -> str:
    """A ``<text>``'s lines joined back with spaces."""
    spans = text.findall(f"{SVG}tspan")
    return " ".join("".join(s.itertext()) for s in spans) if spans else "".join(text.itertext())


def texts(svg: str) -> str:
    return " ".join(line.text for line in _lines(ET.fromstring(svg)))


def test_the_checker_sees_what_it_looks_for() -> None:
    """The checker itself: white on Bitrix24 red, a cut label and an overflowing one are found."""
    ns = 'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 100"'
    red = f'<svg {ns}><rect x="0" y="0" width="300" height="40" fill="#ff5752"/>'
    white_on_red = (
        red + '<text x="10" y="25" font-size="13" fill="#ffffff">Нет бюджета</text></svg>'
    )
    assert any("contrast" in p for p in problems(white_on_red))
    dark_on_red = (
        red + f'<text x="10" y="25" font-size="13" fill="{DARK_INK}">Нет бюджета</text></svg>'
    )
    assert problems(dark_on_red) == []
    cut = (
        red + f'<text x="10" y="25" font-size="13" fill="{DARK_INK}">Клиент перестал…</text></svg>'
    )
    assert any(p.startswith("cut") for p in problems(cut))
    long = "Покупатель перестал выходить на связь, совсем"
    wide = red + f'<text x="10" y="25" font-size="13" fill="{DARK_INK}">{long}</text></svg>'
    assert any(p.startswith("wider") for p in problems(wide))
    grey_page = f'<svg {ns}><text x="10" y="60" font-size="13" fill="#aaaaaa">x</text></svg>'
    assert any("contrast" in p for p in problems(grey_page))


# -- contrast and measure -------------------------------------------------------------------------


def test_contrast_follows_wcag() -> None:
    assert relative_luminance("#ffffff") == pytest.approx(1.0)
    assert relative_luminance("#000") == pytest.approx(0.0)
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    # WebAIM's worked values: #777 on white is 4.48, just below AA; #767676 is 4.54
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize(
    "color",
    ["#FF5752", "#D9534F", "#E57373", "#FFCB4C", "#FFFF99", "#39A8EF", "#7BD500", "#777777",
     "#2067b0", "#000000", "#ffffff", "#808080", "#9dcf00"],
)  # fmt: skip
def test_readable_ink_reaches_aa_on_any_fill(color: str) -> None:
    paint = readable_ink(color)
    assert paint.ink in (DARK_INK, LIGHT_INK)
    assert contrast_ratio(paint.fill, paint.ink) >= AA_NORMAL


def test_readable_ink_keeps_a_fill_that_already_reads_and_picks_the_better_ink() -> None:
    red = readable_ink("#FF5752")  # Bitrix24's failure red: white on it is 3.1, dark 4.9
    assert red == readable_ink("#ff5752") and red.fill == "#ff5752" and red.ink == DARK_INK
    assert readable_ink("#2067b0").ink == LIGHT_INK and readable_ink("#FFCB4C").ink == DARK_INK
    # a mid-tone neither ink reads on is darkened under white, no further than needed
    mid = readable_ink("#D9534F")
    assert mid.fill != "#d9534f" and mid.ink == LIGHT_INK
    assert relative_luminance(mid.fill) < relative_luminance("#D9534F")
    assert contrast_ratio(mid.fill, LIGHT_INK) < AA_NORMAL + 0.6


def test_width_estimate_is_conservative_for_cyrillic() -> None:
    """At least 0.6 em for an ordinary Cyrillic letter; wide letters wider than narrow ones."""
    assert text_width("переговоры", 10) >= 0.6 * 10 * 10
    assert text_width("Ш", 13) > text_width("г", 13) > text_width("і", 13)
    assert text_width("Счёт", 13, bold=True) > text_width("Счёт", 13)


def test_wrapping_keeps_every_word_whole_and_in_order() -> None:
    label = "Fulfilment: delivery, works, closing documents · ≤\u00a014\u00a0days"
    lines = wrap_text(label, 150, 13)
    assert len(lines) > 1
    assert " ".join(lines) == label  # every word, in order, none cut
    assert all(text_width(line, 13) <= 150 for line in lines)
    assert "≤\u00a014\u00a0days" in lines[-1]  # no-break spaces hold a duration together
    # a word wider than the line gets a line of its own, whole
    assert wrap_text("Сверхдлинноесловобезпробелов и хвост", 60, 13)[0] == (
        "Сверхдлинноесловобезпробелов"
    )
    assert wrap_text("", 100, 13) == [""]


# -- the funnel -----------------------------------------------------------------------------------


def _library_pipelines() -> list[tuple[str, Pipeline]]:
    library = Library.default()
    seen: dict[tuple[str, str], Pipeline] = {}
    for blueprint_id in library.ids():
        for pipeline in library.load(blueprint_id).pipelines:
            seen.setdefault((blueprint_id, pipeline.code), pipeline)
    return [(f"{b}/{code}", p) for (b, code), p in seen.items()]


PIPELINES = _library_pipelines()


@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_every_library_funnel_reads_whole_and_at_aa_contrast(lang: str) -> None:
    for name, pipeline in PIPELINES:
        svg = funnel_svg(pipeline, lang)  # type: ignore[arg-type]
        assert problems(svg) == [], (name, lang)
        shown = texts(svg)
        for stage in pipeline.stages:
            for word in (stage.name.get(lang) or stage.code).split():  # type: ignore[arg-type]
                assert word in shown, (name, lang, word)


def test_the_longest_stage_names_wrap_onto_more_lines_in_taller_bars() -> None:
    library = Library.default()
    pipeline = next(p for p in library.load("deal-b2b-full").pipelines if p.kind == "deal")
    svg = funnel_svg(pipeline, "en")
    root = ET.fromstring(svg)
    fulfilment = next(t for t in root.iter(f"{SVG}text") if "Fulfilment:" in "".join(t.itertext()))
    spans = ["".join(s.itertext()) for s in fulfilment.findall(f"{SVG}tspan")]
    assert len(spans) >= 2 and " ".join(spans).startswith("7. Fulfilment: delivery, works,")
    assert spans[-1].endswith("≤\u00a014\u00a0days")
    heights = {float(r.get("height", 0)) for r in root.iter(f"{SVG}rect")}
    assert max(heights) >= 34 + 16 and min(heights) == 34


def test_durations_in_the_funnel_are_said_in_the_language() -> None:
    stages = (
        Stage(code="A", name=Names(ru="Новая", en="New", uk="Нова"), semantics="process",
              max_minutes=2 * 1440 + 12 * 60),
        Stage(code="W", name=Names(ru="Успех", en="Won", uk="Успіх"), semantics="success"),
        Stage(code="L", name=Names(ru="Провал", en="Lost", uk="Провал"), semantics="failure",
              color="#D9534F"),
    )  # fmt: skip
    pipeline = Pipeline(code="p", kind="deal", name=Names(ru="П", en="P", uk="П"), stages=stages)
    assert "≤\u00a02\u00a0дня\u00a012\u00a0ч" in texts(funnel_svg(pipeline, "ru"))
    assert "≤\u00a02\u00a0days\u00a012\u00a0h" in texts(funnel_svg(pipeline, "en"))
    assert "≤\u00a02\u00a0дні\u00a012\u00a0год" in texts(funnel_svg(pipeline, "uk"))
    svg = funnel_svg(pipeline, "en")
    assert "#d9534f" not in svg.lower() and problems(svg) == []  # darkened to carry white text
    mermaid = funnel_mermaid(pipeline, "en")
    for fill, ink in re.findall(r"fill:(#[0-9a-f]{6}),color:(#[0-9a-f]{6})", mermaid):
        assert contrast_ratio(fill, ink) >= AA_NORMAL
    assert mermaid.count("style s") == 3


# -- the maturity profile -------------------------------------------------------------------------


def _assessment(level: int) -> tuple[Questionnaire, Assessment]:
    from pathlib import Path

    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.scoring import score

    questionnaire = load_questionnaire()
    examples = Path(__file__).resolve().parent.parent / "examples"
    answers = read_answers(examples / f"assessment-level{level}.toml", questionnaire).answers
    return questionnaire, score(questionnaire, answers)


def _ticks(root: ET.Element) -> dict[str, float]:
    """The scale's tick labels (centred digits under it) by their x."""
    return {
        "".join(t.itertext()): float(t.get("x", 0))
        for t in root.iter(f"{SVG}text")
        if t.get("text-anchor") == "middle" and "".join(t.itertext()) in list("012345")
    }


@pytest.mark.parametrize("level", [0, 3, 5])
@pytest.mark.parametrize("lang", ["ru", "en", "uk"])
def test_the_profile_reads_whole_and_at_aa_contrast(level: int, lang: str) -> None:
    from crmkit.assess.report import profile_svg

    questionnaire, assessment = _assessment(level)
    svg = profile_svg(questionnaire, assessment, lang)  # type: ignore[arg-type]
    assert problems(svg) == []
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    shown = texts(svg)
    for dimension in questionnaire.scored_dimensions():
        for word in dimension.name.get(lang).split():  # type: ignore[arg-type]
            assert word in shown, word
    assert sorted(_ticks(root)) == list("012345")


def test_the_profile_draws_the_company_level_and_marks_what_holds_it() -> None:
    from crmkit.assess.report import profile_svg

    questionnaire, assessment = _assessment(3)
    holding = {a.dimension for a in assessment.held_back_by}
    assert assessment.level == 3 and holding and len(holding) < len(assessment.dimensions)
    for lang, words in (("ru", "уровень компании: 3"), ("en", "company level: 3")):
        svg = profile_svg(questionnaire, assessment, lang)  # type: ignore[arg-type]
        root = ET.fromstring(svg)
        assert words in texts(svg) and words in (root.get("aria-label") or "")
        # the dashed line stands at level 3 of the scale that the ticks mark
        tick_x = _ticks(root)
        dashed = [ln for ln in root.iter(f"{SVG}line") if ln.get("stroke-dasharray")]
        assert len(dashed) == 1 and float(dashed[0].get("x1", 0)) == tick_x["3"]
        # the holding dimensions: bold names, one triangle each (plus the legend's), another colour
        bold = {_whole(t) for t in root.iter(f"{SVG}text") if t.get("font-weight")}
        names = {questionnaire.dimension(d).name.get(lang) for d in holding}  # type: ignore[union-attr,arg-type]
        assert names <= bold
        assert len(list(root.iter(f"{SVG}path"))) == len(holding) + 1
        aria = root.get("aria-label") or ""
        assert all(name in aria for name in names)
    # at level 5 nothing holds the company back: no marker, no legend for it
    questionnaire, top = _assessment(5)
    svg = profile_svg(questionnaire, top, "en")
    assert "<path" not in svg and "holds the company" not in svg


# -- the audit's figures --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def audits() -> dict[str, Any]:
    """An audit of a seeded sandbox per language (the browser test's portal), and one with the
    team's answers beside the data."""
    import dataclasses
    import time

    from crmkit.assess.audit_run import run_audit
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.volume import Volume

    out: dict[str, Any] = {}
    for lang in ("ru", "en"):
        volume = Volume(800, 160, 2400)
        sb = start_sandbox(port=0, rate=None, seed=3, volume=volume, portal_lang=lang)
        with sb, Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
            out[lang] = run_audit(client, portal=sb.base_url, lang=lang, now=time.time())
    _questionnaire, answers = _assessment(3)
    out["says"] = dataclasses.replace(
        out["ru"], says=dict(answers.dimensions), says_level=answers.level
    )
    return out


def _audit_figures(result: Any) -> dict[str, str]:
    from crmkit.assess.audit_report import _figure, _pipelines

    pipelines = _pipelines(result)
    names = ["level", "findings", "activity"] + [f"funnel-{i}" for i in range(len(pipelines))]
    return {name: _figure(result, name, pipelines) for name in names}


@pytest.mark.parametrize("which", ["ru", "en", "says"])
def test_every_audit_figure_reads_whole_and_at_aa_contrast(audits: Any, which: str) -> None:
    figures = _audit_figures(audits[which])
    assert all(figures.values()), [name for name, svg in figures.items() if not svg]
    for name, svg in figures.items():
        assert problems(svg) == [], name
        root = ET.fromstring(svg)
        assert root.get("role") == "img" and root.get("aria-label"), name


def test_the_audit_html_holds_the_charts(audits: Any) -> None:
    from crmkit.assess.audit_report import to_html, to_markdown

    result = audits["ru"]
    page = to_html(result)
    pipelines = sum(1 for _ in result.state.deal_funnels())
    assert page.count("<svg") == 3 + pipelines  # level, findings, activity, a funnel each
    assert "@@FIGURE" not in page and "@@FIGURE" not in to_markdown(result)


def test_the_findings_chart_puts_each_figure_against_its_thresholds(audits: Any) -> None:
    from crmkit.assess.audit_charts import findings_chart

    for lang in ("ru", "en"):
        result = audits[lang]
        svg = findings_chart(result)
        shown = texts(svg)
        measured = [f for f in result.findings if f.value is not None]
        measured = [f for f in measured if f.status in ("ok", "review", "action")]
        assert any(f.status == "action" for f in measured)
        # one row per measured finding, the worst first: its sign says so (not only colour)
        root = ET.fromstring(svg)
        rows = [_whole(t) for t in root.iter(f"{SVG}text") if t.get("font-weight") == "bold"]
        ranks = [{"✗": 0, "!": 1, "✓": 2}[row.split()[0]] for row in rows]
        assert len(rows) == len(measured) and ranks == sorted(ranks)
        assert ranks.count(0) == sum(1 for f in measured if f.status == "action")
        # figures as the language writes them, each with its threshold
        if lang == "ru":
            assert re.search(r"\d\u202f%", shown) and not re.search(r"\d\.\d", shown)
            assert len(re.findall("норма [≤≥]", shown)) == len(measured)
        else:
            assert re.search(r"\d%", shown) and not re.search(r"\d,\d", shown)
            assert len(re.findall("OK [≤≥]", shown)) == len(measured)
        # the zones behind the bars: OK, review and action
        fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
        assert {"#d6ecd6", "#fbe3b0", "#f6cdc7"} <= fills


def test_a_pipeline_chart_is_a_funnel_of_deals_with_what_went_on(audits: Any) -> None:
    from crmkit.assess.audit_report import _figure, _pipelines

    result = audits["ru"]
    pipelines = _pipelines(result)
    first = pipelines[0]
    svg = _figure(result, "funnel-0", pipelines)
    shown = texts(svg)
    for step in first["steps"]:
        assert all(word in shown for word in step["name"].split()), step["name"]
        figure = f"{step['entered']:,}".replace(",", "\u202f")
        assert figure in shown
    # bars narrow with the count: the widest is the first stage's
    root = ET.fromstring(svg)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("rx") == "3"]
    widths = [float(b.get("width", 0)) for b in bars]
    assert len(bars) == len(first["steps"]) and widths[0] == max(widths)
    entered = [s["entered"] for s in first["steps"]]
    assert widths == sorted(widths, reverse=True) or entered != sorted(entered, reverse=True)
    # the share that went on, with a thin space before %, for every stage but the last
    assert len(re.findall(r"→ \d+\u202f%", shown)) == len(first["steps"]) - 1
    assert "ч" in shown or "дн." in shown  # the usual stay, said in Russian


def test_the_level_chart_sets_the_data_beside_the_team(audits: Any) -> None:
    from crmkit.assess.audit_report import level_chart

    result = audits["says"]
    svg = level_chart(result)
    root = ET.fromstring(svg)
    outlined = [r for r in root.iter(f"{SVG}rect") if r.get("stroke")]
    dims = [d for d in result.dimensions if d.id != "automation"]
    paired = [d for d in dims if d.id in result.says]
    assert len(outlined) == len(paired) + 1  # one per dimension both speak of, one in the legend
    shown = texts(svg)
    assert f"уровень по данным: {result.level}" in shown
    assert "Команда говорит" in shown and "Данные показывают" in shown
    assert "без ограничения" in shown or all(d.level is not None for d in dims)


# -- in a real browser ----------------------------------------------------------------------------

#: for every <text> of every drawing: the rectangle drawn last that it touches (or the drawing),
#: and whether the text's real box, as the browser lays it out, stays inside it
_MEASURE = """() => {
  const out = [];
  for (const svg of document.querySelectorAll('svg')) {
    const view = svg.viewBox.baseVal;
    const rects = [...svg.querySelectorAll('rect')].filter(r => r.getAttribute('fill') !== 'none');
    for (const text of svg.querySelectorAll('text')) {
      const b = text.getBBox();
      if (!b.width) continue;
      let ground = {x: view.x, y: view.y, width: view.width, height: view.height};
      for (const r of rects) {
        const g = r.getBBox();
        const meets = b.x < g.x + g.width && g.x < b.x + b.width
          && b.y < g.y + g.height && g.y < b.y + b.height;
        if (meets) ground = g;
      }
      const inside = b.x >= ground.x - 0.5 && b.x + b.width <= ground.x + ground.width + 0.5;
      if (!inside) out.push(text.textContent + ' @ ' + svg.getAttribute('aria-label'));
    }
  }
  return out;
}"""


@pytest.mark.browser
@pytest.mark.parametrize("font", ["Liberation Sans", "DejaVu Sans"])
def test_in_chromium_every_text_stays_inside_its_shape(audits: Any, font: str) -> None:
    """The width estimate against the browser's own layout, in the page's fonts (Arial's metrics)
    and in DejaVu Sans, the widest common fallback when none of them is installed."""
    from crmkit.assess.report import profile_svg

    drawings = [funnel_svg(p, lang) for _n, p in PIPELINES for lang in ("ru", "en")]
    for level in (0, 3, 5):
        drawings += [profile_svg(*_assessment(level), lang) for lang in ("ru", "en")]
    for which in ("ru", "en", "says"):
        drawings += [svg for svg in _audit_figures(audits[which]).values() if svg]
    style = f"svg, svg text {{ font-family: '{font}' !important }}"
    page_text = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><style>{style}</style></head>"
        f"<body>{''.join(drawings)}</body></html>"
    )
    with chromium() as browser:
        page = browser.new_page()
        page.set_content(page_text)
        outside = page.evaluate(_MEASURE)
    assert outside == []


def test_a_bar_chart_wraps_a_long_name_and_writes_figures_in_the_language() -> None:
    from crmkit.export.svg import hbar_chart
    from crmkit.numbers import number

    long = "Сделки без контакта и компании, заведённые менеджерами вручную из переписки"
    rows = [(long, 3.25), ("Коротко", 4.5)]
    svg = hbar_chart(rows, 5, "x", format_value=lambda v: number(v, "ru"))
    assert problems(svg) == []
    root = ET.fromstring(svg)
    wrapped = next(t for t in root.iter(f"{SVG}text") if t.findall(f"{SVG}tspan"))
    assert _whole(wrapped) == long and len(wrapped.findall(f"{SVG}tspan")) >= 2
    assert "3,25" in texts(svg) and "4,50" in texts(svg)
    # a name that fits keeps the one-line drawing (the selection's golden pages rely on it)
    assert "<tspan" not in hbar_chart([("Коротко", 1.0)], 5, "x")


def test_finding_zones_follow_the_thresholds_and_a_point_of_ok_still_shows() -> None:
    from crmkit.assess.audit import Finding, Rule
    from crmkit.assess.audit_charts import _zones

    def rule(better: str, ok: float, review: float) -> Rule:
        text = Names(ru="x", en="x")
        return Rule("AUD900", "k", "c", 3, "share", better, ok, review, "", (), text, text)

    lower = _zones(Finding(rule("lower", 0.1, 0.25), "action", 0.5, 100))
    assert [z[0] for z in lower] == ["ok", "review", "action"]
    assert lower[0][1] == 0 and lower[-1][2] == 1 and lower[0][2] < lower[1][2]
    assert lower[0][2] == pytest.approx(0.1 / (0.5 * 1.25))
    higher = _zones(Finding(rule("higher", 0.5, 0.3), "ok", 0.84, 100))
    assert [z[0] for z in higher] == ["action", "review", "ok"]
    # "OK only at 0, anything above needs action": a sliver of green, then red from there
    point = _zones(Finding(rule("lower", 0.0, 0.0), "ok", 0.0, 10))
    assert [z[0] for z in point] == ["ok", "action"] and 0 < point[0][2] == point[1][1] < 0.1

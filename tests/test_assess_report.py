"""The report: text with the profile as answers and ceilings, JSON, Markdown (golden), HTML with an
inline SVG profile."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crmkit.assess.answers import load_questionnaire, read_answers
from crmkit.assess.report import to_data, to_html, to_markdown, to_text
from crmkit.assess.scoring import score

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
Q = load_questionnaire()


def _assessment(level: int):  # type: ignore[no-untyped-def]
    answers = read_answers(EXAMPLES / f"assessment-level{level}.toml", Q).answers
    return score(Q, answers)


@pytest.mark.parametrize(("level", "lang"), [(0, "ru"), (3, "en"), (3, "ru"), (5, "en")])
def test_markdown_golden(golden, level: int, lang: str) -> None:
    text = to_markdown(Q, _assessment(level), lang)  # type: ignore[arg-type]
    golden(f"assess/level{level}.{lang}.md", text)


def test_text_profile_shows_the_answer_and_the_ceiling_it_allows() -> None:
    text = to_text(Q, _assessment(3), "en")
    assert "a ceiling, not a grade" in text and "█" not in text
    assert "Up to level" in text and "What the next level needs" in text
    # «Регламенты 4» with no regulations: the row says what was answered and what level 5 needs
    rows = text[text.index("Regulations") :]
    assert rows.split()[1] == "4" and "No, the agreements are oral" in " ".join(rows.split()[:12])
    assert "level 5: There are written" in " ".join(rows.split()[:30])
    assert "Maturity level: 3 of 5" in text
    assert "To level 4" in text and "To level 5" in text
    assert "crmkit can generate: deal-marketing, deal-repeat" in text


def test_markdown_profile_rows_name_answers_and_next_level() -> None:
    md = to_markdown(Q, _assessment(3), "ru")
    row = next(line for line in md.splitlines() if line.startswith("| Регламенты |"))
    assert "| 4 | Нет, договорённости устные | уровень 5: Есть письменные регламенты" in row
    integration = next(line for line in md.splitlines() if line.startswith("| Интеграция с 1С"))
    assert "| 3 | Нет: данные между CRM и 1С переносим вручную | уровень 4:" in integration
    assert "это потолок, а не оценка" in md


def test_a_company_without_a_crm_is_told_how_to_choose_one() -> None:
    """Seed 001: the process map before choosing, the kinds of CRM, cloud for small and medium
    business, 5–7 systems on their trials (usually 14 days)."""
    md = to_markdown(Q, _assessment(0), "ru")
    advice = md[md.index("#### Как выбирать CRM") : md.index("## Уровень зрелости")]
    for words in ("карту процессов", "операционные, аналитические и коллаборативные",
                  "малому и среднему бизнесу", "обычно это 14 дней"):  # fmt: skip
        assert words in advice, words
    assert "How to choose a CRM" in to_text(Q, _assessment(0), "en")
    assert "How to choose a CRM" not in to_markdown(Q, _assessment(3), "en")
    # no CRM: every dimension waits for one, rather than for the choice one level up
    rows = [line for line in md.splitlines() if line.startswith("| Регламенты |")]
    assert rows and rows[0].endswith("| сначала нужна CRM |")


def test_text_in_russian_uses_users_words() -> None:
    text = to_text(Q, _assessment(3), "ru")
    assert "Уровень зрелости: 3 из 5 — «CRM в простом виде»" in text
    assert "воронк" in text and "РОП" in text and "1С" in text


def test_readiness_comes_before_maturity_only_without_crm() -> None:
    no_crm = to_markdown(Q, _assessment(0), "en")
    assert no_crm.index("## Is it time for a CRM") < no_crm.index("## Maturity level")
    assert "Is it time for a CRM" not in to_markdown(Q, _assessment(3), "en")


def test_json_is_what_design_promises() -> None:
    data = to_data(Q, _assessment(3), "en")
    assert data["level"] == 3
    assert set(data["dimensions"]) == {d.id for d in Q.scored_dimensions()}
    assert all(isinstance(item["question"], str) for item in data["held_back_by"])
    assert json.loads(json.dumps(data)) == data


def test_html_is_self_contained_with_svg_profile() -> None:
    page = to_html(Q, _assessment(3), "ru")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="ru">' in page
    assert page.count("<svg") == 1 and "Где хранятся данные" in page
    assert "<script" not in page and "@@PROFILE@@" not in page
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<rect") == 14  # a bar per dimension (the level line and ticks are lines)


def test_cli_formats_and_out(crmkit, tmp_path: Path) -> None:
    answers = str(EXAMPLES / "assessment-level3.toml")
    for fmt, marker in (
        ("text", "----"),
        ("md", "| --- |"),
        ("html", "<svg"),
        ("json", '"level": 3'),
    ):
        result = crmkit("assess", "--answers", answers, "--format", fmt)
        assert result.code == 0, result.err
        assert marker in result.out, fmt
    out = tmp_path / "reports" / "assessment.html"
    result = crmkit(
        "assess", "--answers", answers, "--format", "html", "--out", str(out), "--lang", "ru"
    )
    assert result.code == 0 and result.out == ""
    assert "Оценка зрелости CRM" in out.read_text(encoding="utf-8")


def test_help_in_both_languages(crmkit) -> None:
    for lang, words in (("en", "maturity"), ("ru", "зрелости")):
        for args in (("assess", "--help"), ("assess", "questions", "--help")):
            result = crmkit(*args, lang=lang)
            assert result.code == 0 and words in result.out, (lang, args)
    listing = crmkit("--help").out
    assert "assess" in listing and "CRM maturity assessment" in listing

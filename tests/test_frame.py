"""The one document frame: the cover from client.toml or options, the logo embedded, the
summary and contents, the combined report of a folder, and one-line errors for a bad client.toml."""

from __future__ import annotations

import base64
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest

from crmkit.export.combined import combine, from_document, from_page
from crmkit.export.frame import DocumentMeta, long_date
from crmkit.export.html import HtmlDocument, number_headings, toc_html

EXAMPLES = Path(__file__).parent.parent / "examples"
#: the smallest valid PNG (1×1, transparent)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def _folder(tmp_path: Path, client_toml: str) -> Path:
    folder = tmp_path / "acme"
    folder.mkdir()
    shutil.copy(EXAMPLES / "assessment-level3.toml", folder / "assessment.toml")
    (folder / "client.toml").write_text(client_toml, encoding="utf-8")
    return folder


def test_the_cover_comes_from_client_toml_with_the_logo_embedded(crmkit, tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        'client = "ООО «Ромашка»"\nconsultant = "Анна Соколова"\ncompany = "Внедрение CRM"\n'
        'version = "2.1"\nlogo = "logo.png"\ndate = 2026-11-30\n',
    )
    (folder / "logo.png").write_bytes(PNG)
    result = crmkit("render", "assessment.toml", "--lang", "ru", cwd=folder)
    assert result.code == 0, result.err
    page = (folder / "reports" / "assessment.html").read_text(encoding="utf-8")
    cover = page[page.index('<header class="cover">') : page.index("</header>")]
    for text in ("ООО «Ромашка»", "Анна Соколова, Внедрение CRM", "30 ноября 2026 г.", "2.1"):
        assert text in cover, text
    assert f'src="data:image/png;base64,{base64.b64encode(PNG).decode()}"' in cover
    assert "logo.png" not in page  # embedded, never linked
    # the printed footer and the page's footer say the same
    assert "ООО «Ромашка» · Оценка зрелости CRM · версия 2.1 · 30 ноября 2026 г." in page
    assert "counter(page)" in page


def test_options_override_client_toml(crmkit, tmp_path: Path) -> None:
    folder = _folder(tmp_path, 'client = "Старое имя"\n')
    result = crmkit(
        "render", "assessment.toml", "--client", "ООО «Новое»", "--doc-version", "3",
        "--consultant", "Пётр", "--lang", "ru", "--out", "-", cwd=folder,
    )  # fmt: skip
    assert result.code == 0, result.err
    assert "ООО «Новое»" in result.out and "Старое имя" not in result.out
    assert "Пётр" in result.out and "<dd>3</dd>" in result.out


@pytest.mark.parametrize(
    ("client_toml", "where", "says"),
    [
        ('client = "A"\nclinet = "B"\n', "client.toml:2", "clinet"),
        ('client = "A"\nlogo = "missing.png"\n', "client.toml:2", "missing.png"),
        ('logo = "notes.txt"\n', "client.toml:1", ".png"),
        ('date = "yesterday"\n', "client.toml:1", "2026-12-02"),
        ("version = 2\n", "client.toml:1", "version"),
        ('client = "A\n', "client.toml:1", ""),
    ],
)
def test_a_bad_client_toml_is_one_line_and_nothing_is_written(
    crmkit, tmp_path: Path, client_toml: str, where: str, says: str
) -> None:
    folder = _folder(tmp_path, client_toml)
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    for lang in ("ru", "en"):
        result = crmkit("render", "assessment.toml", "--lang", lang, cwd=folder)
        assert result.code == 2, result.err
        lines = result.err.strip().splitlines()
        assert len(lines) == 1 and where in lines[0] and says in lines[0], lines
        assert "Traceback" not in result.err
    assert not (folder / "reports").exists()


def test_the_long_date_in_each_language() -> None:
    import datetime

    day = datetime.date(2026, 3, 8)
    assert long_date(day, "ru") == "8 марта 2026 г."
    assert long_date(day, "uk") == "8 березня 2026 р."
    assert long_date(day, "en") == "8 March 2026"


def test_headings_get_anchors_and_the_contents_links_them() -> None:
    body, sections = number_headings("<h2>A</h2><p>x</p><h3>B</h3><h2>C</h2>", "s")
    assert body == '<h2 id="s-1">A</h2><p>x</p><h3 id="s-2">B</h3><h2 id="s-3">C</h2>'
    toc = toc_html(sections, "en")
    assert toc.count("<a href=") == 3 and '<li><a href="#s-1">A</a><ol>' in toc


def _document(title: str, kind: str) -> HtmlDocument:
    doc = HtmlDocument(title, "en", kind=kind, meta=DocumentMeta(client="Acme"))
    doc.summarize("**The answer.**")
    doc.markdown(f"# {title}\n\n## Part one\n\ntext\n\n## Part two\n\nmore")
    doc.figure(
        '<svg id="g"><defs><linearGradient id="grad"/></defs><rect fill="url(#grad)"/></svg>'
    )
    return doc


def test_a_standalone_page_has_the_cover_summary_contents_and_no_repeated_title() -> None:
    page = _document("Funnels", "CRM blueprint").render()
    assert page.count("<h1>") == 1 and '<p class="kind">CRM blueprint</p>' in page
    assert '<section class="summary" id="summary">' in page and "The answer." in page
    assert '<a href="#s-1">Part one</a>' in page and '<h2 id="s-1">Part one</h2>' in page


def test_the_combined_report_keeps_every_part_and_no_id_twice() -> None:
    first, second = _document("One", "Kind 1"), _document("Two", "Kind 2")
    saved = from_page("audit", second.render(), "audit.html")  # a saved page read back
    page = combine([from_document("assessment", first), saved], DocumentMeta(client="Acme"), "en")
    ids = Counter(re.findall(r'\bid="([^"]+)"', page))
    assert [i for i, n in ids.items() if n > 1] == []
    # each part's drawing refers to its own gradient
    assert 'fill="url(#p1-grad)"' in page and 'fill="url(#p2-grad)"' in page
    toc = page[page.index('<nav class="toc"') : page.index("</nav>")]
    for text in ("One", "Two", "Part one", "Part two"):
        assert f">{text}</a>" in toc, text
    for href in re.findall(r'href="#([^"]+)"', page):
        assert f'id="{href}"' in page, href
    assert page.count("The answer.") == 2


def test_render_dir_writes_the_combined_report(crmkit, tmp_path: Path) -> None:
    folder = _folder(tmp_path, 'client = "Acme"\n')
    shutil.copy(EXAMPLES / "selection.toml", folder / "selection.toml")
    for lang in ("ru", "en"):
        result = crmkit("render", ".", "--lang", lang, cwd=folder)
        assert result.code == 0, result.err
        page = (folder / "reports" / "report.html").read_text(encoding="utf-8")
        assert '<section class="part"' in page and page.count('<section class="part"') == 2
    refused = crmkit("render", ".", "--format", "md", cwd=folder)
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = crmkit("render", str(empty))
    assert result.code == 2 and "empty" in result.err and len(result.err.strip().splitlines()) == 1
    assert not (empty / "reports").exists()


def test_the_page_colours_meet_wcag_aa() -> None:
    """Text colours of the stylesheet on the backgrounds they are used on: 4.5:1 at least."""
    from crmkit.export.html import page_css
    from crmkit.export.svg import contrast_ratio

    css = page_css()
    colours = dict(re.findall(r"--(\w+):(#[0-9a-fA-F]{6})", css))
    summary = re.search(r"\.summary \{ background: (#[0-9a-fA-F]{6})", css)
    assert summary is not None
    backgrounds = [colours["bg"], colours["soft"], summary.group(1), "#fafcfe"]
    for text in ("ink", "muted", "accent"):
        for background in backgrounds:
            ratio = contrast_ratio(colours[text], background)
            assert ratio >= 4.5, (text, background, round(ratio, 2))

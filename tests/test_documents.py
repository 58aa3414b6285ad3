"""Every client document of a client folder, as the client gets it — the demo's folder in
Russian and in English: the assessment, the selection (HTML and the workbook), the blueprint, the
pulled portal, the audit, the push plan and the combined report.

1. No tool internals on a client page: no ``crmkit`` command, no library id (outside the
   implementer's appendix), no file path, no loopback host.
2. In a real headless Chromium: no console error, no network request, every section of the
   contents present, no sideways scroll of the page at 390 px, screenshots saved; printed to PDF
   the pages are A4 and no table is wider than the page.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_util import chromium

from crmkit.blueprints.library import Library

ARTIFACTS = Path(__file__).parent / "artifacts"
LANGS = ("ru", "en")
#: the documents every demo folder holds (reports/…)
PAGES = (
    "assessment.html",
    "selection.html",
    "blueprint.html",
    "portal.html",
    "audit.html",
    "push-plan.html",
    "report.html",
)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The demo's client folder in each language (the whole path: sandbox, audit, push)."""
    from crmkit.demo import run_demo

    made = {}
    for lang in LANGS:
        folder = tmp_path_factory.mktemp(f"client-{lang}") / "client"
        run_demo(folder, lang)  # type: ignore[arg-type]
        made[lang] = folder
    return made


# -- 1. no tool text --------------------------------------------------------------------------

_APPENDIX_HTML = re.compile(r'<section class="appendix".*?</section>', re.S)
_PATH = re.compile(
    r"(?<![\w/.])[\w.-]+\.(?:toml|json|xlsx)\b|(?:^|[\s(«\"'])(?:/tmp/|/home/|\./|reports/|push/)"
)
_LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|\[::1\]|\b::1\b", re.I)


def _library_ids() -> list[str]:
    # a hyphenated id is never a word of the text; one-word ids (roles) are checked as code
    return [i for i in Library.default().ids() if "-" in i] + ["tailored-level"]


def _visible_text(page: str) -> str:
    """The page as the client reads it: without the stylesheet and the markup."""
    page = re.sub(r"<style>.*?</style>", "", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return page


def _problems(text: str, *, appendix_free: str) -> list[str]:
    found = []
    if re.search(r"\bcrmkit\b", text, re.I):
        found.append("the tool's name: " + text[max(0, text.lower().index("crmkit") - 60) :][:120])
    for lib_id in _library_ids():
        if lib_id in appendix_free:
            found.append(f"library id {lib_id}")
    match = _PATH.search(text)
    if match:
        found.append(f"a file path: {text[max(0, match.start() - 40) : match.end() + 20]!r}")
    if _LOOPBACK.search(text):
        found.append("a loopback host")
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_no_client_document_shows_tool_internals(folders: dict[str, Path], lang: str) -> None:
    reports = folders[lang] / "reports"
    checked = 0
    for page in sorted(reports.iterdir()):
        if page.suffix == ".html":
            raw = page.read_text(encoding="utf-8")
            text = _visible_text(raw)
            outside = _visible_text(_APPENDIX_HTML.sub("", raw))
        elif page.suffix == ".md":
            text = page.read_text(encoding="utf-8")
            marker = "## Приложение для внедренца" if lang == "ru" else "## Appendix for the"
            outside = text.split(marker)[0]
        else:
            continue
        problems = _problems(text, appendix_free=outside)
        assert not problems, f"{page.name}: {problems}"
        checked += 1
    assert checked >= len(PAGES)


@pytest.mark.parametrize("lang", LANGS)
def test_the_workbook_shows_no_tool_internals(folders: dict[str, Path], lang: str) -> None:
    from openpyxl import load_workbook

    book = load_workbook(folders[lang] / "reports" / "selection.xlsx")
    texts = [
        str(cell.value)
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and not cell.value.startswith("=")
    ]
    assert texts
    joined = "\n".join(texts)
    assert not _problems(joined, appendix_free=joined)


def test_the_grep_finds_what_it_looks_for() -> None:
    """The checks above would catch each kind of slip (a test that cannot fail is no test)."""
    for slip in (
        "Run crmkit blueprint new",
        "built from deal-marketing",
        "see assessment.toml",
        "open reports/audit.html",
        "portal http://127.0.0.1:8080",
    ):
        assert _problems(slip, appendix_free=slip), slip
    assert not _problems("Итог 4,30 из 5; 59 %", appendix_free="")


# -- 2. in Chromium ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


def _visit(browser: Any, page_file: Path, width: int, shot: Path | None) -> dict[str, Any]:
    requests: list[str] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri(), wait_until="load")
        seen = page.evaluate(
            """() => ({
                scroll: document.documentElement.scrollWidth,
                client: document.documentElement.clientWidth,
                links: [...document.querySelectorAll('nav.toc a')].map(a => a.getAttribute('href')),
                missing: [...document.querySelectorAll('nav.toc a')]
                    .filter(a => !document.getElementById(a.getAttribute('href').slice(1)))
                    .map(a => a.getAttribute('href')),
                summary: !!document.querySelector('section.summary'),
                cover: !!document.querySelector('header.cover h1'),
                scripts: document.querySelectorAll('script').length,
            })"""
        )
        if shot is not None:
            ARTIFACTS.mkdir(exist_ok=True)
            height = min(3000, page.evaluate("document.body.scrollHeight"))
            page.screenshot(path=str(shot), clip={"x": 0, "y": 0, "width": width, "height": height})
    finally:
        context.close()
    return {**seen, "requests": requests, "errors": errors}


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("name", PAGES)
def test_every_document_in_chromium_on_a_desktop_and_a_phone(
    browser: Any, folders: dict[str, Path], lang: str, name: str
) -> None:
    page_file = folders[lang] / "reports" / name
    stem = f"{Path(name).stem}.{lang}"
    for width in (1280, 390):
        seen = _visit(browser, page_file, width, ARTIFACTS / f"doc-{stem}-{width}.png")
        assert seen["requests"] == [page_file.as_uri()], seen["requests"]
        assert seen["errors"] == []
        assert seen["cover"] and seen["summary"] and seen["scripts"] == 0
        assert len(seen["links"]) >= 2 and seen["missing"] == [], seen["missing"]
        # the page never scrolls sideways; a wide table scrolls inside its own box
        assert seen["scroll"] <= seen["client"], f"{name} at {width} px: {seen['scroll']} px wide"
    assert (ARTIFACTS / f"doc-{stem}-390.png").stat().st_size > 5_000


#: A4 in PDF points (1/72 inch), with Chromium's rounding
_A4 = (595.0, 842.0)


def _pdf_page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    boxes = re.findall(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


@pytest.mark.browser
@pytest.mark.parametrize("lang", LANGS)
def test_printed_documents_are_a4_and_no_table_is_wider_than_the_page(
    browser: Any, folders: dict[str, Path], lang: str
) -> None:
    context = browser.new_context()
    try:
        for name in PAGES:
            page = context.new_page()
            page.goto((folders[lang] / "reports" / name).as_uri(), wait_until="load")
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            sizes = _pdf_page_sizes(pdf)
            assert sizes, name
            assert all(abs(w - _A4[0]) < 2 and abs(h - _A4[1]) < 2 for w, h in sizes), (
                name,
                sizes[:3],
            )
            if name == "report.html":
                (ARTIFACTS / f"report.{lang}.pdf").write_bytes(pdf)
            # laid out as printed, at the A4 text width (210 mm less the 14 mm margins)
            page.emulate_media(media="print")
            page.set_viewport_size({"width": round((210 - 28) / 25.4 * 96), "height": 1100})
            wide = page.evaluate(
                """() => [...document.querySelectorAll('table, svg')]
                    .map(t => [t.tagName, Math.round(t.getBoundingClientRect().right)])
                    .filter(([, right]) => right > document.documentElement.clientWidth + 1)"""
            )
            assert wide == [], f"{name}: wider than the page when printed: {wide[:5]}"
            page.close()
    finally:
        context.close()

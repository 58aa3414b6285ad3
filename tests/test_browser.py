"""The HTML documentation in a real headless Chromium: no network, no console errors, a screenshot.

Skipped, with the reason, where no Chromium is installed (`.ci/run` installs Debian's).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_util import chromium

from crmkit.blueprints.library import Library
from crmkit.export.blueprint_doc import blueprint_html

ARTIFACTS = Path(__file__).parent / "artifacts"


def _audit_page(lang: str) -> tuple[str, str, int]:
    """An audit report of a seeded sandbox: (html, title, charts it should hold)."""
    import time

    from crmkit.assess.audit_report import to_html
    from crmkit.assess.audit_run import run_audit
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.volume import Volume

    sb = start_sandbox(port=0, rate=None, seed=3, volume=Volume(800, 160, 2400), portal_lang=lang)
    with sb, Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
        result = run_audit(client, portal=sb.base_url, lang=lang, now=time.time())  # type: ignore[arg-type]
    charts = 2 + sum(1 for _ in result.state.deal_funnels())
    from crmkit.i18n import msg

    return to_html(result), msg("audit.report.title", lang), charts  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's pages (a launch costs about a second)."""
    with chromium() as launched:
        yield launched


def _open(browser: Any, page_file: Path, shot: Path) -> dict[str, Any]:
    """Opens a page in a fresh context: what it requested, its errors, what it holds; and the
    first screens as a screenshot (the whole 37,000-pixel blueprint page took 5 s to capture)."""
    requests: list[str] = []
    errors: list[str] = []
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    try:
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_file.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        seen = {
            "title": page.title(),
            "svg": page.locator("svg").count(),
            "tables": page.locator("table").count(),
            "scripts": page.locator("script").count(),
        }
        ARTIFACTS.mkdir(exist_ok=True)
        height = min(4000, page.evaluate("document.body.scrollHeight"))
        page.screenshot(
            path=str(shot), full_page=True, clip={"x": 0, "y": 0, "width": 1200, "height": height}
        )
    finally:
        context.close()
    if os.environ.get("CI"):
        print(f"screenshot: {shot}")
    return {**seen, "requests": requests, "errors": errors}


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_the_audit_report_in_chromium(tmp_path: Path, browser: Any, lang: str) -> None:
    html, title, charts = _audit_page(lang)
    page_file = tmp_path / f"audit.{lang}.html"
    page_file.write_text(html, encoding="utf-8")
    shot = ARTIFACTS / f"audit.{lang}.png"
    seen = _open(browser, page_file, shot)
    assert seen["requests"] == [page_file.as_uri()], seen["requests"]
    assert seen["errors"] == []
    assert seen["title"] == title
    assert seen["svg"] >= charts and seen["scripts"] == 0
    assert shot.stat().st_size > 10_000


@pytest.mark.browser
@pytest.mark.parametrize("lang", ["ru", "en"])
def test_largest_blueprint_page_in_chromium(tmp_path: Path, browser: Any, lang: str) -> None:
    library = Library.default()
    blueprints = [library.load(name) for name in library.ids()]
    largest = max(blueprints, key=lambda bp: (bp.stage_count(), len(bp.fields)))
    page_file = tmp_path / f"{largest.id}.{lang}.html"
    page_file.write_text(blueprint_html(largest, lang), encoding="utf-8")  # type: ignore[arg-type]
    shot = ARTIFACTS / f"{largest.id}.{lang}.png"
    seen = _open(browser, page_file, shot)
    assert seen["requests"] == [page_file.as_uri()], f"the page made requests: {seen['requests']}"
    assert seen["errors"] == []
    assert seen["title"] == largest.name.get(lang)  # type: ignore[arg-type]
    assert seen["svg"] == len(largest.pipelines)
    assert seen["tables"] >= len(largest.pipelines)
    assert seen["scripts"] == 0
    assert shot.stat().st_size > 10_000

"""One way for the tests to get a headless Chromium: found on PATH, started with the flags a
container needs, skipped with the reason where there is none (`.ci/run` installs Debian's)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def chromium_path() -> str:
    """The browser's executable; skips the test where none is installed."""
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium installed (Debian: apt-get install chromium); browser test skipped")


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """A launched headless Chromium (playwright's Browser), closed on the way out."""
    executable = chromium_path()
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as playwright:
        try:
            launched = playwright.chromium.launch(
                executable_path=executable, headless=True, args=CHROMIUM_FLAGS
            )
        except Exception as exc:  # a broken browser install is an environment problem
            pytest.skip(f"Chromium did not start: {exc}")
        try:
            yield launched
        finally:
            launched.close()

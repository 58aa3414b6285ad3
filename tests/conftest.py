"""Shared test helpers: running the CLI in-process, golden files."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import settings

from crmkit.cli import run
from crmkit.cli.context import AppContext

# The suite must pass every time: property tests draw the same examples on every run (a fuzzer
# that finds a new bug by chance would stop an unrelated change from landing). To search for new
# cases, run with HYPOTHESIS_PROFILE=explore; pin what it finds with @example.
settings.register_profile("repeatable", derandomize=True, database=None, print_blob=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden", action="store_true", default=False, help="rewrite golden files"
    )


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def crmkit(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Callable[..., Result]:
    """Run ``crmkit ARGS`` in-process with a fresh AppContext; returns code, stdout, stderr."""

    def invoke(*args: str, lang: str = "en", cwd: Path | None = None, **env: str) -> Result:
        capsys.readouterr()
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
        environ.update(env)
        app = AppContext(lang=lang, environ=environ, cwd=cwd or tmp_path, interactive=False)  # type: ignore[arg-type]
        code = run(list(args), app)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """Compare text with ``tests/golden/NAME``; ``pytest --update-golden`` rewrites it."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN / name
        if update or not path.exists():
            if not update and os.environ.get("CI"):
                pytest.fail(f"golden file {name} is missing; run pytest --update-golden")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            return
        expected = path.read_text(encoding="utf-8")
        assert text == expected, f"output differs from golden file {name} (pytest --update-golden)"

    return check

"""The pure core of the selection (matrix, shortlist, deployment, vendor) imports no click,
questionary, requests or heavy libraries, loads no file adapter and touches no I/O."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

PURE = ("matrix", "shortlist", "deployment", "vendor")
SELECT = Path(__file__).resolve().parent.parent / "crmkit" / "select"
FORBIDDEN_MODULES = (
    "click",
    "questionary",
    "requests",
    "jinja2",
    "openpyxl",
    "markdown_it",
    "crmkit.files",
    "crmkit.cli",
    "prompt_toolkit",
)


def test_pure_modules_load_nothing_forbidden():
    code = (
        "import sys, json\n"
        + "".join(f"import crmkit.select.{name}\n" for name in PURE)
        + "print(json.dumps(sorted(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_MODULES)]
    assert bad == []


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_do_no_io(name):
    tree = ast.parse((SELECT / f"{name}.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id not in ("open", "print", "input", "exec", "eval"), node.func.id
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
            )
            for mod in names:
                top = mod.split(".")[0]
                assert top not in (
                    "os",
                    "pathlib",
                    "subprocess",
                    "time",
                    "datetime",
                    "socket",
                    "sys",
                )


def test_only_prompt_imports_questionary_and_only_xlsx_openpyxl():
    for path in SELECT.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        if path.name != "prompt.py":
            assert "import questionary" not in text, path.name
        if path.name != "xlsx.py":
            assert "import openpyxl" not in text and "from openpyxl" not in text, path.name

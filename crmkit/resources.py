"""Where shipped data folders are: in an installed wheel, or in a source checkout.

The wheel carries the top-level ``blueprints/`` and ``examples/`` folders as
``crmkit/library/<name>`` (pyproject's force-include); a checkout has them beside the package.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_folder(name: str) -> Path:
    installed = _PACKAGE / "library" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name

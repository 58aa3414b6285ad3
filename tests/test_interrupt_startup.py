"""Ctrl-C while crmkit is still starting (importing its command line): one line, never a
traceback."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import pytest
from test_demo_interrupt import as_at_a_terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

#: what runs before crmkit._entry.main: the package's __init__ and __main__ module lines (and
#: _entry's own few imports)
_BEFORE_THE_ENTRY = ("crmkit/__init__.py", "crmkit/__main__.py")


@pytest.mark.parametrize("after", [0.03, 0.06, 0.09, 0.12, 0.2])
def test_ctrl_c_during_start_up_is_one_line(after: float) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    # no bytecode written: every run imports as slowly as a fresh install's first one
    environ.update(CRMKIT_LANG="ru", PYTHONDONTWRITEBYTECODE="1")
    process = subprocess.Popen(
        [sys.executable, "-m", "crmkit", "--help"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
        preexec_fn=as_at_a_terminal,
    )
    time.sleep(after)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    if "Traceback" in err or "Fatal Python error" in err:
        # only Python's own start (site, runpy, the package's first line) lies before crmkit's
        # entry can catch anything; a busy machine stretches it past the signal, and Python
        # then says so itself — but never from inside crmkit
        frames = re.findall(r'File "([^"]+)", line \d+, in (\S+)', err)
        ours = [
            (name, where)
            for name, where in frames
            if "crmkit" in name
            and not name.endswith(_BEFORE_THE_ENTRY)
            and not (name.endswith("crmkit/_entry.py") and where == "<module>")
        ]
        assert ours == [], err
        return
    # killed before Python took SIGINT over (-2), interrupted (130), or done already (0)
    assert process.returncode in (0, 130, -signal.SIGINT), (process.returncode, err)
    if process.returncode == 130:
        assert [line for line in err.splitlines() if line.strip()] == ["crmkit: прервано"]

"""Ctrl-C while crmkit is still starting (importing its command line): one line, never a
traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from test_demo_interrupt import as_at_a_terminal

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


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
    assert "Traceback" not in err, err
    # killed before Python took SIGINT over (-2), interrupted (130), or done already (0)
    assert process.returncode in (0, 130, -signal.SIGINT), (process.returncode, err)
    if process.returncode == 130:
        assert [line for line in err.splitlines() if line.strip()] == ["crmkit: прервано"]

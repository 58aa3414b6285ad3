"""Ctrl-C during `crmkit demo`: one line, exit 130, and no sandbox left — no listening port, no
thread (the process is gone), no process of its session."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and sessions")

#: long enough that the test, not the demo, decides when the run ends
PAUSE = "60"


def as_at_a_terminal() -> None:
    """In the child: Ctrl-C as a person at a terminal has it. A run started in the background
    of a shell without job control inherits SIGINT ignored (POSIX), which no program can tell
    from a user who pressed nothing; the test is about the pressing."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


class Demo:
    """``crmkit demo`` in a process of its own session, its stdout read line by line."""

    def __init__(self, folder: Path, **env: str) -> None:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
        environ.update(env, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "crmkit", "demo", "--out", str(folder), "--lang", "en"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environ,
            start_new_session=True,
            preexec_fn=as_at_a_terminal,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)

    def wait_for(self, pattern: str, timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=0.1)
            except queue.Empty:
                assert self.process.poll() is None, self.seen
                continue
            self.seen.append(line)
            found = re.search(pattern, line)
            if found:
                return found
        raise AssertionError(f"no line matching {pattern!r} in {self.seen}")

    def interrupt(self) -> tuple[int, str]:
        self.process.send_signal(signal.SIGINT)
        return self.finish()

    def finish(self) -> tuple[int, str]:
        assert self.process.stderr is not None
        code = self.process.wait(timeout=60)
        self.reader.join(timeout=10)
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code, self.process.stderr.read()


def _session_members(session: int) -> list[int]:
    """Processes still in the demo's session (its children would be)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session:
                    members.append(int(entry.name))
            except OSError:  # gone meanwhile, or not ours to ask
                continue
    return members


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def _assert_clean_end(demo: Demo, code: int, err: str, folder: Path) -> None:
    assert "Traceback" not in err
    if code == 130:
        assert [line for line in err.splitlines() if line.strip()] == ["crmkit: interrupted"]
    else:
        assert code == 0, err
    assert _session_members(demo.process.pid) == []
    # an interrupted write leaves no temporary file behind
    assert [p for p in folder.rglob("*.tmp")] == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
def test_ctrl_c_with_the_sandbox_up(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    demo = Demo(folder, CRMKIT_DEMO_PAUSE=PAUSE)
    port = int(demo.wait_for(r"A sandbox portal is up at http://127\.0\.0\.1:(\d+)").group(1))
    assert _listening(port)
    began = time.monotonic()
    code, err = demo.interrupt()
    assert code == 130 and time.monotonic() - began < 10
    _assert_clean_end(demo, code, err, folder)
    assert not _listening(port)
    # what it wrote before is still known as the demo's: a new run needs no --force
    again = subprocess.run(
        [sys.executable, "-m", "crmkit", "demo", "--out", str(folder)],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")},
        timeout=120,
    )
    assert again.returncode == 0, again.stderr


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="needs /proc to list processes")
@pytest.mark.parametrize("delay", [0.0, 0.3, 0.7, 1.2])
def test_ctrl_c_at_any_moment(tmp_path: Path, delay: float) -> None:
    """From the first line on (the CLI is running), wherever the run is when Ctrl-C comes."""
    folder = tmp_path / "demo"
    demo = Demo(folder)
    demo.wait_for(r"crmkit demo on a sample client")
    time.sleep(delay)
    code, err = demo.interrupt()
    _assert_clean_end(demo, code, err, folder)
    ports = [int(m) for line in demo.seen for m in re.findall(r"127\.0\.0\.1:(\d+)", line)]
    assert not any(_listening(port) for port in ports)

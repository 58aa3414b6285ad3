"""The sandbox survives what a portal survives: bursts of clients, chunked bodies, clients that
hang up, kills in the middle of a write, restarts. Traffic goes to 127.0.0.1 only, bounded."""

from __future__ import annotations

import os
import random
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
from sandbox_util import TIMEOUT, ok, result

from crmkit.sandbox import start_sandbox
from crmkit.sandbox.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _request(path: str, body: bytes) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body


def test_a_burst_of_simultaneous_clients_is_served_by_a_bounded_pool() -> None:
    """200 connections opened at once: every one is answered (socketserver's backlog of 5 reset
    or stalled them), and the sandbox serves them with a bounded number of threads."""
    with start_sandbox(port=0, rate=None) as sb:
        path = f"/rest/1/{sb.code}/user.current"
        conns = [socket.create_connection(("127.0.0.1", sb.port), timeout=3) for _ in range(200)]
        try:
            for conn in conns:
                conn.sendall(_request(path, b"{}"))
            answers = []
            for conn in conns:
                data = b""
                while chunk := conn.recv(65536):
                    data += chunk
                answers.append(data)
        finally:
            for conn in conns:
                conn.close()
        workers = [t for t in threading.enumerate() if t.name == "crmkit-sandbox-worker"]
        assert all(a.startswith(b"HTTP/1.1 200") for a in answers)
        assert 1 <= len(workers) <= 32
        assert sb.internal_errors == []


def test_a_chunked_body_is_read() -> None:
    with start_sandbox(port=0, rate=None) as sb:
        body = b'{"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "CHUNKED", "NAME": "Chunked"}}'

        def pieces():  # a generator makes requests send Transfer-Encoding: chunked
            yield body[:10]
            yield body[10:]

        response = requests.post(
            sb.webhook_url + "crm.status.add",
            data=pieces(),
            headers={"Content-Type": "application/json"},
            timeout=TIMEOUT,
        )
        assert response.status_code == 200, response.text
        rows = result(sb, "crm.status.list", {"filter": {"ENTITY_ID": "SOURCE"}})
        assert any(r["STATUS_ID"] == "CHUNKED" for r in rows)
        # a broken chunked body is refused, not read as an empty one
        with socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT) as conn:
            conn.sendall(
                f"POST /rest/1/{sb.code}/user.current HTTP/1.1\r\nHost: x\r\n"
                "Transfer-Encoding: chunked\r\n\r\nzz\r\n".encode()
            )
            assert conn.recv(65536).startswith(b"HTTP/1.1 400")
        assert sb.internal_errors == []


def test_clients_that_hang_up_early_are_no_errors() -> None:
    with start_sandbox(port=0, rate=None) as sb:
        path = f"/rest/1/{sb.code}/crm.status.list"
        for cut in (5, 30, 60):
            with socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT) as conn:
                conn.sendall(_request(path, b"{}" * 10)[:cut])
        for _ in range(20):  # the whole request, then gone before the answer is read
            conn = socket.create_connection(("127.0.0.1", sb.port), timeout=TIMEOUT)
            reset_on_close = struct.pack("ii", 1, 0)  # SO_LINGER 0: close sends a reset
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset_on_close)
            conn.sendall(_request(path, b"{}"))
            conn.close()
        ok(sb, "user.current")
        assert sb.internal_errors == []


def _spawn_sandbox(state: Path, *extra: str) -> tuple[subprocess.Popen[str], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CRMKIT_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "crmkit", "sandbox", "--rate", "0", "--state", str(state), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith("READY "), (line, process.poll())
    return process, line.split()[1]


def test_with_unread_stderr_and_many_hang_ups_ctrl_c_still_stops_it(tmp_path: Path) -> None:
    process, url = _spawn_sandbox(tmp_path / "state")
    try:
        port = int(url.split(":")[2].split("/")[0])
        for _ in range(300):
            conn = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            conn.sendall(b"POST /rest/1/x/user.current HTTP/1.1\r\nHost: x\r\nContent-Le")
            conn.close()
        assert requests.post(url + "user.current", timeout=TIMEOUT).status_code == 200
        process.send_signal(signal.SIGINT)
        _out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate(timeout=5)
    assert process.returncode == 0
    assert "Traceback" not in err and len(err.splitlines()) <= 3


def test_a_restart_with_state_keeps_the_port_and_the_webhook(tmp_path: Path) -> None:
    with start_sandbox(port=0, rate=None, state_dir=tmp_path) as first:
        url = first.webhook_url
        ok(first, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Kept"}})
    with start_sandbox(port=0, rate=None, state_dir=tmp_path) as again:
        assert again.webhook_url == url and not again.port_changed
        names = [
            c["name"] for c in result(again, "crm.category.list", {"entityTypeId": 2})["categories"]
        ]
        assert "Kept" in names
        # the old port is busy now: a third start in the same folder takes another and says so
        with start_sandbox(port=0, rate=None, state_dir=tmp_path) as third:
            assert third.port_changed and third.port != again.port
            assert third.code == again.code


def test_a_call_that_fails_half_way_leaves_memory_and_file_as_before(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put("category", 1, {"id": 1, "name": "before"})
    try:
        with store.transaction():
            store.put("category", 1, {"id": 1, "name": "changed"})
            store.put("category", store.new_id("category", first=2), {"id": 2, "name": "new"})
            store.delete("category", 1)
            raise RuntimeError("the handler failed half-way")
    except RuntimeError:
        pass
    assert store.rows("category") == [{"id": 1, "name": "before"}]
    store.close()
    reopened = Store(tmp_path)
    assert reopened.rows("category") == [{"id": 1, "name": "before"}]
    assert reopened.new_id("category", first=2) == 2
    reopened.close()


def test_kills_during_pipeline_creation_leave_every_pipeline_whole(tmp_path: Path) -> None:
    """A pipeline and its eight default stages are one transaction: SIGKILL at random moments
    while pipelines are being created never leaves one with fewer stages."""
    state = tmp_path / "state"
    rng = random.Random(9)
    for _round in range(12):
        process, url = _spawn_sandbox(state)
        stop = threading.Event()

        def hammer(target: str = url, stop: threading.Event = stop) -> None:
            with requests.Session() as session:
                while not stop.is_set():
                    try:
                        session.post(
                            target + "crm.category.add",
                            json={"entityTypeId": 2, "fields": {"name": "P"}},
                            timeout=2,
                        )
                    except requests.RequestException:
                        return

        worker = threading.Thread(target=hammer)
        worker.start()
        time.sleep(rng.uniform(0.02, 0.15))
        process.kill()
        process.communicate(timeout=10)
        stop.set()
        worker.join(timeout=10)
    with start_sandbox(port=0, rate=None, state_dir=state) as sb:
        categories = result(sb, "crm.category.list", {"entityTypeId": 2})["categories"]
        made = [c for c in categories if c["id"] != 0]
        assert len(made) > 12  # the kills did land among the writes
        for category in made:
            rows = result(
                sb, "crm.status.list", {"filter": {"ENTITY_ID": f"DEAL_STAGE_{category['id']}"}}
            )
            assert len(rows) == 8, (category, len(rows))

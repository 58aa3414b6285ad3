"""The amoCRM sandbox's HTTP side: ``Authorization: Bearer`` tokens, the 7-per-second limit,
a blocked account, forced faults, and HAL/problem JSON answers.

A request meets, in order: a forced or scheduled fault (``429xK@N``, ``503xK@N``), the blocked
account (403 to everything: error-codes.md), the token bucket (429 beyond 7 a second), the token
(401), the route (404/405), the administrator check (403), then runs in one transaction; a
scheduled ``drop-after``/``500-after`` then loses or replaces its answer.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from crmkit.push.bitrix24.webhook import is_loopback
from crmkit.sandbox.amocrm.account import Account, Reply, Request
from crmkit.sandbox.amocrm.activity import routes as activity_routes
from crmkit.sandbox.amocrm.entities import routes as entity_routes
from crmkit.sandbox.amocrm.errors import (
    BLOCKED_DETAIL,
    LIMITED_DETAIL,
    AmoError,
    forbidden,
    problem,
    unauthorized,
)
from crmkit.sandbox.amocrm.events import routes as event_routes
from crmkit.sandbox.amocrm.fields import routes as field_routes
from crmkit.sandbox.amocrm.pipelines import routes as pipeline_routes
from crmkit.sandbox.amocrm.router import WRITES, Router
from crmkit.sandbox.amocrm.seed import bootstrap, seed_account
from crmkit.sandbox.limiter import Clock, Faults, LeakyBucket, Scheduled
from crmkit.sandbox.params import parse_php_query
from crmkit.sandbox.serving import (
    BaseHandler,
    BodyError,
    LoopbackServer,
    ReplyDropped,
    serve_in_thread,
)
from crmkit.sandbox.store import Store

HAL = "application/hal+json"
PROBLEM = "application/problem+json"
#: what a blocked account's web server answers in the wild instead of JSON (amocrm-api-php#434)
BLOCKED_HTML = (
    b"<html>\r\n<head><title>403 Forbidden</title></head>\r\n<body>\r\n"
    b"<center><h1>403 Forbidden</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _router() -> Router:
    whole = Router()
    for part in (pipeline_routes, field_routes, entity_routes, activity_routes, event_routes):
        whole.merge(part)
    return whole


ROUTER = _router()


class _Handler(BaseHandler):
    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def do_PATCH(self) -> None:  # noqa: N802
        self._serve()

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve()

    def do_PUT(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        sandbox: AmoSandbox = self.server.sandbox
        try:
            body = self.read_body()
        except BodyError as refused:
            data = json.dumps(problem(refused.status, refused.message)).encode()
            self.send(refused.status, data, PROBLEM, close=True)
            return
        try:
            status, data, kind = sandbox.handle(self.command, self.path, self.headers, body)
        except ReplyDropped:
            self.drop()
            return
        except Exception:  # a sandbox bug still answers as the API does
            sandbox.internal_errors.append(traceback.format_exc())
            status, data, kind = 500, json.dumps(problem(500, "Internal error")).encode(), PROBLEM
        self.send(status, data, kind)


def _encode(status: int, body: Any) -> tuple[int, bytes, str | None]:
    if status == 204 or body is None:
        return status, b"", None
    kind = HAL if status < 400 else PROBLEM
    return status, json.dumps(body, ensure_ascii=False).encode("utf-8"), kind


class AmoSandbox:
    """A running amoCRM sandbox; stop it with ``stop()`` or use it as a context manager."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        token: str | None,
        state_dir: Path | None,
        rate: float | None,
        burst: int,
        clock: Clock,
        seed: int | None,
        faults: Iterable[Scheduled],
        admin: bool,
        block_after: int | None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the sandbox serves loopback addresses only, not {host!r}")
        self.host = host
        self.clock = clock
        #: the long-lived token a client must send (never logged, never stored in the state)
        self.token = token or secrets.token_urlsafe(32)
        self.store = Store(state_dir)
        self.limiter = LeakyBucket(rate, burst, clock)
        self.faults = Faults()
        self.faults.schedule(*faults)
        #: None, or how a blocked account answers: "json" (problem+json) or "html"
        self.blocked: str | None = None
        self.block_after = block_after
        #: HTTP requests answered, writes executed, 429s given (tests count with them)
        self.requests = 0
        self.writes = 0
        self.limited = 0
        #: (verb, path, status) of every request, in order (no query, no token)
        self.log: list[tuple[str, str, int]] = []
        self.internal_errors: list[str] = []
        self._lock = threading.Lock()
        self._server = LoopbackServer((host, port), self, _Handler)
        self.port: int = self._server.server_address[1]
        self.account = Account(self.store, clock, self.base_url, admin=admin)
        with self.account.lock, self.store.transaction():
            if self.store.meta("initialized") is None:
                bootstrap(self.account)
                self.store.set_meta("initialized", "1")
            if seed is not None and self.store.meta("seeded") is None:
                seed_account(self.account, seed)
        self._stopped = False
        self._thread = serve_in_thread(self._server)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def block(self, kind: str = "json") -> None:
        """Block the account: every request answers 403 (``kind`` "html": an nginx page)."""
        if kind not in ("json", "html"):
            raise ValueError("kind is json or html")
        self.blocked = kind

    def unblock(self) -> None:
        self.blocked = None

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self.store.close()

    def __enter__(self) -> AmoSandbox:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- one request
    def handle(
        self, verb: str, target: str, headers: Any, body: bytes
    ) -> tuple[int, bytes, str | None]:
        with self._lock:
            self.requests += 1
            number = self.requests
        path = urlsplit(target).path
        answer = self._refusal(number, headers)
        if answer is None:
            answer = self._run(verb, target, body)
            if verb in WRITES and answer[0] < 300:
                with self._lock:
                    self.writes += 1
            after = self.faults.after(number)
            if after == "drop-after":
                self._note(verb, path, 0)
                raise ReplyDropped
            if after == "500-after":
                answer = _encode(500, problem(500, "Internal error"))
        self._note(verb, path, answer[0])
        return answer

    def _note(self, verb: str, path: str, status: int) -> None:
        with self._lock:
            self.log.append((verb, path, status))

    def _refusal(self, number: int, headers: Any) -> tuple[int, bytes, str | None] | None:
        """The answer of a request refused before it runs, if it is."""
        forced = self.faults.take() or self.faults.before(number)
        if forced is not None:
            detail = LIMITED_DETAIL if forced.status == 429 else forced.description
            return _encode(forced.status, problem(forced.status, detail))
        if self.blocked == "html":
            return 403, BLOCKED_HTML, "text/html"
        if self.blocked:
            return _encode(403, problem(403, BLOCKED_DETAIL))
        if not self.limiter.admit():
            with self._lock:
                self.limited += 1
                if self.block_after is not None and self.limited >= self.block_after:
                    self.blocked = "json"
            return _encode(429, problem(429, LIMITED_DETAIL))
        sent = str(headers.get("Authorization") or "")
        if not secrets.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
            return _encode(401, unauthorized().body())
        return None

    def _run(self, verb: str, target: str, body: bytes) -> tuple[int, bytes, str | None]:
        parts = urlsplit(target)
        try:
            route, ids = ROUTER.find(verb, parts.path.rstrip("/") or "/")
            if route.admin and not self.account.admin:
                raise forbidden()
            request = Request(
                verb, parts.path, parse_php_query(parts.query), parts.query, _json(body), ids
            )
            with self.account.lock, self.store.transaction():
                reply: Reply = route.fn(self.account, request)
        except AmoError as error:
            return _encode(error.status, error.body())
        except RecursionError:
            return _encode(400, problem(400, "Request is nested too deeply"))
        return _encode(reply.status, reply.body)


def _json(body: bytes) -> Any:
    if not body.strip():
        return None
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise AmoError(400, "Invalid JSON in request body") from exc


def start_amocrm_sandbox(
    port: int = 0,
    seed: int | None = None,
    rate: float | None = 7.0,
    burst: int = 7,
    token: str | None = None,
    host: str = "127.0.0.1",
    *,
    state_dir: str | Path | None = None,
    clock: Clock = time.time,
    faults: Iterable[Scheduled] = (),
    admin: bool = True,
    block_after: int | None = None,
) -> AmoSandbox:
    """Start an amoCRM sandbox in a background thread; it accepts requests when this returns.

    ``rate``/``burst``: the token bucket (7 a second by default; None or 0: no limit);
    ``token``: the long-lived token to accept (a random one by default: ``sandbox.token``);
    ``seed``: fill the account with a synthetic company; ``faults``: scheduled for given HTTP
    requests (``parse_faults``); ``admin`` False: the token's user is no administrator;
    ``block_after``: after that many 429s the account is blocked (403 from then on).
    """
    return AmoSandbox(
        host=host,
        port=port,
        token=token,
        state_dir=Path(state_dir) if state_dir is not None else None,
        rate=rate,
        burst=burst,
        clock=clock,
        seed=seed,
        faults=faults,
        admin=admin,
        block_after=block_after,
    )

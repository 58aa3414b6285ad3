"""The HTTP layer: webhook paths, request decoding, the rate limiter, JSON envelopes.

``start_sandbox`` runs a ``ThreadingHTTPServer`` on a loopback address in a daemon thread and
returns a ``Sandbox`` handle; ``crmkit sandbox`` is a thin wrapper around it.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
import traceback
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from crmkit.push.bitrix24.webhook import is_loopback
from crmkit.sandbox.errors import ApiError, method_not_found, no_auth
from crmkit.sandbox.limiter import Clock, Faults, LeakyBucket, OperatingBudget, Scheduled
from crmkit.sandbox.listing import PORTAL_TZ
from crmkit.sandbox.methods import build_registry
from crmkit.sandbox.params import parse_multipart, parse_php_query
from crmkit.sandbox.portal import ALL_SCOPES, Portal
from crmkit.sandbox.seed import add_base_users, seed_portal
from crmkit.sandbox.serving import (
    BaseHandler,
    BodyError,
    LoopbackServer,
    ReplyDropped,
    serve_in_thread,
)
from crmkit.sandbox.stages import bootstrap
from crmkit.sandbox.store import Store
from crmkit.sandbox.volume import Volume, seed_volume

_PATH = re.compile(r"^/rest/(?:(\d+)/([^/]+)/)?([A-Za-z0-9_.]+?)(?:\.json)?/?$")
#: PHP's json_decode refuses documents nested deeper than this (its default ``depth``)
JSON_MAX_DEPTH = 512


class _Handler(BaseHandler):
    """Webhook calls: GET or POST ``/rest/<user>/<code>/<method>``, answered as JSON."""

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve()

    def do_POST(self) -> None:  # noqa: N802
        self._serve()

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        started = sandbox.clock()
        try:
            body = self.read_body()
        except BodyError as refused:
            # the body was not read: the connection cannot carry another request
            code = "INVALID_REQUEST"
            self._answer(refused.status, ApiError(code, refused.message).body(), close=True)
            return
        try:
            status, payload = sandbox.handle(self.command, self.path, self.headers, body, started)
        except ReplyDropped:
            # a scheduled fault: the call ran, its answer is lost on the way
            self.drop()
            return
        except Exception:  # a sandbox bug must still answer like the portal does
            sandbox.internal_errors.append(traceback.format_exc())
            status = 500
            payload = {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal error"}
        self._answer(status, payload)

    def _answer(self, status: int, payload: dict[str, Any], close: bool = False) -> None:
        self.send(status, json.dumps(payload).encode("utf-8"), close=close)


class Sandbox:
    """A running sandbox portal; stop it with ``stop()`` or use it as a context manager."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        code: str | None,
        state_dir: Path | None,
        rate: float | None,
        burst: int,
        clock: Clock,
        scopes: Iterable[str] | None,
        seed: int | None,
        limit_status: int,
        operating_limit: float | None,
        operating_cost: float | None,
        user_id: int = 1,
        admin: bool = True,
        portal_lang: str = "en",
        faults: Iterable[Scheduled] = (),
        volume: Volume | None = None,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the sandbox serves loopback addresses only, not {host!r}")
        self.host = host
        self.user_id = user_id
        self.clock = clock
        self.limit_status = limit_status
        self.store = Store(state_dir)
        # a portal kept in a folder keeps its address and webhook across restarts, so a saved
        # CRMKIT_WEBHOOK goes on working
        self.code = code or self.store.meta("code") or secrets.token_hex(8)
        if self.store.meta("initialized") is None:
            bootstrap(self.store, portal_lang)
            add_base_users(self.store, datetime.fromtimestamp(clock(), PORTAL_TZ))
        self.limiter = LeakyBucket(rate, burst, clock)
        self.faults = Faults()
        self.faults.schedule(*faults)
        self.budget = OperatingBudget(clock, operating_limit, operating_cost)
        self.portal = Portal(
            self.store,
            build_registry(),
            clock=clock,
            scopes=frozenset(ALL_SCOPES if scopes is None else scopes),
            budget=self.budget,
            user_id=user_id,
            admin=admin,
        )
        if seed is not None and self.store.meta("seeded") is None:
            if volume:
                seed_volume(self.portal, seed, volume)
            else:
                seed_portal(self.portal, seed)
        #: HTTP requests answered so far (tests count a client's calls with it)
        self.requests = 0
        #: tracebacks of sandbox bugs answered as 500 (the log stays silent: it would show
        #: the webhook code)
        self.internal_errors: list[str] = []
        self._count_lock = threading.Lock()
        remembered = int(self.store.meta("port") or 0) if state_dir is not None else 0
        #: the port of the last run could not be had again (another program holds it)
        self.port_changed = False
        if port == 0 and remembered:
            try:
                self._server = LoopbackServer((host, remembered), self, _Handler)
            except OSError:
                self.port_changed = True
                self._server = LoopbackServer((host, 0), self, _Handler)
        else:
            self._server = LoopbackServer((host, port), self, _Handler)
        self.port: int = self._server.server_address[1]
        if state_dir is not None:
            self.store.set_meta("code", self.code)
            self.store.set_meta("port", str(self.port))
        self._stopped = False
        self._thread = serve_in_thread(self._server)

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/rest/{self.user_id}/{self.code}/"

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        self.store.close()

    def __enter__(self) -> Sandbox:
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
        self, verb: str, target: str, headers: Any, body: bytes, started: float
    ) -> tuple[int, dict[str, Any]]:
        with self._count_lock:
            self.requests += 1
            number = self.requests
        perf = time.perf_counter()
        forced = self.faults.take() or self.faults.before(number)
        if forced is not None:
            return forced.status, {"error": forced.code, "error_description": forced.description}
        status, payload = self._run(verb, target, headers, body, started, perf)
        after = self.faults.after(number)
        if after == "drop-after":
            raise ReplyDropped
        if after == "500-after":
            return 500, {"error": "INTERNAL_SERVER_ERROR", "error_description": "Internal error"}
        return status, payload

    def _run(
        self, verb: str, target: str, headers: Any, body: bytes, started: float, perf: float
    ) -> tuple[int, dict[str, Any]]:
        if not self.limiter.admit():
            return self.limit_status, {
                "error": "QUERY_LIMIT_EXCEEDED",
                "error_description": "Too many requests",
            }
        try:
            method, params = self._decode(verb, target, headers, body)
            outcome = self.portal.call(method, params)
        except ApiError as error:
            return error.status, error.body()
        except RecursionError:  # parameters nested deeper than the handlers walk
            return 400, {
                "error": "INVALID_REQUEST",
                "error_description": "Request parameters are nested too deeply",
            }
        envelope: dict[str, Any] = {"result": outcome.result}
        if outcome.total is not None:
            envelope["total"] = outcome.total
        if outcome.next is not None:
            envelope["next"] = outcome.next
        envelope["time"] = self.portal.time_block(
            method.lower(), started, self.clock(), time.perf_counter() - perf
        )
        return 200, envelope

    def _decode(
        self, verb: str, target: str, headers: Any, body: bytes
    ) -> tuple[str, dict[str, Any]]:
        parts = urlsplit(target)
        match = _PATH.match(parts.path)
        if match is None:
            raise method_not_found()
        user, code, method = match.groups()
        if user is None or int(user) != self.user_id or not secrets.compare_digest(code, self.code):
            raise no_auth()
        params = parse_php_query(parts.query)
        if body:
            kind = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
            if kind == "application/json":
                decoded = _decode_json(body)
                if isinstance(decoded, dict):
                    params.update(decoded)
            elif kind == "multipart/form-data":
                params.update(parse_multipart(body, headers.get("Content-Type") or ""))
            else:
                params.update(parse_php_query(body.decode("utf-8", errors="replace")))
        return method, params


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _decode_json(body: bytes) -> Any:
    """A JSON body as PHP's json_decode reads it: strict JSON (no NaN/Infinity), nested at
    most ``JSON_MAX_DEPTH`` levels; anything else is an invalid body."""
    try:
        decoded = json.loads(body.decode("utf-8"), parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ApiError("INVALID_REQUEST", "Invalid JSON in request body") from exc
    if _depth(decoded) > JSON_MAX_DEPTH:
        raise ApiError("INVALID_REQUEST", "Invalid JSON in request body")
    return decoded


def _depth(value: Any) -> int:
    """How deeply arrays/objects nest in ``value`` (a scalar is 0); iterative, so a hostile
    body cannot exhaust the stack."""
    deepest = 0
    pending = [(value, 1)]
    while pending:
        node, level = pending.pop()
        if isinstance(node, dict):
            children: Iterable[Any] = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, level)
        pending.extend((child, level + 1) for child in children)
    return deepest


def start_sandbox(
    port: int = 0,
    state_dir: str | Path | None = None,
    rate: float | None = 2.0,
    burst: int = 50,
    seed: int | None = None,
    scopes: Iterable[str] | None = None,
    code: str | None = None,
    host: str = "127.0.0.1",
    *,
    clock: Clock = time.time,
    limit_status: int = 503,
    operating_limit: float | None = None,
    operating_cost: float | None = None,
    admin: bool = True,
    portal_lang: str = "en",
    faults: Iterable[Scheduled] = (),
    volume: Volume | None = None,
) -> Sandbox:
    """Start a sandbox portal in a background thread; it accepts requests when this returns.

    ``rate``/``burst`` set the leaky bucket (``rate`` None or 0 disables it); ``limit_status``
    429 reproduces the older limit answer; ``operating_limit`` (seconds per method over ten
    minutes, each call charged ``operating_cost`` or its real time) enables 429
    ``OPERATION_TIME_LIMIT``. ``scopes`` restricts the webhook; ``admin`` False makes its user an
    employee without administrator rights; ``seed`` fills a synthetic company; ``portal_lang``
    (``en``/``ru``) names the stages a new portal and new pipelines get; ``faults`` are scheduled
    for given HTTP requests (``parse_faults``); with ``seed``, ``volume`` (deals, leads,
    activities) makes a company of that size instead of the small one.
    """
    return Sandbox(
        host=host,
        port=port,
        code=code,
        state_dir=Path(state_dir) if state_dir is not None else None,
        rate=rate,
        burst=burst,
        clock=clock,
        scopes=scopes,
        seed=seed,
        limit_status=limit_status,
        operating_limit=operating_limit,
        operating_cost=operating_cost,
        admin=admin,
        portal_lang=portal_lang,
        faults=faults,
        volume=volume,
    )

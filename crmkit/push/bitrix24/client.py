"""A thin Bitrix24 REST client over ``requests`` (the only module that imports it).

Why our own and not an SDK: BITRIX24.md §4.3. What it does, in the order a call meets it:

1. a client-side token bucket (2 requests/s sustained, a small burst) so a long run stays under
   the portal's leaky bucket (2/s drain, 50 burst) and never sees 503;
2. a pause per method after 429 ``OPERATION_TIME_LIMIT`` until ``operating_reset_at`` (other
   methods keep going);
3. a JSON POST to ``<base><method>.json`` with redirects followed by hand, re-POSTing the same
   body (``requests`` would turn a redirected POST into a GET without a body);
4. retries with backoff (1, 2, 4, 8 s + jitter) of what the portal rejected *before* executing:
   503 ``QUERY_LIMIT_EXCEEDED`` and bare 429/503. Reads are also retried after a lost reply or a
   5xx; writes never are — their outcome is unknown, the user is told to re-read the portal;
5. errors mapped to ``crmkit.push.errors`` with the portal's own ``error_description`` kept and
   the webhook shown masked.

The clock, the sleep and the random source are parameters, so tests run the limiter on a fake
clock. ``requests_sent`` counts HTTP requests for benches and tests.
"""

from __future__ import annotations

import logging
import random as _random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from crmkit import __version__
from crmkit.errors import InputError
from crmkit.i18n import Lang, msg
from crmkit.push.bitrix24.encoding import command, normalize
from crmkit.push.bitrix24.replies import (
    PAGE_SIZE,
    BatchItem,
    BatchResult,
    Reply,
    as_mapping,
    int_or_none,
    rows_of,
)
from crmkit.push.bitrix24.webhook import Webhook, is_loopback, mask_secrets, parse_webhook
from crmkit.push.errors import (
    AuthFailed,
    NotFound,
    PortalError,
    RateLimited,
    Refused,
    ReplyLost,
    ScopeMissing,
    Unavailable,
)
from crmkit.push.patience import (
    NOTICE_AFTER,
    Patience,
)

log = logging.getLogger("crmkit.push.bitrix24.client")

BATCH_LIMIT = 50
#: a portal that accepts the connection and never answers is given up after this many seconds
#: (a Bitrix24 cloud portal cuts every request off at 60 s itself, BITRIX24.md §2)
PATIENCE = 60.0
#: 503 QUERY_LIMIT_EXCEEDED is retried for this long: the portal refused before running the
#: call, so asking again is always safe, and its bucket drains within a minute
LIMIT_PATIENCE = 120.0

#: the webhook's code itself is not accepted (WRONG_AUTH_TYPE is not here: the code is fine,
#: the method wants an application's OAuth context, so that is a refusal with its own text)
_AUTH = {"NO_AUTH_FOUND", "EXPIRED_TOKEN", "INVALID_TOKEN"}
_SCOPE = {"INSUFFICIENT_SCOPE", "INVALID_SCOPE"}
_NOT_FOUND = {"ERROR_METHOD_NOT_FOUND", "NOT_FOUND", "ERROR_NOT_FOUND"}
_REDIRECTS = {301, 302, 303, 307, 308}
#: failures that asking again cannot mend, and after which nothing was written
_FINAL = {"PORTAL_DELETED"}
#: the last part of a method name that only reads (anything else counts as a write)
_READS = {"list", "get", "fields", "types", "items", "current", "gettypes", "getbyentitytypeid"}
_LABEL = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]{0,63}")
_TLS = "TLS failure: the portal's certificate or encryption was not accepted"


def is_read(method: str) -> bool:
    """Whether ``method`` only reads: such calls may be repeated after a lost reply."""
    return method.rsplit(".", 1)[-1].lower() in _READS


# -- the limiter ----------------------------------------------------------------------------------


class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up; one token per HTTP request."""

    def __init__(
        self,
        rate: float,
        burst: int,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        # a clock that steps back (wall clock adjusted) must not mint tokens
        self._tokens = min(self.burst, self._tokens + max(0.0, now - self._stamp) * self.rate)
        self._stamp = now

    def acquire(self) -> float:
        """Take one token, sleeping until there is one; returns the time slept."""
        self._refill()
        waited = 0.0
        if self._tokens < 1.0:
            waited = (1.0 - self._tokens) / self.rate
            self._sleep(waited)
            self._refill()
            # a sleep that returned early (or a coarse clock) must not let us overdraw
            self._tokens = max(self._tokens, 1.0)
        self._tokens -= 1.0
        return waited

    def drain(self) -> None:
        """The portal said its bucket is full: our estimate was optimistic, start from empty."""
        self._refill()
        self._tokens = 0.0


# -- the client -----------------------------------------------------------------------------------


class _MaskingFilter(logging.Filter):
    """Masks webhook codes in records of libraries that log URLs (urllib3 logs every request
    line at DEBUG, path included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        masked = mask_secrets(text)
        if masked != text:
            record.msg, record.args = masked, ()
        return True


def _install_log_masking() -> None:
    for name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _MaskingFilter) for f in logger.filters):
            logger.addFilter(_MaskingFilter())


class Bitrix24Client(Patience):
    """Calls to one portal through an incoming webhook. See the module docstring."""

    def __init__(
        self,
        webhook: Webhook,
        session: requests.Session | None = None,
        *,
        timeout: float | tuple[float, float] | None = None,
        patience: float = PATIENCE,
        limit_patience: float = LIMIT_PATIENCE,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        rate: float | None = 2.0,
        burst: int = 10,
        max_retries: int | None = None,
        max_pause: float = 600.0,
        max_redirects: int = 3,
        lang: Lang = "en",
        notify: Callable[[str], None] | None = None,
        notice_after: float = NOTICE_AFTER,
    ) -> None:
        # limit_patience: how long 503 QUERY_LIMIT_EXCEEDED is retried (refused before it ran)
        super().__init__(
            timeout=timeout,
            patience=patience,
            limit_patience=limit_patience,
            max_retries=max_retries,
            lang=lang,
            notify=notify,
            notice_after=notice_after,
            clock=clock,
            sleep=sleep,
            random=random,
        )
        self.webhook = webhook
        self.session = session if session is not None else requests.Session()
        #: the longest an OPERATION_TIME_LIMIT pause may be before we give up (the budget
        #: window is 10 minutes, so a longer wait means the portal's clock or ours is off)
        self.max_pause = max_pause
        self.max_redirects = max_redirects
        self.bucket = TokenBucket(rate, burst, clock, sleep) if rate else None
        #: method → unix time before which it must not be called (OPERATION_TIME_LIMIT)
        self.paused_until: dict[str, float] = {}
        #: method → the last ``operating_reset_at`` seen in a reply, on our clock (§2: a 429
        #: ``OPERATION_TIME_LIMIT`` without a ``time`` block waits until then)
        self.budget_resets: dict[str, float] = {}
        _install_log_masking()

    # -- public calls --

    def call(
        self, method: str, params: Mapping[str, Any] | None = None, *, write: bool | None = None
    ) -> Reply:
        """Call ``method`` with ``params`` (sent as JSON; booleans as ``"Y"``/``"N"``)."""
        payload = normalize(dict(params or {}))
        return self._call(method, payload, write=not is_read(method) if write is None else write)

    def batch(
        self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], *, halt: bool = False
    ) -> BatchResult:
        """Up to 50 commands in one request; per-label results (failures do not raise)."""
        if len(commands) > BATCH_LIMIT:
            raise ValueError(f"a batch holds at most {BATCH_LIMIT} commands; use batch_many")
        if not commands:
            return BatchResult({}, requests=0)
        for label, (method, _params) in commands.items():
            if not _LABEL.fullmatch(label):
                # numeric labels make PHP turn result members into lists and lose the labels
                raise ValueError(f"batch label {label!r}: letters, digits, _ or -; not digits only")
            if method.lower() == "batch":
                raise ValueError("a batch cannot contain a batch")
        cmd = {label: command(method, params) for label, (method, params) in commands.items()}
        methods = {method for method, _ in commands.values()}
        for method in methods:
            self._wait_if_paused(method)
        write = not all(is_read(m) for m in methods)
        reply = self._call("batch", {"halt": 1 if halt else 0, "cmd": cmd}, write=write)
        body = reply.result if isinstance(reply.result, Mapping) else {}
        results = as_mapping(body.get("result"))
        errors = as_mapping(body.get("result_error"))
        totals = as_mapping(body.get("result_total"))
        nexts = as_mapping(body.get("result_next"))
        times = as_mapping(body.get("result_time"))
        items: dict[str, BatchItem] = {}
        for label, (method, _params) in commands.items():
            if label in errors:
                raw = errors[label] if isinstance(errors[label], Mapping) else {}
                error = self._error(None, raw, method, write=not is_read(method))
                self._note_pause(method, error, times.get(label))
                items[label] = BatchItem(label, method, "error", error=error)
            elif label in results:
                self._note_budget(method, times.get(label))
                items[label] = BatchItem(
                    label,
                    method,
                    "ok",
                    result=results[label],
                    total=int_or_none(totals.get(label)),
                    next=int_or_none(nexts.get(label)),
                )
            else:
                items[label] = BatchItem(label, method, "skipped")
        return BatchResult(items)

    def batch_many(
        self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], *, halt: bool = False
    ) -> BatchResult:
        """Any number of commands, 50 per request, in order. With ``halt`` the chunks after a
        failing one are not sent (their commands come back ``skipped``)."""
        labels = list(commands)
        items: dict[str, BatchItem] = {}
        sent = 0
        for start in range(0, len(labels), BATCH_LIMIT):
            chunk = {label: commands[label] for label in labels[start : start + BATCH_LIMIT]}
            if halt and any(not item.ok for item in items.values()):
                items.update({k: BatchItem(k, m, "skipped") for k, (m, _) in chunk.items()})
                continue
            result = self.batch(chunk, halt=halt)
            sent += result.requests
            items.update(result.items)
        return BatchResult(items, requests=sent)

    def iter_list(
        self, method: str, params: Mapping[str, Any] | None = None, *, key: str | None = None
    ) -> Iterator[Any]:
        """All rows of a paged list, following ``next`` (50 rows a page). An empty page ends it
        too: some methods report a wrong ``total`` and keep offering a ``next`` (§1.5)."""
        start = int_or_none((params or {}).get("start")) or 0
        while True:
            reply = self.call(method, {**(params or {}), "start": start})
            rows = rows_of(reply.result, key)
            yield from rows
            if not rows or reply.next is None or reply.next <= start:
                return
            start = reply.next

    def iter_keyset(
        self,
        method: str,
        params: Mapping[str, Any] | None = None,
        *,
        id_field: str = "ID",
        key: str | None = None,
    ) -> Iterator[Any]:
        """All rows by keyset paging: ``order {ID: ASC}``, ``filter {>ID: last}``,
        ``start=-1`` (no COUNT on the portal); stops at a page shorter than 50 (§1.5)."""
        base = dict(params or {})
        base_filter = dict(base.pop("filter", None) or {})
        base.pop("order", None)
        base.pop("start", None)
        last: Any = None
        while True:
            flt = dict(base_filter)
            if last is not None:
                flt[f">{id_field}"] = last
            params_now = {**base, "filter": flt, "order": {id_field: "ASC"}, "start": -1}
            rows = rows_of(self.call(method, params_now).result, key)
            yield from rows
            if len(rows) < PAGE_SIZE:
                return
            last_row = rows[-1]
            before, last = last, last_row.get(id_field) if isinstance(last_row, Mapping) else None
            if last is None:
                raise ValueError(f"{method}: rows carry no {id_field!r}; cannot page by keyset")
            if before is not None and not _after(last, before):
                # the portal ignored the filter or the order: the same rows would come forever
                raise Unavailable(
                    url=self.webhook.masked,
                    method=method,
                    lang=self.lang,
                    detail=f"keyset paging by {id_field} did not advance past {before}",
                )

    def count(
        self,
        method: str,
        filter: Mapping[str, Any] | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        id_field: str = "ID",
    ) -> int:
        """How many rows match, from ``total`` of one page with ``select: [ID]``."""
        query = {**(params or {}), "filter": dict(filter or {}), "select": [id_field], "start": 0}
        reply = self.call(method, query)
        return reply.total if reply.total is not None else len(rows_of(reply.result))

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> Bitrix24Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Bitrix24Client({self.webhook.masked!r})"

    # -- the request loop --

    def _call(self, method: str, payload: dict[str, Any], *, write: bool) -> Reply:
        attempt = 0
        started = self._clock()
        while True:
            self._wait_if_paused(method)
            lost: tuple[PortalError, bool] | None = None
            try:
                response = self._post(method, payload, started)
            except requests.RequestException as exc:
                # requests' exceptions carry the URL, secret included: keep nothing of them,
                # not even as the ``__context__`` of what we raise (so: raise outside ``except``)
                sent = _sent(exc) and not isinstance(exc, requests.exceptions.SSLError)
                lost = (self._transport_error(exc, method, write), sent)
            if lost is not None:
                error, sent = lost
                # a write may have run; a portal we never reached (refused, unknown host, TLS
                # refused) will not be there a second later either
                if (
                    isinstance(error, ReplyLost)
                    or not sent
                    or not self._may_retry(attempt, started, limited=False)
                ):
                    raise error
                attempt = self._backoff(attempt, method, error.detail or "no answer")
                continue
            body = _json(response)
            status = response.status_code
            if 200 <= status < 300 and isinstance(body, dict) and "error" not in body:
                timing = body.get("time")
                timing = timing if isinstance(timing, dict) else {}
                self._note_budget(method, timing)
                return Reply(
                    result=body.get("result"),
                    total=int_or_none(body.get("total")),
                    next=int_or_none(body.get("next")),
                    time=timing,
                )
            if 200 <= status < 300 and not isinstance(body, dict):
                # a 2xx that is not a Bitrix24 envelope (a proxy's page): a write may have run
                error = (ReplyLost if write else Unavailable)(
                    url=self.webhook.masked,
                    method=method,
                    status=status,
                    lang=self.lang,
                    detail=f"HTTP {status} without a JSON reply",
                )
                if write or not self._may_retry(attempt, started, limited=False):
                    raise error
                attempt = self._backoff(attempt, method, f"HTTP {status}")
                continue
            raw = body if isinstance(body, dict) else {}
            code = str(raw.get("error", "")).upper()
            bare = status in (429, 503) and code not in ("OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT")
            if bare or code == "QUERY_LIMIT_EXCEEDED":
                # rejected before execution: safe to send again, writes included
                if self.bucket is not None:
                    self.bucket.drain()
                if not self._may_retry(attempt, started, limited=True):
                    raise self._error(status, raw, method, write=write)
                attempt = self._backoff(attempt, method, f"{status} {code or 'no body'}")
                continue
            error = self._error(status, raw, method, write=write)
            if code == "OPERATION_TIME_LIMIT":
                if self._note_pause(method, error, raw.get("time")) and self._may_retry(
                    attempt, started, limited=True, delay=0.0
                ):
                    attempt += 1
                    continue
                raise error
            final = code in _FINAL
            if isinstance(error, Unavailable) and not write and not final:
                if not self._may_retry(attempt, started, limited=False):
                    raise error
                attempt = self._backoff(attempt, method, f"HTTP {status}")
                continue
            raise error

    def _post(self, method: str, payload: dict[str, Any], started: float) -> requests.Response:
        url = f"{self.webhook.base_url}{method}.json"
        headers = {
            "Accept": "application/json",
            "User-Agent": f"crmkit/{__version__}",
        }
        for _hop in range(self.max_redirects + 1):
            if self.bucket is not None:
                self.bucket.acquire()
            self.requests_sent += 1
            log.debug("POST %s%s.json", self.webhook.masked, method)
            response = self._send(url, payload, headers, started)
            location = response.headers.get("Location")
            if response.status_code not in _REDIRECTS or not location:
                return response
            target = urljoin(url, location)
            self._follow(url, target, method)
            url = target
        raise Unavailable(
            url=self.webhook.masked,
            method=method,
            status=None,
            lang=self.lang,
            detail=f"more than {self.max_redirects} redirects",
        )

    def _send(
        self, url: str, payload: dict[str, Any], headers: dict[str, str], started: float
    ) -> requests.Response:
        """One POST, the person at the terminal told when its answer is slow to come."""
        timeout = self._timeout(started)
        with self._waiting_told(timeout):
            return self.session.post(
                url, json=payload, headers=headers, timeout=timeout, allow_redirects=False
            )

    def _follow(self, url: str, target: str, method: str) -> None:
        """Check a redirect target; remember the portal's new address when it moved (§1.2)."""
        parts = urlsplit(target)
        secure = parts.scheme == "https" or (
            parts.scheme == "http" and is_loopback(parts.hostname or "")
        )
        if not secure:
            raise Refused(
                url=self.webhook.masked,
                method=method,
                lang=self.lang,
                error="INSECURE_REDIRECT",
                description=f"redirected to plain http://{parts.hostname}; not followed",
            )
        suffix = f"{method}.json"
        if target.endswith(suffix):
            try:
                moved = parse_webhook(target[: -len(suffix)], lang=self.lang)
            except InputError:  # not webhook-shaped: follow this once, keep the base
                return
            if moved.base_url != self.webhook.base_url:
                log.debug("the portal moved: %s -> %s", self.webhook.masked, moved.masked)
                self._tell(
                    msg("push.client.moved", self.lang, old=self.webhook.masked, new=moved.masked)
                )
                self.webhook = moved
        log.debug("redirect %s -> %s", mask_secrets(url), mask_secrets(target))

    def _wait_if_paused(self, method: str) -> None:
        until = self.paused_until.get(method)
        if until is None:
            return
        wait = until - self._clock()
        if wait > 0:
            log.debug("%s paused by the portal's time budget for %.0f s", method, wait)
            self._tell(msg("push.client.paused", self.lang, method=method, seconds=round(wait)))
            self._sleep(wait)
        del self.paused_until[method]

    def _reset_on_our_clock(self, times: Any) -> float | None:
        """``operating_reset_at`` of a ``time`` block moved onto our clock: the portal's own
        ``finish`` says what time it is there, so a skew between the clocks does not count."""
        if not isinstance(times, Mapping):
            return None
        reset = _number(times.get("operating_reset_at"))
        if reset is None:
            return None
        now = self._clock()
        portal_now = _number(times.get("finish"))
        return now + (reset - portal_now) if portal_now is not None else reset

    def _note_budget(self, method: str, times: Any) -> None:
        reset = self._reset_on_our_clock(times)
        if reset is not None:
            self.budget_resets[method] = reset

    def _note_pause(self, method: str, error: PortalError, times: Any) -> bool:
        """Record an OPERATION_TIME_LIMIT pause for ``method``; False if it is too long to wait."""
        if error.error.upper() != "OPERATION_TIME_LIMIT":
            return False
        now = self._clock()
        reset = self._reset_on_our_clock(times)
        if reset is None:
            seen = self.budget_resets.get(method)
            reset = seen if seen is not None and seen > now else None
        # no reset time known: the budget is ten one-minute buckets, the oldest frees within 60 s
        until = max(reset if reset is not None else now + 60, now) + 1.0
        if until - now > self.max_pause:
            return False
        self.paused_until[method] = until
        return True

    # -- error mapping --

    def _error(
        self, status: int | None, raw: Mapping[str, Any], method: str, *, write: bool
    ) -> PortalError:
        code = "" if raw.get("error") is None else self.webhook.hide(str(raw.get("error")))
        description = str(raw.get("error_description") or "")
        up = code.upper()
        kind: type[PortalError]
        limited = up in ("QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT", "OVERLOAD_LIMIT")
        # the code decides before the status: portals and SDKs disagree on statuses (§1.4)
        if limited or status == 429 or (status == 503 and not code):
            kind = RateLimited
        elif up in _SCOPE:
            kind = ScopeMissing
        elif up in _AUTH:
            kind = AuthFailed
        elif up in _FINAL:
            kind = Unavailable
        elif status == 401:
            kind = AuthFailed
        elif up in _NOT_FOUND or status == 404:
            kind = NotFound
        elif status is not None and status >= 500:
            kind = ReplyLost if write else Unavailable
        else:
            kind = Refused
        return kind(
            url=self.webhook.masked,
            method=method,
            error=code,
            description=self.webhook.hide(description),
            status=status,
            lang=self.lang,
        )

    def _transport_error(
        self, exc: requests.RequestException, method: str, write: bool
    ) -> PortalError:
        where = {"url": self.webhook.masked, "method": method, "lang": self.lang}
        if isinstance(exc, requests.exceptions.SSLError):
            # the TLS handshake failed: nothing was sent, and asking again will not mend it
            return Unavailable(**where, detail=_TLS)  # type: ignore[arg-type]
        if not _sent(exc):
            if _name_not_resolved(exc):
                detail = "host name not found"
            elif isinstance(exc, requests.ConnectTimeout):
                detail = "connection timed out"
            else:
                detail = "connection refused"
            return Unavailable(**where, detail=detail)  # type: ignore[arg-type]
        detail = "no answer in time" if isinstance(exc, requests.Timeout) else "connection broken"
        kind = ReplyLost if write else Unavailable
        return kind(**where, detail=detail)  # type: ignore[arg-type]


def _after(value: Any, before: Any) -> bool:
    """Whether id ``value`` comes after ``before`` (numbers as numbers: legacy ids are strings)."""
    a, b = int_or_none(value), int_or_none(before)
    if a is not None and b is not None:
        return a > b
    return str(value) > str(before)


def _number(value: Any) -> float | None:
    try:
        return float(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reason(exc: BaseException) -> BaseException | None:
    """The urllib3 error under a requests exception (``MaxRetryError.reason``)."""
    inner = exc.args[0] if exc.args else None
    return getattr(inner, "reason", None) if inner is not None else None


def _sent(exc: requests.RequestException) -> bool:
    """Whether the request may have reached the portal (False: the connection never opened)."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        return not isinstance(_reason(exc), (NewConnectionError, ConnectTimeoutError))
    return not isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema))


def _name_not_resolved(exc: requests.RequestException) -> bool:
    reason = _reason(exc)
    return reason is not None and "resolution" in type(reason).__name__.lower()

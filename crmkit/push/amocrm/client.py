"""A thin amoCRM API v4 client over ``requests``, with the Bitrix24 client's patience model.

What a call meets, in order:

1. a client-side token bucket: amoCRM allows 7 requests per second per integration
   (amoCRM "Ограничения и рекомендации"); 6 per second with a burst of 1 keeps every one-second
   window at 7 at most, so a long run never meets 429 (and, repeated, the 403 "account blocked");
2. the request, the token in ``Authorization: Bearer`` (amoCRM oauth/step-by-step, "Запросы к
   API с передачей access token"), never in the URL; redirects are not followed (the token must
   not travel to another host);
3. 429 (rejected before running: safe to send again, writes included) waits ``Retry-After``
   when the reply has one (not documented by amoCRM; honoured if sent), else 1, 2, 4, 8 s with
   jitter, for up to ``limit_patience`` seconds;
4. 5xx, a reply that is not JSON, a broken connection: reads are retried within ``patience``;
   writes never are — their outcome is unknown, the user is told to re-read the account;
5. 401/402/403/404/400 mapped to ``crmkit.push.amocrm.errors``, one line each; a 403 "account
   blocked" (crm_platform/error-codes, "Другие ответы": 403) also stops every later call of
   this client before it is sent.

Lists are HAL collections: ``_embedded[<key>]`` rows, ``_links.next.href`` for the next page,
``limit`` at most 250 (every list method's GET parameters), and 204 No Content for an empty
list (error-codes: 2002 "nothing found" comes with HTTP 204). Batch creates send up to 50 items
per request (leads-api: "не более 50" per request, the strictest cap the docs state), each with
a ``request_id`` that the reply returns unchanged (leads_pipelines, "Добавление воронок"), and a
400 reply's ``validation-errors`` (error-codes, "Ошибки при валидации данных") come back per
item, by key path.

The clock, the sleep and the random source are parameters, so tests run the limiter and the
backoff on a fake clock. ``requests_sent`` counts HTTP requests.
"""

from __future__ import annotations

import logging
import random as _random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from crmkit import __version__
from crmkit.i18n import Lang
from crmkit.push.amocrm.account import AmoAccount
from crmkit.push.amocrm.errors import (
    AmoAuthFailed,
    AmoBlocked,
    AmoForbidden,
    AmoNotFound,
    AmoPaymentRequired,
    AmoRateLimited,
    AmoRefused,
    AmoReplyLost,
    AmoUnavailable,
)
from crmkit.push.bitrix24.client import (
    LIMIT_PATIENCE,
    PATIENCE,
    TokenBucket,
    _name_not_resolved,
    _sent,
)
from crmkit.push.errors import PortalError
from crmkit.push.patience import NOTICE_AFTER, Patience

log = logging.getLogger("crmkit.push.amocrm.client")

#: amoCRM's documented ceiling is 7 requests/s per integration; rate + burst ≤ 7 keeps any
#: one-second window at or under it
RATE = 6.0
BURST = 1
#: the largest ``limit`` a list accepts
PAGE_LIMIT = 250
#: items per batch create
BATCH_LIMIT = 50
#: the longest Retry-After we wait before giving up (a longer one means "come back later")
MAX_RETRY_AFTER = 120.0
_BLOCKED_WORDS = ("blocked", "заблокир")


@dataclass(frozen=True)
class Issue:
    """One of amoCRM's ``validation-errors``: where in the item, what, and its code."""

    path: str
    detail: str
    code: str = ""

    def line(self, label: str) -> str:
        where = f"{label}: {self.path}" if self.path else label
        return f"{where}: {self.detail}" + (f" ({self.code})" if self.code else "")


@dataclass(frozen=True)
class CreateResult:
    """A batch create: the rows amoCRM made, by ``request_id``; the items it refused with
    their issues; the items not sent or not made because their request was refused."""

    created: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: dict[str, tuple[Issue, ...]] = field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    requests: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.skipped

    def lines(self) -> list[str]:
        """One line per issue, named by the item's ``request_id`` and the key path."""
        return [issue.line(label) for label, issues in self.errors.items() for issue in issues]


class AmoClient(Patience):
    """Calls to one amoCRM account with a long-lived token. See the module docstring."""

    def __init__(
        self,
        account: AmoAccount,
        session: requests.Session | None = None,
        *,
        timeout: float | tuple[float, float] | None = None,
        patience: float = PATIENCE,
        limit_patience: float = LIMIT_PATIENCE,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        random: Callable[[], float] = _random.random,
        rate: float | None = RATE,
        burst: int = BURST,
        max_retries: int | None = None,
        lang: Lang = "en",
        notify: Callable[[str], None] | None = None,
        notice_after: float = NOTICE_AFTER,
    ) -> None:
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
        self.account = account
        self.session = session if session is not None else requests.Session()
        self.bucket = TokenBucket(rate, burst, clock, sleep) if rate else None
        #: set by a 403 "account blocked": nothing more is sent
        self.blocked: AmoBlocked | None = None

    # -- public calls --

    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """The JSON of a GET (None for 204 No Content)."""
        return self.request("GET", path, params=params, write=False)

    def iter_pages(
        self, path: str, key: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """Every row of a HAL list, page after page by ``_links.next`` (204 or an empty page
        ends it). The next link's path and query are asked of this account's own address:
        a link naming another host (amoCRM's replies name shard hosts) never gets the token."""
        query: dict[str, Any] = {"limit": PAGE_LIMIT, **dict(params or {})}
        target: str | None = path
        seen: set[str] = set()
        while target is not None:
            body = self.request("GET", target, params=query, write=False)
            rows = _embedded(body, key)
            yield from rows
            target, query = _next_page(body), {}
            if not rows or target is None or target in seen:
                return
            seen.add(target)

    def create(
        self,
        path: str,
        items: Sequence[Mapping[str, Any]],
        key: str,
        *,
        labels: Sequence[str] | None = None,
        halt: bool = True,
    ) -> CreateResult:
        """POST ``items`` in batches of ``BATCH_LIMIT``, each with its label as ``request_id``
        (default: its position). A 400 with ``validation-errors`` makes nothing of its batch:
        the refused items carry their issues, the rest of the batch is ``skipped``; with
        ``halt`` the later batches are not sent (skipped too)."""
        names = (
            [str(x) for x in labels] if labels is not None else [str(i) for i in range(len(items))]
        )
        if len(names) != len(items) or len(set(names)) != len(names):
            raise ValueError("one unique label per item")
        created: dict[str, Mapping[str, Any]] = {}
        errors: dict[str, tuple[Issue, ...]] = {}
        skipped: list[str] = []
        sent = 0
        for start in range(0, len(items), BATCH_LIMIT):
            chunk = names[start : start + BATCH_LIMIT]
            if halt and errors:
                skipped.extend(chunk)
                continue
            body = [{**items[start + i], "request_id": label} for i, label in enumerate(chunk)]
            sent += 1
            try:
                reply = self._call("POST", path, None, body, write=True)
            except _Invalid as invalid:
                errors.update({k: v for k, v in invalid.issues.items() if k in chunk})
                skipped.extend(label for label in chunk if label not in invalid.issues)
                continue
            made = _match(chunk, _embedded(reply, key))
            created.update(made)
            skipped.extend(label for label in chunk if label not in made)
        return CreateResult(created, errors, tuple(skipped), sent)

    def patch(self, path: str, body: Any) -> Any:
        return self.request("PATCH", path, body=body, write=True)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path, write=True)

    def request(
        self,
        verb: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        write: bool,
    ) -> Any:
        """One call, with the retries the module docstring describes; the reply's JSON (None
        for an empty body). A 400 with ``validation-errors`` raises ``AmoRefused`` naming each
        issue (``create`` reports them per item instead)."""
        try:
            return self._call(verb, path, params, body, write=write)
        except _Invalid as invalid:
            error = invalid.error
        raise error

    def close(self) -> None:
        self.session.close()

    def __enter__(self) -> AmoClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AmoClient({self.account.origin!r})"

    # -- the request loop --

    def _call(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: Any, *, write: bool
    ) -> Any:
        if self.blocked is not None:
            raise self.blocked
        method = f"{verb} {path}"
        attempt = 0
        started = self._clock()
        while True:
            lost: tuple[PortalError, bool] | None = None
            try:
                response = self._send(verb, path, params, body, started)
            except requests.RequestException as exc:
                # requests' exceptions may quote what was sent: keep nothing of them, not even
                # as the ``__context__`` of what we raise (so: raise outside ``except``)
                sent = _sent(exc) and not isinstance(exc, requests.exceptions.SSLError)
                lost = (self._transport_error(exc, method, write), sent)
            if lost is not None:
                error, sent = lost
                if (
                    isinstance(error, AmoReplyLost)
                    or not sent
                    or not self._may_retry(attempt, started, limited=False)
                ):
                    raise error
                attempt = self._backoff(attempt, method, error.detail or "no answer")
                continue
            status = response.status_code
            if status == 429:
                # refused before it ran: asking again is safe, writes included
                if self.bucket is not None:
                    self.bucket.drain()
                wait = _retry_after(response)
                if not self._may_retry(attempt, started, limited=True, delay=wait):
                    raise self._error(status, _json(response), method, write=write)
                attempt = self._backoff(attempt, method, "429", wait=wait)
                continue
            parsed, readable = _reply(response)
            if 200 <= status < 300 and readable:
                return parsed
            error = self._error(status, parsed, method, write=write, readable=readable)
            retry = isinstance(error, AmoUnavailable) and not isinstance(error, AmoReplyLost)
            if retry and self._may_retry(attempt, started, limited=False):
                attempt = self._backoff(attempt, method, f"HTTP {status}")
                continue
            if isinstance(error, AmoBlocked):
                self.blocked = error
            if isinstance(error, AmoRefused) and isinstance(parsed, Mapping):
                issues = _issues(parsed, self.account)
                if issues:
                    raise _Invalid(error, issues, self.lang)
            raise error

    def _may_retry(
        self, attempt: int, started: float, *, limited: bool, delay: float | None = None
    ) -> bool:
        """Patience's rule; a Retry-After (``delay``) longer than ``MAX_RETRY_AFTER`` means
        "come back later", not "wait"."""
        if delay is not None and delay > MAX_RETRY_AFTER:
            return False
        return super()._may_retry(attempt, started, limited=limited, delay=delay)

    def _send(
        self, verb: str, path: str, params: Mapping[str, Any] | None, body: Any, started: float
    ) -> requests.Response:
        """One HTTP request, the person at the terminal told when its answer is slow to come."""
        if self.bucket is not None:
            self.bucket.acquire()
        self.requests_sent += 1
        headers = {
            "Accept": "application/hal+json, application/json",
            "Authorization": f"Bearer {self.account.token}",
            "User-Agent": f"crmkit/{__version__}",
        }
        timeout = self._timeout(started)
        log.debug("%s %s%s", verb, self.account.origin, path)
        with self._waiting_told(timeout):
            return self.session.request(
                verb,
                self.account.origin + path,
                params=_query(params),
                json=body,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )

    # -- error mapping --

    def _error(
        self,
        status: int,
        body: Any,
        method: str,
        *,
        write: bool,
        readable: bool = True,
    ) -> PortalError:
        raw = body if isinstance(body, Mapping) else {}
        code = self.account.hide(_code(raw))
        said = self.account.hide(_description(raw))
        kind: type[PortalError]
        if status == 403 and not readable:
            # a blocked account often answers with nginx's HTML page, not JSON (amo-facts §1)
            said = "HTTP 403 without amoCRM's JSON reply"
            return AmoBlocked(
                url=self.account.masked,
                method=method,
                description=said,
                status=status,
                lang=self.lang,
            )
        if status not in (401, 402, 404, 429) and (
            200 <= status < 300 or 300 <= status < 400 or not readable
        ):
            # a 2xx that is not amoCRM's JSON (a proxy's page), or a redirect we do not follow
            kind = AmoReplyLost if write else AmoUnavailable
            detail = f"HTTP {status} without amoCRM's JSON reply"
            return kind(
                url=self.account.masked, method=method, status=status, lang=self.lang, detail=detail
            )
        if status == 401:
            kind = AmoAuthFailed
        elif status == 402:
            kind = AmoPaymentRequired
        elif status == 403:
            kind = AmoBlocked if _blocked(code, said) else AmoForbidden
        elif status == 404:
            kind = AmoNotFound
        elif status == 429:
            kind = AmoRateLimited
        elif status >= 500:
            kind = AmoReplyLost if write else AmoUnavailable
        else:
            kind = AmoRefused
        return kind(
            url=self.account.masked,
            method=method,
            error=code,
            description=said,
            status=status,
            lang=self.lang,
            detail=f"HTTP {status}" + (f": {said}" if said else ""),
        )

    def _transport_error(
        self, exc: requests.RequestException, method: str, write: bool
    ) -> PortalError:
        where = {"url": self.account.masked, "method": method, "lang": self.lang}
        if isinstance(exc, requests.exceptions.SSLError):
            detail = "TLS failure: the account's certificate or encryption was not accepted"
            return AmoUnavailable(**where, detail=detail)  # type: ignore[arg-type]
        if not _sent(exc):
            if _name_not_resolved(exc):
                detail = "host name not found"
            elif isinstance(exc, requests.ConnectTimeout):
                detail = "connection timed out"
            else:
                detail = "connection refused"
            return AmoUnavailable(**where, detail=detail)  # type: ignore[arg-type]
        detail = "no answer in time" if isinstance(exc, requests.Timeout) else "connection broken"
        kind = AmoReplyLost if write else AmoUnavailable
        return kind(**where, detail=detail)  # type: ignore[arg-type]


class _Invalid(Exception):
    """A 400 with ``validation-errors``: the one-line error and the issues per request_id."""

    def __init__(self, error: AmoRefused, issues: dict[str, tuple[Issue, ...]], lang: Lang) -> None:
        super().__init__(str(error))
        lines = [i.line(label) for label, found in issues.items() for i in found]
        more = f" (+{len(lines) - 1})" if len(lines) > 1 else ""
        self.error = AmoRefused(
            url=error.url,
            method=error.method,
            error=error.error,
            description=f"{lines[0]}{more}",
            status=error.status,
            lang=lang,
        )
        self.issues = issues


# -- pure helpers ----------------------------------------------------------------------------------


def _query(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """amoCRM's nested GET parameters flattened: ``{"filter": {"id": [1, 2]}}`` →
    ``filter[id][0]=1&filter[id][1]=2``; booleans as ``true``/``false``."""
    flat: dict[str, Any] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(f"{prefix}[{k}]" if prefix else str(k), v)
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                walk(f"{prefix}[{i}]", v)
        elif isinstance(value, bool):
            flat[prefix] = "true" if value else "false"
        elif value is not None:
            flat[prefix] = value

    walk("", dict(params or {}))
    return flat


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _reply(response: requests.Response) -> tuple[Any, bool]:
    """The reply's JSON and whether it was readable (an empty body is: 204, DELETE)."""
    if response.status_code == 204 or not response.content:
        return None, True
    try:
        return response.json(), True
    except ValueError:
        return None, False


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return max(0.0, seconds) if seconds is not None else None


def _embedded(body: Any, key: str) -> list[Mapping[str, Any]]:
    embedded = body.get("_embedded") if isinstance(body, Mapping) else None
    rows = embedded.get(key) if isinstance(embedded, Mapping) else None
    return [r for r in rows if isinstance(r, Mapping)] if isinstance(rows, list) else []


def _next_page(body: Any) -> str | None:
    """The path and query of ``_links.next.href``, or None on the last page."""
    links = body.get("_links") if isinstance(body, Mapping) else None
    nxt = links.get("next") if isinstance(links, Mapping) else None
    href = nxt.get("href") if isinstance(nxt, Mapping) else None
    if not isinstance(href, str) or not href:
        return None
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _match(labels: Sequence[str], rows: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Created rows by the ``request_id`` they came back with; by position only when no row
    carries one and the counts agree."""
    by_id = {str(r["request_id"]): r for r in rows if r.get("request_id") is not None}
    if by_id:
        return {label: by_id[label] for label in labels if label in by_id}
    return dict(zip(labels, rows, strict=False)) if len(rows) == len(labels) else {}


def _issues(body: Mapping[str, Any], account: AmoAccount) -> dict[str, tuple[Issue, ...]]:
    found: dict[str, tuple[Issue, ...]] = {}
    for entry in body.get("validation-errors") or []:
        if not isinstance(entry, Mapping):
            continue
        label = str(entry.get("request_id", ""))
        issues = tuple(
            Issue(
                path=account.hide(str(e.get("path") or "")),
                detail=account.hide(str(e.get("detail") or e.get("code") or "")),
                code=account.hide(str(e.get("code") or "")),
            )
            for e in entry.get("errors") or []
            if isinstance(e, Mapping)
        )
        if issues:
            found[label] = found.get(label, ()) + issues
    return found


def _code(raw: Mapping[str, Any]) -> str:
    """amoCRM's error code: ``error_code`` of problem+json or of the older ``response``."""
    inner = raw.get("response")
    for source in (raw, inner if isinstance(inner, Mapping) else {}):
        for key in ("error_code", "code"):
            if source.get(key) not in (None, ""):
                return str(source[key])
    return ""


def _description(raw: Mapping[str, Any]) -> str:
    inner = raw.get("response")
    for source in (raw, inner if isinstance(inner, Mapping) else {}):
        for key in ("detail", "error", "title", "hint"):
            value = source.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
    return ""


def _blocked(code: str, description: str) -> bool:
    """The 403 of error-codes "Другие ответы": the account blocked for exceeding the rate again
    and again (code 403), unlike a user without rights or an IP outside the list (113)."""
    text = description.lower()
    return code == "403" or any(word in text for word in _BLOCKED_WORDS)

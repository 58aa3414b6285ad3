"""A fake HTTP transport for the amoCRM client tests: a ``requests.Session`` stand-in that
answers from a script and records what was sent, on a fake clock (no wall time, no sockets)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.structures import CaseInsensitiveDict
from sandbox_util import FakeClock

from crmkit.push.amocrm.account import AmoAccount
from crmkit.push.amocrm.client import AmoClient

TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.s3cr3t-amo-t0ken.Zm9vYmFy"
ORIGIN = "https://acme.amocrm.ru"


def response(
    status: int, body: Any = None, *, text: str | None = None, **headers: str
) -> requests.Response:
    r = requests.Response()
    r.status_code = status
    if text is not None:
        r._content = text.encode()
    elif body is None:
        r._content = b""
    else:
        r._content = json.dumps(body, ensure_ascii=False).encode()
    r.headers = CaseInsensitiveDict(
        {
            "Content-Type": "text/html" if text is not None else "application/hal+json",
            **{k.replace("_", "-"): v for k, v in headers.items()},
        }
    )
    return r


@dataclass
class Sent:
    verb: str
    url: str
    params: dict[str, Any]
    body: Any
    headers: dict[str, str]
    at: float


Answer = requests.Response | Exception | Callable[["Sent"], requests.Response]


@dataclass
class FakeSession:
    """Answers each request with the next scripted answer (or ``route`` when the script is
    empty); an ``Exception`` in the script is raised instead of answering."""

    clock: FakeClock
    script: list[Answer] = field(default_factory=list)
    route: Callable[[Sent], requests.Response] | None = None
    sent: list[Sent] = field(default_factory=list)

    def request(self, verb: str, url: str, **kw: Any) -> requests.Response:
        sent = Sent(
            verb, url, dict(kw.get("params") or {}), kw.get("json"), kw["headers"], self.clock()
        )
        self.sent.append(sent)
        answer: Answer
        if self.script:
            answer = self.script.pop(0)
        elif self.route is not None:
            answer = self.route
        else:
            raise AssertionError(f"unexpected request {verb} {url}")
        if isinstance(answer, Exception):
            raise answer
        return answer(sent) if callable(answer) else answer

    def close(self) -> None:
        pass


def make_client(
    *answers: Answer,
    route: Callable[[Sent], requests.Response] | None = None,
    rate: float | None = None,
    **kwargs: Any,
) -> tuple[AmoClient, FakeSession, FakeClock]:
    clock = FakeClock()
    session = FakeSession(clock, list(answers), route)
    client = AmoClient(
        AmoAccount("https", "acme.amocrm.ru", TOKEN),
        session,  # type: ignore[arg-type]
        clock=clock,
        sleep=clock.advance,
        random=lambda: 0.0,
        rate=rate,
        **kwargs,
    )
    return client, session, clock

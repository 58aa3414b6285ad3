"""Paths to handlers: ``/api/v4/leads/pipelines/{pipeline}/statuses/{status}`` and the like."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from crmkit.sandbox.amocrm.account import Account, Reply, Request
from crmkit.sandbox.amocrm.errors import AmoError, not_found

Handler = Callable[[Account, Request], Reply]
#: verbs that change the account (counted as writes; administrators only where marked)
WRITES = ("POST", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    verb: str
    pattern: re.Pattern[str]
    fn: Handler
    admin: bool
    #: the groups that are numeric ids (given as ints)
    numeric: frozenset[str]


class Router:
    def __init__(self) -> None:
        self.routes: list[Route] = []

    def add(self, verb: str, template: str, admin: bool = False) -> Callable[[Handler], Handler]:
        """``template`` with ``{name}`` for a numeric id segment, ``<name>`` for a textual one
        (events have string ids)."""
        regex = re.sub(r"<(\w+)>", r"(?P<\1>[0-9A-Za-z]+)", template)
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[0-9]+)", regex)

        def register(fn: Handler) -> Handler:
            numeric = frozenset(re.findall(r"\{(\w+)\}", template))
            self.routes.append(Route(verb, re.compile(f"^{regex}/?$"), fn, admin, numeric))
            return fn

        return register

    def find(self, verb: str, path: str) -> tuple[Route, dict[str, Any]]:
        allowed = False
        for route in self.routes:
            match = route.pattern.match(path)
            if match is None:
                continue
            if route.verb == verb:
                found = match.groupdict().items()
                return route, {k: int(v) if k in route.numeric else v for k, v in found}
            allowed = True
        if allowed:
            raise AmoError(405, "Method Not Allowed")
        raise not_found()

    def merge(self, other: Router) -> None:
        self.routes.extend(other.routes)

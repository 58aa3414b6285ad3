"""The portal: state, clock, the method registry and one call's life (scope, budget, envelope).

The HTTP layer turns a request into ``Portal.call(method, params)``; ``batch`` uses the same
entry point for its sub-commands, so both paths share scope checks and budget accounting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crmkit.sandbox.errors import ApiError, insufficient_scope, method_not_found
from crmkit.sandbox.limiter import Clock, OperatingBudget
from crmkit.sandbox.listing import PORTAL_TZ, Page
from crmkit.sandbox.store import Store

#: every scope the sandbox knows; a webhook gets all of them unless told otherwise
ALL_SCOPES: tuple[str, ...] = (
    "crm",
    "userfieldconfig",
    "user",
    "user_brief",
    "user_basic",
    "department",
    "task",
    "bizproc",
    "placement",
)
#: portal languages: ``get`` of a user field returns a label for each
LANGS: tuple[str, ...] = ("en", "ru", "de")

Handler = Callable[["Portal", dict[str, Any]], Any]


@dataclass(frozen=True)
class Method:
    name: str
    fn: Handler
    #: every one of these scopes must be granted (userfieldconfig.* needs crm as well)
    scopes: tuple[str, ...]
    #: ``batch`` itself is refused inside a batch
    batchable: bool = True


class Registry:
    """Method handlers by lower-case name; each family module fills one."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def method(
        self, name: str, *scopes: str, batchable: bool = True
    ) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.methods[name.lower()] = Method(name, fn, scopes or ("crm",), batchable)
            return fn

        return register

    def merge(self, other: Registry) -> None:
        self.methods.update(other.methods)


@dataclass
class Outcome:
    """What one method call produced, ready for an envelope."""

    result: Any
    total: int | None
    next: int | None
    time: dict[str, Any]


@dataclass
class Portal:
    store: Store
    registry: Registry
    clock: Clock = time.time
    scopes: frozenset[str] = field(default_factory=lambda: frozenset(ALL_SCOPES))
    budget: OperatingBudget | None = None
    #: the id of the employee who owns the webhook
    user_id: int = 1
    #: whether that employee is an administrator (smart processes and common card layouts
    #: need one; BITRIX24.md §7.1)
    admin: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)

    def __post_init__(self) -> None:
        if self.budget is None:
            self.budget = OperatingBudget(self.clock)

    # --- helpers shared by the method families
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), PORTAL_TZ).replace(microsecond=0)

    def now_iso(self) -> str:
        return self.now().isoformat()

    def lookup(self, name: str) -> Method:
        method = self.registry.methods.get(name.lower())
        if method is None:
            raise method_not_found()
        return method

    def call(self, name: str, params: dict[str, Any], *, in_batch: bool = False) -> Outcome:
        """Run one method: lookup, scope, operating budget, handler. Raises ``ApiError``."""
        method = self.lookup(name)
        if in_batch and not method.batchable:
            raise ApiError(
                "ERROR_BATCH_METHOD_NOT_ALLOWED", "Method is not allowed for batch usage", 405
            )
        if not set(method.scopes) - {"basic"} <= self.scopes:  # basic: every webhook
            raise insufficient_scope()
        budget = self.budget
        assert budget is not None
        key = method.name.lower()
        if budget.exhausted(key):
            error = ApiError(
                "OPERATION_TIME_LIMIT", "Method is blocked due to operation time limit.", 429
            )
            now = self.clock()
            error.time = self.time_block(key, now, now, 0.0)
            raise error
        started = self.clock()
        perf = time.perf_counter()
        try:
            with self.lock:
                if method.batchable:
                    # one call, one transaction: a portal killed mid-call (or a call that
                    # fails half-way) leaves nothing half-made; ``batch`` is not one, each of
                    # its commands is
                    with self.store.transaction():
                        value = method.fn(self, params)
                else:
                    value = method.fn(self, params)
        finally:
            processing = time.perf_counter() - perf
            if method.batchable:  # the outer batch is not charged; its commands are
                budget.charge(key, processing)
        finished = self.clock()
        block = self.time_block(key, started, finished, processing)
        if isinstance(value, Page):
            return Outcome(value.result, value.total, value.next, block)
        return Outcome(value, None, None, block)

    def time_block(
        self, method: str | None, started: float, finished: float, processing: float
    ) -> dict[str, Any]:
        budget = self.budget
        assert budget is not None
        block: dict[str, Any] = {
            "start": round(started, 6),
            "finish": round(finished, 6),
            "duration": round(max(finished - started, processing), 6),
            "processing": round(processing, 6),
            "date_start": datetime.fromtimestamp(started, PORTAL_TZ)
            .replace(microsecond=0)
            .isoformat(),
            "date_finish": datetime.fromtimestamp(finished, PORTAL_TZ)
            .replace(microsecond=0)
            .isoformat(),
        }
        if method is not None:
            block["operating_reset_at"] = budget.reset_at(method)
            block["operating"] = round(budget.used(method), 6)
        return block


def merged(registries: Iterable[Registry]) -> Registry:
    whole = Registry()
    for registry in registries:
        whole.merge(registry)
    return whole

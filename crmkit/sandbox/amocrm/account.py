"""The account a sandbox imitates: its state, clock and the shapes every endpoint shares.

Records live in the shared ``Store`` by kind: ``pipeline`` (its statuses inside it: the won and
lost statuses have the same ids 142/143 in every pipeline), ``loss_reason``, ``field``, ``lead``,
``contact``, ``company``, ``task``, ``event``, ``unsorted``, ``user``. Times are Unix seconds, as
API v4 gives them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from crmkit.sandbox.store import Record, Store

ACCOUNT_ID = 31_415_926
SUBDOMAIN = "sandbox"
TIMEZONE = ZoneInfo("Europe/Moscow")

#: docs:crm_platform/leads_pipelines.md "Общая информация"
MAX_PIPELINES = 50
MAX_STATUSES = 100
WON = 142
LOST = 143
UNSORTED_COLOR = "#c1c1c1"
WON_COLOR = "#CCFF66"
LOST_COLOR = "#D5D8DB"
#: docs:crm_platform/leads_pipelines.md "Доступные цвета статусов" — the only colours accepted
PALETTE: tuple[str, ...] = (
    "#fffeb2",
    "#fffd7f",
    "#fff000",
    "#ffeab2",
    "#ffdc7f",
    "#ffce5a",
    "#ffdbdb",
    "#ffc8c8",
    "#ff8f92",
    "#d6eaff",
    "#c1e0ff",
    "#98cbff",
    "#ebffb1",
    "#deff81",
    "#87f2c0",
    "#f9deff",
    "#f3beff",
    "#ccc8f9",
    "#eb93ff",
    "#f2f3f4",
    "#e6e8ea",
)
#: page caps: 250 for lists ("Максимум – 250"), 100 for events, 50 for custom fields ("до 50
#: полей за один запрос"); 50 is the default page (the PHP SDK's)
PAGE_CAP = 250
EVENTS_CAP = 100
FIELDS_CAP = 50
DEFAULT_LIMIT = 50
#: items in one batch POST/PATCH (sandbox choice: the page cap; /leads/complex documents 50)
BATCH_CAP = 250
#: first ids of each kind, so ids look like a real account's and kinds never share one
FIRST_ID = {
    "pipeline": 7_000_001,
    "status": 60_000_001,
    "loss_reason": 4_200_001,
    "field": 900_001,
    "enum": 500_001,
    "lead": 10_000_001,
    "contact": 20_000_001,
    "company": 30_000_001,
    "task": 40_000_001,
    "event": 1,
    "unsorted": 1,
    "user": 1,
}


@dataclass
class Request:
    verb: str
    path: str
    #: the query string parsed with bracket notation (``filter[id][]=1``)
    query: dict[str, Any]
    #: the raw query string, for HAL links
    query_string: str
    #: the decoded JSON body (None without one)
    body: Any
    #: named groups of the route's pattern (numeric ids as ints)
    ids: dict[str, Any] = field(default_factory=dict)


@dataclass
class Reply:
    status: int
    body: Any = None


@dataclass
class Account:
    store: Store
    clock: Callable[[], float]
    base_url: str
    #: the user the token belongs to; an administrator unless told otherwise
    user_id: int = 1
    admin: bool = True
    lock: threading.RLock = field(default_factory=threading.RLock)

    def now(self) -> int:
        return int(self.clock())

    def now_moment(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), TIMEZONE).replace(microsecond=0)

    def new_id(self, kind: str) -> int:
        return self.store.new_id(kind, FIRST_ID[kind])

    def link(self, path: str) -> dict[str, Any]:
        return {"self": {"href": f"{self.base_url}{path}"}}

    def pipelines(self) -> list[Record]:
        return sorted(self.store.rows("pipeline"), key=lambda p: (p["sort"], p["id"]))

    def pipeline(self, pid: int) -> Record | None:
        return self.store.get("pipeline", pid)

    def status_in(self, pipeline: Record, sid: int) -> Record | None:
        return next((s for s in pipeline["statuses"] if s["id"] == sid), None)

    def has_user(self, uid: Any) -> bool:
        return isinstance(uid, int) and self.store.get("user", uid) is not None

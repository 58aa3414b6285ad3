"""What the portal answered, as values: replies, batch results, list rows. Pure.

Kept apart from the client so that code reading a portal (pull, audit) needs no ``requests``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from crmkit.push.errors import PortalError

#: rows per page of every Bitrix24 list method
PAGE_SIZE = 50


@dataclass(frozen=True)
class Reply:
    """One successful call: the payload and the list/timing members of the envelope."""

    result: Any
    total: int | None = None
    next: int | None = None
    time: Mapping[str, Any] = field(default_factory=dict)


BatchStatus = Literal["ok", "error", "skipped"]


@dataclass(frozen=True)
class BatchItem:
    """The outcome of one command of a batch (``skipped``: not run because of ``halt``)."""

    label: str
    method: str
    status: BatchStatus
    result: Any = None
    error: PortalError | None = None
    total: int | None = None
    next: int | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass(frozen=True)
class BatchResult:
    items: dict[str, BatchItem]
    #: HTTP requests this batch took (more than one for ``batch_many``)
    requests: int = 1

    def __getitem__(self, label: str) -> BatchItem:
        return self.items[label]

    def __iter__(self) -> Iterator[str]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def ok(self) -> bool:
        return all(item.ok for item in self.items.values())

    @property
    def errors(self) -> dict[str, PortalError]:
        return {k: v.error for k, v in self.items.items() if v.error is not None}

    def value(self, label: str) -> Any:
        """The result of ``label``; its error is raised if it failed."""
        item = self.items[label]
        if item.error is not None:
            raise item.error
        if item.status == "skipped":
            raise KeyError(f"batch command {label!r} was not run (an earlier command failed)")
        return item.result


def as_mapping(value: Any) -> dict[str, Any]:
    """A ``result_*`` member as a dict: PHP turns an empty array into ``[]`` and an array keyed
    ``0..n-1`` into a JSON list (BITRIX24.md §1.6); a list's positions become the keys."""
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    return {}


def rows_of(result: Any, key: str | None = None) -> list[Any]:
    """The rows of a list result: a bare list (legacy methods) or ``result[key]`` (crm.item,
    crm.type, crm.category wrap it). Never guessed: a wrapped result needs ``key``."""
    if key is not None:
        result = result.get(key) if isinstance(result, Mapping) else None
    if result is None:
        return []
    if isinstance(result, Mapping):
        # PHP arrays with non-sequential keys arrive as objects: the rows are the values
        return list(result.values())
    if isinstance(result, list):
        return result
    raise TypeError(f"not a list result: {type(result).__name__}")


def int_or_none(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None

"""What crmkit applied to a portal, kept in the client folder between pushes. Pure values.

The record maps every managed address (``deal.deal_b2b_full.stage.NEEDS``) to the portal object
it became (its ids) and to the shape crmkit left it in (name, colour, …). Three uses:

- **matching**: an object is found again by its ids even after it was renamed in the portal;
- **ownership**: only what crmkit created (``created``) is ever deleted, and only under
  ``--prune`` (or, for the default stages of a pipeline crmkit made, as part of making it);
- **drift**: what changed in the portal by hand since the last apply, shown apart from the
  changes the blueprint asks for.

``pending`` holds the addresses crmkit was about to create when a batch was sent: after a lost
reply or a killed process, an object found under such an address is crmkit's own.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crmkit.errors import InputError
from crmkit.i18n import run_msg

VERSION = 1


@dataclass(frozen=True)
class Managed:
    """One managed object: its portal ids, whether crmkit created it, its shape when applied."""

    ids: tuple[tuple[str, Any], ...]
    created: bool = False
    shape: tuple[tuple[str, Any], ...] = ()

    def id(self, name: str) -> Any:
        return dict(self.ids).get(name)

    def attr(self, name: str) -> Any:
        return dict(self.shape).get(name)


@dataclass(frozen=True)
class Record:
    portal: str = ""
    blueprint: str = ""
    applied_at: str = ""
    managed: dict[str, Managed] = field(default_factory=dict)
    pending: tuple[str, ...] = ()
    #: the language the names were written in (the next push keeps it unless told otherwise)
    lang: str = ""

    def get(self, address: str) -> Managed | None:
        return self.managed.get(address)

    def created(self, address: str) -> bool:
        entry = self.managed.get(address)
        return (entry is not None and entry.created) or address in self.pending

    def to_json(self) -> str:
        data = {
            "version": VERSION,
            "portal": self.portal,
            "blueprint": self.blueprint,
            "applied_at": self.applied_at,
            "lang": self.lang,
            "pending": list(self.pending),
            "managed": {
                address: {
                    "ids": dict(m.ids),
                    "created": m.created,
                    "shape": dict(m.shape),
                }
                for address, m in sorted(self.managed.items())
            },
        }
        return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def parse_record(text: str, name: str) -> Record:
    """A record from its JSON; a damaged one is an ``InputError`` naming the file."""
    try:
        data = json.loads(text)
    except ValueError:
        raise InputError(run_msg("load.other.record_json"), where=name) from None
    if not isinstance(data, dict) or data.get("version") != VERSION:
        raise InputError(run_msg("load.other.record_version"), where=name)
    managed: dict[str, Managed] = {}
    raw = data.get("managed")
    if not isinstance(raw, dict):
        raise InputError(run_msg("load.other.record_managed"), where=name)
    for address, item in raw.items():
        if not isinstance(item, dict):
            raise InputError(run_msg("load.other.record"), where=name, key=f"managed.{address}")
        ids = item["ids"] if isinstance(item.get("ids"), dict) else {}
        shape = item["shape"] if isinstance(item.get("shape"), dict) else {}
        managed[str(address)] = Managed(
            ids=tuple(sorted(ids.items())),
            created=bool(item.get("created")),
            shape=tuple(sorted(shape.items())),
        )
    pending = data["pending"] if isinstance(data.get("pending"), list) else []
    return Record(
        portal=str(data.get("portal") or ""),
        blueprint=str(data.get("blueprint") or ""),
        applied_at=str(data.get("applied_at") or ""),
        managed=managed,
        pending=tuple(str(p) for p in pending),
        lang=str(data.get("lang") or ""),
    )

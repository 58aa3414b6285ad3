"""Before any plan: what this webhook may do (BITRIX24.md §7.1).

One batch asks ``scope`` (the scopes granted), ``user.admin`` (an administrator?) and
``method.get`` for every method a push calls (``isExisting``: the portal has it;
``isAvailable``: this webhook may call it). The answer says what the webhook lacks and what will
still be done, in one message, before anything is planned or written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crmkit.push.bitrix24.writer import Batcher
from crmkit.push.errors import PortalError

#: what a push may call, by what it is for
PUSH_METHODS: dict[str, tuple[str, ...]] = {
    "pipelines": ("crm.category.add", "crm.category.update", "crm.status.add", "crm.status.update"),
    "fields": ("crm.deal.userfield.add", "crm.deal.userfield.update"),
    "smart_processes": ("crm.type.add", "crm.type.update"),
    "smart_process_fields": ("userfieldconfig.add", "userfieldconfig.update"),
}


@dataclass(frozen=True)
class Capabilities:
    scopes: frozenset[str]
    admin: bool
    #: methods the portal does not have (a plan or a module missing)
    missing: tuple[str, ...] = ()
    #: methods the portal has but this webhook may not call (a scope not ticked)
    unavailable: tuple[str, ...] = ()

    @property
    def crm(self) -> bool:
        return "crm" in self.scopes

    @property
    def smart_process_fields(self) -> bool:
        return "userfieldconfig" in self.scopes

    def lacks(self) -> list[str]:
        """Message keys (``push.preflight.*``) of what the webhook lacks, gravest first."""
        out = []
        if not self.crm:
            out.append("no_crm")
        if not self.admin:
            out.append("not_admin")
        if not self.smart_process_fields:
            out.append("no_userfieldconfig")
        if self.missing:
            out.append("missing_methods")
        return out


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("true", "y", "1")


def preflight(client: Batcher, methods: Iterable[str] | None = None) -> Capabilities:
    """Ask the portal what this webhook may do (one request)."""
    wanted = list(dict.fromkeys(methods or [m for group in PUSH_METHODS.values() for m in group]))
    commands: dict[str, tuple[str, dict[str, Any]]] = {
        "scope": ("scope", {}),
        "admin": ("user.admin", {}),
    }
    for index, method in enumerate(wanted):
        commands[f"m{index}"] = ("method.get", {"name": method})
    answer = client.batch(commands)
    scope = answer["scope"]
    if scope.error is not None:
        raise scope.error
    scopes = frozenset(str(s) for s in scope.result or [] if isinstance(s, str))
    admin_item = answer["admin"]
    admin = admin_item.ok and _flag(admin_item.result)
    missing, unavailable = [], []
    for index, method in enumerate(wanted):
        item = answer[f"m{index}"]
        if not item.ok or not isinstance(item.result, Mapping):
            error = item.error
            if isinstance(error, PortalError) and error.error.upper() == "ERROR_METHOD_NOT_FOUND":
                # a portal without method.get: nothing known, nothing refused
                continue
            continue
        if not _flag(item.result.get("isExisting")):
            missing.append(method)
        elif not _flag(item.result.get("isAvailable")):
            unavailable.append(method)
    return Capabilities(scopes, admin, tuple(missing), tuple(unavailable))

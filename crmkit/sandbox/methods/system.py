"""What a webhook may ask about itself (BITRIX24.md §7.1): ``scope``, ``method.get``,
``user.admin``. Scope ``basic``: every webhook may call them."""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.params import as_yn, pick
from crmkit.sandbox.portal import ALL_SCOPES, Portal, Registry

registry = Registry()


@registry.method("scope", "basic")
def scope(portal: Portal, params: dict[str, Any]) -> list[str]:
    # full=true: every scope the portal has; else the ones granted to this webhook
    if as_yn(pick(params, "full")) == "Y":
        return list(ALL_SCOPES)
    return [s for s in ALL_SCOPES if s in portal.scopes]


@registry.method("method.get", "basic")
def method_get(portal: Portal, params: dict[str, Any]) -> dict[str, bool]:
    name = str(pick(params, "name") or "").strip().lower()
    method = portal.registry.methods.get(name) if name else None
    if method is None:
        return {"isExisting": False, "isAvailable": False}
    granted = set(method.scopes) - {"basic"} <= portal.scopes
    return {"isExisting": True, "isAvailable": granted}


@registry.method("user.admin", "basic")
def user_admin(portal: Portal, params: dict[str, Any]) -> bool:
    return portal.admin

"""The method families of the sandbox, merged into one registry."""

from __future__ import annotations

from crmkit.sandbox.methods import (
    batch,
    cards,
    category,
    dealcategory,
    entities,
    history,
    status,
    system,
    types,
    userfield,
    users,
)
from crmkit.sandbox.portal import Registry, merged


def build_registry() -> Registry:
    families = (
        status,
        category,
        dealcategory,
        userfield,
        types,
        entities,
        history,
        users,
        system,
        cards,
        batch,
    )
    return merged(family.registry for family in families)

"""The method families of the sandbox, merged into one registry."""

from __future__ import annotations

from crmkit.sandbox.methods import batch, category, status
from crmkit.sandbox.portal import Registry, merged


def build_registry() -> Registry:
    return merged([status.registry, category.registry, batch.registry])

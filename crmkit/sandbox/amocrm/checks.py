"""Reading request bodies the way API v4 validates them: a batch is a JSON array of models,
each checked key by key; what fails is reported per item by its dotted path."""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.amocrm.account import BATCH_CAP
from crmkit.sandbox.amocrm.errors import (
    FIELD_MISSING,
    INVALID_TYPE,
    NOT_SUPPORTED_CHOICE,
    AmoError,
    Item,
)

_MISSING = object()


def batch(body: Any) -> list[Any]:
    """The models of a batch POST/PATCH: a non-empty array of at most ``BATCH_CAP``."""
    if not isinstance(body, list) or not body:
        raise AmoError(400, "Request body must be a non-empty array of models")
    if len(body) > BATCH_CAP:
        raise AmoError(400, f"At most {BATCH_CAP} models in one request")
    return body


def model(body: Any) -> dict[str, Any]:
    """The model of a single-item PATCH."""
    if not isinstance(body, dict) or not body:
        raise AmoError(400, "Request body must be a non-empty object")
    return body


def request_id(model: Any, index: int) -> str:
    """The item's own ``request_id`` (echoed unchanged) or its index in the batch."""
    if isinstance(model, dict) and "request_id" in model:
        return str(model["request_id"])
    return str(index)


def text(
    model: dict[str, Any], key: str, item: Item, path: str = "", required: bool = False
) -> str | None:
    value = model.get(key, _MISSING)
    where = f"{path}{key}"
    if value is _MISSING or value is None:
        if required:
            item.add(FIELD_MISSING, where)
        return None
    if not isinstance(value, str) or (required and not value.strip()):
        item.add(INVALID_TYPE, where)
        return None
    return value


def integer(
    model: dict[str, Any], key: str, item: Item, path: str = "", required: bool = False
) -> int | None:
    value = model.get(key, _MISSING)
    where = f"{path}{key}"
    if value is _MISSING or value is None:
        if required:
            item.add(FIELD_MISSING, where)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        item.add(INVALID_TYPE, where)
        return None
    return value


def flag(
    model: dict[str, Any], key: str, item: Item, path: str = "", required: bool = False
) -> bool | None:
    value = model.get(key, _MISSING)
    where = f"{path}{key}"
    if value is _MISSING or value is None:
        if required:
            item.add(FIELD_MISSING, where)
        return None
    if not isinstance(value, bool):
        item.add(INVALID_TYPE, where)
        return None
    return value


def array(model: dict[str, Any], key: str, item: Item, path: str = "") -> list[Any] | None:
    value = model.get(key, _MISSING)
    if value is _MISSING or value is None:
        return None
    if not isinstance(value, list):
        item.add(INVALID_TYPE, f"{path}{key}")
        return None
    return value


def choice(value: Any, allowed: Any, item: Item, where: str) -> bool:
    if value not in allowed:
        item.add(NOT_SUPPORTED_CHOICE, where)
        return False
    return True


def embedded(model: dict[str, Any], key: str, item: Item) -> list[Any] | None:
    """``_embedded[key]`` of a model, if given."""
    inner = model.get("_embedded")
    if inner is None:
        return None
    if not isinstance(inner, dict):
        item.add(INVALID_TYPE, "_embedded")
        return None
    return array(inner, key, item, "_embedded.")

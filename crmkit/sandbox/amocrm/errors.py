"""amoCRM's error answers: RFC 7807 problem documents, and 400 ``validation-errors`` per item.

Every error of API v4 is ``application/problem+json`` with ``title``, ``type``
(``https://httpstatus.es/<status>``), ``status`` and ``detail`` (docs:crm_platform/error-codes.md;
the 401 body as observed in amocrm-api-php#333). A batch whose items fail validation answers 400
with one entry per failing item: its ``request_id`` and the errors by dotted key path inside it
(error-codes.md, amocrm-api-php#115).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

#: the code amoCRM's docs show for a value outside the allowed set
NOT_SUPPORTED_CHOICE = "NotSupportedChoice"
#: the sandbox's names for the other failures (the docs show no others)
FIELD_MISSING = "FieldMissing"
INVALID_TYPE = "InvalidType"
LIMIT_EXCEEDED = "LimitExceeded"

_DETAILS = {
    NOT_SUPPORTED_CHOICE: "The value you selected is not a valid choice.",
    FIELD_MISSING: "This field is missing.",
    INVALID_TYPE: "This value has an invalid type.",
    LIMIT_EXCEEDED: "The limit of items is exceeded.",
}


def problem(status: int, detail: str) -> dict[str, Any]:
    title = HTTPStatus(status).phrase
    return {
        "title": title,
        "type": f"https://httpstatus.es/{status}",
        "status": status,
        "detail": detail,
    }


class AmoError(Exception):
    """A problem answer: HTTP ``status`` and its ``detail``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return problem(self.status, self.detail)


def not_found() -> AmoError:
    return AmoError(404, "Not Found")


def unauthorized() -> AmoError:
    # the wording of a real account's answer to a wrong or revoked token (amocrm-api-php#333)
    return AmoError(401, "Неверный логин или пароль")


def forbidden() -> AmoError:
    return AmoError(403, "Недостаточно прав для выполнения действия")


BLOCKED_DETAIL = "Аккаунт заблокирован, за неоднократное превышение количества запросов в секунду"
LIMITED_DETAIL = "Превышено допустимое количество запросов в секунду"


@dataclass
class Item:
    """The errors found in one item of a request, by key path inside the item."""

    request_id: str
    errors: list[dict[str, str]] = field(default_factory=list)

    def add(self, code: str, path: str) -> None:
        self.errors.append({"code": code, "path": path, "detail": _DETAILS[code]})


class ValidationFailed(AmoError):
    """400 ``Request validation failed`` with the ``validation-errors`` of the failing items."""

    def __init__(self, items: list[Item]) -> None:
        super().__init__(400, "Request validation failed")
        self.items = items

    def body(self) -> dict[str, Any]:
        return {
            "validation-errors": [
                {"request_id": item.request_id, "errors": item.errors} for item in self.items
            ],
            **problem(400, self.detail),
        }


def raise_failed(items: list[Item]) -> None:
    """Raise ``ValidationFailed`` if any item has errors (the whole request fails)."""
    failing = [item for item in items if item.errors]
    if failing:
        raise ValidationFailed(failing)

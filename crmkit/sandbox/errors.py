"""Errors a sandbox method answers with: an HTTP status, a code and a description.

Bitrix24 answers every failure with ``{"error": code, "error_description": text}``; the code is
often the empty string for legacy validation errors, and sometimes a number-like ``"0"``.
"""

from __future__ import annotations


class ApiError(Exception):
    """A Bitrix24-style error answer (HTTP status + ``error`` + ``error_description``)."""

    def __init__(self, code: str | int, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.status = status
        #: a ``time`` block some errors carry (429 OPERATION_TIME_LIMIT shows the budget)
        self.time: dict[str, object] | None = None

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {"error": self.code, "error_description": self.description}
        if self.time is not None:
            body["time"] = self.time
        return body


def legacy(*messages: str) -> ApiError:
    """A legacy validation error: empty code, several messages joined by newlines."""
    return ApiError("", "\n".join(messages), 400)


def method_not_found() -> ApiError:
    return ApiError("ERROR_METHOD_NOT_FOUND", "Method not found!", 404)


def no_auth() -> ApiError:
    return ApiError("NO_AUTH_FOUND", "Wrong authorization data", 401)


def insufficient_scope() -> ApiError:
    return ApiError(
        "insufficient_scope",
        "The request requires higher privileges than provided by the webhook token",
        403,
    )


def app_context_required() -> ApiError:
    return ApiError("ACCESS_DENIED", "Access denied! Application context required", 403)

"""amoCRM's refusals as the shared error set (``crmkit.push.errors``), with texts of their own.

Each is a subclass of the Bitrix24-neutral kind it is (an amoCRM 401 is an ``AuthFailed``), so
code that handles a portal's errors handles these too; only the words differ (a token, not a
webhook). All exit with 1. ``url`` is the account's address: the token is never part of it.
"""

from __future__ import annotations

from crmkit.push.errors import (
    AuthFailed,
    NotFound,
    RateLimited,
    Refused,
    ReplyLost,
    Unavailable,
)


class AmoAuthFailed(AuthFailed):
    """401: the token is wrong, revoked or expired, or the account does not exist."""

    kind = "amo.auth"


class AmoForbidden(Refused):
    """403: the token's user may not do this (an administrator is needed), or the account lets
    the API in only from listed IP addresses (code 113)."""

    kind = "amo.forbidden"


class AmoBlocked(Refused):
    """403 "account blocked" for exceeding the request rate again and again: nothing more is
    sent; only amoCRM's support can unblock it."""

    kind = "amo.blocked"


class AmoPaymentRequired(Refused):
    """402: the account's subscription has ended."""

    kind = "amo.payment"


class AmoRateLimited(RateLimited):
    """429 beyond our patience."""

    kind = "amo.rate"


class AmoNotFound(NotFound):
    kind = "amo.not_found"


class AmoRefused(Refused):
    """400/422 and friends: amoCRM's own ``detail`` (and validation errors) are the useful part."""

    kind = "amo.refused"


class AmoUnavailable(Unavailable):
    kind = "amo.unavailable"


class AmoReplyLost(ReplyLost):
    """A write whose outcome is unknown: never repeated blindly."""

    kind = "amo.lost"

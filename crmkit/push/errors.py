"""What can go wrong talking to a portal, as a small typed set. Pure (no ``requests`` here).

Every error keeps the portal's own ``error`` code and ``error_description`` (Bitrix24 puts the
useful text there, often with an empty code) and names the portal by its masked webhook URL
only. All of them exit with 1: the CRM refused, or could not be reached.
"""

from __future__ import annotations

from crmkit.errors import CrmRefused
from crmkit.i18n import Lang, msg


class PortalError(CrmRefused):
    """Base of the client's errors. ``kind`` names the message in ``crmkit/locale/push.toml``."""

    kind = "refused"

    def __init__(
        self,
        *,
        url: str,
        method: str,
        error: str = "",
        description: str = "",
        status: int | None = None,
        lang: Lang = "en",
        detail: str = "",
    ) -> None:
        self.url = url  # masked, never the secret
        self.method = method
        self.error = error
        self.description = description
        self.status = status
        self.detail = detail
        code = error or "-"
        where = f"HTTP {status}" if status else "batch"
        said = description.replace("\n", "; ").strip() or code
        text = msg(
            f"push.error.{self.kind}",
            lang,
            url=url,
            method=method,
            error=code,
            description=said,
            status=where,
            reason=detail or f"{said} ({code}, {where})",
        )
        super().__init__(text)


class AuthFailed(PortalError):
    """401: wrong, deleted or expired webhook code (``NO_AUTH_FOUND``, ``expired_token``…)."""

    kind = "auth"


class ScopeMissing(PortalError):
    """403 ``insufficient_scope``: the webhook was created without the needed permission."""

    kind = "scope"


class NotFound(PortalError):
    """404 ``ERROR_METHOD_NOT_FOUND`` or a ``NOT_FOUND`` element."""

    kind = "not_found"


class RateLimited(PortalError):
    """``QUERY_LIMIT_EXCEEDED`` beyond our retries, ``OPERATION_TIME_LIMIT``, ``OVERLOAD_LIMIT``."""

    kind = "rate"


class Refused(PortalError):
    """The portal refused the call (400 and friends): its own message is the useful part."""

    kind = "refused"


class Unavailable(PortalError):
    """The portal could not be reached, or failed (5xx), or answered something not JSON."""

    kind = "unavailable"


class ReplyLost(Unavailable):
    """A write whose outcome is unknown (timeout, reset, 500): never repeated blindly."""

    kind = "lost"

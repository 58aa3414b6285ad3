"""An amoCRM account's address and long-lived token: parsing, validation, masking. Pure.

The account is ``https://<subdomain>.amocrm.ru`` (``.amocrm.com`` and ``kommo.com`` are the same
service abroad); the token goes in an ``Authorization: Bearer`` header, never in a URL, so the
address is safe to show and the token is the only secret. ``AmoAccount`` keeps the token out of
``repr``/``str``; ``hide`` scrubs it from any text (a reply that echoes it, a library's message).
Plain ``http://`` only for loopback hosts, where the sandbox runs: the token would otherwise
cross the network in clear text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crmkit.errors import InputError
from crmkit.i18n import Lang, msg
from crmkit.push.bitrix24.webhook import MASK, is_loopback

#: the hosts amoCRM serves accounts on (one label before them: the account's subdomain)
AMO_DOMAINS = ("amocrm.ru", "amocrm.com", "kommo.com")
#: a token is a JWT or a similar opaque string: printable, no spaces
_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]{8,4096}")


def is_amo_host(host: str) -> bool:
    """``acme.amocrm.ru`` and the like (exactly one label before an amoCRM domain)."""
    name = host.lower().rstrip(".")
    return any(
        name.endswith("." + d) and "." not in name[: -len(d) - 1] and name[: -len(d) - 1]
        for d in AMO_DOMAINS
    )


@dataclass(frozen=True)
class AmoAccount:
    """A parsed account address and its token. ``str``/``repr`` never show the token."""

    scheme: str
    #: host with the port, as written (``acme.amocrm.ru``, ``127.0.0.1:8080``)
    netloc: str
    token: str = field(repr=False)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: safe to show and to store."""
        return f"{self.scheme}://{self.netloc}"

    @property
    def masked(self) -> str:
        """What messages name the account by: its address (the token is not part of it)."""
        return self.origin

    @property
    def host(self) -> str:
        return urlsplit(f"{self.origin}/").hostname or self.netloc

    def hide(self, text: str) -> str:
        """``text`` with the token (should a reply or a library quote it) masked."""
        return text.replace(self.token, MASK) if self.token else text

    def __str__(self) -> str:
        return self.origin

    def __repr__(self) -> str:
        return f"AmoAccount({self.origin!r}, token={MASK!r})"


def parse_account_url(text: str, *, source: str = "--url", lang: Lang = "en") -> tuple[str, str]:
    """``(scheme, netloc)`` of an account address; ``InputError`` naming ``source`` if bad.
    A path of ``/`` or ``/api/v4`` is accepted (copied from a browser or a doc example)."""

    def bad(key: str, **values: object) -> InputError:
        return InputError(msg(f"push.amo.account.{key}", lang, **values), key=source)

    raw = text.strip()
    if not raw:
        raise bad("no_url")
    try:
        parts = urlsplit(raw)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise bad("shape") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not hostname or parts.username or parts.password:
        raise bad("shape")
    if scheme == "http" and not is_loopback(hostname):
        raise bad("https", host=hostname)
    if parts.path.rstrip("/") not in ("", "/api/v4") or parts.query or parts.fragment:
        raise bad("shape")
    return scheme, parts.netloc.lower()


def parse_account(
    url: str,
    token: str,
    *,
    url_source: str = "--url",
    token_source: str = "--token",
    lang: Lang = "en",
) -> AmoAccount:
    """An ``AmoAccount``; a bad address or token is a one-line ``InputError`` that names where
    it came from and never quotes the token."""
    scheme, netloc = parse_account_url(url, source=url_source, lang=lang)
    secret = token.strip()
    if secret.lower().startswith("bearer "):
        secret = secret[7:].strip()  # a header value pasted whole
    if not secret:
        raise InputError(msg("push.amo.account.no_token", lang), key=token_source)
    if not _TOKEN.fullmatch(secret):
        raise InputError(msg("push.amo.account.token_shape", lang), key=token_source)
    return AmoAccount(scheme=scheme, netloc=netloc, token=secret)

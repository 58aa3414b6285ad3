"""The incoming-webhook URL: parsing, validation and masking. Pure.

A Bitrix24 incoming webhook is ``https://<portal>/rest/<user id>/<code>/``; whoever holds the
code acts as that user, so the code is a password. ``Webhook`` keeps it out of ``repr``/``str``
and offers only the masked form (``https://portal.example/rest/1/***/``) for anything a person or
a log may see. ``mask_secrets`` scrubs the same pattern out of arbitrary text (messages of
third-party libraries, log records).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from crmkit.errors import InputError
from crmkit.i18n import Lang, msg

#: ``/rest/<uid>/<code>`` anywhere in a text; the code is what gets hidden
_SECRET_IN_TEXT = re.compile(r"(/rest/\d+/)([A-Za-z0-9_-]+)")
#: the path of a webhook, optionally followed by a method name (``crm.status.list[.json]``)
_PATH = re.compile(
    r"(?P<prefix>(?:/[^/]+)*?)/rest/(?P<uid>\d+)/(?P<code>[^/]+)(?:/(?P<method>[^/]*))?/?"
)
#: real codes are 16 lower-case letters and digits; accept any plain token, never a method name
_CODE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_METHOD = re.compile(r"[A-Za-z][A-Za-z0-9_.]*")

MASK = "***"


def mask_secrets(text: str) -> str:
    """``text`` with the code of every ``/rest/<uid>/<code>`` replaced by ``***``."""
    return _SECRET_IN_TEXT.sub(lambda m: m.group(1) + MASK, text)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or ``localhost``: the only hosts plain http:// may talk to."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Webhook:
    """A parsed webhook. ``str``/``repr`` show the masked URL; ``base_url`` holds the secret."""

    scheme: str
    #: host with the port, as written (``portal.bitrix24.ru``, ``127.0.0.1:8080``)
    netloc: str
    user_id: str
    code: str = field(repr=False)
    #: a path before ``/rest/`` (rare: a box portal published under a sub-path)
    prefix: str = ""

    @property
    def host(self) -> str:
        return urlsplit(f"{self.scheme}://{self.netloc}/").hostname or self.netloc

    @property
    def base_url(self) -> str:
        """The real base URL, secret included: only for sending requests. Never show it."""
        return f"{self.scheme}://{self.netloc}{self.prefix}/rest/{self.user_id}/{self.code}/"

    @property
    def masked(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.prefix}/rest/{self.user_id}/{MASK}/"

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: safe to show and to store."""
        return f"{self.scheme}://{self.netloc}"

    def hide(self, text: str) -> str:
        """``text`` with this webhook's code (and any webhook-shaped path) masked."""
        text = text.replace(self.base_url, self.masked)
        if self.code:
            text = text.replace(self.code, MASK)
        return mask_secrets(text)

    def __str__(self) -> str:
        return self.masked

    def __repr__(self) -> str:
        return f"Webhook({self.masked!r})"


def parse_webhook(text: str, *, source: str = "--webhook", lang: Lang = "en") -> Webhook:
    """A ``Webhook`` from what the user gave; ``InputError`` (exit 2) naming ``source`` if bad.

    Accepted: ``https://<portal>/rest/<uid>/<code>`` with or without the trailing slash, or with
    a method name after it (a URL copied from the Bitrix24 form usually ends in
    ``profile.json``: the method part is dropped). Plain ``http://`` only for loopback hosts,
    where the sandbox runs; a real portal answers plain HTTP with ``Https required`` anyway and
    the code would cross the network in clear text.
    """

    def bad(key: str, **values: object) -> InputError:
        return InputError(msg(f"push.webhook.{key}", lang, **values), key=source)

    raw = text.strip()
    if not raw:
        raise bad("empty")
    try:
        parts = urlsplit(raw)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise bad("shape") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not hostname or not parts.netloc:
        raise bad("shape")
    if parts.username or parts.password:
        raise bad("shape")
    if scheme == "http" and not is_loopback(hostname):
        raise bad("https", host=hostname)
    match = _PATH.fullmatch(parts.path)
    if match is None or not _CODE.fullmatch(match.group("code")):
        raise bad("shape")
    method = match.group("method")
    if method and not _METHOD.fullmatch(method):
        raise bad("shape")
    if parts.query or parts.fragment:
        raise bad("shape")
    return Webhook(
        scheme=scheme,
        netloc=parts.netloc.lower(),
        user_id=match.group("uid"),
        code=match.group("code"),
        prefix=match.group("prefix") or "",
    )

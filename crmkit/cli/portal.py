"""Opening a portal for a command: the webhook from the option or the environment, and a
client that reports its waiting and retrying on the terminal. ``credentials_of`` and
``open_target`` do the same for any target (``crmkit.push.target``: Bitrix24 or amoCRM)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmkit.cli.context import AppContext
from crmkit.cli.output import note
from crmkit.push.bitrix24.webhook import Webhook, parse_webhook

if TYPE_CHECKING:
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.target import Credentials, Options

ENV_WEBHOOK = "CRMKIT_WEBHOOK"


def webhook_of(app: AppContext, option: str | None) -> Webhook:
    """``--webhook`` if given, else ``CRMKIT_WEBHOOK`` (read from the context, so tests inject
    it); a bad one is a one-line error naming where it came from, never echoing it."""
    source = "--webhook" if option is not None else ENV_WEBHOOK
    text = option if option is not None else app.environ.get(ENV_WEBHOOK, "")
    return parse_webhook(text, source=source, lang=app.lang)


def open_client(app: AppContext, hook: Webhook) -> Bitrix24Client:
    from crmkit.push.bitrix24.client import Bitrix24Client  # requests: only when a command needs it

    return Bitrix24Client(
        hook,
        clock=app.clock,
        sleep=app.sleep,
        lang=app.lang,
        patience=app.portal_patience,
        notice_after=app.portal_notice_after,
        notify=note,
    )


def credentials_of(app: AppContext, options: Options) -> Credentials:
    """The target and its credentials from the options, else the environment (read from the
    context, so tests inject it); a bad one is one line naming where it came from."""
    from crmkit.push.target import credentials_of as target_credentials

    return target_credentials(options, app.environ, app.lang)


def open_target(app: AppContext, credentials: Credentials) -> Any:
    """A client of the credentials' target that reports its waiting and retrying here."""
    from crmkit.push.target import ClientSettings
    from crmkit.push.target import open_client as open_target_client

    settings = ClientSettings(
        clock=app.clock,
        sleep=app.sleep,
        lang=app.lang,
        patience=app.portal_patience,
        notice_after=app.portal_notice_after,
        notify=note,
    )
    return open_target_client(credentials, settings)

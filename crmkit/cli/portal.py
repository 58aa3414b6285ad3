"""Opening a portal for a command: the webhook from the option or the environment, and a
client that reports its waiting and retrying on the terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crmkit.cli.context import AppContext
from crmkit.cli.output import note
from crmkit.push.bitrix24.webhook import Webhook, parse_webhook

if TYPE_CHECKING:
    from crmkit.push.bitrix24.client import Bitrix24Client

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

"""What a target CRM is to crmkit: one seam that pull, push and audit go through.

A target has a name (``bitrix24`` | ``amocrm``), a way its credentials are given (Bitrix24: an
incoming webhook, ``--webhook`` or ``CRMKIT_WEBHOOK``; amoCRM: the account's address, ``--url``
or ``CRMKIT_AMO_URL``, and a long-lived token, ``--token`` or ``CRMKIT_AMO_TOKEN``), a client,
a reader that fills the shared ``PortalState``, and a capability table (what is pushed, what
stays manual, what cannot be read) kept here as data. The CLI asks this module; it never
imports a target's package itself, and no target's code is copied into another.

Which target a run talks to: ``--target`` if given, else inferred (``infer_target``): a
``/rest/<user>/<code>/`` webhook is Bitrix24; an ``*.amocrm.ru``/``*.amocrm.com``/``*.kommo.com``
address or a token is amoCRM; a loopback address without a webhook path (the sandboxes) needs
a token or ``--target``. Secrets are never shown: the webhook's code and the token are masked
in every message, and ``Credentials`` prints as the masked address.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from crmkit.errors import UsageError
from crmkit.i18n import Lang, msg
from crmkit.push.amocrm.account import AmoAccount, is_amo_host, parse_account
from crmkit.push.bitrix24.webhook import Webhook, is_loopback, parse_webhook

if TYPE_CHECKING:
    from crmkit.push.state import PortalState

TargetName = Literal["bitrix24", "amocrm"]
TARGETS: tuple[TargetName, ...] = ("bitrix24", "amocrm")

ENV_WEBHOOK = "CRMKIT_WEBHOOK"
ENV_AMO_URL = "CRMKIT_AMO_URL"
ENV_AMO_TOKEN = "CRMKIT_AMO_TOKEN"
_WEBHOOK_PATH = "/rest/"


@dataclass(frozen=True)
class Options:
    """What the command line gave (None: not given)."""

    target: str | None = None
    webhook: str | None = None
    url: str | None = None
    token: str | None = None


@dataclass(frozen=True)
class Credentials:
    """A target and how to reach it. ``str``/``repr`` show only the masked address."""

    target: TargetName
    secret: Webhook | AmoAccount = field(repr=False)

    @property
    def origin(self) -> str:
        """``scheme://host[:port]``: safe to show and to store in files."""
        return self.secret.origin

    @property
    def masked(self) -> str:
        return self.secret.masked

    def hide(self, text: str) -> str:
        return self.secret.hide(text)

    def __str__(self) -> str:
        return self.masked


@dataclass(frozen=True)
class ClientSettings:
    """How a client waits and reports: the run's clock, language and terminal."""

    clock: Callable[[], float]
    sleep: Callable[[float], None]
    lang: Lang = "en"
    patience: float = 60.0
    notice_after: float = 5.0
    notify: Callable[[str], None] | None = None


# -- which target ---------------------------------------------------------------------------------


def _webhook_shaped(text: str) -> bool:
    try:
        return _WEBHOOK_PATH in (urlsplit(text.strip()).path or "")
    except ValueError:
        return False


def _amo_shaped(text: str) -> bool:
    try:
        return is_amo_host(urlsplit(text.strip()).hostname or "")
    except ValueError:
        return False


def _loopback(text: str) -> bool:
    try:
        return is_loopback(urlsplit(text.strip()).hostname or "")
    except ValueError:
        return False


def infer_target(options: Options, environ: Mapping[str, str], lang: Lang) -> TargetName:
    """The target of a run (see the module docstring); a ``UsageError`` (exit 2) when the
    options contradict each other or cannot tell."""
    if options.target is not None:
        if options.target not in TARGETS:
            raise UsageError(msg("push.target.unknown", lang, target=options.target))
        return options.target
    try:
        given = _from(options.webhook, options.url, options.token, lang, where="options")
    except UsageError:
        # a sandbox's loopback --url with the token in CRMKIT_AMO_TOKEN: the token tells
        if options.url is None or not _loopback(options.url) or not environ.get(ENV_AMO_TOKEN):
            raise
        given = "amocrm"
    if given is not None:
        return given
    found = _from(
        environ.get(ENV_WEBHOOK) or None,
        environ.get(ENV_AMO_URL) or None,
        environ.get(ENV_AMO_TOKEN) or None,
        lang,
        where="environment",
    )
    # nothing given at all: Bitrix24, whose "no webhook" message says what to give
    return found if found is not None else "bitrix24"


def _from(
    webhook: str | None, url: str | None, token: str | None, lang: Lang, *, where: str
) -> TargetName | None:
    """The target one source (the options, or the environment) points to, if it does."""
    bitrix = webhook is not None or (url is not None and _webhook_shaped(url))
    amo = token is not None or (url is not None and not _webhook_shaped(url) and _amo_shaped(url))
    if bitrix and amo:
        raise UsageError(msg(f"push.target.both_{where}", lang))
    if bitrix:
        return "bitrix24"
    if amo:
        return "amocrm"
    if url is not None:
        key = "loopback" if _loopback(url) else "unknown_host"
        raise UsageError(msg(f"push.target.{key}", lang))
    return None


# -- credentials ----------------------------------------------------------------------------------


def credentials_of(options: Options, environ: Mapping[str, str], lang: Lang) -> Credentials:
    """The target and its credentials from the options, else the environment; a bad or
    missing one is a one-line error naming where it came from, never echoing a secret."""
    target = infer_target(options, environ, lang)
    if target == "bitrix24":
        if options.token is not None:
            raise UsageError(msg("push.target.not_for", lang, option="--token", target="Bitrix24"))
        text, source = _pick(options.webhook, "--webhook", environ, ENV_WEBHOOK)
        if options.webhook is None and options.url is not None:
            text, source = options.url, "--url"  # a webhook given as --url
        return Credentials("bitrix24", parse_webhook(text, source=source, lang=lang))
    if options.webhook is not None:
        raise UsageError(msg("push.target.not_for", lang, option="--webhook", target="amoCRM"))
    url, url_source = _pick(options.url, "--url", environ, ENV_AMO_URL)
    token, token_source = _pick(options.token, "--token", environ, ENV_AMO_TOKEN)
    account = parse_account(url, token, url_source=url_source, token_source=token_source, lang=lang)
    return Credentials("amocrm", account)


def _pick(option: str | None, name: str, environ: Mapping[str, str], env: str) -> tuple[str, str]:
    return (option, name) if option is not None else (environ.get(env, ""), env)


# -- clients and readers -----------------------------------------------------------------------


def open_client(credentials: Credentials, settings: ClientSettings) -> Any:
    """A client of the target (a context manager), waiting and reporting as ``settings`` say.
    ``requests`` is imported only here, when a command talks to a CRM."""
    common: dict[str, Any] = {
        "clock": settings.clock,
        "sleep": settings.sleep,
        "lang": settings.lang,
        "patience": settings.patience,
        "notice_after": settings.notice_after,
        "notify": settings.notify,
    }
    if isinstance(credentials.secret, AmoAccount):
        from crmkit.push.amocrm.client import AmoClient

        return AmoClient(credentials.secret, **common)
    from crmkit.push.bitrix24.client import Bitrix24Client

    return Bitrix24Client(credentials.secret, **common)


def read_state(target: TargetName, client: Any, *, cards: bool = False) -> PortalState:
    """The target's set-up through its own reader, as the one shared ``PortalState``."""
    if target == "amocrm":
        from crmkit.push.amocrm.reader import read_account

        return read_account(client)
    from crmkit.push.bitrix24.reader import read_portal

    return read_portal(client, cards=cards)


# -- what each target can do -------------------------------------------------------------------

Push = Literal["pushed", "manual"]
Read = Literal["read", "unreadable", "not_read"]


@dataclass(frozen=True)
class Capability:
    """One part of a blueprint on one target: whether push sets it (else it is a manual step
    with instructions) and whether pull/audit can read it back (``not_read``: the API has it,
    crmkit does not read it yet). ``note`` names the text in ``push.target.note``."""

    item: str
    push: Push
    read: Read
    note: str = ""


#: the parts of a blueprint, in the order the table lists them
ITEMS = (
    "lead_funnel",
    "deal_pipelines",
    "stages",
    "stage_colors",
    "won_lost",
    "failure_reasons",
    "custom_fields",
    "field_items",
    "stage_required",
    "field_groups",
    "smart_processes",
    "robots",
    "stage_descriptions",
    "roles",
)

CAPABILITIES: dict[TargetName, tuple[Capability, ...]] = {
    "bitrix24": (
        Capability("lead_funnel", "pushed", "read", "b24_lead_funnel"),
        Capability("deal_pipelines", "pushed", "read"),
        Capability("stages", "pushed", "read"),
        Capability("stage_colors", "pushed", "read"),
        Capability("won_lost", "pushed", "read", "b24_won_lost"),
        Capability("failure_reasons", "pushed", "read", "b24_failure_reasons"),
        Capability("custom_fields", "pushed", "read"),
        Capability("field_items", "pushed", "read"),
        Capability("stage_required", "manual", "unreadable", "b24_stage_required"),
        Capability("field_groups", "pushed", "read", "b24_field_groups"),
        Capability("smart_processes", "pushed", "read", "b24_smart_processes"),
        Capability("robots", "manual", "unreadable", "b24_robots"),
        Capability("stage_descriptions", "manual", "unreadable"),
        Capability("roles", "manual", "unreadable"),
    ),
    "amocrm": (
        Capability("lead_funnel", "pushed", "read", "amo_lead_funnel"),
        Capability("deal_pipelines", "pushed", "read", "amo_deal_pipelines"),
        Capability("stages", "pushed", "read", "amo_stages"),
        Capability("stage_colors", "pushed", "read", "amo_stage_colors"),
        Capability("won_lost", "pushed", "read", "amo_won_lost"),
        Capability("failure_reasons", "pushed", "read", "amo_failure_reasons"),
        Capability("custom_fields", "pushed", "read", "amo_custom_fields"),
        Capability("field_items", "pushed", "read"),
        Capability("stage_required", "pushed", "read", "amo_stage_required"),
        Capability("field_groups", "manual", "not_read", "amo_field_groups"),
        Capability("smart_processes", "manual", "unreadable", "amo_smart_processes"),
        Capability("robots", "manual", "unreadable", "amo_robots"),
        Capability("stage_descriptions", "manual", "not_read", "amo_stage_descriptions"),
        Capability("roles", "manual", "not_read", "amo_roles"),
    ),
}


def capability(target: TargetName, item: str) -> Capability:
    return next(c for c in CAPABILITIES[target] if c.item == item)


def capability_markdown(target: TargetName, lang: Lang) -> str:
    """The capability table of ``target`` as a Markdown table in ``lang`` (docs/targets.md
    carries the English one; a test keeps them equal)."""
    head = [msg(f"push.target.col.{c}", lang) for c in ("item", "push", "read", "note")]
    lines = ["| " + " | ".join(head) + " |", "| --- | --- | --- | --- |"]
    for cap in CAPABILITIES[target]:
        note = msg(f"push.target.note.{cap.note}", lang) if cap.note else ""
        cells = [
            msg(f"push.target.item.{cap.item}", lang),
            msg(f"push.target.push.{cap.push}", lang),
            msg(f"push.target.read.{cap.read}", lang),
            note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"

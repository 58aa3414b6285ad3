"""``crmkit pull``: read a portal's set-up into a blueprint file."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import app_of, command, format_option, lang_option, option
from crmkit.cli.output import emit, note
from crmkit.push.pull import pull_portal
from crmkit.push.webhook import parse_webhook

ENV_WEBHOOK = "CRMKIT_WEBHOOK"


@command("pull")
@option("--webhook", "webhook", default=None, metavar="URL")
@option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@lang_option()
@format_option(("toml", "json"), default="toml")
@click.pass_context
def pull(ctx: click.Context, webhook: str | None, out: Path | None, fmt: str) -> None:
    app = app_of(ctx)
    # the environment comes from the AppContext (not click's envvar) so tests inject it
    source = "--webhook" if webhook is not None else ENV_WEBHOOK
    hook = parse_webhook(
        webhook if webhook is not None else app.environ.get(ENV_WEBHOOK, ""),
        source=source,
        lang=app.lang,
    )
    from crmkit.push.client import Bitrix24Client  # requests: only when a command needs it

    with Bitrix24Client(hook, clock=app.clock, sleep=app.sleep, lang=app.lang) as client:
        result = pull_portal(client, source=hook.origin, lang=app.lang, now=app.clock())
    target = app.resolve(out) if out is not None else None
    emit(result.json() if fmt == "json" else result.toml(), target)
    if target is not None:
        bp = result.blueprint
        note(
            app.t(
                "push.pull.written",
                path=str(out),
                pipelines=len(bp.pipelines),
                stages=bp.stage_count(),
                fields=len(bp.fields),
                processes=len(bp.smart_processes),
                requests=result.requests,
            )
        )

"""``crmkit pull``: read a portal's set-up into a blueprint file."""

from __future__ import annotations

from pathlib import Path

import click

from crmkit.cli.base import app_of, command, format_option, lang_option, option
from crmkit.cli.output import client_file, done, emit, note, quoted
from crmkit.cli.portal import credentials_of, open_target
from crmkit.push.pull import state_to_blueprint
from crmkit.push.target import Options, read_state


@command("pull")
@option("--target", "crm", type=click.Choice(["bitrix24", "amocrm"]), default=None)
@option("--webhook", "webhook", default=None, metavar="URL")
@option("--url", "url", default=None, metavar="URL")
@option("--token", "token", default=None, metavar="TOKEN")
@option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--force", is_flag=True, default=False)
@lang_option()
@format_option(("toml", "json"), default="toml")
@click.pass_context
def pull(
    ctx: click.Context,
    crm: str | None,
    webhook: str | None,
    url: str | None,
    token: str | None,
    out: Path | None,
    force: bool,
    fmt: str,
) -> None:
    app = app_of(ctx)
    creds = credentials_of(app, Options(target=crm, webhook=webhook, url=url, token=token))
    # a pulled blueprint is the consultant's to edit: checked before the portal is read
    default = "portal.json" if fmt == "json" else "portal.toml"
    target = client_file(app, out, default, edited=True, force=force)
    with open_target(app, creds) as client:
        state = read_state(creds.target, client)
    result = state_to_blueprint(state, source=creds.origin, lang=app.lang, now=app.clock())
    emit(result.json() if fmt == "json" else result.toml(), target.path)
    if target.path is not None:
        bp = result.blueprint
        note(
            app.t(
                "push.pull.written",
                path=target.shown,
                pipelines=len(bp.pipelines),
                stages=bp.stage_count(),
                fields=len(bp.fields),
                processes=len(bp.smart_processes),
                requests=result.requests,
            )
        )
        if fmt == "toml":
            done(app, None, f"crmkit render {quoted(target.shown)}")

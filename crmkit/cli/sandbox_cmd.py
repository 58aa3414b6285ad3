"""``crmkit sandbox``: a local Bitrix24-compatible portal (``--target amocrm``: an
amoCRM-compatible account) for rehearsals, demos and tests."""

from __future__ import annotations

import re
import signal
import sqlite3
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click

from crmkit.cli.base import app_of, command, lang_option, option
from crmkit.cli.output import note
from crmkit.errors import UsageError

_CODE = re.compile(r"^[A-Za-z0-9_]{4,64}$")


@command("sandbox")
@option("--target", type=click.Choice(["bitrix24", "amocrm"]), default="bitrix24")
@option("--port", type=click.IntRange(0, 65535), default=0, show_default=True)
@option("--host", default="127.0.0.1", show_default=True)
@option("--state", "state", type=click.Path(file_okay=False, path_type=Path), default=None)
@option("--rate", type=click.FloatRange(min=0), default=2.0, show_default=True)
@option("--burst", type=click.IntRange(min=1), default=50, show_default=True)
@option("--seed", type=int, default=None)
@option("--code", default=None)
@option("--portal-lang", "portal_lang", type=click.Choice(["en", "ru"]), default="en")
@option("--no-admin", "no_admin", is_flag=True, default=False)
@option("--faults", "faults", default="", metavar="SPEC")
@option("--deals", "deals", type=click.IntRange(min=0), default=0)
@option("--leads", "leads", type=click.IntRange(min=0), default=0)
@option("--activities", "activities", type=click.IntRange(min=0), default=0)
@option("--token-file", "token_file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@lang_option()
@click.pass_context
def sandbox(
    ctx: click.Context,
    target: str,
    port: int,
    host: str,
    state: Path | None,
    rate: float,
    burst: int,
    seed: int | None,
    code: str | None,
    portal_lang: str,
    no_admin: bool,
    faults: str,
    deals: int,
    leads: int,
    activities: int,
    token_file: Path | None,
) -> None:
    app = app_of(ctx)
    from crmkit.sandbox import is_loopback, start_sandbox

    if target == "amocrm":
        from crmkit.cli.sandbox_amocrm import serve_amocrm

        serve_amocrm(ctx, host, port, state, rate, burst, seed, no_admin, faults, token_file)
        return
    if token_file is not None:
        raise UsageError(app.t("sandbox.amocrm.only_amocrm", option="--token-file"))

    if not is_loopback(host):
        raise UsageError(app.t("sandbox.not_loopback", host=host))
    if code is not None and not _CODE.match(code):
        raise UsageError(app.t("sandbox.bad_code"))
    from crmkit.sandbox.limiter import parse_faults
    from crmkit.sandbox.volume import Volume

    if (deals or leads or activities) and seed is None:
        raise UsageError(app.t("sandbox.volume_needs_seed"))

    try:
        scheduled = parse_faults(faults)
    except ValueError as bad:
        raise UsageError(app.t("sandbox.bad_faults", problem=str(bad))) from None
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Ctrl-C and SIGTERM end the serving loop; the finally block then stops the server cleanly
    handlers: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, on_signal)
    try:
        try:
            portal = start_sandbox(
                port=port,
                state_dir=app.resolve(state) if state is not None else None,
                rate=rate or None,
                burst=burst,
                seed=seed,
                code=code,
                host=host,
                clock=app.clock,
                admin=not no_admin,
                portal_lang=portal_lang,
                faults=scheduled,
                volume=Volume(deals, leads, activities),
            )
        except (OSError, sqlite3.Error) as exc:  # port taken, state folder unusable or corrupt
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(
                app.t("sandbox.cannot_start", host=host, port=port, reason=reason)
            ) from exc
        try:
            click.echo(f"READY {portal.webhook_url}")
            sys.stdout.flush()  # a parent process waits for this line
            if portal.port_changed:
                note(app.t("sandbox.port_changed", port=portal.port))
            note(app.t("sandbox.running"))
            while not stop.wait(0.2):
                pass
        finally:
            portal.stop()
        note(app.t("sandbox.stopped"))
    finally:
        for sig, previous in handlers.items():
            signal.signal(sig, previous)

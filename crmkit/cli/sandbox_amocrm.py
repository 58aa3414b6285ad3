"""``crmkit sandbox --target amocrm``: a local amoCRM-compatible account.

It prints one line, ``READY http://127.0.0.1:PORT token-file=PATH`` (or
``token-env=CRMKIT_AMO_TOKEN``), and serves until Ctrl-C. The long-lived token is never printed:
it is ``CRMKIT_AMO_TOKEN`` when that is set (so crmkit and the sandbox agree without anyone
typing it), else the token in ``--token-file`` (made, readable by the owner only, if the file
does not exist), else ``DIR/token`` with ``--state DIR``, else a new file in the temp folder.
"""

from __future__ import annotations

import os
import secrets
import signal
import sqlite3
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import click
from click.core import ParameterSource

from crmkit.cli.base import app_of
from crmkit.cli.output import note
from crmkit.errors import UsageError

TOKEN_ENV = "CRMKIT_AMO_TOKEN"
#: amoCRM's documented limit: 7 requests a second (sdk#563 quotes the recommendations page)
AMO_RATE = 7.0
AMO_BURST = 7
#: options of the Bitrix24 sandbox an amoCRM account has no use for
_BITRIX_ONLY = (
    ("code", "--code"),
    ("portal_lang", "--portal-lang"),
    ("deals", "--deals"),
    ("leads", "--leads"),
    ("activities", "--activities"),
)


def _read_or_make(path: Path) -> str:
    """The token in ``path``; a new one written there (mode 0600) if the file is missing."""
    if path.exists():
        token = path.read_text(encoding="utf-8").strip()
        if token:
            return token
    token = secrets.token_urlsafe(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


def resolve_token(environ: Any, state: Path | None, token_file: Path | None) -> tuple[str, str]:
    """The token and where a client finds it (``token-env=…`` or ``token-file=…``)."""
    from_env = str(environ.get(TOKEN_ENV) or "").strip()
    if from_env:
        return from_env, f"token-env={TOKEN_ENV}"
    if token_file is None:
        if state is not None:
            token_file = state / "token"
        else:
            descriptor, name = tempfile.mkstemp(prefix="crmkit-amocrm-", suffix=".token")
            os.close(descriptor)  # made empty and owner-only: the token is written into it
            token_file = Path(name)
    return _read_or_make(token_file), f"token-file={token_file}"


def serve_amocrm(
    ctx: click.Context,
    host: str,
    port: int,
    state: Path | None,
    rate: float,
    burst: int,
    seed: int | None,
    no_admin: bool,
    faults: str,
    token_file: Path | None,
) -> None:
    app = app_of(ctx)
    from crmkit.sandbox import is_loopback
    from crmkit.sandbox.amocrm import start_amocrm_sandbox
    from crmkit.sandbox.limiter import parse_faults

    for name, flag in _BITRIX_ONLY:
        if ctx.get_parameter_source(name) is not ParameterSource.DEFAULT:
            raise UsageError(app.t("sandbox.amocrm.only_bitrix24", option=flag))
    if not is_loopback(host):
        raise UsageError(app.t("sandbox.not_loopback", host=host))
    if ctx.get_parameter_source("rate") is ParameterSource.DEFAULT:
        rate = AMO_RATE
    if ctx.get_parameter_source("burst") is ParameterSource.DEFAULT:
        burst = AMO_BURST
    try:
        scheduled = parse_faults(faults)
    except ValueError as bad:
        raise UsageError(app.t("sandbox.bad_faults", problem=str(bad))) from None
    state_dir = app.resolve(state) if state is not None else None
    where_file = app.resolve(token_file) if token_file is not None else None
    try:
        token, where = resolve_token(app.environ, state_dir, where_file)
    except OSError as exc:
        raise UsageError(
            app.t("sandbox.amocrm.token_file", path=where_file or state_dir, reason=exc.strerror)
        ) from exc
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    handlers: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            handlers[sig] = signal.signal(sig, on_signal)
    try:
        try:
            account = start_amocrm_sandbox(
                port=port,
                seed=seed,
                rate=rate or None,
                burst=burst,
                token=token,
                host=host,
                state_dir=state_dir,
                clock=app.clock,
                faults=scheduled,
                admin=not no_admin,
            )
        except (OSError, sqlite3.Error) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(
                app.t("sandbox.cannot_start", host=host, port=port, reason=reason)
            ) from exc
        try:
            click.echo(f"READY {account.base_url} {where}")
            sys.stdout.flush()  # a parent process waits for this line
            note(app.t("sandbox.amocrm.running"))
            while not stop.wait(0.2):
                pass
        finally:
            account.stop()
        note(app.t("sandbox.stopped"))
    finally:
        for sig, previous in handlers.items():
            signal.signal(sig, previous)

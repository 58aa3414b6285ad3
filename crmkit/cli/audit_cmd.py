"""``crmkit audit``: a live portal's maturity measured from its data."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from crmkit.cli.base import app_of, command, format_option, lang_option, option
from crmkit.cli.context import AppContext
from crmkit.cli.output import client_file, document_meta, done, emit, out_path
from crmkit.cli.portal import credentials_of, open_target
from crmkit.push.target import Options


@command("audit")
@option("--target", "crm", type=click.Choice(["bitrix24", "amocrm"]), default=None)
@option("--webhook", "webhook", default=None, metavar="URL")
@option("--url", "url", default=None, metavar="URL")
@option("--token", "token", default=None, metavar="TOKEN")
@option("--answers", "answers", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--questionnaire", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--blueprint", "blueprint", default=None, metavar="FILE|ID")
@option("--thresholds", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--stale-days", "stale_days", type=click.IntRange(min=1), default=7, show_default=True)
@option("--history-days", "history_days", type=click.IntRange(min=1), default=90, show_default=True)
@option("--no-history", "no_history", is_flag=True, default=False)
@option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@lang_option()
@format_option(("text", "json", "md", "html"))
@click.pass_context
def audit(
    ctx: click.Context,
    crm: str | None,
    webhook: str | None,
    url: str | None,
    token: str | None,
    answers: Path | None,
    questionnaire: Path | None,
    blueprint: str | None,
    thresholds: Path | None,
    stale_days: int,
    history_days: int,
    no_history: bool,
    out: Path | None,
    fmt: str,
) -> None:
    from crmkit.assess import audit as core
    from crmkit.assess.audit_report import to_html, to_markdown, to_text
    from crmkit.assess.audit_run import read_thresholds, run_audit
    from crmkit.files import read_toml

    app = app_of(ctx)
    # Bitrix24 or amoCRM, inferred from the credentials as pull does (crmkit.push.target)
    creds = credentials_of(app, Options(target=crm, webhook=webhook, url=url, token=token))
    # a document for the client goes into the client folder's reports/, where ``crmkit render .``
    # takes it into the combined report; text and JSON are for the terminal
    document = fmt in ("md", "html")
    shown = str(out) if out is not None else f"reports/audit.{fmt}" if document else None
    target = client_file(app, out, f"reports/audit.{fmt}").path if document else out_path(app, out)
    rules = core.shipped_rules()
    if thresholds is not None:
        rules = read_thresholds(read_toml(app.resolve(thresholds)), rules)
    assessment = _assessment(app, answers, questionnaire)
    bp = None
    if blueprint is not None:
        from crmkit.blueprints.library import Library

        bp = Library.default(app.library_dirs).load_path_or_id(
            str(app.resolve(blueprint)) if app.resolve(blueprint).is_file() else blueprint
        )
    with open_target(app, creds) as client, _Progress(app) as progress:
        result = run_audit(
            client,
            portal=creds.origin,
            target=creds.target,
            lang=app.lang,
            now=app.clock(),
            stale_days=stale_days,
            history_days=history_days,
            history=not no_history,
            rules=rules,
            blueprint=bp,
            answers=assessment,
            progress=progress,
        )
    if fmt == "json":
        from crmkit.cli.output import to_json

        emit(to_json(core.to_data(result)), target)
    elif document:
        meta = document_meta(app, app.cwd)
        emit((to_markdown if fmt == "md" else to_html)(result, meta), target)
    else:
        from crmkit.terminal import fit

        emit(fit(to_text(result)), target)
    if target is not None:
        done(app, shown, "crmkit render ." if document else None)


def _assessment(app: AppContext, answers: Path | None, questionnaire: Path | None) -> Any:
    if answers is None:
        return None
    from datetime import date

    from crmkit import __version__
    from crmkit.assess.service import AssessRequest, run_assessment

    request = AssessRequest(
        lang=app.lang,
        date=date.fromtimestamp(app.clock()).isoformat(),
        crmkit_version=__version__,
        cwd=app.cwd,
        answers_path=app.resolve(answers),
        questionnaire_path=app.resolve(questionnaire) if questionnaire else None,
        interactive=False,
    )
    return run_assessment(request).assessment


class _Progress:
    """A progress bar while the portal is read, on a terminal only."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.bar: Any = None
        self.seen = 0

    def __enter__(self) -> Any:
        return self.update if sys.stderr.isatty() else None

    def update(self, label: str, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(
                length=max(total, 1), label=self.app.t("audit.cli.reading"), file=sys.stderr
            )
            self.bar.__enter__()
        if total > self.bar.length:
            self.bar.length = total
        self.bar.update(done - self.seen)
        self.seen = done

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)

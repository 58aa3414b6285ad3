"""``crmkit push FILE``: plan a blueprint against a portal; ``--apply`` makes it so.

The CRM is Bitrix24 or amoCRM (``--target``, or told by the credentials as ``pull`` tells it:
``crmkit.push.target``); the same apply loop runs with the target's driver."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from crmkit.cli.base import app_of, command, format_option, lang_option, option
from crmkit.cli.context import AppContext
from crmkit.cli.output import confirm as confirm_yes
from crmkit.cli.output import done, emit, note, quoted
from crmkit.cli.portal import credentials_of, open_target
from crmkit.errors import CrmRefused, PlanNotEmpty, UsageError, ValidationFailed


@command("push")
@click.argument("file", metavar="[FILE|ID|PLAN.json]", default="blueprint.toml")
@option("--target", "crm", type=click.Choice(["bitrix24", "amocrm"]), default=None)
@option("--webhook", "webhook", default=None, metavar="URL")
@option("--url", "url", default=None, metavar="URL")
@option("--token", "token", default=None, metavar="TOKEN")
@option("--apply", "apply", is_flag=True, default=False)
@option("--yes", "yes", is_flag=True, default=False)
@option("--check", "check", is_flag=True, default=False)
@option("--prune", "prune", is_flag=True, default=False)
@option("--plan-out", "plan_out", type=click.Path(dir_okay=False, path_type=Path), default=None)
@option("--state", "state", type=click.Path(file_okay=False, path_type=Path), default=None)
@option("--verbose", "verbose", is_flag=True, default=False)
@option("--names", "names", type=click.Choice(["ru", "en", "uk"]), default=None)
@option("--library", "library_dirs", multiple=True, type=click.Path(file_okay=False))
@lang_option()
@format_option(("text", "json"))
@click.pass_context
def push(
    ctx: click.Context,
    file: str,
    crm: str | None,
    webhook: str | None,
    url: str | None,
    token: str | None,
    apply: bool,
    yes: bool,
    check: bool,
    prune: bool,
    plan_out: Path | None,
    state: Path | None,
    verbose: bool,
    names: str | None,
    library_dirs: tuple[str, ...],
    fmt: str,
) -> None:
    app = app_of(ctx)
    if check and apply:
        raise UsageError(app.t("push.cli.check_or_apply"))
    if apply and not yes and not app.interactive:
        raise UsageError(app.t("push.file.needs_yes"))
    from crmkit.push.target import Options

    hook = credentials_of(app, Options(target=crm, webhook=webhook, url=url, token=token))
    target = _load(app, file, library_dirs)
    lang = target.lang
    from crmkit.push.folder import PushFolder
    from crmkit.push.report import outcome_data, outcome_text, plan_text, preamble, to_json
    from crmkit.push.saved import SavedPlan
    from crmkit.push.service import push as run_push

    if target.portal and target.portal != hook.origin:
        raise UsageError(app.t("push.file.other_portal", planned=target.portal, portal=hook.origin))
    base = app.resolve(state) if state is not None else target.folder
    folder = PushFolder(base, hook.origin, app.clock())
    # names go to the portal in one language: as asked, as last time, or the run's
    last = folder.load_record().lang
    if names is not None:
        lang = names
    elif last in ("ru", "en", "uk") and target.fingerprint is None:
        lang = last
    shown = {"plan": False}

    def confirm(plan: Any) -> bool:
        from crmkit.terminal import fit

        outcome_view = fit(plan_text(plan, verbose=verbose))
        click.echo(f"{app.t('push.report.portal', portal=hook.origin)}\n{outcome_view}", err=True)
        shown["plan"] = True
        summary = plan.summary()
        return confirm_yes(app.t("push.report.confirm", portal=hook.origin, **summary), app.lang)

    with open_target(app, hook) as client, _progress(app) as progress:
        outcome = run_push(
            client,
            target.blueprint,
            folder,
            portal=hook.origin,
            lang=lang,
            now=datetime.fromtimestamp(app.clock(), UTC).isoformat(timespec="seconds"),
            prune=prune or target.prune,
            apply=apply,
            confirm=None if yes or not apply else confirm,
            expected=target.fingerprint,
            progress=progress,
            driver=_driver(hook.target),
        )
    if plan_out is not None and not outcome.applied:
        from crmkit.blueprints.dump import dump_blueprint
        from crmkit.files import write_text
        from crmkit.push.report import plan_data

        saved = SavedPlan(
            portal=hook.origin,
            fingerprint=outcome.fingerprint,
            lang=lang,
            prune=prune,
            blueprint_toml=dump_blueprint(target.blueprint),
            plan=plan_data(outcome.plan),
        )
        write_text(app.resolve(plan_out), saved.to_json())
        note(app.t("push.report.written", path=str(plan_out)))
    if fmt == "json":
        emit(to_json(outcome_data(outcome)))
    elif apply and not outcome.applied and shown["plan"]:
        note(app.t("push.report.declined"))
    else:
        from crmkit.terminal import fit

        text = fit(outcome_text(outcome, with_plan=not shown["plan"], verbose=verbose))
        if shown["plan"]:
            note(text.rstrip("\n"))
        else:
            emit(text)
        if not apply and outcome.plan.changes == 0 and not outcome.plan.conflicts:
            note(app.t("push.report.nothing"))
        _ = preamble
    if fmt == "text" and not check:
        _save_document(app, target, outcome, hook.target)
    if check and outcome.plan.changes:
        raise PlanNotEmpty(app.t("push.cli.not_empty", count=outcome.plan.changes))
    if fmt == "text" and not outcome.partial and not check:
        if not apply and outcome.plan.changes:
            done(app, None, f"crmkit push {quoted(file)} --apply")
        elif outcome.applied or not outcome.plan.changes:
            done(app, None, "crmkit audit")
    if outcome.partial:
        final = outcome.final or outcome.plan
        raise CrmRefused(
            app.t(
                "push.cli.partial",
                conflicts=len(final.conflicts),
                failures=len(outcome.failures),
            )
        )


def _driver(crm: str) -> Any:
    """The target's part of the apply loop (None: the loop's default, Bitrix24's)."""
    if crm != "amocrm":
        return None
    from crmkit.push.amocrm.apply import amocrm_driver

    return amocrm_driver()


def _save_document(app: AppContext, target: Any, outcome: Any, crm: str) -> None:
    """The plan (or what was applied) as a client document, reports/push-plan.html beside the
    blueprint, where ``crmkit render .`` takes it into the combined report."""
    from crmkit.cli.output import document_meta
    from crmkit.files import write_text
    from crmkit.push.document import PushView, push_document

    view = PushView(outcome.plan, target.blueprint, outcome.applied, outcome.verified, crm)
    page = target.folder / "reports" / "push-plan.html"
    meta = document_meta(app, target.folder)
    write_text(page, push_document(view, app.lang, meta).render())
    shown = page.relative_to(app.cwd) if page.is_relative_to(app.cwd) else page
    note(app.t("chain.wrote", path=str(shown)))


class _Target:
    def __init__(
        self,
        blueprint: Any,
        folder: Path,
        lang: Any,
        *,
        portal: str = "",
        fingerprint: str | None = None,
        prune: bool = False,
    ) -> None:
        self.blueprint = blueprint
        self.folder = folder
        self.lang = lang
        self.portal = portal
        self.fingerprint = fingerprint
        self.prune = prune


def _load(app: AppContext, file: str, library_dirs: tuple[str, ...]) -> _Target:
    """A blueprint file, a library id, or a plan saved with --plan-out."""
    from crmkit.blueprints.library import Library
    from crmkit.blueprints.lint import lint, summary
    from crmkit.files import is_file, parse_toml, read_text
    from crmkit.push.saved import looks_like_plan, parse_saved

    library = Library.default(tuple(app.resolve(p) for p in library_dirs) + app.library_dirs)
    path = app.resolve(file)
    if is_file(path) and path.suffix.lower() == ".json":
        text = read_text(path)
        if looks_like_plan(text):
            from crmkit.blueprints.loader import load_document

            saved = parse_saved(text, str(path), app.lang)
            doc = parse_toml(saved.blueprint_toml, f"{path} (blueprint)")
            bp = load_document(doc, None, library.resolver())
            return _Target(
                bp,
                path.parent,
                saved.lang,
                portal=saved.portal,
                fingerprint=saved.fingerprint,
                prune=saved.prune,
            )
    bp = library.load_path_or_id(str(path) if is_file(path) else file)
    findings = lint(bp)
    errors = summary(findings)["error"]
    if errors:
        raise ValidationFailed(app.t("push.cli.lint_errors", errors=errors, file=file))
    folder = path.parent if is_file(path) else app.cwd
    return _Target(bp, folder, app.lang)


class _progress:
    """A progress bar on a terminal while calls are written; nothing otherwise."""

    def __init__(self, app: AppContext) -> None:
        self.app = app
        self.bar: Any = None
        self.done = 0
        self.total = 0
        self.enabled = sys.stderr.isatty()

    def __enter__(self) -> Any:
        return self.update if self.enabled else None

    def update(self, done: int, total: int) -> None:
        if self.bar is None or total != self.total or done < self.done:
            self._close()
            self.bar = click.progressbar(
                length=total, label=self.app.t("push.report.progress"), file=sys.stderr
            )
            self.bar.__enter__()
            self.total, self.done = total, 0
        self.bar.update(done - self.done)
        self.done = done

    def _close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __exit__(self, *exc: object) -> None:
        self._close()

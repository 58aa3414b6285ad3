"""``crmkit assess`` and ``crmkit assess questions``: thin click commands over ``crmkit.assess``."""

from __future__ import annotations

import datetime as _dt
from pathlib import Path

import click

from crmkit import __version__
from crmkit.cli.base import (
    LazyGroup,
    LocalizedCommand,
    app_of,
    format_option,
    lang_option,
    option,
    save_option,
)
from crmkit.cli.output import (
    as_given,
    client_file,
    document_meta,
    done,
    emit,
    note,
    out_path,
    quoted,
    to_json,
)
from crmkit.terminal import fit

_FILE = click.Path(path_type=Path, dir_okay=False)


def _today(clock_value: float) -> str:
    return _dt.datetime.fromtimestamp(clock_value, tz=_dt.UTC).date().isoformat()


@click.group("assess", cls=LazyGroup, invoke_without_command=True)
@option("--answers", "answers_path", type=_FILE, default=None)
@option("--questionnaire", "questionnaire_path", type=_FILE, default=None)
@save_option("assessment.toml")
@option("--force", is_flag=True, default=False)
@format_option(("text", "json", "md", "html"))
@option("--out", type=_FILE, default=None)
@lang_option()
@click.pass_context
def assess(
    ctx: click.Context,
    answers_path: Path | None,
    questionnaire_path: Path | None,
    save_path: Path | None,
    fmt: str,
    out: Path | None,
    force: bool,
) -> None:
    if ctx.invoked_subcommand is not None:
        return
    from crmkit.assess import report
    from crmkit.assess.service import AssessRequest, run_assessment

    app = app_of(ctx)
    if save_path is not None and app.resolve(save_path) != (
        app.resolve(answers_path) if answers_path else None
    ):
        # the answers are the consultant's: an existing file is replaced only when asked to
        client_file(app, save_path, "assessment.toml", edited=True, force=force)
    request = AssessRequest(
        lang=app.lang,
        date=_today(app.clock()),
        crmkit_version=__version__,
        cwd=app.cwd,
        answers_path=app.resolve(answers_path) if answers_path else None,
        questionnaire_path=app.resolve(questionnaire_path) if questionnaire_path else None,
        save_path=app.resolve(save_path) if save_path else None,
        interactive=app.interactive,
        lang_explicit=app.lang_explicit,
    )

    def ask(questionnaire, answers, lang):  # type: ignore[no-untyped-def]
        from crmkit.assess.prompt import interview

        return interview(questionnaire, answers, lang)

    outcome = run_assessment(request, ask)
    app.lang = outcome.lang  # a resumed interview speaks its answers file's language
    args = [str(p) for p in (answers_path, save_path, questionnaire_path) if p is not None]
    for line in outcome.notes:
        note(as_given(line, args, app.cwd))
    q, result, lang = outcome.questionnaire, outcome.assessment, app.lang
    shown_file = str(answers_path or save_path or outcome.answers_file or "") or None
    own = str(questionnaire_path) if questionnaire_path else None
    if fmt == "json":
        text = to_json(report.to_data(q, result, lang))
    elif fmt in ("md", "html"):
        meta = document_meta(app, app.cwd)
        render = report.to_markdown if fmt == "md" else report.to_html
        text = render(q, result, lang, meta=meta)
    else:
        text = fit(report.to_text(q, result, lang, answers_file=shown_file, questionnaire_file=own))
    emit(text, out_path(app, out))
    if out is not None:
        done(app, str(out))
    answers_file = outcome.saved or outcome.answers_file
    if result.readiness.applies:  # no CRM yet: choosing one is the next step
        if outcome.asked:
            note(app.t("assess.next_select"))
        done(app, None, "crmkit select --save")
    elif answers_file is not None:
        shown = as_given(str(answers_file), args, app.cwd)
        command = f"crmkit blueprint new --from-assessment {quoted(shown)}"
        if questionnaire_path is not None:
            command += f" --questionnaire {quoted(str(questionnaire_path))}"
        done(app, None, command)


@assess.command("questions", cls=LocalizedCommand)
@option("--questionnaire", "questionnaire_path", type=_FILE, default=None)
@format_option(("text", "json"))
@lang_option()
@click.pass_context
def questions(ctx: click.Context, questionnaire_path: Path | None, fmt: str) -> None:
    from crmkit.assess import report
    from crmkit.assess.answers import load_questionnaire

    app = app_of(ctx)
    questionnaire = load_questionnaire(
        app.resolve(questionnaire_path) if questionnaire_path else None
    )
    if fmt == "json":
        emit(to_json(report.questions_data(questionnaire, app.lang)))
    else:
        emit(fit(report.questions_text(questionnaire, app.lang)))

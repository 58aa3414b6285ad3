"""``crmkit demo``: the whole path on a shipped sample client, offline, in seconds.

1. the maturity assessment from the sample answers (level 3);
2. the five-step CRM selection from the sample matrix;
3. a blueprint tailored for the client's next level, linted;
4. client documentation: assessment, selection (HTML and XLSX) and blueprint reports;
5. a local sandbox portal seeded with a synthetic company, pulled back into a blueprint and
   documented — what a consultant does with a client's live portal.

Every file goes into one folder; ``progress`` is told of each step (the CLI prints it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from crmkit import __version__
from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint, summary
from crmkit.files import write_bytes, write_text
from crmkit.i18n import Lang, msg
from crmkit.resources import shipped_folder

SAMPLE_ANSWERS = "assessment-level3.toml"
SAMPLE_SELECTION = "selection.toml"
SANDBOX_SEED = 7


@dataclass(frozen=True)
class DemoStep:
    key: str
    summary: str
    files: tuple[Path, ...]
    seconds: float


@dataclass
class DemoReport:
    folder: Path
    steps: list[DemoStep] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        return [f for step in self.steps for f in step.files]


Progress = Callable[[DemoStep], None]


def run_demo(
    folder: Path,
    lang: Lang,
    *,
    library: Library | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
) -> DemoReport:
    library = library or Library.default()
    examples = shipped_folder("examples")
    reports = folder / "reports"
    report = DemoReport(folder)

    def step(key: str, files: list[Path], started: float, **values: object) -> None:
        done = DemoStep(
            key,
            msg(f"demo.step.{key}", lang, **values),
            tuple(files),
            time.perf_counter() - started,
        )
        report.steps.append(done)
        if progress is not None:
            progress(done)

    # 1. assessment ------------------------------------------------------------------------
    started = time.perf_counter()
    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.model import relevant
    from crmkit.assess.report import to_html as assessment_html
    from crmkit.assess.scoring import score

    questionnaire = load_questionnaire(None)
    answers_path = folder / "assessment.toml"
    write_text(answers_path, (examples / SAMPLE_ANSWERS).read_text(encoding="utf-8"))
    answers = read_answers(answers_path, questionnaire).answers
    assessment = score(questionnaire, relevant(questionnaire, dict(answers)))
    assessment_page = reports / "assessment.html"
    write_text(
        assessment_page,
        assessment_html(questionnaire, assessment, lang, answers_file=answers_path.name),
    )
    step("assess", [answers_path, assessment_page], started, level=assessment.level)

    # 2. selection -------------------------------------------------------------------------
    started = time.perf_counter()
    from crmkit.select import report as selection_report
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library as problem_library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import load_selection
    from crmkit.select.xlsx import render_xlsx

    selection_path = folder / "selection.toml"
    write_text(selection_path, (examples / SAMPLE_SELECTION).read_text(encoding="utf-8"))
    catalog = load_catalog(None)
    problems = problem_library()
    selection = load_selection(selection_path, catalog, problems)
    chosen = run_selection(selection, catalog, problems)
    selection_page = reports / "selection.html"
    workbook = reports / "selection.xlsx"
    write_text(selection_page, selection_report.render_html(chosen, lang))
    write_bytes(workbook, render_xlsx(chosen, lang))
    ranking = chosen.step4.ranking if chosen.step4 is not None else []
    winner = chosen.name(ranking[0].system, lang) if ranking else "—"
    step("select", [selection_path, selection_page, workbook], started, winner=winner)

    # 3. tailored blueprint ----------------------------------------------------------------
    started = time.perf_counter()
    from crmkit.assess.tailor import tailor_from_assessment
    from crmkit.blueprints.dump import dump_blueprint

    blueprint = tailor_from_assessment(assessment, library, lang)
    blueprint_path = folder / "blueprint.toml"
    header = [msg("demo.blueprint_header", lang, version=__version__, date=_today(clock))]
    write_text(blueprint_path, dump_blueprint(blueprint, comment=header))
    counts = summary(lint(blueprint, lang=lang))
    step(
        "blueprint",
        [blueprint_path],
        started,
        pipelines=len(blueprint.pipelines),
        stages=blueprint.stage_count(),
        errors=counts["error"],
        warnings=counts["warning"],
    )

    # 4. documentation ---------------------------------------------------------------------
    started = time.perf_counter()
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown

    blueprint_page = reports / "blueprint.html"
    blueprint_md = reports / "blueprint.md"
    write_text(blueprint_page, blueprint_html(blueprint, lang))
    write_text(blueprint_md, blueprint_markdown(blueprint, lang))
    step("render", [blueprint_page, blueprint_md], started)

    # 5. a live portal: the sandbox, pulled back -------------------------------------------
    started = time.perf_counter()
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook
    from crmkit.push.pull import pull_portal
    from crmkit.sandbox import start_sandbox

    with start_sandbox(port=0, seed=SANDBOX_SEED) as sandbox:
        hook = parse_webhook(sandbox.webhook_url, source="sandbox", lang=lang)
        with Bitrix24Client(hook, lang=lang) as client:
            pulled = pull_portal(client, source=hook.origin, lang=lang, now=clock())
    portal_path = folder / "portal.toml"
    portal_page = reports / "portal.html"
    write_text(portal_path, pulled.toml())
    write_text(portal_page, blueprint_html(pulled.blueprint, lang))
    step(
        "pull",
        [portal_path, portal_page],
        started,
        pipelines=len(pulled.blueprint.pipelines),
        fields=len(pulled.blueprint.fields),
        requests=pulled.requests,
    )
    return report


def _today(clock: Callable[[], float]) -> str:
    return date.fromtimestamp(clock()).isoformat()

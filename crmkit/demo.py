"""``crmkit demo``: the whole path on a shipped sample client, offline, in seconds.

1. the maturity assessment from the sample answers (level 3);
2. the five-step CRM selection from the sample matrix (HTML and XLSX);
3. a blueprint tailored for the client's next level, linted and documented;
4. a local sandbox portal, started here and seeded with a synthetic company;
5. the audit of that portal: what the team does, from its data;
6. the push of the blueprint into the portal: plan, apply, and a second plan that is empty;
7. the pull of the portal as the push left it;
8. the combined report of the client folder, as ``crmkit render .`` makes it.

Every file goes into one folder, which also gets the ``client.toml`` documents read for their
cover. The sandbox never outlives the run: it is stopped however the run ends, and a Ctrl-C
while it starts or stops waits until it is stopped. ``progress`` is told of each step (the CLI
prints it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from crmkit import __version__
from crmkit.blueprints.library import Library
from crmkit.errors import CrmRefused, UsageError
from crmkit.export.frame import DocumentMeta, client_meta
from crmkit.files import write_bytes, write_text
from crmkit.i18n import Lang, msg
from crmkit.numbers import number
from crmkit.resources import shipped_folder

if TYPE_CHECKING:
    from crmkit.assess.scoring import Assessment
    from crmkit.blueprints.model import Blueprint
    from crmkit.push.bitrix24.client import Bitrix24Client

SAMPLE_ANSWERS = "assessment-level3.toml"
SAMPLE_SELECTION = "selection.toml"
#: the sample client, as the sample selection's title names it
SAMPLE_CLIENT = "ООО «Окна Севера»"
SANDBOX_SEED = 7
#: deals, leads and activities of the synthetic company: enough for every audit finding to have
#: its numbers, few enough that the whole demo stays within seconds on two cores
SANDBOX_COMPANY = (300, 60, 900)
#: what a run wrote, with each file's digest: a later run replaces only these (and only while
#: nobody has changed them)
MANIFEST = ".crmkit-demo.json"


@dataclass(frozen=True)
class DemoStep:
    key: str
    summary: str
    files: tuple[Path, ...]
    seconds: float
    #: lines under the summary (the audit's costliest findings)
    details: tuple[str, ...] = ()


@dataclass
class DemoReport:
    folder: Path
    steps: list[DemoStep] = field(default_factory=list)
    #: the combined report of the folder
    combined: Path | None = None

    @property
    def files(self) -> list[Path]:
        return [f for step in self.steps for f in step.files]

    @property
    def seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


Progress = Callable[[DemoStep], None]


# -- the folder -----------------------------------------------------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _written_before(folder: Path) -> dict[str, str]:
    """Relative path → digest of what an earlier run wrote; {} without a readable manifest."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    files = data.get("files") if isinstance(data, dict) else None
    return {k: v for k, v in files.items() if isinstance(v, str)} if isinstance(files, dict) else {}


def prepare_folder(folder: Path, lang: Lang, *, force: bool = False, shown: str = "") -> None:
    """Make ``folder`` ready for a run: what an earlier run wrote (unchanged since) is removed,
    so no record of an old sandbox is taken for the new one; any other file — the person's own,
    or a demo file they edited — stops the run unless ``force`` (then it stays as it is, unless
    the demo writes a file of the same name). ``shown`` is the folder as the person typed it."""
    if not folder.exists():
        return
    ours = _written_before(folder)
    theirs: list[str] = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        if name == MANIFEST:
            continue
        if ours.get(name) != _digest(path):
            theirs.append(name)
    if theirs and not force:
        raise UsageError(
            msg(
                "demo.folder_not_ours",
                lang,
                folder=shown or str(folder),
                file=theirs[0],
                count=len(theirs),
            )
        )
    for name, digest in ours.items():
        path = folder / name
        if name not in theirs and path.is_file() and _digest(path) == digest:
            path.unlink()


class _Run:
    """One run: where files go, what was written, and the steps told to ``progress``."""

    def __init__(self, folder: Path, lang: Lang, progress: Progress | None) -> None:
        self.folder = folder
        self.lang = lang
        self.progress = progress
        self.report = DemoReport(folder)
        self.written: dict[str, str] = {}
        #: the cover of every document (the folder's client.toml, once written)
        self.meta = DocumentMeta()

    def text(self, name: str, content: str) -> Path:
        return self.bytes(name, content.encode("utf-8"))

    def bytes(self, name: str, content: bytes) -> Path:
        path = self.folder / name
        write_bytes(path, content)
        self.noted(path)
        return path

    def noted(self, path: Path) -> None:
        """``path`` is the demo's (also files the push service writes itself); the manifest is
        kept current, so an interrupted run's folder is still known as the demo's."""
        self.written[path.relative_to(self.folder).as_posix()] = _digest(path)
        manifest = {"about": msg("demo.manifest_about", self.lang), "files": self.written}
        write_text(self.folder / MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))

    def step(
        self,
        key: str,
        started: float,
        files: list[Path],
        details: tuple[str, ...] = (),
        **values: object,
    ) -> None:
        done = DemoStep(
            key,
            msg(f"demo.step.{key}", self.lang, **values),
            tuple(files),
            time.perf_counter() - started,
            details,
        )
        self.report.steps.append(done)
        if self.progress is not None:
            self.progress(done)


# -- the run --------------------------------------------------------------------------------------


def run_demo(
    folder: Path,
    lang: Lang,
    *,
    library: Library | None = None,
    progress: Progress | None = None,
    clock: Callable[[], float] = time.time,
    pause: float = 0.0,
    sleep: Callable[[float], None] = time.sleep,
) -> DemoReport:
    """The whole path into ``folder`` (see ``prepare_folder`` first). ``pause`` seconds are
    waited with the sandbox up (tests interrupt the run there)."""
    library = library or Library.default()
    run = _Run(folder, lang, progress)
    started = time.perf_counter()
    client_toml = run.text("client.toml", _client_toml(lang))
    run.meta = client_meta(folder).with_defaults(today=date.fromtimestamp(clock()))
    assessment = _assess(run, started, client_toml)
    _select(run)
    blueprint = _tailored_blueprint(run, assessment, library, clock)
    with _sandbox(run, clock) as (sandbox, client):
        # in short naps: a signal the kernel hands to another thread is run by the main thread
        # only between two of them, never in the middle of one long sleep
        waited = 0.0
        while waited < pause:
            sleep(min(0.1, pause - waited))
            waited += 0.1
        _audit(run, client, sandbox.base_url, assessment, clock)
        _push(run, client, sandbox.base_url, blueprint, clock)
        _pull(run, client, sandbox.base_url, clock)
    _combined(run, library, date.fromtimestamp(clock()))
    return run.report


def _client_toml(lang: Lang) -> str:
    """The client folder's cover data: whom the documents are for, who prepared them."""
    lines = [f"# {msg('demo.client_header', lang)}"]
    values = {
        "client": SAMPLE_CLIENT,
        "consultant": msg("demo.consultant", lang),
        "version": "1.0",
    }
    lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in values.items()]
    return "\n".join(lines) + "\n"


def _assess(run: _Run, started: float, client_toml: Path) -> Assessment:
    from crmkit.assess.answers import load_questionnaire, read_answers
    from crmkit.assess.model import relevant
    from crmkit.assess.report import to_html
    from crmkit.assess.scoring import score

    questionnaire = load_questionnaire(None)
    sample = (shipped_folder("examples") / SAMPLE_ANSWERS).read_text(encoding="utf-8")
    answers_path = run.text("assessment.toml", sample)
    answers = read_answers(answers_path, questionnaire).answers
    assessment = score(questionnaire, relevant(questionnaire, dict(answers)))
    page = run.text(
        "reports/assessment.html", to_html(questionnaire, assessment, run.lang, meta=run.meta)
    )
    run.step("assess", started, [client_toml, answers_path, page], level=assessment.level)
    return assessment


def _select(run: _Run) -> None:
    from crmkit.select import report
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library as problem_library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import load_selection
    from crmkit.select.xlsx import render_xlsx

    started = time.perf_counter()
    sample = (shipped_folder("examples") / SAMPLE_SELECTION).read_text(encoding="utf-8")
    selection_path = run.text("selection.toml", sample)
    catalog = load_catalog(None)
    problems = problem_library()
    chosen = run_selection(load_selection(selection_path, catalog, problems), catalog, problems)
    page = run.text("reports/selection.html", report.render_html(chosen, run.lang, run.meta))
    workbook = run.bytes("reports/selection.xlsx", render_xlsx(chosen, run.lang))
    ranking = chosen.step4.ranking if chosen.step4 is not None else []
    leader, score = (
        (chosen.name(ranking[0].system, run.lang), ranking[0].score) if ranking else ("—", 0.0)
    )
    run.step(
        "select",
        started,
        [selection_path, page, workbook],
        winner=leader,
        score=number(score, run.lang, 2),
        systems=len(ranking),
    )


def _tailored_blueprint(
    run: _Run, assessment: Assessment, library: Library, clock: Callable[[], float]
) -> Blueprint:
    from crmkit.assess.tailor import tailor_from_assessment
    from crmkit.blueprints.dump import dump_blueprint
    from crmkit.blueprints.lint import lint, summary
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown

    started = time.perf_counter()
    blueprint = tailor_from_assessment(assessment, library, run.lang)
    day = date.fromtimestamp(clock()).isoformat()
    header = [msg("demo.blueprint_header", run.lang, version=__version__, date=day)]
    path = run.text("blueprint.toml", dump_blueprint(blueprint, comment=header))
    page = run.text("reports/blueprint.html", blueprint_html(blueprint, run.lang, run.meta))
    markdown = run.text("reports/blueprint.md", blueprint_markdown(blueprint, run.lang, run.meta))
    counts = summary(lint(blueprint, lang=run.lang))
    run.step(
        "blueprint",
        started,
        [path, page, markdown],
        pipelines=len(blueprint.pipelines),
        stages=blueprint.stage_count(),
        errors=counts["error"],
        warnings=counts["warning"],
    )
    return blueprint


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Ctrl-C (and SIGTERM, SIGHUP) wait while the sandbox starts or stops: an interrupt in the
    middle would leave its port open and its threads running. On Unix, in the main thread."""
    held = {signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM)}
    if (
        not hasattr(signal, "pthread_sigmask")
        or threading.current_thread() is not threading.main_thread()
    ):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        # a signal that came meanwhile is delivered here, once the sandbox is safe to leave
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


@contextlib.contextmanager
def _sandbox(run: _Run, clock: Callable[[], float]) -> Iterator[tuple[Any, Bitrix24Client]]:
    """A sandbox portal with a synthetic company and a client for it; stopped on the way out,
    however the run leaves."""
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.volume import Volume

    started = time.perf_counter()
    sandbox = None
    try:
        with _interrupts_held():
            # the limiter is off on both sides: the portal is this machine's, and at a real
            # portal's 2 requests a second the demo would take a minute (crmkit push, pull and
            # audit keep to that rate on a real portal)
            sandbox = start_sandbox(
                port=0,
                rate=None,
                seed=SANDBOX_SEED,
                volume=Volume(*SANDBOX_COMPANY),
                clock=clock,
                portal_lang="en" if run.lang == "en" else "ru",
            )
        deals, leads, activities = SANDBOX_COMPANY
        run.step(
            "sandbox",
            started,
            [],
            address=sandbox.base_url,
            deals=deals,
            leads=leads,
            activities=activities,
        )
        hook = parse_webhook(sandbox.webhook_url, source="sandbox", lang=run.lang)
        with Bitrix24Client(hook, rate=None, lang=run.lang) as client:
            yield sandbox, client
    finally:
        if sandbox is not None:
            with _interrupts_held():
                sandbox.stop()


def _audit(
    run: _Run,
    client: Bitrix24Client,
    portal: str,
    assessment: Assessment,
    clock: Callable[[], float],
) -> None:
    """As ``crmkit audit --answers assessment.toml`` saves it: the report and its data."""
    from crmkit.assess.audit import to_data
    from crmkit.assess.audit_report import to_html, view
    from crmkit.assess.audit_run import run_audit
    from crmkit.cli.output import to_json

    started = time.perf_counter()
    result = run_audit(client, portal=portal, lang=run.lang, now=clock(), answers=assessment)
    page = run.text("reports/audit.html", to_html(result, run.meta))
    data = run.text("audit.json", to_json(to_data(result)))
    costliest = view(result)["costliest"]
    details = tuple(
        f"{i}. {c['title']}: {c['value']}" + (f" ({c['of']})" if c["of"] else "")
        for i, c in enumerate(costliest, 1)
    )
    level = "—" if result.level is None else str(result.level)
    run.step(
        "audit",
        started,
        [data, page],
        details,
        level=level,
        findings=len(costliest),
        requests=result.requests,
    )


def _push(
    run: _Run,
    client: Bitrix24Client,
    portal: str,
    blueprint: Blueprint,
    clock: Callable[[], float],
) -> None:
    """As ``crmkit push blueprint.toml --plan-out push/plan.json``, then ``--apply --yes``, then
    ``crmkit push`` again, which must find nothing to do."""
    from crmkit.blueprints.dump import dump_blueprint
    from crmkit.push.document import PushView, push_document
    from crmkit.push.folder import PushFolder
    from crmkit.push.report import plan_data
    from crmkit.push.saved import SavedPlan
    from crmkit.push.service import push

    started = time.perf_counter()
    files = PushFolder(run.folder, portal, clock())
    now = datetime.fromtimestamp(clock(), UTC).isoformat(timespec="seconds")
    # the names go to the portal in one language: the run's (crmkit push --names)
    names: Lang = run.lang
    options: dict[str, Any] = {"portal": portal, "lang": names, "now": now}
    planned = push(client, blueprint, files, **options)
    saved = SavedPlan(
        portal=portal,
        fingerprint=planned.fingerprint,
        lang=names,
        prune=False,
        blueprint_toml=dump_blueprint(blueprint),
        plan=plan_data(planned.plan),
    )
    plan_file = run.text("push/plan.json", saved.to_json())
    applied = push(client, blueprint, files, apply=True, expected=planned.fingerprint, **options)
    written = [Path(applied.backup)] if applied.backup else []
    written.append(files.record_path)
    for path in written:
        run.noted(path)
    if not applied.verified or applied.partial:
        raise DemoFailed(msg("demo.push_incomplete", run.lang))
    # the client's document of what was set up, as crmkit push --apply saves it
    view = PushView(applied.plan, blueprint, applied=True, verified=True)
    document = push_document(view, run.lang, run.meta).render()
    page = run.text("reports/push-plan.html", document)
    summary = planned.plan.summary()
    run.step(
        "push",
        started,
        [plan_file, page, *written],
        changes=planned.plan.changes,
        create=summary["create"],
        update=summary["update"],
        manual=summary["manual"],
        requests=planned.requests + applied.requests,
    )
    started = time.perf_counter()
    again = push(client, blueprint, files, **options)
    if again.plan.changes or again.plan.conflicts:
        raise DemoFailed(msg("demo.replan_not_empty", run.lang, changes=again.plan.changes))
    run.step("replan", started, [], requests=again.requests)


def _pull(run: _Run, client: Bitrix24Client, portal: str, clock: Callable[[], float]) -> None:
    from crmkit.export.blueprint_doc import blueprint_html
    from crmkit.push.pull import pull_portal

    started = time.perf_counter()
    pulled = pull_portal(client, source=portal, lang=run.lang, now=clock())
    path = run.text("portal.toml", pulled.toml())
    page = run.text("reports/portal.html", blueprint_html(pulled.blueprint, run.lang, run.meta))
    run.step(
        "pull",
        started,
        [path, page],
        pipelines=len(pulled.blueprint.pipelines),
        stages=pulled.blueprint.stage_count(),
        fields=len(pulled.blueprint.fields),
        requests=pulled.requests,
    )


def _combined(run: _Run, library: Library, today: date) -> None:
    """One self-contained report of the whole folder (as ``crmkit render .`` makes it)."""
    from crmkit.export.combined import render_folder

    started = time.perf_counter()
    report = render_folder(run.folder, run.lang, library=library, today=today)
    page = run.text("reports/report.html", report)
    run.report.combined = page
    run.step("report", started, [page])


class DemoFailed(CrmRefused):
    """The sandbox did not end up holding the blueprint (a crmkit bug: the portal is ours)."""

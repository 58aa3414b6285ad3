"""How crmkit's costs grow: start-up, blueprints, selection and the sandbox, side by side.

Prints, in one run:

1. start-up: ``crmkit --help`` (and two subcommands' help) against a bare click application
   with the same command tree (``bench_startup.py``), medians of alternating runs;
2. blueprints: load (parse and resolve), lint and render (Markdown, HTML) of generated
   blueprints of 10, 100 and 1,000 stages × as many fields, with the ratio per 10× (10× for
   linear growth, 100× for quadratic), and ``blueprint list`` of the shipped library;
3. selection: the matrix step (ranking, sensitivity, 2,000 Monte-Carlo draws) for growing
   numbers of criteria and systems, and a whole ``select`` run of the shipped example;
4. the sandbox: list calls (deals by id and by date, filtered, keyset; activities; crm.item
   over deals) at 1,000 and 20,000 deals, in-process and one over HTTP (127.0.0.1 only); the
   ratio shows whether paging is flat in the table's size. A filter's total still tests every
   row, and the first ordered page after a change sorts the table again: both are shown.

Run: ``python bench/bench_speed.py [--quick] [--only startup,blueprint,select,sandbox]``.
Nothing leaves this machine; the sandbox is stopped at the end.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def timed(fn: Callable[[], Any], repeat: int) -> float:
    """The median milliseconds of ``repeat`` calls of ``fn``."""
    times = []
    for _ in range(repeat):
        gc.collect()  # a collection left over from the last call is not this call's cost
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _growth(values: list[float]) -> list[str]:
    """`` ×r`` of each value against the one before (the first has none)."""
    out = [""]
    for before, now in zip(values, values[1:], strict=False):
        out.append(f"×{now / before:.1f}" if before > 0 else "")
    return out


# -- blueprints -----------------------------------------------------------------------------------


def blueprint_text(stages: int, fields: int) -> str:
    """A blueprint of one deal pipeline of ``stages`` stages and ``fields`` deal fields; every
    stage has a description, a responsible role, a time limit, two required fields and a robot,
    as the shipped blueprints do; every fifth field is a list with three items."""
    roles = ("manager", "head", "lawyer", "accountant", "support")
    out = [
        "[blueprint]",
        'id = "generated"',
        f'name = {{ru = "Схема {stages}", en = "Blueprint {stages}"}}',
        "",
    ]
    for code in roles:
        out += ["[[roles]]", f'code = "{code}"', f'name = {{ru = "Роль {code}", en = "{code}"}}']
    out += ["[[entities]]", 'code = "deal"', 'why = {ru = "Сделки", en = "Deals"}']
    out += ["[[entities]]", 'code = "contact"', 'why = {ru = "Клиенты", en = "Clients"}']
    for group in range(10):
        out += [
            "[[field_groups]]",
            f'code = "g{group}"',
            'entity = "deal"',
            f'name = {{ru = "Группа {group}", en = "Group {group}"}}',
        ]
    for number in range(fields):
        kind = "enumeration" if number % 5 == 0 else "string"
        out += [
            "[[fields]]",
            'entity = "deal"',
            f'code = "F{number}"',
            f'type = "{kind}"',
            f'label = {{ru = "Поле {number}", en = "Field {number}"}}',
            f'group = "g{number % 10}"',
        ]
        if kind == "enumeration":
            for item in range(3):
                out += [
                    "[[fields.items]]",
                    f'value = {{ru = "Вариант {item}", en = "Option {item}"}}',
                    f'xml_id = "F{number}_{item}"',
                ]
    out += [
        "[[pipelines]]",
        'code = "big"',
        'kind = "deal"',
        'name = {ru = "Большая воронка", en = "Big pipeline"}',
        'description = {ru = "Для замера", en = "For timing"}',
    ]
    for number in range(stages):
        role = roles[number % len(roles)]
        required = [f"F{number % max(1, fields)}", f"F{(number * 7) % max(1, fields)}", "PHONE"]
        out += [
            "[[pipelines.stages]]",
            f'code = "S{number}"',
            f'name = {{ru = "Этап {number}", en = "Stage {number}"}}',
            f'description = {{ru = "Работа этапа {number}", en = "Work of stage {number}"}}',
            'max_time = "2d"',
            f'responsible = "{role}"',
            "required_fields = [" + ", ".join(f'"{r}"' for r in required) + "]",
            "[[pipelines.stages.automation]]",
            'trigger = "on_enter"',
            'action = "create_task"',
            f'role = "{role}"',
            'deadline = "1d"',
            f'title = {{ru = "Задача {number}", en = "Task {number}"}}',
        ]
    out += [
        "[[pipelines.stages]]",
        'code = "WON"',
        'name = {ru = "Успех", en = "Won"}',
        'semantics = "success"',
        'description = {ru = "Оплачено", en = "Paid"}',
        "[[pipelines.stages]]",
        'code = "LOST"',
        'name = {ru = "Отказ: дорого", en = "Lost: too expensive"}',
        'semantics = "failure"',
        'description = {ru = "Отказ", en = "Lost"}',
        'lesson = {ru = "Что узнали", en = "What we learnt"}',
    ]
    return "\n".join(out) + "\n"


def bench_blueprints(sizes: tuple[int, ...], repeat: int) -> None:
    from crmkit.blueprints.library import Library
    from crmkit.blueprints.lint import default_settings, lint
    from crmkit.blueprints.loader import load_document
    from crmkit.export.blueprint_doc import blueprint_html, blueprint_markdown
    from crmkit.files import parse_toml

    library = Library.default()
    settings = default_settings()
    rows: dict[str, list[float]] = {
        "parse": [],
        "load": [],
        "lint": [],
        "md": [],
        "html": [],
    }
    for size in sizes:
        text = blueprint_text(size, size)
        name = f"generated-{size}.toml"

        def load(text: str = text, name: str = name) -> Any:
            return load_document(parse_toml(text, name), None, library.resolver())

        blueprint = load()
        rows["parse"].append(timed(lambda t=text, n=name: parse_toml(t, n), repeat))
        rows["load"].append(timed(load, repeat))
        rows["lint"].append(timed(lambda b=blueprint: lint(b, settings, "en"), repeat))
        rows["md"].append(timed(lambda b=blueprint: blueprint_markdown(b, "en"), repeat))
        rows["html"].append(timed(lambda b=blueprint: blueprint_html(b, "en"), repeat))
    print("\n## Blueprints: stages × fields (ms, median; ×: growth per 10× size)")
    head = "".join(f"{f'{s} × {s}':>20}" for s in sizes)
    print(f"{'':<8}{head}")
    for label, values in rows.items():
        growth = _growth(values)
        cells = "".join(f"{v:>12.1f} {g:>7}" for v, g in zip(values, growth, strict=True))
        print(f"{label:<8}{cells}")
    bench_library(repeat)


def bench_library(repeat: int) -> None:
    import crmkit.blueprints.library as library_module
    import crmkit.blueprints.loader as loader_module
    from crmkit.blueprints.library import Library
    from crmkit.blueprints.service import list_library

    parses = 0
    patched = [m for m in (loader_module, library_module) if hasattr(m, "parse_toml")]
    originals = [m.parse_toml for m in patched]

    def counting(original: Callable[[str, str], Any]) -> Callable[[str, str], Any]:
        def parse(text: str, name: str) -> Any:
            nonlocal parses
            parses += 1
            return original(text, name)

        return parse

    for module, original in zip(patched, originals, strict=True):
        module.parse_toml = counting(original)  # type: ignore[attr-defined]
    try:
        files = len(list_library(Library.default()))
        per_list = parses
    finally:
        for module, original in zip(patched, originals, strict=True):
            module.parse_toml = original  # type: ignore[attr-defined]
    ms = timed(lambda: list_library(Library.default()), repeat)
    print(f"blueprint list: {files} blueprints, {per_list} TOML parses, {ms:.1f} ms")


# -- selection ------------------------------------------------------------------------------------


def bench_selection(repeat: int) -> None:
    import random

    from crmkit.i18n import Text
    from crmkit.select.matrix import Criterion, Score, evaluate

    print("\n## Selection: the matrix step (ranking, sensitivity, 2,000 draws), ms")
    print(f"{'criteria':>8} {'systems':>8} {'ms':>9}")
    for criteria, systems in ((5, 3), (10, 5), (20, 5), (40, 5), (20, 10), (40, 20)):
        rng = random.Random(criteria * 100 + systems)
        crits = [Criterion(f"c{i}", Text(f"к{i}", f"c{i}")) for i in range(criteria)]
        points = {c.id: float(rng.randint(1, 10)) for c in crits}
        scores = {
            f"s{j}": {c.id: Score(float(rng.randint(1, 5))) for c in crits} for j in range(systems)
        }
        ms = timed(lambda cr=crits, p=points, sc=scores: evaluate(cr, p, sc, seed=1), repeat)
        print(f"{criteria:>8} {systems:>8} {ms:>9.1f}")
    bench_select_run(repeat)


def bench_select_run(repeat: int) -> None:
    from crmkit.files import read_toml
    from crmkit.select.catalog import load_catalog
    from crmkit.select.problems import library
    from crmkit.select.run import run_selection
    from crmkit.select.selection import read_selection

    catalog, problems = load_catalog(None), library()
    for name in ("selection.toml", "selection-ahp.toml"):
        selection = read_selection(read_toml(ROOT / "examples" / name), catalog, problems)
        ms = timed(lambda s=selection: run_selection(s, catalog, problems), repeat)
        print(f"select run of examples/{name}: {ms:.1f} ms")


# -- the sandbox ----------------------------------------------------------------------------------

#: list calls a client makes, each timed at every size
SANDBOX_CALLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("deal.list, page 1", "crm.deal.list", {}),
    ("deal.list, start=500", "crm.deal.list", {"start": 500}),
    ("deal.list, keyset start=-1", "crm.deal.list", {"start": -1, "filter": {">ID": 200}}),
    ("deal.list by DATE_CREATE desc", "crm.deal.list", {"order": {"DATE_CREATE": "DESC"}}),
    ("deal.list STAGE_SEMANTIC_ID=P", "crm.deal.list", {"filter": {"STAGE_SEMANTIC_ID": "P"}}),
    ("deal.list >OPPORTUNITY", "crm.deal.list", {"filter": {">OPPORTUNITY": 50000}}),
    ("activity.list (by START_TIME)", "crm.activity.list", {}),
    ("item.list entityTypeId=2", "crm.item.list", {"entityTypeId": 2}),
    (
        "item.list etid=2 by opportunity",
        "crm.item.list",
        {"entityTypeId": 2, "order": {"opportunity": "DESC"}, "start": 100},
    ),
    ("item.get entityTypeId=2", "crm.item.get", {"entityTypeId": 2, "id": 7}),
)


def bench_sandbox(sizes: tuple[int, ...], repeat: int) -> None:
    from crmkit.push.bitrix24.client import Bitrix24Client
    from crmkit.push.bitrix24.webhook import parse_webhook
    from crmkit.sandbox import start_sandbox
    from crmkit.sandbox.volume import Volume

    results: dict[str, list[float]] = {label: [] for label, _, _ in SANDBOX_CALLS}
    http: list[float] = []
    changed: list[float] = []
    for deals in sizes:
        sandbox = start_sandbox(
            rate=None, seed=1, volume=Volume(deals=deals, leads=deals // 5, activities=deals)
        )
        try:
            assert sandbox.host == "127.0.0.1"
            for label, method, params in SANDBOX_CALLS:
                results[label].append(
                    timed(lambda m=method, p=params, s=sandbox: s.portal.call(m, dict(p)), repeat)
                )
            changed.append(_first_after_a_change(sandbox.portal, repeat))
            client = Bitrix24Client(parse_webhook(sandbox.webhook_url))
            http.append(timed(lambda c=client: c.call("crm.deal.list", {"start": 500}), repeat))
        finally:
            sandbox.stop()
    print("\n## Sandbox: one list call (ms, median) by the number of deals")
    head = "".join(f"{f'{s:,} deals':>14}" for s in sizes)
    print(f"{'':<34}{head}{'ratio':>8}")
    rows = (
        *results.items(),
        ("by DATE_CREATE, first after a change", changed),
        ("deal.list start=500 over HTTP", http),
    )
    for label, values in rows:
        cells = "".join(f"{v:>14.2f}" for v in values)
        ratio = values[-1] / values[0] if values[0] > 0 else 0.0
        print(f"{label:<34}{cells}{ratio:>7.1f}×")


def _first_after_a_change(portal: Any, repeat: int) -> float:
    """An ordered page right after a deal changed: the one call that sorts the table again."""
    times = []
    for number in range(repeat):
        portal.call("crm.deal.update", {"id": 1, "fields": {"TITLE": f"changed {number}"}})
        gc.collect()
        start = time.perf_counter()
        portal.call("crm.deal.list", {"order": {"DATE_CREATE": "DESC"}})
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    parser.add_argument("--only", default="startup,blueprint,select,sandbox")
    options = parser.parse_args()
    parts = set(options.only.split(","))
    repeat = 3 if options.quick else 7
    if "startup" in parts:
        from bench_startup import compare, print_comparison

        print("## Start-up against a bare click app with the same command tree")
        print_comparison(compare(15 if options.quick else 40))
    if "blueprint" in parts:
        bench_blueprints((10, 100, 1000), repeat)
    if "select" in parts:
        bench_selection(repeat)
    if "sandbox" in parts:
        bench_sandbox((1000, 20000), repeat)


if __name__ == "__main__":
    main()

"""`blueprint new --from-assessment`: the plan (pure), the composition from the library, lint,
round trip through TOML, rendering, and the CLI."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from crmkit.assess.answers import load_questionnaire, read_answers
from crmkit.assess.scoring import score
from crmkit.assess.tailor import compose, plan_blueprint, tailor, tailor_from_assessment
from crmkit.blueprints.dump import dump_blueprint
from crmkit.blueprints.library import Library
from crmkit.blueprints.lint import lint
from crmkit.blueprints.loader import load_document
from crmkit.blueprints.model import Blueprint
from crmkit.errors import InputError
from crmkit.files import parse_toml
from crmkit.i18n import Text

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
NEEDED = {
    "roles", "entities", "lead-funnel", "deal-b2b-full", "deal-retail", "deal-wholesale",
    "deal-repeat", "deal-marketing", "deal-reanimation", "process-delivery", "fields-scoring",
    "escalation-no-answer",
}  # fmt: skip


def _ids(level: int, *tags: str) -> list[str]:
    return [part.id for part in plan_blueprint(level, tags)]


BASE = ["roles", "entities", "lead-funnel"]


@pytest.mark.parametrize(
    ("level", "tags", "expected"),
    [
        (0, ("b2b", "products"), [*BASE, "deal-b2b-full"]),
        (1, ("b2c", "retail"), [*BASE, "deal-retail"]),
        (2, ("b2b", "wholesale"), [*BASE, "deal-wholesale"]),
        (2, ("b2b", "b2c", "retail", "wholesale"), [*BASE, "deal-b2b-full"]),
        (2, (), [*BASE, "deal-b2b-full"]),
        (
            3,
            ("b2b", "services"),
            [*BASE, "deal-b2b-full", "deal-marketing", "deal-repeat", "fields-scoring"],
        ),
        (
            3,
            ("b2b", "b2c", "retail", "wholesale"),
            [
                *BASE, "deal-b2b-full", "deal-retail", "deal-wholesale", "deal-marketing",
                "deal-repeat", "fields-scoring",
            ],
        ),
        (
            4,
            ("b2c", "retail"),
            [
                # the escalation is the lead funnel with the "no answer" stages: it replaces it
                "roles", "entities", "escalation-no-answer", "deal-retail", "deal-marketing",
                "deal-repeat", "fields-scoring", "deal-reanimation", "process-delivery",
            ],
        ),
    ],
)  # fmt: skip
def test_plan(level: int, tags: tuple[str, ...], expected: list[str]) -> None:
    assert _ids(level, *tags) == expected


def test_products_and_services_drive_the_pipelines_and_the_fulfilment() -> None:
    """Seed 002: products and services in separate pipelines where selling them differs; a
    separate funnel for products that need special attention. No delivery of goods for a
    client who sells services only."""
    both = plan_blueprint(3, ("b2b", "products", "services"))
    assert [(p.id, p.variant) for p in both if p.variant] == [("deal-b2b-full", "services")]
    assert not any(p.variant for p in plan_blueprint(3, ("b2b", "products")))
    assert not any(p.variant for p in plan_blueprint(2, ("b2b", "products", "services")))
    assert "process-delivery" in _ids(4, "b2b", "products")
    assert "process-delivery" in _ids(4, "b2b", "products", "services")
    assert "process-delivery" not in _ids(4, "b2b", "services")

    library = Library.default()
    base = _score("assessment-level3.toml")
    tailored = tailor(replace(base, tags=frozenset({"b2b", "products", "services"})), library)
    codes = [p.code for p in tailored.pipelines]
    main = next(p for p in tailored.pipelines if p.kind == "deal")
    copy = tailored.pipeline(f"{main.code}_services")
    assert copy is not None and codes.index(copy.code) == codes.index(main.code) + 1
    assert [s.code for s in copy.stages] == [s.code for s in main.stages]
    assert copy.name.ru.endswith("— услуги") and "для услуг" in copy.description.ru
    assert not [f for f in lint(tailored) if f.severity == "error"]
    assert "особое внимание" in tailored.description.ru

    services = tailor(replace(base, level=4, tags=frozenset({"b2b", "services"})), library)
    assert not services.smart_processes
    assert "Исполнение услуг" in services.description.ru
    assert "deal-" not in services.description.ru  # names, not library ids
    escalation = next(p for p in plan_blueprint(4, ("b2b",)) if p.id == "escalation-no-answer")
    assert "не критерий уровня" in escalation.why.ru


def _score(name: str):  # type: ignore[no-untyped-def]
    questionnaire = load_questionnaire()
    return score(questionnaire, read_answers(EXAMPLES / name, questionnaire).answers)


def test_level_five_gets_the_full_set() -> None:
    assert _ids(5, "b2b") == _ids(4, "b2b")


def test_the_no_answer_stages_reach_the_tailored_lead_funnel() -> None:
    from crmkit.assess.tailor import tailor_from_assessment
    from crmkit.blueprints.library import Library

    bp = tailor_from_assessment(EXAMPLES / "assessment-level5.toml", Library.default())
    leads = [p for p in bp.pipelines if p.kind == "lead"]
    assert len(leads) == 1
    codes = [s.code for s in leads[0].stages]
    assert {"NO_ANSWER_1", "NO_ANSWER_4", "ARCHIVE"} <= set(codes)


def test_plan_parts_say_why_in_both_languages() -> None:
    for part in plan_blueprint(4, ("b2b", "b2c", "retail", "wholesale")):
        assert part.why.ru and part.why.en


# -- a library: the shipped one, completed with stubs for ids still being written ----------------
STUBS = {
    "process-delivery": """
[blueprint]
id = "process-delivery"
name = {ru = "Доставка", en = "Delivery"}
include = ["roles"]

[[smart_processes]]
code = "delivery"
title = {ru = "Доставка", en = "Delivery"}

[[pipelines]]
code = "delivery"
kind = "smart_process"
process = "delivery"
name = {ru = "Доставка", en = "Delivery"}

[[pipelines.stages]]
code = "NEW"
name = {ru = "Новая", en = "New"}
description = {ru = "Заказ передан в доставку.", en = "The order is handed to delivery."}
responsible = "logistics"

[[pipelines.stages]]
code = "DONE"
name = {ru = "Доставлено", en = "Delivered"}
semantics = "success"
description = {ru = "Клиент получил заказ.", en = "The client has the order."}

[[pipelines.stages]]
code = "FAIL"
name = {ru = "Отказ от получения", en = "Refused on delivery"}
semantics = "failure"
description = {ru = "Клиент отказался.", en = "The client refused."}
lesson = {ru = "Проверять заказ перед отправкой.", en = "Check the order before shipping."}
""",
    "fields-scoring": """
[blueprint]
id = "fields-scoring"
name = {ru = "Скоринг", en = "Scoring"}

[[field_groups]]
code = "scoring"
entity = "deal"
name = {ru = "Скоринг", en = "Scoring"}

[[fields]]
entity = "deal"
code = "SCORING_CLASS"
type = "string"
label = {ru = "Класс", en = "Class"}
group = "scoring"
""",
    "escalation-no-answer": """
[blueprint]
id = "escalation-no-answer"
name = {ru = "Эскалация", en = "Escalation"}
include = ["roles"]
""",
}


@pytest.fixture
def library(tmp_path: Path) -> Library:
    shipped = Library.default()
    extra = tmp_path / "stubs"
    extra.mkdir()
    for name, text in STUBS.items():
        if shipped.find(name) is None:
            (extra / f"{name}.toml").write_text(text, encoding="utf-8")
    return Library((*shipped.dirs, extra))


def _lint_problems(blueprint: Blueprint) -> list[str]:
    from crmkit.blueprints.lint import lint

    return [
        f"{f.severity} {f.rule} {f.path}: {f.message}"
        for f in lint(blueprint)
        if f.severity == "error"
    ]


def _round_trip(blueprint: Blueprint, library: Library) -> Blueprint:
    text = dump_blueprint(blueprint, comment=["tailored"])
    return load_document(parse_toml(text, "tailored.toml"), None, library.resolver())


@pytest.mark.parametrize("level", [0, 3, 5])
def test_tailor_examples(library: Library, level: int) -> None:
    blueprint = tailor_from_assessment(EXAMPLES / f"assessment-level{level}.toml", library, "en")
    kinds = [p.kind for p in blueprint.pipelines]
    assert kinds.count("lead") == 1
    codes = {p.code for p in blueprint.pipelines}
    deals = [p for p in blueprint.pipelines if p.kind == "deal"]
    if level == 0:
        assert (
            len(deals) == 1 and deals[0].code == "deal_wholesale"
        )  # the level-0 client: B2B wholesale
    if level >= 3:
        assert {"deal_repeat", "deal_marketing"} <= codes
    if level == 5:
        assert "deal_reanimation" in codes
        assert any(p.kind == "smart_process" for p in blueprint.pipelines)
    assert {r.code for r in blueprint.roles} >= {"rop", "manager"}
    assert {e.code for e in blueprint.entities} >= {"lead", "contact", "company", "deal"}
    assert blueprint.id == f"tailored-level-{min(level + 1, 5)}"
    assert blueprint.description.ru and blueprint.description.en
    assert _lint_problems(blueprint) == []
    assert _round_trip(blueprint, library) == blueprint


def test_tailor_renders(library: Library) -> None:
    from crmkit.export.blueprint_doc import blueprint_view

    blueprint = tailor_from_assessment(EXAMPLES / "assessment-level3.toml", library, "ru")
    view = blueprint_view(blueprint, "ru")
    assert view


def test_tailor_from_a_scored_assessment(library: Library) -> None:
    q = load_questionnaire()
    result = score(q, read_answers(EXAMPLES / "assessment-level3.toml", q).answers)
    by_path = tailor_from_assessment(EXAMPLES / "assessment-level3.toml", library)
    assert tailor_from_assessment(result, library) == by_path


def test_tailor_incomplete_answers(library: Library, tmp_path: Path) -> None:
    path = tmp_path / "a.toml"
    path.write_text('[answers]\ndata_storage = "crm_only"\n', encoding="utf-8")
    with pytest.raises(InputError) as info:
        tailor_from_assessment(path, library)
    assert "reporting" in str(info.value) and str(path) in str(info.value)


def test_tailor_missing_library_part(tmp_path: Path) -> None:
    empty = Library((tmp_path,))
    with pytest.raises(InputError, match="no roles, entities, lead-funnel"):
        tailor_from_assessment(EXAMPLES / "assessment-level0.toml", empty)


def test_compose_keeps_one_lead_funnel_and_first_of_each(library: Library) -> None:
    lead = library.load("lead-funnel")
    retail = library.load("deal-retail")
    twice = compose("x", Text(en="x"), Text(), [lead, retail, lead, retail])
    assert [p.code for p in twice.pipelines] == [
        p.code for p in (*lead.pipelines, *retail.pipelines)
    ]
    assert len({r.code for r in twice.roles}) == len(twice.roles)


def _shipped_complete() -> list[str]:
    shipped = Library.default()
    return sorted(name for name in NEEDED if shipped.find(name) is None)


@pytest.mark.parametrize("level", [0, 3, 5])
def test_cli_blueprint_new_from_assessment(crmkit, tmp_path: Path, level: int) -> None:
    missing = _shipped_complete()
    if level and missing:
        pytest.skip(f"the shipped library still lacks {', '.join(missing)}")
    out = tmp_path / "blueprint.toml"
    answers = str(EXAMPLES / f"assessment-level{level}.toml")
    result = crmkit("blueprint", "new", "--from-assessment", answers, "--out", str(out))
    assert result.code == 0, result.err
    library = Library.default()
    from crmkit.blueprints.loader import load_blueprint

    loaded = load_blueprint(out, library.resolver())
    assert _lint_problems(loaded) == []
    rendered = crmkit("render", str(out), "--format", "md")
    assert rendered.code == 0, rendered.err
    lint = crmkit("blueprint", "lint", str(out))
    assert lint.code == 0, lint.out + lint.err

"""The push-free round trip: a sandbox filled with shipped blueprints by direct REST calls, then
``crmkit pull`` → the file loads, lint finds no errors, render works, and the pulled pipelines,
stages and fields equal what was put in."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crmkit.blueprints.library import Library
from crmkit.blueprints.loader import load_blueprint
from crmkit.blueprints.model import FIELD_ENTITIES, Blueprint, CustomField, Pipeline, Stage
from crmkit.cli import run
from crmkit.cli.context import AppContext
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.state import strip_prefix
from crmkit.sandbox import start_sandbox

SEMANTICS = {"process": "", "success": "S", "failure": "F"}

# Fields and a smart process on top of the shipped pipelines (the library has none yet).
EXTRA = """
[blueprint]
id = "roundtrip"
name = {{ru = "Проверка чтения портала", en = "Portal read check"}}
include = {include}

[[smart_processes]]
code = "tenders"
title = {{ru = "Тендеры", en = "Tenders"}}

[[pipelines]]
code = "tenders_main"
kind = "smart_process"
process = "tenders"
name = {{ru = "Тендерная площадка", en = "Tender platform"}}

[[pipelines.stages]]
code = "NEW"
name = {{ru = "Извещение найдено", en = "Notice found"}}

[[pipelines.stages]]
code = "DOCS"
name = {{ru = "Готовим заявку", en = "Preparing the bid"}}
color = "#FFA900"

[[pipelines.stages]]
code = "SUCCESS"
name = {{ru = "Контракт подписан", en = "Contract signed"}}
semantics = "success"

[[pipelines.stages]]
code = "FAIL"
name = {{ru = "Проиграли по цене", en = "Lost on price"}}
semantics = "failure"
lesson = {{ru = "Сравнивайте цены с победителями.", en = "Compare prices with the winners."}}

[[pipelines.stages]]
code = "NOT_ADMITTED"
name = {{ru = "Заявку не допустили", en = "Bid not admitted"}}
semantics = "failure"
lesson = {{ru = "Проверяйте документы по чек-листу.", en = "Check the documents by a checklist."}}

[[fields]]
entity = "deal"
code = "BUDGET_SOURCE"
type = "enumeration"
label = {{ru = "Источник бюджета", en = "Budget source"}}
help = {{ru = "Откуда клиент берёт деньги", en = "Where the client's money comes from"}}
mandatory = true

[[fields.items]]
value = {{ru = "Собственные средства", en = "Own funds"}}
xml_id = "OWN"
default = true

[[fields.items]]
value = {{ru = "Кредит", en = "Loan"}}
xml_id = "LOAN"

[[fields]]
entity = "deal"
code = "CONTRACT_DATE"
type = "date"
label = {{ru = "Дата договора", en = "Contract date"}}

[[fields]]
entity = "lead"
code = "INTERESTS"
type = "string"
label = {{ru = "Интересы", en = "Interests"}}
multiple = true

[[fields]]
entity = "contact"
code = "DECIDES"
type = "boolean"
label = {{ru = "Принимает решение", en = "Decision maker"}}

[[fields]]
entity = "company"
code = "TURNOVER"
type = "money"
label = {{ru = "Оборот", en = "Turnover"}}
"""


def _included() -> list[str]:
    library = Library.default()
    if library.find("complete-b2b") is not None:
        return ["complete-b2b"]
    return [
        name for name in ("lead-funnel", "deal-b2b-full", "deal-b2b-short") if library.find(name)
    ]


# -- putting a blueprint into the sandbox by direct REST calls (what push will do) --------------


def _put_stages(client: Bitrix24Client, entity_id: str, stages: tuple[Stage, ...]) -> None:
    rows = client.call("crm.status.list", {"filter": {"ENTITY_ID": entity_id}}).result
    existing = {strip_prefix(r["STATUS_ID"]): r for r in rows}
    wanted = {s.code for s in stages}
    commands: dict[str, tuple[str, dict[str, object]]] = {}
    deletes: dict[str, tuple[str, dict[str, object]]] = {}
    for code, row in existing.items():
        if code not in wanted:  # system stages too: the blueprint replaces the default set
            # deleted last: a funnel never loses the last stage of a group (the portal refuses)
            deletes[f"del_{row['ID']}"] = (
                "crm.status.delete",
                {"id": row["ID"], "params": {"FORCED": "Y"}},
            )
    # the order rule (in progress → success → failure) is checked against SORT: move the kept
    # stages first, then add the new ones in blueprint order
    for index, stage in enumerate(stages):
        if stage.code in existing:
            commands[f"upd_{index}"] = (
                "crm.status.update",
                {
                    "id": existing[stage.code]["ID"],
                    "fields": {
                        "NAME": stage.name.ru,
                        "SORT": (index + 1) * 10,
                        "COLOR": stage.shown_color,
                    },
                },
            )
    for index, stage in enumerate(stages):
        if stage.code not in existing:
            commands[f"add_{index}"] = (
                "crm.status.add",
                {
                    "fields": {
                        "ENTITY_ID": entity_id,
                        "STATUS_ID": stage.code,
                        "NAME": stage.name.ru,
                        "SORT": (index + 1) * 10,
                        "COLOR": stage.shown_color,
                        "SEMANTICS": SEMANTICS[stage.semantics],
                    }
                },
            )
    result = client.batch_many({**commands, **deletes}, halt=True)
    assert result.ok, {k: str(v) for k, v in result.errors.items()}


def _put_field(field: CustomField) -> tuple[str, dict[str, object]]:
    fields: dict[str, object] = {
        "FIELD_NAME": field.code,
        "USER_TYPE_ID": field.type,
        "EDIT_FORM_LABEL": field.label.to_dict(),
        "LIST_COLUMN_LABEL": field.label.to_dict(),
        "MANDATORY": field.mandatory,
        "MULTIPLE": field.multiple,
    }
    if field.help:
        fields["HELP_MESSAGE"] = field.help.to_dict()
    if field.items:
        fields["LIST"] = [
            {
                "VALUE": item.value.ru,
                "XML_ID": item.xml_id,
                "DEF": item.default,
                "SORT": (i + 1) * 10,
            }
            for i, item in enumerate(field.items)
        ]
    return f"crm.{field.entity}.userfield.add", {"fields": fields}


def _put_sp_field(field: CustomField, type_id: int) -> tuple[str, dict[str, object]]:
    body: dict[str, object] = {
        "entityId": f"CRM_{type_id}",
        "fieldName": f"UF_CRM_{type_id}_{field.code}",
        "userTypeId": field.type,
        "editFormLabel": field.label.to_dict(),
        "mandatory": field.mandatory,
        "multiple": field.multiple,
    }
    if field.help:
        body["helpMessage"] = field.help.to_dict()
    if field.items:
        body["enum"] = [
            {"value": item.value.ru, "xmlId": item.xml_id, "def": item.default,
             "sort": (i + 1) * 10}
            for i, item in enumerate(field.items)
        ]  # fmt: skip
    return "userfieldconfig.add", {"moduleId": "crm", "field": body}


def fill(client: Bitrix24Client, blueprint: Blueprint) -> None:
    deals = [p for p in blueprint.pipelines if p.kind == "deal"]
    for pipeline in blueprint.pipelines:
        if pipeline.kind == "lead":
            _put_stages(client, "STATUS", pipeline.stages)
    for index, pipeline in enumerate(deals):
        sort = (index + 1) * 100
        if index == 0:  # the first deal pipeline takes the portal's default one (id 0)
            client.call(
                "crm.category.update",
                {"entityTypeId": 2, "id": 0, "fields": {"name": pipeline.name.ru, "sort": sort}},
            )
            entity_id = "DEAL_STAGE"
        else:
            made = client.call(
                "crm.category.add",
                {"entityTypeId": 2, "fields": {"name": pipeline.name.ru, "sort": sort}},
            )
            entity_id = f"DEAL_STAGE_{made.result['category']['id']}"
        _put_stages(client, entity_id, pipeline.stages)
    type_ids: dict[str, int] = {}
    for process in blueprint.smart_processes:
        sp = client.call(
            "crm.type.add",
            {
                "fields": {
                    "title": process.title.ru,
                    "isCategoriesEnabled": True,
                    "isStagesEnabled": True,
                }
            },
        ).result["type"]
        etid, type_ids[process.code] = sp["entityTypeId"], sp["id"]
        default = client.call("crm.category.list", {"entityTypeId": etid}).result["categories"][0]
        own = [p for p in blueprint.pipelines if p.process == process.code]
        for index, pipeline in enumerate(own):
            fields = {"name": pipeline.name.ru, "sort": (index + 1) * 100}
            if index == 0:  # the smart process's default pipeline
                client.call(
                    "crm.category.update",
                    {"entityTypeId": etid, "id": default["id"], "fields": fields},
                )
                cid = default["id"]
            else:
                made = client.call("crm.category.add", {"entityTypeId": etid, "fields": fields})
                cid = made.result["category"]["id"]
            _put_stages(client, f"DYNAMIC_{etid}_STAGE_{cid}", pipeline.stages)
    commands = {
        f"uf_{i}": _put_sp_field(f, type_ids[f.entity]) if f.entity in type_ids else _put_field(f)
        for i, f in enumerate(blueprint.fields)
    }
    result = client.batch_many(commands)
    assert result.ok, {k: str(v) for k, v in result.errors.items()}


# -- the round trip, once per module ---------------------------------------------------------


@dataclass
class Trip:
    source: Blueprint
    pulled: Blueprint
    path: Path
    text: str
    err: str
    code: int
    workdir: Path


@pytest.fixture(scope="module")
def trip(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trip]:
    workdir = tmp_path_factory.mktemp("roundtrip")
    extra = workdir / "roundtrip.toml"
    extra.write_text(EXTRA.format(include=repr(_included()).replace("'", '"')), encoding="utf-8")
    library = Library.default()
    source = load_blueprint(extra, library.resolver())
    with start_sandbox(port=0, rate=None) as sb:
        with Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
            fill(client, source)
        out = workdir / "pulled.toml"
        app = AppContext(lang="ru", environ={"CRMKIT_WEBHOOK": sb.webhook_url}, cwd=workdir)
        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = run(["pull", "--out", "pulled.toml"], app)
        assert code == 0, err.getvalue()
        text = out.read_text(encoding="utf-8")
        assert sb.code not in text
    yield Trip(
        source, load_blueprint(out, library.resolver()), out, text, err.getvalue(), code, workdir
    )


def _shape(pipeline: Pipeline) -> list[tuple[str, str, str, str]]:
    return [(s.code, s.name.ru, s.semantics, s.shown_color.upper()) for s in pipeline.stages]


def test_pulled_pipelines_and_stages_equal_what_was_put_in(trip: Trip) -> None:
    src, got = trip.source, trip.pulled
    # pulled order: the lead funnel, deal pipelines by sort, then each smart process's pipelines
    kinds = ("lead", "deal", "smart_process")
    assert [p.kind for p in got.pipelines] == sorted(
        (p.kind for p in src.pipelines), key=kinds.index
    )
    for kind in kinds:
        put = [p for p in src.pipelines if p.kind == kind]
        if kind == "smart_process":  # grouped by smart process, in the order they were created
            order = [sp.code for sp in src.smart_processes]
            put.sort(key=lambda p: order.index(p.process or ""))
        read = [p for p in got.pipelines if p.kind == kind]
        assert [_shape(p) for p in read] == [_shape(p) for p in put], kind
        if kind != "lead":  # the lead funnel has no name on the portal
            assert [p.name.ru for p in read] == [p.name.ru for p in put]
    assert [s.title.ru for s in got.smart_processes] == [s.title.ru for s in src.smart_processes]
    codes = {s.code for s in got.smart_processes}
    assert {p.process for p in got.pipelines if p.kind == "smart_process"} == codes


def test_pulled_fields_equal_what_was_put_in(trip: Trip) -> None:
    # smart-process codes are derived from titles on the way back
    renamed = {
        s.code: next(g.code for g in trip.pulled.smart_processes if g.title.ru == s.title.ru)
        for s in trip.source.smart_processes
    }

    # the portal carries labels and help in ru and en only: a Ukrainian text does not come back
    def shape(f: CustomField, entity: str) -> tuple[object, ...]:
        return (entity, f.code, f.type, (f.label.ru, f.label.en), (f.help.ru, f.help.en),
                f.mandatory, f.multiple,
                [(i.value.ru, i.xml_id, i.default) for i in f.items])  # fmt: skip

    def rank(f: CustomField) -> int:
        if f.entity in FIELD_ENTITIES:
            return FIELD_ENTITIES.index(f.entity)
        return len(FIELD_ENTITIES) + list(renamed).index(f.entity)

    put = [shape(f, renamed.get(f.entity, f.entity)) for f in sorted(trip.source.fields, key=rank)]
    assert [shape(f, f.entity) for f in trip.pulled.fields] == put
    assert any(f.entity in renamed.values() for f in trip.pulled.fields)  # smart-process fields


def test_the_pulled_file_passes_lint_and_renders(trip: Trip, tmp_path: Path) -> None:
    lint_module = pytest.importorskip("crmkit.blueprints.lint", reason="lint not written yet")
    errors = [f for f in lint_module.lint(trip.pulled) if f.severity == "error"]
    assert errors == [], [f"{f.rule} {f.path}: {f.message}" for f in errors]
    app = AppContext(lang="ru", environ={}, cwd=trip.workdir)
    assert run(["blueprint", "lint", str(trip.path)], app) == 0
    for fmt in ("md", "html"):
        out = tmp_path / f"pulled.{fmt}"
        assert run(["render", str(trip.path), "--format", fmt, "--out", str(out)], app) == 0
        assert "Тендерная площадка" in out.read_text(encoding="utf-8")
        assert "Источник бюджета" in out.read_text(encoding="utf-8")


def test_the_file_says_where_it_came_from_and_hides_the_code(trip: Trip) -> None:
    head = trip.text.split("[blueprint]")[0]
    assert "crmkit 0.1.0" in head and "http://127.0.0.1:" in head
    assert "«ru»" in head  # the names' language
    assert "/rest/" not in trip.text
    assert "HTTP-запросов: 3" in trip.err, trip.err

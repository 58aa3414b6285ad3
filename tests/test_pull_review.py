"""An adversarial review of ``pull``'s mapping: portals shaped unlike the round trip's.

Each portal is a sandbox filled by direct REST calls; the pull goes through the real client.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sandbox_util import result

from crmkit.blueprints.lint import lint
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.pull import PullResult, pull_portal
from crmkit.sandbox import Sandbox, start_sandbox

CODE = "pu11r3vi3wc0de"
VALID_CODE = re.compile(r"[a-z][a-z0-9_]*")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        yield sb
        assert sb.internal_errors == []


def pull(sb: Sandbox) -> PullResult:
    with Bitrix24Client(parse_webhook(sb.webhook_url), rate=None) as client:
        return pull_portal(client, source="http://127.0.0.1", lang="en", now=0)


def errors_of(pulled: PullResult, *, but: tuple[str, ...] = ()) -> list[str]:
    found = lint(pulled.blueprint)
    return [f.message for f in found if f.severity == "error" and f.rule not in but]


def test_the_default_deal_pipeline_comes_first_whatever_its_sort() -> None:
    """Lint and push read the first deal pipeline as the portal's default one (category 0, codes
    without a ``C<id>:`` prefix); a portal where "General" was dragged below another pipeline
    must not make that other pipeline the default."""
    with start_sandbox(port=0, rate=None, code=CODE) as sb:
        result(sb, "crm.category.update", {"entityTypeId": 2, "id": 0, "fields": {"sort": 900}})
        result(
            sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "Тендеры", "sort": 10}}
        )
        pulled = pull(sb)
    deals = [p for p in pulled.blueprint.pipelines if p.kind == "deal"]
    assert [p.name.get("en") or p.name.get("ru") for p in deals] == ["General", "Тендеры"]
    assert deals[0].code == "general"


def test_a_smart_process_without_pipelines_still_brings_its_stages(sandbox: Sandbox) -> None:
    """Categories switched off (``crm.category.list`` refuses it) but stages on: the stages live
    in the one hidden default funnel and must not be lost."""
    kind = result(
        sandbox,
        "crm.type.add",
        {"fields": {"title": "Рекламации", "isCategoriesEnabled": "N", "isStagesEnabled": "Y"}},
    )["type"]
    etid = kind["entityTypeId"]
    entities = [
        row["ID"]
        for row in result(sandbox, "crm.status.entity.types")
        if row["ID"].startswith(f"DYNAMIC_{etid}_STAGE_")
    ]
    assert len(entities) == 1
    expected = result(
        sandbox, "crm.status.list", {"filter": {"ENTITY_ID": entities[0]}, "order": {"SORT": "ASC"}}
    )
    pulled = pull(sandbox)
    [process] = pulled.blueprint.smart_processes
    pipelines = [p for p in pulled.blueprint.pipelines if p.kind == "smart_process"]
    assert [p.process for p in pipelines] == [process.code]
    assert [s.code for s in pipelines[0].stages] == [
        r["STATUS_ID"].split(":")[-1] for r in expected
    ]
    assert pulled.requests <= 3
    assert errors_of(pulled) == []


def test_more_than_fifty_pipelines_with_clashing_names(sandbox: Sandbox) -> None:
    """60 deal pipelines (the stage reads need two batches), names that clash or have nothing
    to make a code of: every pipeline and stage arrives, codes are valid, unique and stable."""
    names = ["Продажи", "Продажи", "prodazhi", "-", "—", "Leads", "2024", "№ 5 / опт", "deal 9"]
    names += [f"Воронка {i}" for i in range(60 - len(names))]
    for name in names:
        result(sandbox, "crm.category.add", {"entityTypeId": 2, "fields": {"name": name}})
    first = pull(sandbox)
    again = pull(sandbox)
    deals = [p for p in first.blueprint.pipelines if p.kind == "deal"]
    assert len(deals) == 61
    assert all(p.stages for p in deals)
    codes = [p.code for p in first.blueprint.pipelines]
    assert len(set(codes)) == len(codes)
    assert all(VALID_CODE.fullmatch(c) for c in codes), codes
    assert codes == [p.code for p in again.blueprint.pipelines]
    assert first.requests == 3
    # the portal's own default stage codes (PREPAYMENT_INVOICE…) pass lint too
    assert errors_of(first) == []


def test_a_smart_process_named_like_a_crm_entity_keeps_its_fields_apart(sandbox: Sandbox) -> None:
    """A smart process titled "Deal": its code must not be ``deal``, or its fields would read
    as the deal's own (and a push would create them on deals)."""
    kind = result(
        sandbox, "crm.type.add", {"fields": {"title": "Deal", "isCategoriesEnabled": "Y"}}
    )["type"]
    field = {
        "entityId": f"CRM_{kind['id']}",
        "fieldName": f"UF_CRM_{kind['id']}_SIZE",
        "userTypeId": "string",
        "editFormLabel": {"en": "Size", "ru": "Размер"},
    }
    result(sandbox, "userfieldconfig.add", {"moduleId": "crm", "field": field})
    pulled = pull(sandbox)
    [process] = pulled.blueprint.smart_processes
    assert process.code not in ("lead", "deal", "contact", "company")
    assert [(f.entity, f.code) for f in pulled.blueprint.fields] == [(process.code, "SIZE")]
    assert pulled.blueprint.fields_of("deal") == ()

"""Method details beyond §5: code limits, dictionaries, userfieldconfig, crm.type, users."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sandbox_util import fail, new_pipeline, new_smart_process, ok, result, stages

from crmkit.sandbox import Sandbox, start_sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with start_sandbox(port=0, rate=None) as portal:
        yield portal
        assert portal.internal_errors == []


def add(sb: Sandbox, entity_id: str, code: str, sort: int = 15) -> Any:
    fields = {"ENTITY_ID": entity_id, "STATUS_ID": code, "NAME": "x", "SORT": sort}
    return sb_post(sb, fields)


def sb_post(sb: Sandbox, fields: dict[str, Any]) -> tuple[int, Any]:
    from sandbox_util import post

    response = post(sb, "crm.status.add", {"fields": fields})
    return response.status_code, response.json()


def test_status_id_length_and_charset_limits(sb: Sandbox) -> None:
    assert add(sb, "STATUS", "A" * 21)[0] == 200
    assert add(sb, "STATUS", "B" * 22)[0] == 400
    assert add(sb, "DEAL_STAGE", "C" * 22)[0] == 200
    assert add(sb, "DEAL_STAGE", "D" * 23)[0] == 400
    cid = new_pipeline(sb)
    budget = 22 - len(f"C{cid}:")  # the prefix counts against the 22 characters
    assert add(sb, f"DEAL_STAGE_{cid}", "E" * budget)[0] == 200
    assert add(sb, f"DEAL_STAGE_{cid}", "F" * (budget + 1))[0] == 400
    for bad in ("СТАДИЯ", "WITH SPACE", "A.B"):
        status, body = add(sb, "STATUS", bad)
        assert status == 400 and body["error"] == ""
    assert add(sb, "SOURCE", "Любой источник, 50 символов max")[0] == 200
    status, body = add(sb, "NO_SUCH_DICTIONARY", "X")
    assert body["error_description"] == "Specified entity type is not supported."


def test_second_success_stage_and_missing_name_are_refused(sb: Sandbox) -> None:
    status, _ = sb_post(
        sb, {"ENTITY_ID": "STATUS", "STATUS_ID": "OK2", "NAME": "x", "SORT": 45, "SEMANTICS": "S"}
    )
    assert status == 400
    status, body = sb_post(sb, {"ENTITY_ID": "STATUS", "STATUS_ID": "NONAME"})
    assert body["error_description"] == "The field Title is required."


def test_dictionary_methods(sb: Sandbox) -> None:
    types = {t["ID"]: t for t in result(sb, "crm.status.entity.types")}
    assert {"STATUS", "SOURCE", "DEAL_STAGE"} <= set(types)
    assert types["STATUS"]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"] == "CONVERTED"
    cid = new_pipeline(sb)
    types = {t["ID"]: t for t in result(sb, "crm.status.entity.types")}
    assert types[f"DEAL_STAGE_{cid}"]["PREFIX"] == f"C{cid}"
    assert types[f"DEAL_STAGE_{cid}"]["SEMANTIC_INFO"]["FINAL_SUCCESS_FIELD"] == f"C{cid}:WON"
    items = result(sb, "crm.status.entity.items", {"entityId": "STATUS"})
    assert items[0] == {"NAME": "Not processed", "SORT": 10, "STATUS_ID": "NEW"}
    fields = result(sb, "crm.status.fields")
    assert fields["STATUS_ID"]["isImmutable"] is True and fields["ID"]["isReadOnly"] is True
    lead_stages = stages(sb, "STATUS")
    assert [s["SYSTEM"] for s in lead_stages] == ["Y", "N", "N", "Y", "Y"]
    assert (
        fail(sb, "crm.status.update", {"id": 0, "fields": {"NAME": "x"}})["error_description"]
        == "Invalid identifier."
    )


def test_category_update_and_smart_process_default(sb: Sandbox) -> None:
    cid = new_pipeline(sb, "Old")
    updated = result(
        sb,
        "crm.category.update",
        {"entityTypeId": 2, "id": cid, "fields": {"name": "New", "sort": -5, "isDefault": "Y"}},
    )["category"]
    assert (updated["name"], updated["sort"], updated["isDefault"]) == ("New", 0, "N")
    etid = new_smart_process(sb)["entityTypeId"]
    second = result(
        sb,
        "crm.category.add",
        {"entityTypeId": etid, "fields": {"name": "Second", "isDefault": "Y"}},
    )["category"]
    listed = result(sb, "crm.category.list", {"entityTypeId": etid})["categories"]
    assert [c["isDefault"] for c in listed if c["id"] != second["id"]] == ["N"]
    assert (
        fail(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": " "}})["error"] == "0"
    )
    plain = result(sb, "crm.type.add", {"fields": {"title": "No funnels"}})["type"]
    body = fail(sb, "crm.category.list", {"entityTypeId": plain["entityTypeId"]})
    assert body["error"] == "ENTITY_TYPE_NOT_SUPPORTED"


def test_userfieldconfig_pages_updates_and_deletes(sb: Sandbox) -> None:
    kind = new_smart_process(sb)
    entity = f"CRM_{kind['id']}"
    cmds = {
        f"f{i}": f"userfieldconfig.add?moduleId=crm&field[entityId]={entity}"
        f"&field[fieldName]=UF_{entity}_F{i}&field[userTypeId]=string"
        for i in range(50)
    }
    assert result(sb, "batch", {"cmd": cmds})["result_error"] == []
    enum = result(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": entity,
                "fieldName": f"UF_{entity}_KIND",
                "userTypeId": "enumeration",
                "enum": [{"value": "A"}, {"value": ""}, {"value": "B"}],
            },
        },
    )["field"]
    assert [e["value"] for e in enum["enum"]] == ["A", "B"]
    first = ok(sb, "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": entity}})
    assert (len(first["result"]["fields"]), first["total"], first["next"]) == (50, 51, 50)
    second = ok(
        sb, "userfieldconfig.list", {"moduleId": "crm", "filter": {"entityId": entity}, "start": 50}
    )
    assert [f["fieldName"] for f in second["result"]["fields"]] == [f"UF_{entity}_KIND"]
    a_id = enum["enum"][0]["id"]
    # enum items change only when userTypeId is sent along
    same = result(
        sb,
        "userfieldconfig.update",
        {"moduleId": "crm", "id": enum["id"], "field": {"enum": [{"id": a_id, "del": "Y"}]}},
    )["field"]
    assert len(same["enum"]) == 2
    changed = result(
        sb,
        "userfieldconfig.update",
        {
            "moduleId": "crm",
            "id": enum["id"],
            "field": {
                "userTypeId": "enumeration",
                "enum": [{"id": a_id, "del": "Y"}],
                "mandatory": "Y",
            },
        },
    )["field"]
    assert [e["value"] for e in changed["enum"]] == ["B"] and changed["mandatory"] == "Y"
    # delete answers null; a deleted id is answered like a refusal, not "not found" (§7.3)
    assert result(sb, "userfieldconfig.delete", {"moduleId": "crm", "id": enum["id"]}) is None
    gone = fail(sb, "userfieldconfig.get", {"moduleId": "crm", "id": enum["id"]})
    assert gone == {
        "error": "",
        "error_description": "You do not have permission to view user field settings",
    }
    duplicate = fail(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {"entityId": entity, "fieldName": f"UF_{entity}_F1", "userTypeId": "string"},
        },
    )
    assert "already exists" in duplicate["error_description"]
    # the same fields are visible to the legacy family's storage, not to crm.deal.userfield
    assert result(sb, "crm.deal.userfield.list") == []


def test_legacy_userfield_errors(sb: Sandbox) -> None:
    body = fail(sb, "crm.deal.userfield.add", {"fields": {"LABEL": "x"}})
    assert body["error_description"] == (
        "The 'FIELD_NAME' field is not found.\nThe 'USER_TYPE_ID' field is not found."
    )
    fid = result(
        sb, "crm.lead.userfield.add", {"fields": {"FIELD_NAME": "A", "USER_TYPE_ID": "string"}}
    )
    assert fail(sb, "crm.deal.userfield.get", {"id": fid}, status=403)["error"] == ("ACCESS_DENIED")
    assert fail(sb, "crm.lead.userfield.get", {"id": 9999})["error"] == "ERROR_NOT_FOUND"
    assert (
        fail(
            sb,
            "crm.lead.userfield.add",
            {"fields": {"FIELD_NAME": "B", "USER_TYPE_ID": "nonsense"}},
        )["error"]
        == "ERROR_CORE"
    )
    assert result(sb, "crm.lead.userfield.delete", {"id": fid}) is True
    assert result(sb, "crm.lead.userfield.list") == []


def test_userfield_add_details(sb: Sandbox) -> None:
    fid = result(
        sb,
        "crm.deal.userfield.add",
        {
            "fields": {
                "FIELD_NAME": "OWNER",
                "USER_TYPE_ID": "employee",
                "SHOW_FILTER": "Y",
                "LABEL": {"en": "Owner", "ru": "Владелец"},
                "EDIT_FORM_LABEL": {"en": "Deal owner"},
            }
        },
    )
    got = result(sb, "crm.deal.userfield.get", {"id": fid})
    assert got["SHOW_FILTER"] == "I"  # employee fields store the filter flag as I
    assert got["EDIT_FORM_LABEL"]["en"] == "Deal owner"
    assert got["EDIT_FORM_LABEL"]["ru"] == "Владелец"  # missing languages fall back to LABEL
    assert got["LIST_COLUMN_LABEL"] == {"en": "Owner", "ru": "Владелец", "de": ""}
    link = result(
        sb, "crm.deal.userfield.add", {"fields": {"FIELD_NAME": "LINK", "USER_TYPE_ID": "crm"}}
    )
    assert result(sb, "crm.deal.userfield.get", {"id": link})["SETTINGS"]["LEAD"] == "Y"


def test_smart_process_types(sb: Sandbox) -> None:
    kind = result(
        sb,
        "crm.type.add",
        {
            "fields": {
                "title": "Ремонт",
                "entityTypeId": 1032,
                "isCategoriesEnabled": "Y",
                "relations": {
                    "parent": [
                        {"entityTypeId": 2, "isChildrenListEnabled": "true"},
                        {"entityTypeId": 3, "isChildrenListEnabled": "Y"},
                    ]
                },
            }
        },
    )["type"]
    assert kind["entityTypeId"] == 1032
    assert [r["isChildrenListEnabled"] for r in kind["relations"]["parent"]] == ["Y", "N"]
    assert (
        fail(sb, "crm.type.add", {"fields": {"title": "x", "entityTypeId": 1031}})["error"]
        == "INVALID_ARG_VALUE"
    )
    assert result(sb, "crm.type.get", {"id": kind["id"]})["type"]["title"] == "Ремонт"
    updated = result(
        sb,
        "crm.type.update",
        {"id": kind["id"], "fields": {"title": "Сервис", "isAutomationEnabled": "Y"}},
    )["type"]
    assert (updated["title"], updated["isAutomationEnabled"]) == ("Сервис", "Y")
    missing = fail(sb, "crm.type.update", {"id": 999, "fields": {"title": "x"}})
    assert missing["error"] == 0 and missing["error_description"] == "SPA not found"
    by_etid = result(sb, "crm.type.getByEntityTypeId", {"entityTypeId": 1032})
    assert by_etid["type"]["id"] == kind["id"]
    result(sb, "crm.item.add", {"entityTypeId": 1032, "fields": {"title": "Заказ"}})
    body = fail(sb, "crm.type.delete", {"id": kind["id"]})
    assert body["error"] == "BX_ERROR"


def test_item_list_counts_by_category_and_stage(sb: Sandbox) -> None:
    etid = new_smart_process(sb)["entityTypeId"]
    category = result(sb, "crm.category.list", {"entityTypeId": etid})["categories"][0]["id"]
    prep = f"DT{etid}_{category}:PREPARATION"
    for stage in (prep, prep, f"DT{etid}_{category}:SUCCESS"):
        item = result(sb, "crm.item.add", {"entityTypeId": etid, "fields": {"stageId": stage}})
        assert item["item"]["categoryId"] == category
    counted = ok(
        sb,
        "crm.item.list",
        {
            "entityTypeId": etid,
            "filter": {"categoryId": category, "stageId": prep},
            "select": ["id"],
        },
    )
    assert counted["total"] == 2 and counted["result"]["items"][0] == {"id": 1}
    closed = ok(sb, "crm.item.list", {"entityTypeId": etid, "filter": {"stageSemanticId": "S"}})
    assert closed["total"] == 1 and closed["result"]["items"][0]["closed"] == "Y"
    assert fail(sb, "crm.item.list", {"entityTypeId": 999})["error"] == "NOT_FOUND"


def test_users_and_departments(sb: Sandbox) -> None:
    me = result(sb, "user.current")
    assert me["ID"] == "1" and me["ACTIVE"] is True and me["UF_DEPARTMENT"] == [1]
    sales = ok(sb, "user.get", {"FILTER": {"UF_DEPARTMENT": 2}, "sort": "ID", "order": "DESC"})
    assert [u["ID"] for u in sales["result"]] == ["4", "3", "2"] and sales["total"] == 3
    assert result(sb, "user.get", {"NAME": "Игорь"})[0]["LAST_NAME"] == "Петров"
    departments = result(sb, "department.get")
    assert {d["NAME"]: d["UF_HEAD"] for d in departments}["Отдел продаж"] == "2"


def test_deal_update_moves_and_recomputes(sb: Sandbox) -> None:
    deal = result(sb, "crm.deal.add", {"fields": {"TITLE": "Move me"}})
    row = result(sb, "crm.deal.get", {"id": deal})
    assert (row["STAGE_ID"], row["STAGE_SEMANTIC_ID"], row["CLOSED"]) == ("NEW", "P", "N")
    result(sb, "crm.deal.update", {"id": deal, "fields": {"STAGE_ID": "WON"}})
    row = result(sb, "crm.deal.get", {"id": deal})
    assert (row["STAGE_ID"], row["STAGE_SEMANTIC_ID"], row["CLOSED"]) == ("WON", "S", "Y")
    cid = new_pipeline(sb)
    result(sb, "crm.deal.update", {"id": deal, "fields": {"CATEGORY_ID": cid}})
    assert result(sb, "crm.deal.get", {"id": deal})["STAGE_ID"] == f"C{cid}:NEW"
    assert fail(sb, "crm.deal.get", {"id": 999}) == {"error": "", "error_description": "Not found"}


def test_card_layouts_keep_per_funnel_and_scope_and_refuse_like_the_docs() -> None:
    from crmkit.sandbox import start_sandbox

    with start_sandbox(port=0, rate=None) as sb:
        assert result(sb, "crm.item.details.configuration.get", {"entityTypeId": 2}) is None
        data = [
            {
                "name": "main",
                "title": "Main",
                "type": "section",
                "elements": [{"name": "TITLE", "optionFlags": 1}, {"name": "STAGE_ID"}],
            }
        ]
        assert (
            result(
                sb,
                "crm.item.details.configuration.set",
                {"entityTypeId": 2, "scope": "C", "extras": {"dealCategoryId": 0}, "data": data},
            )
            is True
        )
        got = result(
            sb,
            "crm.item.details.configuration.get",
            {"entityTypeId": 2, "scope": "C", "extras": {"dealCategoryId": 0}},
        )
        assert got[0]["elements"] == [
            {"name": "TITLE", "optionFlags": "1"},
            {"name": "STAGE_ID", "optionFlags": "0"},
        ]
        # personal and other funnels are apart
        assert result(sb, "crm.item.details.configuration.get", {"entityTypeId": 2}) is None
        bad = fail(
            sb,
            "crm.item.details.configuration.set",
            {"entityTypeId": 2, "data": [{"name": "x", "type": "section"}]},
        )
        assert bad == {"error": "", "error_description": "Section at index 0 does not have title."}
        unknown = fail(sb, "crm.item.details.configuration.get", {"entityTypeId": 777})
        assert "not supported in current context" in unknown["error_description"]
    with start_sandbox(port=0, rate=None, admin=False) as sb:
        common = {"entityTypeId": 2, "scope": "C"}
        assert result(sb, "crm.item.details.configuration.get", common) is None  # may read
        refused = fail(sb, "crm.item.details.configuration.set", {**common, "data": data})
        assert refused == {"error": "", "error_description": "Access denied."}


def test_the_deprecated_dealcategory_methods_serve_the_same_pipelines() -> None:
    from crmkit.sandbox import start_sandbox

    with start_sandbox(port=0, rate=None, portal_lang="ru") as sb:
        assert result(sb, "crm.dealcategory.default.get") == {"ID": 0, "NAME": "Общая"}
        cid = result(sb, "crm.dealcategory.add", {"fields": {"NAME": "Опт", "SORT": "20"}})
        assert isinstance(cid, int)
        listed = result(sb, "crm.dealcategory.list", {})
        assert [row["NAME"] for row in listed] == ["Опт"]  # the default one is not listed
        assert listed[0]["ID"] == str(cid) and listed[0]["SORT"] == "20"
        assert result(sb, "crm.dealcategory.status", {"id": cid}) == f"DEAL_STAGE_{cid}"
        assert result(sb, "crm.dealcategory.status", {"id": 0}) == "DEAL_STAGE"
        stages = result(sb, "crm.dealcategory.stage.list", {"id": cid})
        assert stages[0]["STATUS_ID"] == f"C{cid}:NEW" and stages[0]["NAME"] == "Новая"
        assert result(sb, "crm.dealcategory.stage.list", {"id": 999}) == []
        assert result(sb, "crm.dealcategory.update", {"id": cid, "fields": {"NAME": "Опт-2"}})
        category = result(sb, "crm.category.get", {"entityTypeId": 2, "id": cid})["category"]
        assert category["name"] == "Опт-2"
        assert result(sb, "crm.dealcategory.default.set", {"name": "Основная"}) is True
        assert result(sb, "crm.dealcategory.default.get")["NAME"] == "Основная"
        assert result(sb, "crm.dealcategory.delete", {"id": cid}) is True
        assert fail(sb, "crm.dealcategory.get", {"id": cid})["error"] == ""

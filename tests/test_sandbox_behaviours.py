"""One test (or a few) per behaviour of BITRIX24.md §5, over real HTTP to the sandbox."""

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


def add_stage(sb: Sandbox, entity_id: str, code: str, **extra: Any) -> Any:
    fields = {"ENTITY_ID": entity_id, "STATUS_ID": code, "NAME": code.title(), **extra}
    return ok(sb, "crm.status.add", {"fields": fields})["result"]


# §5.1 -----------------------------------------------------------------------------------------
def test_1_stage_codes_are_prefixed_once_per_pipeline(sb: Sandbox) -> None:
    cid = new_pipeline(sb)
    add_stage(sb, f"DEAL_STAGE_{cid}", "NEW_X", SORT=15)
    add_stage(sb, f"DEAL_STAGE_{cid}", f"C{cid}:ALREADY", SORT=16)
    codes = [s["STATUS_ID"] for s in stages(sb, f"DEAL_STAGE_{cid}")]
    assert f"C{cid}:NEW_X" in codes and "NEW_X" not in codes
    assert f"C{cid}:ALREADY" in codes and f"C{cid}:C{cid}:ALREADY" not in codes
    add_stage(sb, "DEAL_STAGE", "PLAIN", SORT=15)  # the default pipeline has no prefix
    assert "PLAIN" in [s["STATUS_ID"] for s in stages(sb, "DEAL_STAGE")]


def test_1_smart_process_stages_use_the_dt_prefix(sb: Sandbox) -> None:
    etid = new_smart_process(sb)["entityTypeId"]
    category = result(sb, "crm.category.list", {"entityTypeId": etid})["categories"][0]
    entity_id = f"DYNAMIC_{etid}_STAGE_{category['id']}"
    add_stage(sb, entity_id, "MY_STAGE", SORT=25)
    assert f"DT{etid}_{category['id']}:MY_STAGE" in [s["STATUS_ID"] for s in stages(sb, entity_id)]


# §5.2 -----------------------------------------------------------------------------------------
def test_2_a_new_pipeline_comes_with_its_default_stages(sb: Sandbox) -> None:
    cid = new_pipeline(sb)
    rows = stages(sb, f"DEAL_STAGE_{cid}")
    assert [r["STATUS_ID"] for r in rows] == [
        f"C{cid}:{code}"
        for code in (
            "NEW",
            "PREPARATION",
            "PREPAYMENT_INVOICE",
            "EXECUTING",
            "FINAL_INVOICE",
            "WON",
            "LOSE",
            "APOLOGY",
        )
    ]
    assert {r["STATUS_ID"]: r["SYSTEM"] for r in rows}[f"C{cid}:WON"] == "Y"
    again = fail(
        sb,
        "crm.status.add",
        {"fields": {"ENTITY_ID": f"DEAL_STAGE_{cid}", "STATUS_ID": "NEW", "NAME": "Новая"}},
    )
    assert again == {
        "error": "ERROR_CORE",
        "error_description": "The specified status ID already exists.",
    }


def test_2_a_new_smart_process_funnel_has_five_stages(sb: Sandbox) -> None:
    etid = new_smart_process(sb)["entityTypeId"]
    added = result(sb, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "B2B"}})
    cid = added["category"]["id"]
    rows = stages(sb, f"DYNAMIC_{etid}_STAGE_{cid}")
    assert [r["SEMANTICS"] for r in rows] == [None, None, None, "S", "F"]
    assert all(r["STATUS_ID"].startswith(f"DT{etid}_{cid}:") for r in rows)


# §5.3 -----------------------------------------------------------------------------------------
def test_3_system_stages_need_forced_and_occupied_stages_refuse(sb: Sandbox) -> None:
    cid = new_pipeline(sb)
    by_code = {r["STATUS_ID"]: r for r in stages(sb, f"DEAL_STAGE_{cid}")}
    won = by_code[f"C{cid}:WON"]["ID"]
    refused = fail(sb, "crm.status.delete", {"id": won})
    assert refused["error"] == ""
    assert "FORCED" in refused["error_description"]
    # FORCED deletes a system stage, but never the one success stage (the last of its group)
    last = fail(sb, "crm.status.delete", {"id": won, "params": {"FORCED": "Y"}})
    assert last["error"] == "" and "last stage of a group" in last["error_description"]
    lose = by_code[f"C{cid}:LOSE"]["ID"]  # APOLOGY is a failure stage too
    assert result(sb, "crm.status.delete", {"id": lose, "params": {"FORCED": "Y"}}) is True
    apology = by_code[f"C{cid}:APOLOGY"]["ID"]
    assert "last stage" in fail(sb, "crm.status.delete", {"id": apology})["error_description"]
    busy = by_code[f"C{cid}:EXECUTING"]
    result(
        sb,
        "crm.deal.add",
        {"fields": {"TITLE": "x", "CATEGORY_ID": cid, "STAGE_ID": busy["STATUS_ID"]}},
    )
    for params in ({"id": busy["ID"]}, {"id": busy["ID"], "params": {"FORCED": "Y"}}):
        body = fail(sb, "crm.status.delete", params)
        assert body == {"error": "", "error_description": "There are active items in this status."}


def test_3_default_and_non_empty_pipelines_refuse_deletion(sb: Sandbox) -> None:
    assert fail(sb, "crm.category.delete", {"entityTypeId": 2, "id": 0})["error"] == "0"
    cid = new_pipeline(sb)
    deal = result(sb, "crm.deal.add", {"fields": {"TITLE": "x", "CATEGORY_ID": cid}})
    assert fail(sb, "crm.category.delete", {"entityTypeId": 2, "id": cid})["error"] == "0"
    result(sb, "crm.deal.delete", {"id": deal})
    assert ok(sb, "crm.category.delete", {"entityTypeId": 2, "id": cid})["result"] is None
    assert stages(sb, f"DEAL_STAGE_{cid}") == []

    etid = new_smart_process(sb)["entityTypeId"]
    default = result(sb, "crm.category.list", {"entityTypeId": etid})["categories"][0]
    body = fail(sb, "crm.category.delete", {"entityTypeId": etid, "id": default["id"]})
    assert body["error"] == "BX_ERROR"
    other = result(sb, "crm.category.add", {"entityTypeId": etid, "fields": {"name": "B"}})
    other_id = other["category"]["id"]
    result(sb, "crm.item.add", {"entityTypeId": etid, "fields": {"categoryId": other_id}})
    body = fail(sb, "crm.category.delete", {"entityTypeId": etid, "id": other_id})
    assert body == {
        "error": "BX_ERROR",
        "error_description": "Elements related to the funnel found",
    }


# §5.4 -----------------------------------------------------------------------------------------
def test_4_update_ignores_immutable_fields(sb: Sandbox) -> None:
    rid = add_stage(sb, "STATUS", "CALLBACK_WAIT", SORT=25)
    fields = {
        "NAME": "Ждёт звонка",
        "SORT": 26,
        "STATUS_ID": "OTHER",
        "ENTITY_ID": "SOURCE",
        "SEMANTICS": "S",
        "COLOR": "#112233",
    }
    assert result(sb, "crm.status.update", {"id": rid, "fields": fields}) is True
    row = result(sb, "crm.status.get", {"id": rid})
    assert (row["NAME"], row["SORT"], row["COLOR"]) == ("Ждёт звонка", "26", "#112233")
    assert (row["STATUS_ID"], row["ENTITY_ID"], row["SEMANTICS"]) == (
        "CALLBACK_WAIT",
        "STATUS",
        None,
    )


def test_4_in_progress_after_success_is_refused_failure_is_fine(sb: Sandbox) -> None:
    body = fail(
        sb,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "DEAL_STAGE", "STATUS_ID": "LATE", "NAME": "Late", "SORT": 65}},
    )
    assert body["error"] == ""
    assert body["error_description"].startswith(
        "Cannot create more stages after the final stage because the final successful stage "
        "already exists"
    )
    add_stage(sb, "DEAL_STAGE", "NO_BUDGET", SORT=75, SEMANTICS="F")
    rows = {r["STATUS_ID"]: r for r in stages(sb, "DEAL_STAGE")}
    assert rows["NO_BUDGET"]["SEMANTICS"] == "F"
    assert rows["NO_BUDGET"]["EXTRA"]["SEMANTICS"] == "failure"
    assert rows["EXECUTING"]["SEMANTICS"] is None  # in progress reads back as null
    assert rows["WON"]["SEMANTICS"] == "S"


# §5.5 -----------------------------------------------------------------------------------------
def test_5_batch_partial_failure_is_http_200_with_result_error(sb: Sandbox) -> None:
    body = result(
        sb,
        "batch",
        {
            "halt": 0,
            "cmd": {
                "s_ok": "crm.status.list?filter[ENTITY_ID]=STATUS",
                "s_bad": "crm.status.add?fields[ENTITY_ID]=STATUS",
                "s_none": "crm.nosuch.method",
                "s_after": "user.current",
            },
        },
    )
    assert set(body["result"]) == {"s_ok", "s_after"}
    assert body["result_error"]["s_bad"]["error"] == ""
    assert body["result_error"]["s_none"]["error"] == "ERROR_METHOD_NOT_FOUND"
    assert body["result_total"] == {"s_ok": 5}
    assert set(body["result_time"]) == {"s_ok", "s_after"}


def test_5_batch_halt_stops_at_the_first_error(sb: Sandbox) -> None:
    body = result(
        sb,
        "batch",
        {"halt": 1, "cmd": {"a": "user.current", "b": "crm.nosuch.method", "c": "user.current"}},
    )
    assert set(body["result"]) == {"a"} and set(body["result_error"]) == {"b"}


def test_5_batch_result_references(sb: Sandbox) -> None:
    body = result(
        sb,
        "batch",
        {
            "halt": 1,
            "cmd": {
                "cat": "crm.category.add?entityTypeId=2&fields[name]=Tenders",
                "stage": "crm.status.add?fields[ENTITY_ID]=DEAL_STAGE_$result[cat][category][id]"
                "&fields[STATUS_ID]=BID&fields[NAME]=Bid&fields[SORT]=15",
                "got": "crm.status.get?id=$result[stage]",
            },
        },
    )
    cid = body["result"]["cat"]["category"]["id"]
    assert body["result"]["got"]["STATUS_ID"] == f"C{cid}:BID"


def test_5_batch_length_and_nesting_limits(sb: Sandbox) -> None:
    too_many = {f"c{i}": "user.current" for i in range(51)}
    body = fail(sb, "batch", {"cmd": too_many})
    assert body["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
    assert len(result(sb, "batch", {"cmd": dict(list(too_many.items())[:50])})["result"]) == 50
    nested = result(sb, "batch", {"cmd": {"inner": "batch?cmd[x]=user.current"}})
    assert nested["result_error"]["inner"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"


# §5.6 -----------------------------------------------------------------------------------------
def test_6_php_array_shapes_of_batch_members(sb: Sandbox) -> None:
    all_failed = result(sb, "batch", {"cmd": {"x": "no.such", "y": "no.such"}})
    assert all_failed["result"] == [] and all_failed["result_total"] == []
    assert isinstance(all_failed["result_error"], dict)
    numbered = result(sb, "batch", {"cmd": ["no.such", "no.such", "user.current"]})
    assert isinstance(numbered["result_error"], list) and len(numbered["result_error"]) == 2
    assert numbered["result"] == {"2": numbered["result"]["2"]}  # keys not 0..n-1: an object
    none_failed = result(sb, "batch", {"cmd": {"a": "user.current"}})
    assert none_failed["result_error"] == []


# §5.7 is in test_sandbox_limits.py (the leaky bucket, 429 modes, forced 503s).


# §5.8 -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("manager_note", "UF_CRM_MANAGER_NOTE"),
        ("UF_MANAGER_NOTE", "UF_CRM_MANAGER_NOTE"),
        ("UF_CRM_KEEP", "UF_CRM_KEEP"),
    ],
)
def test_8_userfield_names_are_normalised(sb: Sandbox, sent: str, stored: str) -> None:
    fid = result(
        sb,
        "crm.deal.userfield.add",
        {"fields": {"FIELD_NAME": sent, "USER_TYPE_ID": "string", "LABEL": "Note"}},
    )
    assert isinstance(fid, int)
    assert result(sb, "crm.deal.userfield.get", {"id": fid})["FIELD_NAME"] == stored


def test_8_userfield_name_rules_and_type_rules(sb: Sandbox) -> None:
    def add(name: str, kind: str = "string", **extra: Any) -> Any:
        return post_uf(sb, {"FIELD_NAME": name, "USER_TYPE_ID": kind, **extra})

    assert add("X" * 44)[1]["error"] == "ERROR_CORE"  # 7 + 44 > 50
    assert add("X" * 43)[0] == 200
    assert add("ПОЛЕ")[1]["error"] == "ERROR_CORE"
    assert add("BAD-NAME")[1]["error"] == "ERROR_CORE"
    assert add("X" * 43)[1]["error"] == "ERROR_CORE"  # duplicate
    status, fid = add("FLAG", "boolean", MULTIPLE="Y")
    assert status == 200 and result(sb, "crm.deal.userfield.get", {"id": fid})["MULTIPLE"] == "N"
    status, fid = add("KIND", "enumeration", LIST=[{"VALUE": "A"}, {"VALUE": ""}, {"VALUE": "B"}])
    values = [i["VALUE"] for i in result(sb, "crm.deal.userfield.get", {"id": fid})["LIST"]]
    assert values == ["A", "B"]


def post_uf(sb: Sandbox, fields: dict[str, Any]) -> tuple[int, Any]:
    from sandbox_util import post

    response = post(sb, "crm.deal.userfield.add", {"fields": fields})
    body = response.json()
    return response.status_code, body.get("result", body)


def test_8_userfieldconfig_does_not_prefix(sb: Sandbox) -> None:
    kind = new_smart_process(sb)
    entity = f"CRM_{kind['id']}"
    bad = fail(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {"entityId": entity, "fieldName": "COLOR", "userTypeId": "string"},
        },
    )
    assert bad["error"] == ""
    good = result(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": entity,
                "fieldName": f"UF_{entity}_COLOR",
                "userTypeId": "string",
                "editFormLabel": {"en": "Colour", "ru": "Цвет"},
            },
        },
    )["field"]
    assert good["fieldName"] == f"UF_{entity}_COLOR" and isinstance(good["id"], int)
    assert good["editFormLabel"]["ru"] == "Цвет"


# §5.9 -----------------------------------------------------------------------------------------
def test_9_immutable_attributes_labels_replaced_list_items_by_id(sb: Sandbox) -> None:
    fid = result(
        sb,
        "crm.lead.userfield.add",
        {
            "fields": {
                "FIELD_NAME": "SEGMENT",
                "USER_TYPE_ID": "enumeration",
                "MULTIPLE": "N",
                "EDIT_FORM_LABEL": {"en": "Segment", "ru": "Сегмент"},
                "LIST": [
                    {"VALUE": "SMB", "SORT": 10},
                    {"VALUE": "Enterprise", "SORT": 20},
                    {"VALUE": "Gov", "SORT": 30},
                ],
            }
        },
    )
    before = result(sb, "crm.lead.userfield.get", {"id": fid})
    smb, enterprise, gov = before["LIST"]
    assert (
        result(
            sb,
            "crm.lead.userfield.update",
            {
                "id": fid,
                "fields": {
                    "FIELD_NAME": "UF_CRM_OTHER",
                    "USER_TYPE_ID": "string",
                    "MULTIPLE": "Y",
                    "EDIT_FORM_LABEL": {"ru": "Сегмент клиента"},
                    "LIST": [
                        {"ID": smb["ID"], "VALUE": "Small business"},
                        {"ID": gov["ID"], "DEL": "Y"},
                        {"VALUE": "Retail", "SORT": 40},
                    ],
                },
            },
        )
        is True
    )
    after = result(sb, "crm.lead.userfield.get", {"id": fid})
    assert (after["FIELD_NAME"], after["USER_TYPE_ID"], after["MULTIPLE"]) == (
        "UF_CRM_SEGMENT",
        "enumeration",
        "N",
    )
    assert after["EDIT_FORM_LABEL"]["ru"] == "Сегмент клиента"
    assert after["EDIT_FORM_LABEL"]["en"] == ""  # not passed: replaced by ''
    assert [(i["ID"], i["VALUE"]) for i in after["LIST"]][:2] == [
        (smb["ID"], "Small business"),
        (enterprise["ID"], "Enterprise"),
    ]
    assert [i["VALUE"] for i in after["LIST"]] == ["Small business", "Enterprise", "Retail"]


# §5.10 ----------------------------------------------------------------------------------------
def test_10_labels_absent_from_list_unless_lang_strings_then_maps_in_get(sb: Sandbox) -> None:
    fid = result(
        sb,
        "crm.company.userfield.add",
        {
            "fields": {
                "FIELD_NAME": "INN",
                "USER_TYPE_ID": "string",
                "LABEL": "ИНН",
                "LIST_COLUMN_LABEL": {"en": "Tax ID", "ru": "ИНН"},
            }
        },
    )
    plain = result(sb, "crm.company.userfield.list", {})
    assert len(plain) == 1 and "EDIT_FORM_LABEL" not in plain[0]
    english = result(sb, "crm.company.userfield.list", {"filter": {"LANG": "en"}})
    assert english[0]["LIST_COLUMN_LABEL"] == "Tax ID" and english[0]["EDIT_FORM_LABEL"] == "ИНН"
    maps = result(sb, "crm.company.userfield.get", {"id": fid})
    assert set(maps["LIST_COLUMN_LABEL"]) >= {"en", "ru"}
    assert maps["LIST_COLUMN_LABEL"]["en"] == "Tax ID"


# §5.11 ----------------------------------------------------------------------------------------
def test_11_pages_of_fifty_with_total_and_next(sb: Sandbox) -> None:
    cmds = {f"l{i}": f"crm.lead.add?fields[TITLE]=Lead {i}" for i in range(50)}
    result(sb, "batch", {"cmd": cmds})
    cmds = {f"m{i}": f"crm.lead.add?fields[TITLE]=Lead {50 + i}" for i in range(30)}
    result(sb, "batch", {"cmd": cmds})
    first = ok(sb, "crm.lead.list", {"select": ["ID"]})
    assert (len(first["result"]), first["total"], first["next"]) == (50, 80, 50)
    last = ok(sb, "crm.lead.list", {"select": ["ID"], "start": first["next"]})
    assert (len(last["result"]), last["total"]) == (30, 80) and "next" not in last
    fast = ok(sb, "crm.lead.list", {"start": -1, "select": ["ID"]})
    assert fast["total"] == 0 and "next" not in fast and len(fast["result"]) == 50
    seen: list[int] = []
    last_id = 0
    while True:  # keyset: order ID ASC, >ID, start=-1, stop on a short page
        page = result(
            sb,
            "crm.lead.list",
            {"order": {"ID": "ASC"}, "filter": {">ID": last_id}, "select": ["ID"], "start": -1},
        )
        seen += [int(r["ID"]) for r in page]
        if len(page) < 50:
            break
        last_id = int(page[-1]["ID"])
    assert seen == list(range(1, 81))


def test_11_status_and_userfield_lists_are_not_paged(sb: Sandbox) -> None:
    everything = ok(sb, "crm.status.list", {})
    assert len(everything["result"]) == everything["total"] > 50 and "next" not in everything
    cmds = {
        f"f{i}": f"crm.contact.userfield.add?fields[FIELD_NAME]=F{i}&fields[USER_TYPE_ID]=string"
        for i in range(50)
    }
    result(sb, "batch", {"cmd": cmds})
    result(
        sb,
        "crm.contact.userfield.add",
        {"fields": {"FIELD_NAME": "LAST", "USER_TYPE_ID": "string"}},
    )
    fields = ok(sb, "crm.contact.userfield.list", {})
    assert len(fields["result"]) == fields["total"] == 51 and "next" not in fields


# §5.12 ----------------------------------------------------------------------------------------
def test_12_shapes_differ_by_family(sb: Sandbox) -> None:
    rid = result(
        sb,
        "crm.status.add",
        {"fields": {"ENTITY_ID": "SOURCE", "STATUS_ID": "FAIR", "NAME": "Fair"}},
    )
    assert isinstance(rid, int)
    row = result(sb, "crm.status.get", {"id": rid})
    assert isinstance(row["ID"], str) and isinstance(row["SORT"], str)
    categories = ok(sb, "crm.category.list", {"entityTypeId": 2})
    default = categories["result"]["categories"][0]
    assert default["id"] == 0 and default["isDefault"] == "Y" and categories["total"] == 1
    added = result(sb, "crm.category.add", {"entityTypeId": 2, "fields": {"name": "B"}})
    assert isinstance(added["category"]["id"], int)
    got = result(sb, "crm.category.get", {"entityTypeId": 2, "id": added["category"]["id"]})
    assert got["category"]["name"] == "B"
    deal = result(sb, "crm.deal.add", {"fields": {"TITLE": "Shape"}})
    assert isinstance(deal, int)
    assert result(sb, "crm.deal.get", {"id": deal})["ID"] == str(deal)
    items = result(sb, "crm.item.list", {"entityTypeId": 2})["items"]
    assert items[0]["id"] == deal and isinstance(items[0]["id"], int)
    kind = new_smart_process(sb)
    assert isinstance(kind["id"], int) and 128 <= kind["entityTypeId"] <= 192
    assert result(sb, "crm.type.delete", {"id": kind["id"]}) == []


# §5.13 ----------------------------------------------------------------------------------------
def test_13_legacy_errors_have_an_empty_code_and_joined_messages(sb: Sandbox) -> None:
    body = fail(sb, "crm.status.add", {"fields": {"NAME": "x"}})
    assert body == {
        "error": "",
        "error_description": "The field ENTITY_ID is required.\nThe field STATUS_ID is required.",
    }
    assert fail(sb, "crm.status.get", {"id": 99999})["error_description"] == "Status is not found."


def test_13_codes_of_the_newer_families(sb: Sandbox) -> None:
    assert fail(sb, "crm.category.list", {"entityTypeId": 1})["error"] == (
        "ENTITY_TYPE_NOT_SUPPORTED"
    )
    assert fail(sb, "crm.category.get", {"entityTypeId": 2, "id": 777})["error"] == "NOT_FOUND"
    assert fail(sb, "crm.category.list", {"entityTypeId": 190})["error"] == "NOT_FOUND"
    assert fail(sb, "crm.type.add", {})["error"] == "100"
    body = fail(sb, "crm.type.add", {"fields": {"title": "T", "entityTypeId": 200}})
    assert body["error"] == "INVALID_ARG_VALUE"


def test_13_system_errors(sb: Sandbox) -> None:
    import requests

    wrong = sb.webhook_url.replace(sb.code, "wrongcode")
    response = requests.post(wrong + "crm.status.list", json={}, timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "error": "NO_AUTH_FOUND",
        "error_description": "Wrong authorization data",
    }
    other_user = sb.webhook_url.replace("/rest/1/", "/rest/2/")
    assert requests.post(other_user + "user.current", timeout=5).status_code == 401
    assert fail(sb, "crm.nothing.here", status=404)["error"] == "ERROR_METHOD_NOT_FOUND"
    for method in (
        "bizproc.robot.add",
        "crm.automation.trigger.add",
        "bizproc.workflow.template.add",
    ):
        body = fail(sb, method, {"CODE": "x"}, status=403)
        assert body == {
            "error": "ACCESS_DENIED",
            "error_description": "Access denied! Application context required",
        }


def test_13_missing_scope_is_403_insufficient_scope() -> None:
    with start_sandbox(port=0, rate=None, scopes=["crm", "user"]) as sb:
        assert result(sb, "user.current")["ID"] == "1"
        body = fail(sb, "userfieldconfig.list", {"moduleId": "crm"}, status=403)
        assert body["error"] == "insufficient_scope"
        assert fail(sb, "bizproc.robot.add", status=403)["error"] == "insufficient_scope"
    with start_sandbox(port=0, rate=None, scopes=["user"]) as sb:
        assert fail(sb, "crm.status.list", status=403)["error"] == "insufficient_scope"
        batch = result(sb, "batch", {"cmd": {"s": "crm.status.list"}})  # batch: scope basic
        assert batch["result_error"]["s"]["error"] == "insufficient_scope"


# §5.14 ----------------------------------------------------------------------------------------
def test_14_filter_operators_on_deals(sb: Sandbox) -> None:
    for title, amount, stage in (
        ("Alpha", 100, "NEW"),
        ("Beta", 200, "WON"),
        ("Gamma", 300, "NEW"),
        ("alphabet", 400, "LOSE"),
    ):
        result(
            sb,
            "crm.deal.add",
            {"fields": {"TITLE": title, "OPPORTUNITY": amount, "STAGE_ID": stage}},
        )

    def titles(conditions: Any) -> list[str]:
        rows = result(sb, "crm.deal.list", {"filter": conditions, "select": ["TITLE"]})
        return [r["TITLE"] for r in rows]

    assert titles({">=OPPORTUNITY": 200}) == ["Beta", "Gamma", "alphabet"]
    assert titles({"<OPPORTUNITY": 200}) == ["Alpha"]
    assert titles({"!STAGE_ID": "NEW"}) == ["Beta", "alphabet"]
    assert titles({"@STAGE_ID": ["WON", "LOSE"]}) == ["Beta", "alphabet"]
    assert titles({"%TITLE": "alpha"}) == ["Alpha", "alphabet"]
    assert titles({"STAGE_SEMANTIC_ID": "F"}) == ["alphabet"]
    for bad in (None, "STAGE_ID=NEW"):
        body = fail(sb, "crm.deal.list", {"filter": bad})
        assert body == {"error": "", "error_description": "Parameter 'filter' must be array."}


def test_14_boolean_user_fields_filter_with_1_and_0(sb: Sandbox) -> None:
    kind = new_smart_process(sb)
    entity, etid = f"CRM_{kind['id']}", kind["entityTypeId"]
    result(
        sb,
        "userfieldconfig.add",
        {
            "moduleId": "crm",
            "field": {
                "entityId": entity,
                "fieldName": f"UF_{entity}_URGENT",
                "userTypeId": "boolean",
            },
        },
    )
    key = f"ufCrm{kind['id']}Urgent"
    result(sb, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "a", key: "Y"}})
    result(sb, "crm.item.add", {"entityTypeId": etid, "fields": {"title": "b", key: "N"}})

    def count(value: Any) -> int:
        envelope = ok(
            sb, "crm.item.list", {"entityTypeId": etid, "filter": {key: value}, "select": ["id"]}
        )
        return int(envelope["total"])

    assert (count(1), count(0), count("Y")) == (1, 1, 0)


def test_14_activity_bindings_filter(sb: Sandbox) -> None:
    d1 = result(sb, "crm.deal.add", {"fields": {"TITLE": "one"}})
    d2 = result(sb, "crm.deal.add", {"fields": {"TITLE": "two"}})
    result(
        sb,
        "crm.activity.add",
        {
            "fields": {
                "OWNER_TYPE_ID": 2,
                "OWNER_ID": d1,
                "SUBJECT": "call",
                "COMPLETED": "N",
                "DEADLINE": "2020-01-01T10:00:00+03:00",
            }
        },
    )
    result(
        sb,
        "crm.activity.add",
        {"fields": {"OWNER_TYPE_ID": 2, "OWNER_ID": d2, "SUBJECT": "done", "COMPLETED": "Y"}},
    )
    rows = result(
        sb,
        "crm.activity.list",
        {
            "filter": {"BINDINGS": [{"OWNER_TYPE_ID": 2, "OWNER_ID": d1}]},
            "select": ["ID", "SUBJECT"],
        },
    )
    assert [r["SUBJECT"] for r in rows] == ["call"]
    overdue = result(
        sb,
        "crm.activity.list",
        {
            "filter": {
                "OWNER_TYPE_ID": 2,
                "COMPLETED": "N",
                "<DEADLINE": "2025-01-01T00:00:00+03:00",
            }
        },
    )
    assert [r["OWNER_ID"] for r in overdue] == [str(d1)]


# §5.15 ----------------------------------------------------------------------------------------
def test_15_no_idempotency_for_pipelines_and_types(sb: Sandbox) -> None:
    first, second = new_pipeline(sb, "Тендеры"), new_pipeline(sb, "Тендеры")
    assert first != second
    names = [c["name"] for c in result(sb, "crm.category.list", {"entityTypeId": 2})["categories"]]
    assert names.count("Тендеры") == 2
    a, b = new_smart_process(sb, "Доставка"), new_smart_process(sb, "Доставка")
    assert a["entityTypeId"] != b["entityTypeId"]
    listed = ok(sb, "crm.type.list", {"filter": {"title": "Доставка"}})
    assert listed["total"] == 2

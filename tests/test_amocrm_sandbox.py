"""The amoCRM sandbox's settings API over real HTTP (docs/amocrm-sandbox.md): pipelines and their
system statuses, the palette, the refusals and limits, custom fields, loss reasons."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from amo_util import call, errors_of, new_pipeline, ok, pipeline_model, refused

from crmkit.sandbox.amocrm import AmoSandbox, start_amocrm_sandbox
from crmkit.sandbox.amocrm.account import PALETTE

PIPELINES = "/api/v4/leads/pipelines"


@pytest.fixture
def sb() -> Iterator[AmoSandbox]:
    with start_amocrm_sandbox(port=0, rate=None) as account:
        yield account
        assert account.internal_errors == []


def test_a_fresh_account_has_one_main_pipeline_with_its_system_statuses(sb: AmoSandbox) -> None:
    body = ok(sb, "GET", PIPELINES)
    assert body["_total_items"] == 1 and body["_links"]["self"]["href"].endswith(PIPELINES)
    (main,) = body["_embedded"]["pipelines"]
    assert main["is_main"] and main["name"] == "Воронка"
    statuses = main["_embedded"]["statuses"]
    assert [s["name"] for s in statuses] == [
        "Неразобранное",
        "Первичный контакт",
        "Принимают решение",
        "Успешно реализовано",
        "Закрыто и не реализовано",
    ]
    unsorted, *_ordinary, won, lost = statuses
    assert (unsorted["type"], unsorted["color"], unsorted["is_editable"]) == (1, "#c1c1c1", False)
    assert (won["id"], won["color"], won["is_editable"]) == (142, "#CCFF66", False)
    assert (lost["id"], lost["color"], lost["is_editable"]) == (143, "#D5D8DB", False)
    assert all(s["pipeline_id"] == main["id"] for s in statuses)
    one = ok(sb, "GET", f"{PIPELINES}/{main['id']}")
    assert one["_embedded"]["statuses"] == statuses
    listed = ok(sb, "GET", f"{PIPELINES}/{main['id']}/statuses", **{"with": "descriptions"})
    assert [s["id"] for s in listed["_embedded"]["statuses"]] == [s["id"] for s in statuses]
    assert listed["_embedded"]["statuses"][1]["descriptions"] == []
    status = ok(sb, "GET", f"{PIPELINES}/{main['id']}/statuses/142")
    assert status["name"] == "Успешно реализовано"
    assert refused(sb, "GET", f"{PIPELINES}/1", status=404)["title"] == "Not Found"


def test_a_new_pipeline_gets_the_system_statuses_and_names_for_142_and_143(
    sb: AmoSandbox,
) -> None:
    models = [
        pipeline_model(
            "Опт",
            request_id="wholesale",
            _embedded={
                "statuses": [
                    {"id": 142, "name": "Отгружено"},
                    {"name": "Квалификация", "sort": 10, "color": "#FFFEB2"},
                    {"name": "Счёт", "sort": 20},
                ]
            },
        ),
        pipeline_model("Розница", is_main=True),
    ]
    made = ok(sb, "POST", PIPELINES, models)["_embedded"]["pipelines"]
    assert [p["request_id"] for p in made] == ["wholesale", "1"]
    names = [(s["name"], s["color"]) for s in made[0]["_embedded"]["statuses"]]
    assert names == [
        ("Неразобранное", "#c1c1c1"),
        ("Квалификация", "#fffeb2"),
        ("Счёт", PALETTE[0]),
        ("Отгружено", "#CCFF66"),
        ("Закрыто и не реализовано", "#D5D8DB"),
    ]
    assert [s["id"] for s in made[1]["_embedded"]["statuses"]][1:] == [142, 143]
    mains = [p["name"] for p in ok(sb, "GET", PIPELINES)["_embedded"]["pipelines"] if p["is_main"]]
    assert mains == ["Розница"]


def test_colours_outside_the_palette_and_missing_keys_fail_the_whole_batch(
    sb: AmoSandbox,
) -> None:
    models = [
        pipeline_model("Годная"),
        {"name": "Без сортировки", "is_main": False, "is_unsorted_on": "yes"},
        pipeline_model("Цвет", _embedded={"statuses": [{"name": "A", "sort": 1, "color": "red"}]}),
        pipeline_model("Чужой id", _embedded={"statuses": [{"id": 7, "name": "X"}]}),
    ]
    problem = refused(sb, "POST", PIPELINES, models)
    assert problem["detail"] == "Request validation failed" and problem["title"] == "Bad Request"
    assert errors_of(problem) == [
        ("1", "FieldMissing", "sort"),
        ("1", "InvalidType", "is_unsorted_on"),
        ("2", "NotSupportedChoice", "_embedded.statuses.0.color"),
        ("3", "NotSupportedChoice", "_embedded.statuses.0.id"),
    ]
    choice = problem["validation-errors"][1]["errors"][0]
    assert choice["detail"] == "The value you selected is not a valid choice."
    assert len(ok(sb, "GET", PIPELINES)["_embedded"]["pipelines"]) == 1  # nothing was made


def test_statuses_add_edit_delete_and_the_system_ones_refuse(sb: AmoSandbox) -> None:
    pipeline = new_pipeline(sb)
    pid = pipeline["id"]
    base = f"{PIPELINES}/{pid}/statuses"
    added = ok(
        sb,
        "POST",
        base,
        [
            {"name": "Звонок", "sort": 10, "request_id": "r1"},
            {"name": "КП", "sort": 20, "color": "#98cbff"},
        ],
    )
    assert [s["request_id"] for s in added["_embedded"]["statuses"]] == ["r1", "1"]
    first, second = (s["id"] for s in added["_embedded"]["statuses"])
    bad = refused(sb, "POST", base, [{"name": "X", "sort": 1, "color": "#123456"}])
    assert errors_of(bad) == [("0", "NotSupportedChoice", "color")]
    edited = ok(sb, "PATCH", f"{base}/{second}", {"name": "Коммерческое", "color": "#ebffb1"})
    assert (edited["name"], edited["color"], edited["request_id"]) == (
        "Коммерческое",
        "#ebffb1",
        "0",
    )
    assert errors_of(refused(sb, "PATCH", f"{base}/{second}", {"color": "#000"})) == [
        ("0", "NotSupportedChoice", "color")
    ]
    unsorted = pipeline["_embedded"]["statuses"][0]["id"]
    for system in (142, 143, unsorted):
        refused(sb, "PATCH", f"{base}/{system}", {"name": "Иначе"})
        refused(sb, "DELETE", f"{base}/{system}")
    lead = ok(sb, "POST", "/api/v4/leads", [{"pipeline_id": pid, "status_id": second}])
    lead_id = lead["_embedded"]["leads"][0]["id"]
    gone = call(sb, "DELETE", f"{base}/{second}")
    assert gone.status_code == 204 and gone.content == b""
    assert ok(sb, "GET", f"/api/v4/leads/{lead_id}")["status_id"] == first
    assert call(sb, "GET", f"{base}/{second}").status_code == 404


def test_the_last_pipeline_and_a_pipeline_with_leads_cannot_be_deleted(sb: AmoSandbox) -> None:
    (main,) = ok(sb, "GET", PIPELINES)["_embedded"]["pipelines"]
    assert "последнюю" in refused(sb, "DELETE", f"{PIPELINES}/{main['id']}")["detail"]
    other = new_pipeline(sb, "Вторая")
    ok(sb, "POST", "/api/v4/leads", [{"pipeline_id": other["id"]}])
    assert "есть сделки" in refused(sb, "DELETE", f"{PIPELINES}/{other['id']}")["detail"]
    assert call(sb, "DELETE", f"{PIPELINES}/{main['id']}").status_code == 204
    (left,) = ok(sb, "GET", PIPELINES)["_embedded"]["pipelines"]
    assert left["id"] == other["id"] and left["is_main"]  # one pipeline is always the main one
    edited = ok(sb, "PATCH", f"{PIPELINES}/{other['id']}", {"name": "Единственная", "sort": 3})
    assert (edited["name"], edited["sort"]) == ("Единственная", 3)
    assert errors_of(refused(sb, "PATCH", f"{PIPELINES}/{other['id']}", {"sort": "3"})) == [
        ("0", "InvalidType", "sort")
    ]


def test_at_most_50_pipelines_and_100_statuses_a_pipeline(sb: AmoSandbox) -> None:
    statuses = [{"name": f"С{n}", "sort": n} for n in range(98)]
    crowded = pipeline_model("Много", _embedded={"statuses": statuses})
    assert errors_of(refused(sb, "POST", PIPELINES, [crowded])) == [
        ("0", "LimitExceeded", "_embedded.statuses")
    ]
    pid = new_pipeline(sb, "Почти полная", statuses=statuses[:96])["id"]
    base = f"{PIPELINES}/{pid}/statuses"
    ok(sb, "POST", base, statuses[:1])  # 3 system + 97 = 100
    assert errors_of(refused(sb, "POST", base, [{"name": "101-й", "sort": 1}])) == [
        ("0", "LimitExceeded", "")
    ]
    many = [pipeline_model(f"В{n}") for n in range(49)]
    assert errors_of(refused(sb, "POST", PIPELINES, many)) == [("48", "LimitExceeded", "")]
    ok(sb, "POST", PIPELINES, many[:48])
    assert len(ok(sb, "GET", PIPELINES)["_embedded"]["pipelines"]) == 50
    refused(sb, "POST", PIPELINES, [pipeline_model("51-я")])


def test_lead_fields_with_enums_and_required_statuses(sb: AmoSandbox) -> None:
    pipeline = new_pipeline(sb, statuses=[{"name": "Договор", "sort": 10}])
    pid = pipeline["id"]
    contract = pipeline["_embedded"]["statuses"][1]["id"]
    base = "/api/v4/leads/custom_fields"
    model = {
        "name": "Тип клиента",
        "type": "select",
        "request_id": "kind",
        "enums": [{"value": "Новый", "sort": 1}, {"value": "Постоянный", "sort": 2}],
        "required_statuses": [{"pipeline_id": pid, "status_id": contract}],
    }
    created = call(sb, "POST", base, [model, {"name": "Комментарий", "type": "textarea"}])
    assert created.status_code == 201
    field, note = created.json()["_embedded"]["custom_fields"]
    assert field["request_id"] == "kind" and field["entity_type"] == "leads"
    assert field["required_statuses"] == [{"status_id": contract, "pipeline_id": pid}]
    assert [e["value"] for e in field["enums"]] == ["Новый", "Постоянный"] and note["enums"] is None
    wrong = [
        {"name": "Без вариантов", "type": "select"},
        {
            "name": "Чужой этап",
            "type": "text",
            "required_statuses": [{"pipeline_id": pid, "status_id": 1}],
        },
        {"name": "Телефон", "type": "multitext"},
        {"type": "text"},
    ]
    assert errors_of(refused(sb, "POST", base, wrong)) == [
        ("0", "FieldMissing", "enums"),
        ("1", "NotSupportedChoice", "required_statuses.0.status_id"),
        ("2", "NotSupportedChoice", "type"),
        ("3", "FieldMissing", "name"),
    ]
    kept = field["enums"][1]
    patched = call(
        sb,
        "PATCH",
        f"{base}/{field['id']}",
        {"enums": [kept, {"value": "VIP", "sort": 3}], "required_statuses": []},
    )
    assert patched.status_code == 201
    enums = patched.json()["enums"]
    assert [e["value"] for e in enums] == ["Постоянный", "VIP"] and enums[0]["id"] == kept["id"]
    assert patched.json()["required_statuses"] == []
    listed = ok(sb, "GET", base)
    assert listed["_total_items"] == 2 and listed["_page_count"] == 1
    assert call(sb, "DELETE", f"{base}/{field['id']}").status_code == 204
    assert call(sb, "GET", f"{base}/{field['id']}").status_code == 404


def test_contact_fields_and_the_50_field_page(sb: AmoSandbox) -> None:
    fields = ok(sb, "GET", "/api/v4/contacts/custom_fields")["_embedded"]["custom_fields"]
    phone = next(f for f in fields if f["code"] == "PHONE")
    assert phone["type"] == "multitext" and phone["is_predefined"] and not phone["is_deletable"]
    assert (
        "удалить"
        in refused(sb, "DELETE", f"/api/v4/contacts/custom_fields/{phone['id']}")["detail"]
    )
    ok(
        sb,
        "POST",
        "/api/v4/companies/custom_fields",
        [{"name": f"П{n}", "type": "text"} for n in range(60)],
    )
    page = ok(sb, "GET", "/api/v4/companies/custom_fields", limit="250")
    assert len(page["_embedded"]["custom_fields"]) == 50 and page["_page_count"] == 2
    assert "next" in page["_links"]
    second = ok(sb, "GET", "/api/v4/companies/custom_fields", page="2")
    assert len(second["_embedded"]["custom_fields"]) == 10
    assert call(sb, "GET", "/api/v4/companies/custom_fields", page="3").status_code == 204


def test_loss_reasons(sb: AmoSandbox) -> None:
    base = "/api/v4/leads/loss_reasons"
    assert call(sb, "GET", base).status_code == 204
    made = ok(
        sb, "POST", base, [{"name": "Дорого", "request_id": "1"}, {"name": "Не целевой", "sort": 5}]
    )
    first, second = made["_embedded"]["loss_reasons"]
    assert (first["request_id"], second["request_id"]) == ("1", "1")
    listed = ok(sb, "GET", base)["_embedded"]["loss_reasons"]
    assert [r["name"] for r in listed] == ["Не целевой", "Дорого"]  # by sort
    assert (
        ok(sb, "PATCH", f"{base}/{first['id']}", {"name": "Слишком дорого"})["name"]
        == "Слишком дорого"
    )
    lead = ok(sb, "POST", "/api/v4/leads", [{"status_id": 143, "loss_reason_id": first["id"]}])
    lead_id = lead["_embedded"]["leads"][0]["id"]
    shown = ok(sb, "GET", f"/api/v4/leads/{lead_id}", **{"with": "loss_reason"})
    assert shown["_embedded"]["loss_reason"][0]["name"] == "Слишком дорого"
    assert call(sb, "PATCH", base, [{"id": first["id"], "name": "x"}]).status_code == 405
    assert call(sb, "DELETE", f"{base}/{first['id']}").status_code == 204
    assert ok(sb, "GET", f"/api/v4/leads/{lead_id}")["loss_reason_id"] is None
    assert errors_of(refused(sb, "POST", base, [{"sort": 1}])) == [("0", "FieldMissing", "name")]


def test_settings_need_an_administrator() -> None:
    with start_amocrm_sandbox(port=0, rate=None, admin=False) as sb:
        assert refused(sb, "POST", PIPELINES, [pipeline_model()], status=403)
        refused(
            sb, "POST", "/api/v4/leads/custom_fields", [{"name": "x", "type": "text"}], status=403
        )
        ok(sb, "GET", PIPELINES)
        ok(sb, "POST", "/api/v4/leads", [{"name": "Можно"}])  # by the user's rights

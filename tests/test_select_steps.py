"""Steps 1–3 and 5 as small table-driven cases: problems → functions, cloud vs boxed,
knock-outs (verified or not) and the vendor questions they raise."""

from __future__ import annotations

import pytest

from crmkit.files import parse_toml
from crmkit.select.catalog import shipped_catalog
from crmkit.select.deployment import recommend
from crmkit.select.problems import library, step1_table
from crmkit.select.run import run_selection
from crmkit.select.selection import read_selection


def run(text: str):
    catalog, lib = shipped_catalog(), library()
    selection = read_selection(parse_toml(text, "s.toml"), catalog, lib, partial=True)
    return run_selection(selection, catalog, lib)


def test_step1_maps_the_seed_problems_to_functions():
    lib = library()
    table = step1_table(
        [lib.problems["forgotten_callbacks"], lib.problems["forgotten_invoices"]], lib
    )
    assert [f.id for f in table.rows[0].functions] == ["tasks", "call_retry", "automation"]
    assert table.functions[0].id == "tasks" and table.solves["tasks"] == 2
    assert {f.module for f in lib.functions.values()} == set(lib.modules)


@pytest.mark.parametrize(
    ("answers", "decision", "expected", "basis"),
    [
        ({}, None, "either", "no-answers"),
        ({"access": "cloud", "payment": "boxed"}, None, "cloud", "draw"),
        ({"access": "boxed", "payment": "boxed", "help": "cloud"}, None, "boxed", "majority"),
        ({"access": "cloud", "payment": "cloud", "storage": "boxed"}, None, "boxed", "decisive"),
        ({"access": "cloud"}, "boxed", "boxed", "chosen"),
    ],
)
def test_step2_recommendation(answers, decision, expected, basis):
    rec = recommend(answers, decision)
    assert (rec.deployment, rec.basis) == (expected, basis)
    assert len(rec.reasons) == len(answers)


def test_boxed_keeps_only_confirmed_or_unknown_and_asks_the_vendor():
    result = run('[deployment]\nstorage = "boxed"\n[shortlist]\nsize = 5\n')
    assert result.step2.deployment == "boxed"
    chosen = {c.system: c for c in result.step3.chosen}
    assert "freshoffice" in chosen and not chosen["freshoffice"].open_checks  # cloud and boxed
    others = [c for c in chosen.values() if c.system != "freshoffice"]
    assert all(any(k.rule == "deployment" for k in c.open_checks) for c in others)


def test_free_plan_knockouts_are_unverified_until_confirmed():
    text = 'users = 5\n[shortlist]\nfree_plan_users = 5\nfunctions = ["funnel"]\n'
    result = run(text)
    knocked = {k.system: k for k in result.step3.knocked_out}
    assert set(knocked) >= {"amocrm", "s2", "megaplan"}
    assert knocked["amocrm"].reason("en") == "no free plan"
    assert "the free plan covers 3 users, 5 needed" in knocked["s2"].reason("en")
    assert "on the free plan" in knocked["megaplan"].reason(
        "en"
    )  # no funnel on Megaplan's free plan
    assert not knocked["amocrm"].verified
    sheets = {s.system: s for s in result.step5}
    assert [q.kind for q in sheets["amocrm"].questions] == ["knockout"]
    assert sheets["amocrm"].questions[0].id == "knockout-free_plan-5"
    confirmed = run(text + 'verified = ["amocrm"]\n')
    assert {k.system: k.verified for k in confirmed.step3.knocked_out}["amocrm"]
    assert "amocrm" not in {s.system for s in confirmed.step5}


def test_user_add_and_remove_win_over_the_rules():
    text = '[shortlist]\nfree_plan_users = 5\nadd = ["amocrm"]\nremove = {bitrix24 = "too big"}\n'
    result = run(text)
    assert "amocrm" in result.step3.ids and "bitrix24" not in result.step3.ids
    removed = result.step3.knockout("bitrix24")
    assert removed is not None and removed.verified and "too big" in removed.reason("en")


def test_vendor_answers_are_recorded_and_shown():
    text = (
        '[shortlist]\nsize = 5\n[vendor]\nfinalists = ["bitrix24"]\n'
        '[vendor.bitrix24]\ndiscount = "10% for a year"\n'
    )
    sheet = next(s for s in run(text).step5 if s.system == "bitrix24")
    assert sheet.finalist
    assert {q.id: q.answer for q in sheet.questions}["discount"] == "10% for a year"
    assert len([q for q in sheet.questions if q.kind == "standard"]) == 7


# -- what the catalog confirms, what it does not know, and the place for a little-known system --


def test_a_little_known_system_reaches_the_shortlist_with_its_vendor_questions():
    from crmkit.select.report import render_markdown, render_text, to_data

    result = run('[problems]\nselected = ["forgotten_callbacks", "no_sales_analytics"]\n')
    little = [c for c in result.step3.chosen if c.little_known]
    # no must-have: one place goes to a system the catalog knows only by name
    assert len(little) == 1 and little[0].reserved
    seat = little[0]
    assert seat.system == "prostoy_biznes"  # the first the source lists
    assert (seat.confirmed, seat.unknown, seat.lacking) == (0.0, 1.0, 0.0)
    assert len(result.step3.chosen) == result.step3.size
    # the others it would have displaced stay on the list of those that passed
    assert any(not c.little_known for c in result.step3.others)
    # every step-1 need the catalog does not confirm becomes a vendor question
    sheet = next(s for s in result.step5 if s.system == seat.system)
    asked = {q.id for q in sheet.questions}
    needs = set(result.step1.solves) - {"access_rights"}  # asked by the standard hide_data
    assert {f"check-need-{fn}" for fn in needs} <= asked
    bitrix = next(s for s in result.step5 if s.system == "bitrix24")
    known = {fn for fn in needs if result.catalog.get("bitrix24").has_function(fn) == "yes"}
    assert known and not {f"check-need-{fn}" for fn in known} & {q.id for q in bitrix.questions}
    # the report calls the figure what it is and keeps the unknown apart
    text = render_text(result, "en")
    assert "Confirmed by the catalog" in text and "Unknown to the catalog" in text
    assert "Fit to step 1" not in text and "knows only by name" in text
    md = render_markdown(result, "ru")
    assert "Подтверждено каталогом" in md and "Каталогу неизвестно" in md
    assert "Соответствие шагу 1" not in md
    row = next(r for r in to_data(result, "en")["steps"]["shortlist"]["chosen"] if r["reserved"])
    assert (row["confirmed"], row["unknown"], row["lacking"]) == (0.0, 1.0, 0.0)
    assert row["unconfirmed_needs"] and all(
        n["fact"] == "unknown" for n in row["unconfirmed_needs"]
    )


def test_the_place_is_not_kept_with_must_haves_or_after_removing_one():
    base = '[problems]\nselected = ["forgotten_callbacks"]\n[shortlist]\n'
    with_must = run(base + 'functions = ["tasks"]\n')
    assert not any(c.little_known for c in with_must.step3.chosen)
    removed = run(base + 'remove = {prostoy_biznes = "not for us"}\n')
    assert not any(c.little_known for c in removed.step3.chosen)
    # one already on the list (added by the consultant): no second place is kept
    added = run(base + 'add = ["intrumnet"]\n')
    assert [c.system for c in added.step3.chosen if c.little_known] == ["intrumnet"]


def test_unknown_is_kept_apart_from_no():
    # Megaplan's free plan lacks analytics and the funnel: a "no", not an unknown
    text = (
        '[problems]\nselected = ["no_sales_analytics"]\n'
        '[shortlist]\nfree_plan_users = 3\nadd = ["megaplan", "intrumnet"]\n'
    )
    chosen = {c.system: c for c in run(text).step3.chosen}
    assert (chosen["megaplan"].confirmed, chosen["megaplan"].lacking) == (0.0, 1.0)
    assert chosen["megaplan"].unknown == 0.0
    assert (chosen["intrumnet"].unknown, chosen["intrumnet"].lacking) == (1.0, 0.0)
    assert chosen["bitrix24"].confirmed == 1.0


def test_amocrm_remark_wherever_amocrm_is_chosen():
    from crmkit.select.conclude import conclude
    from crmkit.select.report import render_text

    text = '[problems]\nselected = ["forgotten_callbacks"]\n[vendor]\nfinalists = ["amocrm"]\n'
    result = run(text)
    assert "amocrm" in result.step3.ids
    remark = "leads and deals are not separate"
    assert remark in render_text(result, "en")
    sheet = next(s for s in result.step5 if s.system == "amocrm")
    assert any(q.id == "check-leads_deals" for q in sheet.questions)
    catalog, lib = shipped_catalog(), library()
    selection = read_selection(parse_toml(text, "s.toml"), catalog, lib, partial=True)
    assert any(remark in line for line in conclude(3, selection, catalog, lib, "en"))
    assert any(
        "лиды и сделки не разделены" in line for line in conclude(3, selection, catalog, lib, "ru")
    )
    # Bitrix24 keeps them apart: no such remark for it
    assert not any(
        q.id == "check-leads_deals"
        for s in result.step5
        if s.system == "bitrix24"
        for q in s.questions
    )


def test_the_report_steps_carry_what_seed_001_and_002_advise():
    from crmkit.select.report import render_markdown

    md = render_markdown(run('[problems]\nselected = ["forgotten_callbacks"]\n'), "ru")
    step = {n: md[md.index(f"## Шаг {n}.") :] for n in (1, 2, 3, 5)}
    assert "карту процессов" in step[1] and "коллаборативные" in step[1]
    assert "По назначению — для продаж, для маркетинга" in step[1]
    assert "подходит малому и среднему бизнесу" in step[2]
    assert "обычно это 14 дней" in step[3]
    assert "отечественный разработчик" in step[3] and "сообщество интеграторов" in step[3]
    assert "опишите менеджеру вендора проблемы" in step[5]

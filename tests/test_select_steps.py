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

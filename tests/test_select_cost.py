"""The selection's Monte-Carlo varies scores by their confidence, and the cost of ownership:
arithmetic, budget knock-out, cost criterion, unknown price → vendor question, read errors."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from crmkit.files import parse_toml
from crmkit.i18n import Text
from crmkit.select import matrix
from crmkit.select.catalog import load_catalog, read_catalog, shipped_catalog
from crmkit.select.cost import (
    CostInputs,
    LicencePrice,
    SystemCostInput,
    cost_of_ownership,
    cost_scores,
)
from crmkit.select.matrix import (
    SCORE_SPREAD,
    Criterion,
    Score,
    _extreme_mean,
    evaluate,
    win_probability,
)
from crmkit.select.problems import library
from crmkit.select.report import render_markdown, to_data
from crmkit.select.run import run_selection
from crmkit.select.selection import read_selection

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "selection.toml"
EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")

# -- Monte-Carlo over weights and scores -------------------------------------------------------

CRITERIA = ["a", "b", "c"]
WEIGHTS = {"a": 0.5, "b": 0.3, "c": 0.2}
#: A is ahead on every criterion: varying the weights alone can never make B win
DOMINANT = {"A": {"a": 4.0, "b": 4.0, "c": 4.0}, "B": {"a": 3.6, "b": 3.6, "c": 3.6}}


def _confidence(level: str) -> dict[str, dict[str, str]]:
    return {s: dict.fromkeys(CRITERIA, level) for s in DOMINANT}


def test_weights_alone_give_100_percent_scores_with_low_confidence_do_not() -> None:
    assert win_probability(WEIGHTS, DOMINANT, seed=5) == {"A": 1.0, "B": 0.0}
    low = win_probability(WEIGHTS, DOMINANT, seed=5, confidence=_confidence("low"))
    assert 0.5 < low["A"] < 1.0 and 0.0 < low["B"] < 0.5
    assert low["A"] + low["B"] == pytest.approx(1.0)
    high = win_probability(WEIGHTS, DOMINANT, seed=5, confidence=_confidence("high"))
    assert low["A"] < high["A"] <= 1.0  # surer scores, surer winner


def test_same_seed_same_shares_other_seed_other_draws() -> None:
    conf = _confidence("medium")
    one = win_probability(WEIGHTS, DOMINANT, seed=11, confidence=conf)
    assert one == win_probability(WEIGHTS, DOMINANT, seed=11, confidence=conf)
    assert one != win_probability(WEIGHTS, DOMINANT, seed=12, confidence=conf)


def test_a_system_that_cannot_win_gets_exactly_zero_and_pruning_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    values = {f"s{i}": {c: float(rng.randint(1, 5)) for c in CRITERIA} for i in range(6)}
    values["floor"] = dict.fromkeys(CRITERIA, 1.0)
    conf = {s: {c: rng.choice(["high", "medium", "low"]) for c in CRITERIA} for s in values}
    pruned = win_probability(WEIGHTS, values, seed=9, confidence=conf)
    assert pruned["floor"] == 0.0
    monkeypatch.setattr(matrix, "_can_win", lambda ranges, *_: list(range(len(ranges))))
    assert win_probability(WEIGHTS, values, seed=9, confidence=conf) == pruned


def test_extreme_mean_is_the_extreme_over_every_corner_of_the_weight_box() -> None:
    rng = random.Random(1)
    for _ in range(200):
        n = rng.randint(1, 6)
        x = [rng.uniform(1, 5) for _ in range(n)]
        low = [rng.uniform(0, 1) for _ in range(n)]
        high = [w * rng.uniform(1, 2) for w in low]
        corners = [
            sum(w * v for w, v in zip(ws, x, strict=True)) / sum(ws)
            for ws in itertools.product(*zip(low, high, strict=True))
            if sum(ws) > 0
        ]
        assert _extreme_mean(x, low, high, lowest=True) == pytest.approx(min(corners))
        assert _extreme_mean(x, low, high, lowest=False) == pytest.approx(max(corners))


def test_evaluate_varies_scores_and_the_verdict_follows_their_confidence() -> None:
    criteria = [Criterion(c, Text(c, c)) for c in CRITERIA]

    def scores(level: str) -> dict[str, dict[str, Score]]:
        return {
            s: {c: Score(v, "trial", level) for c, v in row.items()} for s, row in DOMINANT.items()
        }

    sure = evaluate(criteria, WEIGHTS, scores("high"), seed=1)
    unsure = evaluate(criteria, WEIGHTS, scores("low"), seed=1)
    assert sure.robustness.score_spread == SCORE_SPREAD
    assert sure.robustness.win["A"] >= 0.8 and sure.robustness.verdict == "decide_now"
    assert unsure.robustness.win["A"] < 0.8 and unsure.robustness.verdict == "pilot_top_two"
    assert evaluate(criteria, WEIGHTS, scores("low"), seed=1) == unsure


def test_the_report_says_what_was_varied() -> None:
    result = _run(EXAMPLE_TEXT)
    ru = render_markdown(result, "ru")
    assert (
        "веса ±20\u202f% и оценки по их уверенности: высокая ±0,25, средняя ±0,5, низкая ±1" in ru
    )
    en = render_markdown(result, "en")
    assert "high ±0.25, medium ±0.5, low ±1" in en
    rob = to_data(result, "en")["robustness"]
    assert rob["varied"] == ["weights", "scores"]
    assert rob["score_spread"] == {"high": 0.25, "medium": 0.5, "low": 1.0}
    assert rob["distribution"] == "uniform"
    assert 0 < rob["win_probability"]["bitrix24"] < 1  # no more 100 % from the weights alone


# -- cost of ownership ---------------------------------------------------------------------------


def test_cost_arithmetic_per_user_and_per_plan() -> None:
    inputs = CostInputs(
        users=12,
        years=3,
        systems={
            "x": SystemCostInput(
                licence_per_user_month=500,
                implementation=150_000,
                integrations=40_000,
                training=20_000,
                addons_per_year=12_000,
            ),
            "y": SystemCostInput(licence_plan_month=6_000, implementation=0, integrations=0),
        },
    )
    cost = cost_of_ownership(inputs, ["x", "y"], {}, users=None)
    x, y = cost.systems
    amounts = {i.item: i.amount for i in x.items}
    assert amounts == {
        "licences": 500 * 12 * 12 * 3,
        "implementation": 150_000,
        "integrations": 40_000,
        "training": 20_000,
        "addons": 36_000,
    }
    assert x.total == 216_000 + 150_000 + 40_000 + 20_000 + 36_000
    assert x.per_user_month == pytest.approx(x.total / (12 * 36))
    assert y.items[0].amount == 6_000 * 36 and y.items[0].basis == "plan_month"
    # training and add-ons not entered: unknown, so the total is too (the known part is kept)
    assert y.total is None and y.known == 216_000 and y.per_user_month is None


def test_catalog_price_with_its_date_and_unknown_price() -> None:
    fact = LicencePrice(per_user_month=990, currency="₽", as_of="2024-05")
    inputs = CostInputs(users=4, years=2, systems={"x": SystemCostInput(implementation=1)})
    cost = cost_of_ownership(inputs, ["x", "z"], {"x": fact}, users=None)
    licence = cost.systems[0].items[0]
    assert (licence.amount, licence.origin, licence.as_of) == (990 * 4 * 24, "catalog", "2024-05")
    assert cost.systems[1].items[0].origin == "unknown" and cost.systems[1].licence_unknown
    other_currency = LicencePrice(per_user_month=10, currency="$", as_of="2024")
    assert (
        cost_of_ownership(inputs, ["x"], {"x": other_currency}, users=None)
        .systems[0]
        .licence_unknown
    )


def test_cost_scores_cheapest_five_dearest_one_linear_between() -> None:
    inputs = CostInputs(
        users=1,
        years=1,
        systems={
            s: SystemCostInput(
                licence_plan_month=0,
                implementation=v,
                integrations=0,
                training=0,
                addons_per_year=0,
            )
            for s, v in (("a", 100.0), ("b", 200.0), ("c", 300.0))
        },
    )
    cost = cost_of_ownership(inputs, ["a", "b", "c", "d"], {}, users=None)
    assert cost_scores(cost.systems) == {"a": 5.0, "b": 3.0, "c": 1.0}
    assert cost_scores(cost.systems[:1]) == {"a": 5.0}


def _run(text: str, catalog_text: str | None = None):
    catalog = load_catalog(None)
    if catalog_text is not None:
        catalog = read_catalog(parse_toml(catalog_text, "extra.toml"), catalog)
    lib = library()
    selection = read_selection(parse_toml(text, "selection.toml"), catalog, lib)
    return run_selection(selection, catalog, lib)


def test_example_cost_table_unknown_licence_asks_the_vendor() -> None:
    result = _run(EXAMPLE_TEXT)
    assert result.cost is not None
    bitrix, amo = result.cost.of("bitrix24"), result.cost.of("amocrm")
    assert bitrix is not None and bitrix.total == 558_000
    assert amo is not None and amo.licence_unknown and amo.total is None
    asked = {q.id for sheet in result.step5 if sheet.system == "amocrm" for q in sheet.questions}
    assert "cost-licence" in asked
    asked_b24 = {q.id for s in result.step5 if s.system == "bitrix24" for q in s.questions}
    assert "cost-licence" not in asked_b24
    ru = render_markdown(result, "ru")
    assert (
        "| **Итого за 3 года** | **558\u202f000\u202f₽** | **не меньше 328\u202f000\u202f₽** |"
        in ru
    )
    assert "введено консультантом" in ru and "неизвестно — вопрос вендору" in ru
    data = to_data(result, "en")["cost"]
    assert data["years"] == 3 and data["currency"] == "₽" and data["budget"] == 700_000
    b24 = next(s for s in data["systems"] if s["system"] == "bitrix24")
    assert b24["total"] == 558_000 and b24["items"]["licences"]["origin"] == "input"
    json.dumps(data)  # plain JSON


def test_catalog_licence_fact_is_used_with_its_as_of_date() -> None:
    text = EXAMPLE_TEXT.replace("[cost.systems.amocrm]\n", "[cost.systems.amocrm]\n", 1)
    extra = '[systems.amocrm.licence]\nper_user_month = 1000\ncurrency = "₽"\nas_of = "2024-05"\n'
    result = _run(text, extra)
    assert result.cost is not None
    amo = result.cost.of("amocrm")
    assert amo is not None and amo.items[0].amount == 1000 * 8 * 36
    assert "каталог, цена на 2024-05" in render_markdown(result, "ru")
    asked = {q.id for sheet in result.step5 if sheet.system == "amocrm" for q in sheet.questions}
    assert "cost-licence" not in asked


def test_shipped_catalog_records_no_invented_price() -> None:
    assert all(system.licence is None for system in shipped_catalog())


def test_budget_knocks_out_a_system_whose_cost_is_above_it() -> None:
    result = _run(EXAMPLE_TEXT.replace("budget = 700000", "budget = 500000"))
    assert result.step4 is not None
    assert "bitrix24" not in [r.system for r in result.step4.ranking]
    out = next(e for e in result.step4.excluded if e.system == "bitrix24")
    assert "выше бюджета" in out.reason.ru and "above the budget" in out.reason.en
    assert result.step4.ranking[0].system == "amocrm"  # its known part (328 000) is within it
    assert "Выше бюджета: Битрикс24" in render_markdown(result, "ru")


COST_CRITERION = """
[[criteria]]
id = "funnel"
[[criteria]]
id = "cost"

[weights]
points = {funnel = 50, cost = 50}

[scores.bitrix24]
funnel = 4
[scores.amocrm]
funnel = 4
[scores.megaplan]
funnel = 4
[scores.s2]
funnel = 4

[cost]
users = 10
criterion = "cost"
[cost.systems.bitrix24]
licence_plan_month = 1000
implementation = 0
integrations = 0
training = 0
addons_per_year = 0
[cost.systems.amocrm]
licence_plan_month = 2000
implementation = 0
integrations = 0
training = 0
addons_per_year = 0
[cost.systems.megaplan]
licence_plan_month = 3000
implementation = 0
integrations = 0
training = 0
addons_per_year = 0
"""


def test_cost_criterion_scores_cheapest_five_and_leaves_unknown_open() -> None:
    result = _run(COST_CRITERION)
    m = result.step4
    assert m is not None
    assert m.scores["bitrix24"]["cost"].value == 5.0
    assert m.scores["amocrm"]["cost"].value == 3.0
    assert m.scores["megaplan"]["cost"].value == 1.0
    assert [r.system for r in m.ranking] == ["bitrix24", "amocrm", "megaplan"]
    assert "s2" not in m.scores  # its cost is unknown: the score is open, not guessed
    assert [o.system for o in result.open_scores] == ["s2"]
    assert result.cost is not None and result.cost.scores["amocrm"] == 3.0


# -- read errors: one line naming file:line:key, exit 2 -------------------------------------------

BAD_COST = {
    "unknown key": (
        "addons_per_year = 24000\n",
        "addons_per_year = 24000\nlicense = 5\n",
        "cost.systems.bitrix24.license",
        "license",
    ),
    "negative": (
        "implementation = 180000\n",
        "implementation = -1\n",
        "cost.systems.bitrix24.implementation",
        "negative",
    ),
    "wrong type": (
        "training = 30000\n",
        'training = "30 000"\n',
        "cost.systems.bitrix24.training",
        "number",
    ),
    "two licence prices": (
        "licence_plan_month = 6000",
        "licence_plan_month = 6000\nlicence_per_user_month = 500",
        "cost.systems.bitrix24.licence_plan_month",
        "one licence price",
    ),
}


@pytest.mark.parametrize("case", list(BAD_COST))
def test_bad_cost_input_is_one_line_with_file_line_key_exit_2(crmkit, tmp_path, case) -> None:
    old, new, key, words = BAD_COST[case]
    assert old in EXAMPLE_TEXT
    text = (
        EXAMPLE_TEXT.replace(old, new, 1)
        if case != "negative"
        else EXAMPLE_TEXT.replace("implementation = 180000\n", "implementation = -1\n", 1)
    )
    path = tmp_path / "selection.toml"
    path.write_text(text, encoding="utf-8")
    needle = new.splitlines()[-1] if case != "two licence prices" else "licence_plan_month = 6000"
    line = next(i for i, raw in enumerate(text.splitlines(), 1) if raw.startswith(needle))
    for lang in ("en", "ru"):
        got = crmkit("select", "--input", str(path), lang=lang)
        assert got.code == 2 and got.out == ""
        assert got.err.count("\n") == 1, got.err
        assert got.err.startswith(f"crmkit: {path}:{line}"), got.err
        assert key in got.err
        if lang == "en":
            assert words in got.err, got.err


def test_cost_criterion_must_be_a_criterion_and_is_not_scored_by_hand(crmkit, tmp_path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(EXAMPLE_TEXT.replace("budget = 700000", 'criterion = "price"'), "utf-8")
    got = crmkit("select", "--input", str(path))
    assert got.code == 2 and "cost.criterion" in got.err and "unknown criterion 'price'" in got.err
    text = COST_CRITERION.replace("[scores.s2]\nfunnel = 4", "[scores.s2]\nfunnel = 4\ncost = 3")
    path.write_text(text, "utf-8")
    got = crmkit("select", "--input", str(path))
    assert got.code == 2 and "scores.s2.cost" in got.err and "scored from the cost" in got.err


def test_catalog_licence_needs_a_date_and_one_price(crmkit, tmp_path) -> None:
    extra = tmp_path / "extra.toml"
    extra.write_text("[systems.amocrm.licence]\nper_user_month = 10\n", "utf-8")
    got = crmkit("select", "catalog", "--catalog", str(extra))
    assert got.code == 2 and "systems.amocrm.licence" in got.err and "as_of" in got.err
    extra.write_text(
        '[systems.amocrm.licence]\nper_user_month = 10\nplan_month = 5\nas_of = "2024"\n', "utf-8"
    )
    got = crmkit("select", "catalog", "--catalog", str(extra))
    assert got.code == 2 and "one price" in got.err

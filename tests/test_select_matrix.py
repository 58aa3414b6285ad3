"""Step 4 arithmetic: ranking and sensitivity against an independent brute force (hypothesis),
weights normalise, improving a score never lowers a rank, the absolute scale, AHP, Monte-Carlo."""

from __future__ import annotations

import math

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from crmkit.i18n import Text
from crmkit.select.matrix import (
    CR_LIMIT,
    SAATY_RANDOM_INDEX,
    Comparison,
    Criterion,
    Score,
    ahp,
    critical,
    evaluate,
    normalise,
    rank,
    sensitivity,
    win_probability,
)

# -- an independent brute force: plain sums, no shared code ----------------------------------------


def bf_score(weights: dict[str, float], row: dict[str, float]) -> float:
    return sum(weights[c] * row[c] for c in weights) / sum(weights.values())


def bf_leader(weights: dict[str, float], values: dict[str, dict[str, float]]) -> str:
    best_name, best = "", -1.0
    for name in sorted(values):
        s = bf_score(weights, values[name])
        if s > best + 1e-12:
            best_name, best = name, s
    return best_name


def bf_flip(weights: dict[str, float], values: dict[str, dict[str, float]], c: str):
    """Scan the weight of ``c`` on a fine grid both ways, then bisect the first change."""
    base = bf_leader(weights, values)
    w0 = weights[c]

    def leader_at(t: float) -> str:
        return bf_leader({**weights, c: t}, values)

    def first_change(points: list[float]) -> tuple[float, str] | None:
        prev = w0
        for t in points:
            if leader_at(t) != base:
                lo, hi = prev, t
                for _ in range(80):
                    mid = (lo + hi) / 2
                    if leader_at(mid) == base:
                        lo = mid
                    else:
                        hi = mid
                flip = (lo + hi) / 2
                # the new leader: a little past the flip (clear of rounding noise at a tie)
                return flip, leader_at(flip + (1e-7 if flip > w0 else -1e-7))
            prev = t
        return None

    up = first_change([w0 + (100 - w0) * (k / 1500) ** 2 for k in range(1, 1501)])
    others = sum(w for k, w in weights.items() if k != c)
    down_points = [w0 * (1 - k / 600) for k in range(1, 600)] if others > 0 else []
    down = first_change(down_points)
    if up is None and down is None:
        return None
    if up is None:
        return down
    if down is None:
        return up
    # equally near both ways (within the bisection's precision): crmkit reports the rise
    return up if (up[0] - w0) <= (w0 - down[0]) + 1e-9 else down


matrices = st.integers(min_value=2, max_value=5).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(min_value=1, max_value=10), min_size=n, max_size=n),
        st.lists(
            st.lists(st.integers(min_value=1, max_value=5), min_size=n, max_size=n),
            min_size=2,
            max_size=5,
        ),
    )
)


def build(points: list[int], rows: list[list[int]]):
    crits = [f"c{i}" for i in range(len(points))]
    weights = normalise(dict(zip(crits, map(float, points), strict=True)))
    values = {
        f"s{j}": {c: float(v) for c, v in zip(crits, row, strict=True)}
        for j, row in enumerate(rows)
    }
    return crits, weights, values


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_ranking_matches_brute_force(data):
    points, rows = data
    _, weights, values = build(points, rows)
    ranking = rank(weights, values)
    for r in ranking:
        assert r.score == pytest.approx(bf_score(weights, values[r.system]), abs=1e-12)
        higher = sum(
            1
            for s in values
            if bf_score(weights, values[s]) > bf_score(weights, values[r.system]) + 1e-9
        )
        assert r.rank == higher + 1
        assert sum(r.contributions.values()) == pytest.approx(r.score, abs=1e-12)
    # best first; systems that tie (equal to 9 decimals: float noise) are listed by id
    keys = [(-round(r.score, 9), r.system) for r in ranking]
    assert keys == sorted(keys)


@settings(max_examples=100, deadline=None)
@given(matrices)
@example(([1, 1], [[1, 2], [1, 1]]))  # a tie only at weight 0 is no flip
@example(([2, 4, 2, 3, 3], [[1, 2, 5, 3, 5], [2, 5, 2, 1, 5]]))  # ... nor 4e-16 from it
@example(([1] * 5, [[1] * 5, [1, 1, 2, 5, 5], [1, 1, 4, 1, 1], [1, 5, 1, 5, 5]]))  # 3-way tie
@example(([1, 2, 2], [[1, 1, 5], [3, 2, 2], [5, 2, 1]]))  # challengers tied for good
@example(([1, 1, 1], [[1, 3, 5], [3, 2, 5], [5, 1, 3]]))  # flips 1/6 below and above: the rise
@example(([2, 3], [[3, 4], [4, 3], [1, 5]]))  # flips 0.2 below and above
def test_sensitivity_matches_brute_force(data):
    points, rows = data
    crits, weights, values = build(points, rows)
    ranked = sorted((bf_score(weights, v) for v in values.values()), reverse=True)
    assume(ranked[0] - ranked[1] > 1e-6)  # a unique leader
    flips = {f.criterion: f for f in sensitivity(weights, values)}
    for c in crits:
        expected = bf_flip(weights, values, c)
        got = flips[c]
        assert got.weight == pytest.approx(weights[c])
        if expected is None:
            assert got.flip_weight is None and got.flips_to is None, c
        else:
            assert got.flip_weight is not None, c
            assert got.flip_weight == pytest.approx(expected[0], rel=1e-6, abs=1e-9), c
            assert got.flips_to == expected[1], c
            # and the definition itself: just past the flip weight the leader is flips_to
            step = 1e-7 if got.flip_weight >= weights[c] else -1e-7
            assert bf_leader({**weights, c: got.flip_weight + step}, values) == got.flips_to
    crit = critical(list(flips.values()))
    moves = [f.relative_move for f in flips.values() if f.relative_move is not None]
    if moves:
        assert crit is not None and crit.relative_move == min(moves)
    else:
        assert crit is None


@given(
    st.dictionaries(
        st.sampled_from("abcdefgh"),
        st.one_of(st.just(0.0), st.floats(1e-3, 1000)),
        min_size=1,
    )
)
def test_weights_normalise(points):
    assume(sum(points.values()) > 1e-6)
    weights = normalise(points)
    assert math.fsum(weights.values()) == pytest.approx(1.0)
    assert all(w >= 0 for w in weights.values())
    for a in points:
        for b in points:
            if points[b] > 0:
                assert weights[a] / weights[b] == pytest.approx(points[a] / points[b])


def test_all_zero_weights_refused():
    with pytest.raises(ValueError, match="zero"):
        normalise({"a": 0.0, "b": 0.0})


@settings(max_examples=60, deadline=None)
@given(matrices, st.data())
def test_improving_a_score_never_lowers_its_rank(data, draw):
    points, rows = data
    crits, weights, values = build(points, rows)
    system = draw.draw(st.sampled_from(sorted(values)))
    c = draw.draw(st.sampled_from(crits))
    assume(values[system][c] < 5)
    before = {r.system: r.rank for r in rank(weights, values)}[system]
    better = {**values, system: {**values[system], c: values[system][c] + 1}}
    after = {r.system: r.rank for r in rank(weights, better)}[system]
    assert after <= before


@settings(max_examples=60, deadline=None)
@given(matrices, st.data())
def test_adding_or_removing_a_candidate_never_reorders_the_others(data, draw):
    points, rows = data
    crits, weights, values = build(points, rows)
    newcomer = {c: float(draw.draw(st.integers(1, 5))) for c in crits}
    order = [r.system for r in rank(weights, values)]
    with_new = [
        r.system for r in rank(weights, {**values, "zz_new": newcomer}) if r.system != "zz_new"
    ]
    assert with_new == order
    gone = order[0]
    without = [r.system for r in rank(weights, {s: v for s, v in values.items() if s != gone})]
    assert without == [s for s in order if s != gone]


def test_ahp_known_matrix_and_consistency():
    result = ahp(
        ["a", "b", "c"], [Comparison("a", "b", 3), Comparison("a", "c", 5), Comparison("b", "c", 2)]
    )
    assert [round(result.weights[k], 3) for k in "abc"] == [0.648, 0.230, 0.122]
    assert result.ri == SAATY_RANDOM_INDEX[3] == 0.58
    assert result.cr < CR_LIMIT and result.consistent


def test_ahp_inconsistent_comparisons_are_flagged():
    # a > b, b > c, but c > a strongly: a cycle
    result = ahp(
        ["a", "b", "c"], [Comparison("a", "b", 5), Comparison("b", "c", 5), Comparison("c", "a", 5)]
    )
    assert result.cr > CR_LIMIT and not result.consistent


def test_ahp_needs_every_pair():
    with pytest.raises(ValueError, match="missing comparison"):
        ahp(["a", "b", "c"], [Comparison("a", "b", 3)])


def test_monte_carlo_is_seeded_and_sums_to_one():
    weights = {"a": 0.5, "b": 0.3, "c": 0.2}
    values = {
        "X": {"a": 5, "b": 3, "c": 2},
        "Y": {"a": 4, "b": 4, "c": 4},
        "Z": {"a": 3, "b": 5, "c": 3},
    }
    one = win_probability(weights, values, seed=7)
    assert one == win_probability(weights, values, seed=7)
    assert sum(one.values()) == pytest.approx(1.0)
    assert one["Y"] > one["X"]


def _crit(cid: str, min_score: float | None = None) -> Criterion:
    return Criterion(
        cid, Text(cid, cid), tuple(Text(str(i), str(i)) for i in range(1, 6)), min_score
    )


def test_evaluate_knockouts_ties_and_verdict():
    criteria = [_crit("a", min_score=3), _crit("b")]
    scores = {
        "p": {"a": Score(4), "b": Score(4)},
        "q": {"a": Score(4), "b": Score(4)},
        "r": {"a": Score(2), "b": Score(5)},  # below the minimum on a
        "s": {"a": Score(5), "b": Score(5)},  # knocked out earlier
    }
    result = evaluate(
        criteria, {"a": 1, "b": 1}, scores, excluded={"s": Text("нет", "no funnel")}, seed=1
    )
    assert [(r.system, r.rank) for r in result.ranking] == [("p", 1), ("q", 1)]
    excluded = {e.system: e for e in result.excluded}
    assert excluded["s"].would_rank == 1 and excluded["s"].score == 5
    assert excluded["r"].would_rank == 3
    assert result.robustness.verdict == "pilot_top_two"
    assert result.robustness.verdict_basis == "tie"
    assert result.robustness.ties[0].systems == ("p", "q")
    assert result.robustness.ties[0].differences == ()

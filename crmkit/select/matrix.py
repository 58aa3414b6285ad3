"""Step 4: the weighted matrix — weights, ranking, sensitivity and robustness. Pure.

The score of a system is the weighted mean of its criterion scores (1–5). It depends only on that
system's own scores and the weights (an absolute scale), so adding or removing a candidate never
reorders the others. Weights come as points (normalised to sum 1) or from pairwise comparisons
(AHP: the principal eigenvector of the comparison matrix, with Saaty's consistency ratio).

Sensitivity follows DESIGN.md: for each criterion, ``flip_weight`` is the weight of that
criterion, every other weight unchanged, nearest to the current one at which the leader changes
(``None`` if no weight does), and ``flips_to`` the new leader. With the other weights fixed the
score of system *s* is ``(A_s + t·s_c) / (W + t)``, so the leader and a challenger swap exactly
where their numerators meet: ``t = (A_X − A_L) / (l_c − x_c)``, solved in closed form.
"""

from __future__ import annotations

import math
import operator
import random
from array import array
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from crmkit.i18n import Text

SCORE_MIN, SCORE_MAX = 1.0, 5.0
EVIDENCE: tuple[str, ...] = ("demo", "trial", "docs", "reference", "none")
CONFIDENCE: tuple[str, ...] = ("high", "medium", "low")

#: Saaty's random consistency index RI(n) for n = 1..15 (T. L. Saaty, "The Analytic Hierarchy
#: Process", 1980): the mean consistency index of random reciprocal matrices of order n.
SAATY_RANDOM_INDEX: dict[int, float] = {
    1: 0.0,
    2: 0.0,
    3: 0.58,
    4: 0.90,
    5: 1.12,
    6: 1.24,
    7: 1.32,
    8: 1.41,
    9: 1.45,
    10: 1.49,
    11: 1.51,
    12: 1.48,
    13: 1.56,
    14: 1.57,
    15: 1.59,
}
#: above this consistency ratio the comparisons contradict each other too much (Saaty)
CR_LIMIT = 0.1
#: Monte-Carlo: every weight multiplied by a uniform factor in [1 - SPREAD, 1 + SPREAD]
SPREAD = 0.2
#: Monte-Carlo: every score varies uniformly within ± this many points of the 1–5 scale, by the
#: confidence stated for it (the interval cut to the scale: a 5 given with low confidence varies
#: over 4–5). A score given bare has the default confidence, medium.
SCORE_SPREAD: dict[str, float] = {"high": 0.25, "medium": 0.5, "low": 1.0}
DRAWS = 2000
#: "decide now" needs the leader to win at least this share of the Monte-Carlo draws
DECIDE_NOW = 0.8
#: scores closer than this are a tie
TIE = 1e-9
#: the ranking calls two scores tied when they are equal to this many decimals
TIE_DIGITS = 9


@dataclass(frozen=True)
class Criterion:
    id: str
    name: Text
    rubric: tuple[Text, ...] = ()  # five sentences: what a score of 1, 2, 3, 4, 5 means
    min_score: float | None = None  # a score below it knocks the system out
    custom: bool = False

    def anchor(self, score: float) -> Text:
        """The rubric sentence of the nearest whole point."""
        if not self.rubric:
            return Text()
        index = min(len(self.rubric), max(1, round(score))) - 1
        return self.rubric[index]


@dataclass(frozen=True)
class Score:
    value: float
    evidence: str = "none"  # demo | trial | docs | reference | none
    confidence: str = "medium"  # high | medium | low
    note: str = ""


# -- weights -----------------------------------------------------------------------------------


def normalise(points: Mapping[str, float]) -> dict[str, float]:
    """Weights summing to 1, in the order given. Raises ValueError if none is positive."""
    if any(p < 0 or not math.isfinite(p) for p in points.values()):
        raise ValueError("weights must be finite and not negative")
    try:
        total = math.fsum(points.values())
    except OverflowError:  # points are proportions: scale huge ones down first
        top = max(points.values())
        return normalise({k: v / top for k, v in points.items()})
    if total <= 0:
        raise ValueError("all weights are zero")
    return {k: v / total for k, v in points.items()}


@dataclass(frozen=True)
class Comparison:
    """``a`` is ``ratio`` times as important as ``b`` (Saaty's scale 1/9..9)."""

    a: str
    b: str
    ratio: float


@dataclass(frozen=True)
class Ahp:
    weights: dict[str, float]
    lambda_max: float
    ci: float
    ri: float
    cr: float
    n: int
    #: RI is tabulated up to n = 15; beyond, the n = 15 value is used
    ri_extrapolated: bool = False

    @property
    def consistent(self) -> bool:
        return self.cr <= CR_LIMIT


def missing_pairs(ids: Sequence[str], comparisons: Sequence[Comparison]) -> list[tuple[str, str]]:
    have = {frozenset((c.a, c.b)) for c in comparisons}
    return [
        (a, b) for i, a in enumerate(ids) for b in ids[i + 1 :] if frozenset((a, b)) not in have
    ]


def ahp(ids: Sequence[str], comparisons: Sequence[Comparison]) -> Ahp:
    """Weights from a complete set of pairwise comparisons (principal eigenvector)."""
    n = len(ids)
    if n == 0:
        raise ValueError("no criteria to compare")
    missing = missing_pairs(ids, comparisons)
    if missing:
        raise ValueError(f"missing comparison: {missing[0][0]} vs {missing[0][1]}")
    index = {c: i for i, c in enumerate(ids)}
    m = [[1.0] * n for _ in range(n)]
    for c in comparisons:
        i, j = index[c.a], index[c.b]
        m[i][j] = c.ratio
        m[j][i] = 1.0 / c.ratio
    v = [1.0 / n] * n
    for _ in range(10_000):  # power iteration; a positive matrix converges fast
        mv = [math.fsum(m[i][j] * v[j] for j in range(n)) for i in range(n)]
        total = math.fsum(mv)
        new = [x / total for x in mv]
        done = max(abs(a - b) for a, b in zip(new, v, strict=True)) < 1e-15
        v = new
        if done:
            break
    mv = [math.fsum(m[i][j] * v[j] for j in range(n)) for i in range(n)]
    lambda_max = math.fsum(mv[i] / v[i] for i in range(n)) / n
    ci = (lambda_max - n) / (n - 1) if n > 1 else 0.0
    ci = max(ci, 0.0)
    ri = SAATY_RANDOM_INDEX.get(n, SAATY_RANDOM_INDEX[15])
    cr = ci / ri if ri > 0 else 0.0
    return Ahp(dict(zip(ids, v, strict=True)), lambda_max, ci, ri, cr, n, n > 15)


# -- ranking -----------------------------------------------------------------------------------


def weighted_mean(weights: Mapping[str, float], values: Mapping[str, float]) -> float:
    total = math.fsum(weights.values())
    return math.fsum(w * values[c] for c, w in weights.items()) / total


@dataclass(frozen=True)
class Ranked:
    system: str
    score: float
    rank: int  # competition ranking: ties share a rank (1, 1, 3)
    contributions: dict[str, float]  # criterion → normalised weight × score; they sum to score


def rank(weights: Mapping[str, float], values: Mapping[str, Mapping[str, float]]) -> list[Ranked]:
    """Systems best first; equal scores share a rank and are listed by id.

    Scores equal to ``TIE_DIGITS`` decimals are equal: two totals that are the same number
    (2.75 = 0.75·3 + 0.25·2 = 0.75·2 + 0.25·5) may differ in the last bit of a float, and that
    noise must not decide who is listed (and so leads) first. The rounding is per system, so a
    candidate added between two others never merges them into one tie (the order of the
    others never depends on who else is ranked).
    """
    norm = normalise(weights)
    rows = []
    for system, vals in values.items():
        contributions = {c: w * vals[c] for c, w in norm.items()}
        score = weighted_mean(norm, vals)
        rows.append((-round(score, TIE_DIGITS), system, score, contributions))
    rows.sort(key=lambda r: (r[0], r[1]))
    out: list[Ranked] = []
    for i, (key, system, score, contributions) in enumerate(rows):
        tied = i > 0 and rows[i - 1][0] == key
        out.append(Ranked(system, score, out[-1].rank if tied else i + 1, contributions))
    return out


def place_of(score: float, ranking: Sequence[Ranked]) -> int:
    """Where a system with ``score`` would rank among ``ranking``."""
    key = round(score, TIE_DIGITS)
    return 1 + sum(1 for r in ranking if round(r.score, TIE_DIGITS) > key)


# -- sensitivity -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Flip:
    criterion: str
    weight: float
    flip_weight: float | None
    flips_to: str | None

    @property
    def relative_move(self) -> float | None:
        """How far the weight must move, as a share of the current weight."""
        if self.flip_weight is None:
            return None
        if self.weight == 0:
            return math.inf if self.flip_weight > 0 else 0.0
        return abs(self.flip_weight - self.weight) / self.weight


def sensitivity(
    weights: Mapping[str, float], values: Mapping[str, Mapping[str, float]]
) -> list[Flip]:
    """For each criterion, the nearest weight (others unchanged) at which the leader changes."""
    ranking = rank(weights, values)
    if len(ranking) < 2:
        return [Flip(c, w, None, None) for c, w in weights.items()]
    leader = ranking[0].system
    # The sums over every criterion but c, for each c, without adding the others again (that
    # grew with criteria²): the exact sum of all is kept as partials, and fsum of the partials
    # and -x is the correctly rounded sum without x, the very float fsum of the others gives.
    weight_parts = _partials(weights.values())
    products = {s: {k: w * v[k] for k, w in weights.items()} for s, v in values.items()}
    product_parts = {s: _partials(p.values()) for s, p in products.items()}
    out = []
    for c, w_c in weights.items():
        total = math.fsum([*weight_parts, -w_c])
        if total <= 0:  # only this criterion counts: its weight changes nothing
            out.append(Flip(c, w_c, None, None))
            continue
        a = {s: math.fsum([*product_parts[s], -products[s][c]]) for s in values}
        up: list[tuple[float, str]] = []
        down: list[tuple[float, str]] = []
        for x in values:
            if x == leader:
                continue
            dc = values[leader][c] - values[x][c]
            if dc == 0:
                continue
            t = (a[x] - a[leader]) / dc
            if t < 0:
                continue
            if dc < 0 and t >= w_c:  # x gains as the weight rises
                up.append((t, x))
            elif dc > 0 and TIE < t <= w_c:  # x gains as the weight falls (at 0: only a tie)
                down.append((t, x))

        def slope(s: str, c: str = c, total: float = total, a: dict[str, float] = a) -> float:
            return values[s][c] * total - a[s]

        choice: tuple[float, str] | None = None
        if up:
            t_up = min(t for t, _ in up)
            tied = [x for t, x in up if t - t_up <= 1e-12 * max(1.0, t_up)]
            new = _steepest(tied, slope, rising=True)
            choice = (t_up, new)
        if down:
            t_down = max(t for t, _ in down)
            tied = [x for t, x in down if t_down - t <= 1e-12 * max(1.0, t_down)]
            new = _steepest(tied, slope, rising=False)
            # equally near both ways (within rounding): the rising weight is reported
            if choice is None or (w_c - t_down) < (choice[0] - w_c) - 1e-12 * max(1.0, w_c):
                choice = (t_down, new)
        if choice is None:
            out.append(Flip(c, w_c, None, None))
        else:
            out.append(Flip(c, w_c, choice[0], choice[1]))
    return out


def _partials(values: Iterable[float]) -> list[float]:
    """Floats that do not overlap and add up exactly to the sum of ``values`` (Shewchuk's
    expansion, what ``math.fsum`` keeps inside): each step splits a sum into its rounded value
    and the exact error of that rounding."""
    parts: list[float] = []
    for value in values:
        x = value
        kept = 0
        for y in parts:
            if abs(x) < abs(y):
                x, y = y, x
            high = x + y
            low = y - (high - x)
            if low:
                parts[kept] = low
                kept += 1
            x = high
        parts[kept:] = [x]
    return parts


def _steepest(tied: list[str], slope: Callable[[str], float], *, rising: bool) -> str:
    """The challenger that leads just past a crossing: the steepest slope in the direction of
    the move; systems that stay tied (equal slopes) are ordered by id, as ``rank`` does."""
    sign = 1.0 if rising else -1.0
    best = max(sign * slope(s) for s in tied)
    scale = max(1.0, abs(best))
    return min(s for s in tied if sign * slope(s) >= best - 1e-12 * scale)


def critical(flips: Sequence[Flip]) -> Flip | None:
    """The criterion whose weight needs the smallest relative move to change the leader."""
    moving = [f for f in flips if f.relative_move is not None]
    if not moving:
        return None
    return min(moving, key=lambda f: (f.relative_move, abs((f.flip_weight or 0) - f.weight)))


# -- robustness --------------------------------------------------------------------------------


def win_probability(
    weights: Mapping[str, float],
    values: Mapping[str, Mapping[str, float]],
    *,
    seed: int = 0,
    draws: int = DRAWS,
    spread: float = SPREAD,
    confidence: Mapping[str, Mapping[str, str]] | None = None,
    score_spread: Mapping[str, float] = SCORE_SPREAD,
) -> dict[str, float]:
    """Share of draws each system wins when every weight varies by ±``spread`` and, given
    ``confidence`` (system → criterion → high | medium | low), every score too (ties split).

    Weights alone: each draw multiplies every weight by ``rng.uniform(1 - spread,
    1 + spread)``. With ``confidence`` a draw also moves every score uniformly over its
    interval (``_score_ranges``: ``v ± score_spread[confidence]``, cut to the 1–5 scale);
    see ``_vary_weights_and_scores``. The same seed gives the same shares."""
    if not values:
        return {}
    if confidence is None:
        return _vary_weights(weights, values, seed=seed, draws=draws, spread=spread)
    return _vary_weights_and_scores(
        weights, values, confidence, score_spread, seed=seed, draws=draws, spread=spread
    )


def _vary_weights(
    weights: Mapping[str, float],
    values: Mapping[str, Mapping[str, float]],
    *,
    seed: int,
    draws: int,
    spread: float,
) -> dict[str, float]:
    """The weights alone vary; the scores stay as given.

    The draws are those of ``rng.uniform(1 - spread, 1 + spread)`` per weight, and who wins a
    draw is decided exactly as by ``weighted_mean`` of the varied weights (the products summed
    by ``fsum``, over ``fsum`` of the weights), so the shares are the same floats. Faster:
    lists instead of dictionaries, the weights' sum once per draw, and the products summed by
    plain addition first, whose rounding error has a known bound (``slack``); only a draw in
    which some score lies within that bound of the tie cut-off is summed again by ``fsum``."""
    rng = random.Random(seed)
    systems = list(values)
    base = list(weights.values())
    low, high = 1 - spread, 1 + spread
    span = high - low  # what uniform(low, high) computes: low + (high - low) * random()
    draw = rng.random
    fsum = math.fsum
    rows: list[list[float]] = []
    slack: float | None = None
    counts = [0.0] * len(systems)
    for _ in range(draws):
        varied = [w * (low + span * draw()) for w in base]
        total = fsum(varied)
        if total <= 0:
            continue
        if not rows:  # a criterion a system lacks fails here, as weighted_mean would
            rows = [[values[s][c] for c in weights] for s in systems]
            slack = _score_slack(base, rows, spread)
        _count_winners(counts, varied, total, rows, slack)
    return {s: n / draws for s, n in zip(systems, counts, strict=True)}


def _count_winners(
    counts: list[float],
    varied: list[float],
    total: float,
    rows: Sequence[Sequence[float]],
    slack: float | None,
    index: Sequence[int] | None = None,
) -> None:
    """Add one draw to ``counts``: the rows with the best weighted mean share it (a tie is
    scores within ``TIE``). ``index``: the position in ``counts`` of each row."""
    fsum, mul = math.fsum, operator.mul
    winners: list[int] | None = None
    if slack is not None:
        quick = [sum(map(mul, varied, row)) / total for row in rows]
        cutoff = max(quick) - TIE
        if all(abs(x - cutoff) > 3 * slack for x in quick):
            winners = [i for i, x in enumerate(quick) if x > cutoff]
    if winners is None:  # a score within rounding of the cut-off: decide exactly
        scores = [fsum(map(mul, varied, row)) / total for row in rows]
        cutoff = max(scores) - TIE
        winners = [i for i, x in enumerate(scores) if x >= cutoff]
    share = 1 / len(winners)
    for i in winners:
        counts[index[i] if index is not None else i] += share


#: a draw of weights and scores takes 32 random bits for each, in one call of getrandbits
_BITS = 32
#: the array type of 32-bit unsigned integers on this platform
_U32 = next(t for t in "IL" if array(t).itemsize == 4)
#: the bits are read as little-endian integers on every platform (a big-endian one swaps them)
_BIG_ENDIAN = array("H", [1]).tobytes() != b"\x01\x00"


def _vary_weights_and_scores(
    weights: Mapping[str, float],
    values: Mapping[str, Mapping[str, float]],
    confidence: Mapping[str, Mapping[str, str]],
    score_spread: Mapping[str, float],
    *,
    seed: int,
    draws: int,
    spread: float,
) -> dict[str, float]:
    """Weights and scores vary together, independently and uniformly.

    A draw takes one block of random bits (``getrandbits``): 32 bits per weight, then 32 bits
    per score, system by system in the criteria's order. A weight ``w`` becomes
    ``w·(1 − spread) + w·2·spread·u`` and a score ``bottom + width·u`` (``u`` in [0, 1) from
    its 32 bits; bottom and width from ``_score_ranges``). Who wins is decided as in
    ``_vary_weights`` (plain sums, ``fsum`` near the tie cut-off).

    A system whose best possible score (tops of its intervals, the weights placed most in its
    favour within ±``spread``) is below another's worst possible score cannot win any draw:
    it is not summed, and gets 0 — which is then a fact of the intervals, not of the draws."""
    rng = random.Random(seed)
    systems = list(values)
    criteria = list(weights)
    base = list(weights.values())
    rows = [[values[s][c] for c in criteria] for s in systems]
    ranges = _score_ranges(systems, criteria, rows, confidence, score_spread)
    tops = [[b + w for b, w in zip(*r, strict=True)] for r in ranges]
    slack = _score_slack(base, tops, spread)
    low = [w * (1 - spread) for w in base]
    candidates = _can_win(ranges, tops, low, [w * (1 + spread) for w in base])
    unit = 2.0**-_BITS
    weight_step = [w * 2 * spread * unit for w in base]
    bottoms = [x for i in candidates for x in ranges[i][0]]
    steps = [x * unit for i in candidates for x in ranges[i][1]]
    n, cells = len(base), len(base) * len(systems)
    offset = 4 * n  # bytes of the weights' block
    bounds = [(k * n, (k + 1) * n) for k in range(len(candidates))]
    bits, fsum, mul, add = rng.getrandbits, math.fsum, operator.mul, operator.add
    block = _BITS * (n + cells)
    # where each candidate's scores lie in the block (all of it after the weights: one slice)
    every = len(candidates) == len(systems)
    chosen = [(offset + 4 * i * n, offset + 4 * (i + 1) * n) for i in candidates]
    swap = _BIG_ENDIAN
    counts = [0.0] * len(systems)
    for _ in range(draws):
        raw = bits(block).to_bytes(block // 8, "little")
        factors = array(_U32, raw[:offset])
        u = array(_U32, raw[offset:] if every else b"".join(raw[a:b] for a, b in chosen))
        if swap:
            factors.byteswap()
            u.byteswap()
        varied = list(map(add, low, map(mul, weight_step, factors)))
        total = fsum(varied)
        if total <= 0:
            continue
        drawn = list(map(add, bottoms, map(mul, steps, u)))
        rows_now = [drawn[a:b] for a, b in bounds]
        _count_winners(counts, varied, total, rows_now, slack, candidates)
    return {s: c / draws for s, c in zip(systems, counts, strict=True)}


def _score_ranges(
    systems: list[str],
    criteria: list[str],
    rows: list[list[float]],
    confidence: Mapping[str, Mapping[str, str]],
    score_spread: Mapping[str, float],
) -> list[tuple[list[float], list[float]]]:
    """Per system, the bottom and the width of each score's interval: ``v ± h`` cut to 1–5
    (``h`` by the score's confidence; a confidence not given is medium)."""
    out = []
    for system, row in zip(systems, rows, strict=True):
        stated = confidence.get(system, {})
        bottoms, widths = [], []
        for c, v in zip(criteria, row, strict=True):
            h = score_spread.get(stated.get(c, "medium"), score_spread.get("medium", 0.0))
            bottom, top = max(SCORE_MIN, v - h), min(SCORE_MAX, v + h)
            if top < bottom:  # a score outside the scale (only a caller's): it stays as given
                bottom, top = v, v
            bottoms.append(bottom)
            widths.append(top - bottom)
        out.append((bottoms, widths))
    return out


def _can_win(
    ranges: list[tuple[list[float], list[float]]],
    tops: list[list[float]],
    low: list[float],
    high: list[float],
) -> list[int]:
    """The systems that can win some draw: those whose best mean is not below the best worst
    mean of the others (weights anywhere in [low, high] per criterion). With a negative bound
    (spread > 1) every system is kept."""
    if any(w < 0 for w in low):
        return list(range(len(ranges)))
    worst = [_extreme_mean(bottom, low, high, lowest=True) for bottom, _ in ranges]
    best = [_extreme_mean(top, low, high, lowest=False) for top in tops]
    floor = max(worst) - TIE - 1e-9 * SCORE_MAX  # far wider than any rounding
    return [i for i, b in enumerate(best) if b >= floor]


def _extreme_mean(x: list[float], low: list[float], high: list[float], *, lowest: bool) -> float:
    """The lowest (or highest) weighted mean of ``x`` with each weight in [low, high]: the
    extreme puts the high weights on the smallest (largest) values, so it is one of the n + 1
    splits of the values sorted that way."""
    order = sorted(range(len(x)), key=lambda i: x[i], reverse=not lowest)
    top_sum = math.fsum(low[i] * x[i] for i in order)
    top_w = math.fsum(low[i] for i in order)
    best = top_sum / top_w if top_w > 0 else (x[order[0]] if x else 0.0)
    for i in order:  # raise one more weight to its high end, in the order of the values
        top_sum += (high[i] - low[i]) * x[i]
        top_w += high[i] - low[i]
        if top_w > 0:
            mean = top_sum / top_w
            best = min(best, mean) if lowest else max(best, mean)
    return best


def _score_slack(weights: list[float], rows: list[list[float]], spread: float) -> float | None:
    """How far a score summed by plain addition may be from the one ``fsum`` gives.

    With weights ≥ 0, a sum of n products in floating point is off by at most
    (n − 1)·u·Σ|wᵢvᵢ| ≤ (n − 1)·u·Σwᵢ·max|v| (u = 2⁻⁵³); dividing by Σwᵢ and the two roundings
    of the quotients add a few u·max|v|. Four times (n + 4)·u·max|v| covers it all. None when
    the bound does not hold (a negative weight or factor) or is not finite: then every draw
    is summed exactly."""
    if spread > 1 or any(w < 0 for w in weights):
        return None
    largest = max((abs(v) for row in rows for v in row), default=0.0)
    slack = 4 * (len(weights) + 4) * 2.0**-53 * largest
    return slack if math.isfinite(slack) else None


@dataclass(frozen=True)
class Tie:
    systems: tuple[str, ...]
    score: float
    rank: int
    #: criterion → the system(s) ahead on it, with the contribution gap
    differences: tuple[tuple[str, str, float], ...]


def ties(ranking: Sequence[Ranked]) -> list[Tie]:
    groups: dict[int, list[Ranked]] = {}
    for r in ranking:
        groups.setdefault(r.rank, []).append(r)
    out = []
    for place, members in groups.items():
        if len(members) < 2:
            continue
        diffs = []
        for c in members[0].contributions:
            values = sorted(((m.contributions[c], m.system) for m in members), reverse=True)
            gap = values[0][0] - values[-1][0]
            if gap > TIE:
                diffs.append((c, values[0][1], gap))
        diffs.sort(key=lambda d: -d[2])
        out.append(Tie(tuple(m.system for m in members), members[0].score, place, tuple(diffs)))
    return out


@dataclass(frozen=True)
class Robustness:
    gap: float | None  # first minus second
    critical: Flip | None
    win: dict[str, float]
    verdict: str  # decide_now | pilot_top_two | none
    verdict_basis: str  # single | tie | probability
    ties: tuple[Tie, ...]
    seed: int
    draws: int
    spread: float = SPREAD
    #: confidence → ± points each score varied by (None: the scores stayed as given)
    score_spread: dict[str, float] | None = None


@dataclass(frozen=True)
class Excluded:
    system: str
    reason: Text
    #: the weighted mean it would have had (None without complete scores)
    score: float | None = None
    would_rank: int | None = None


@dataclass(frozen=True)
class MatrixResult:
    criteria: tuple[Criterion, ...]
    weights: dict[str, float]  # normalised, sum 1
    points: dict[str, float]  # as given (points or AHP weights)
    scores: dict[str, dict[str, Score]]
    ranking: tuple[Ranked, ...]
    excluded: tuple[Excluded, ...]
    sensitivity: tuple[Flip, ...]
    robustness: Robustness
    ahp: Ahp | None = None
    low_confidence: tuple[tuple[str, str], ...] = field(default=())  # (system, criterion)


def evaluate(
    criteria: Sequence[Criterion],
    points: Mapping[str, float],
    scores: Mapping[str, Mapping[str, Score]],
    *,
    excluded: Mapping[str, Text] | None = None,
    ahp_result: Ahp | None = None,
    seed: int = 0,
    draws: int = DRAWS,
) -> MatrixResult:
    """The whole step 4. ``excluded``: systems knocked out earlier (system → reason)."""
    weights = normalise(points)
    excluded = dict(excluded or {})
    out_excluded: list[tuple[str, Text]] = []
    active: dict[str, dict[str, float]] = {}
    for system, row in scores.items():
        values = {c.id: row[c.id].value for c in criteria if c.id in row}
        if system in excluded:
            out_excluded.append((system, excluded[system]))
            continue
        below = [
            c
            for c in criteria
            if c.min_score is not None and c.id in row and row[c.id].value < c.min_score
        ]
        if below:
            c = below[0]
            v = row[c.id].value
            out_excluded.append(
                (
                    system,
                    Text(
                        f"оценка {v:g} по критерию «{c.name.ru}» ниже минимума {c.min_score:g}",
                        f"scored {v:g} on '{c.name.en}', below the minimum {c.min_score:g}",
                        f"оцінка {v:g} за критерієм «{c.name.get('uk')}» нижча за мінімум "
                        f"{c.min_score:g}",
                    ),
                )
            )
            continue
        active[system] = values
    ranking = rank(weights, active) if active else []
    excluded_rows = []
    for system, reason in out_excluded:
        row = scores[system]
        if all(c.id in row for c in criteria):
            s = weighted_mean(weights, {c.id: row[c.id].value for c in criteria})
            excluded_rows.append(Excluded(system, reason, s, place_of(s, ranking)))
        else:
            excluded_rows.append(Excluded(system, reason))
    for system, reason in excluded.items():
        if system not in scores:
            excluded_rows.append(Excluded(system, reason))
    flips = (
        sensitivity(weights, active)
        if active
        else [Flip(c, w, None, None) for c, w in weights.items()]
    )
    confidence = {s: {c: sc.confidence for c, sc in scores[s].items()} for s in active}
    win = win_probability(weights, active, seed=seed, draws=draws, confidence=confidence)
    tie_list = ties(ranking)
    gap = ranking[0].score - ranking[1].score if len(ranking) > 1 else None
    if not ranking:
        verdict, basis = "none", "empty"
    elif len(ranking) == 1:
        verdict, basis = "decide_now", "single"
    elif ranking[1].rank == 1:
        verdict, basis = "pilot_top_two", "tie"
    elif win.get(ranking[0].system, 0.0) >= DECIDE_NOW:
        verdict, basis = "decide_now", "probability"
    else:
        verdict, basis = "pilot_top_two", "probability"
    low = tuple(
        (s, c.id)
        for s in scores
        for c in criteria
        if c.id in scores[s] and scores[s][c.id].confidence == "low"
    )
    return MatrixResult(
        criteria=tuple(criteria),
        weights=weights,
        points=dict(points),
        scores={s: dict(r) for s, r in scores.items()},
        ranking=tuple(ranking),
        excluded=tuple(excluded_rows),
        sensitivity=tuple(flips),
        robustness=Robustness(
            gap,
            critical(flips),
            win,
            verdict,
            basis,
            tuple(tie_list),
            seed,
            draws,
            score_spread=dict(SCORE_SPREAD),
        ),
        ahp=ahp_result,
        low_confidence=low,
    )

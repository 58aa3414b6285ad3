"""Rendering a selection: JSON (DESIGN.md's stable interface), text, Markdown and HTML.

``view`` turns a ``SelectionResult`` into plain localized rows once; the text renderer and the
Markdown template (``crmkit/export/templates/selection.md.j2``) both lay out the same rows, and
HTML is that Markdown plus SVG figures (score bars, sensitivity).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from crmkit.export.frame import DocumentMeta
from crmkit.i18n import Lang, msg
from crmkit.numbers import money, number, percent
from crmkit.select.catalog import Catalog, System
from crmkit.select.cost import ITEMS, CostItem
from crmkit.select.deployment import Question
from crmkit.select.matrix import (
    DECIDE_NOW,
    SAATY_RANDOM_INDEX,
    SCORE_MAX,
    Flip,
    MatrixResult,
    Robustness,
)
from crmkit.select.problems import library
from crmkit.select.run import SelectionResult, leads_in_deals, leads_in_deals_text

if TYPE_CHECKING:
    from crmkit.export.html import HtmlDocument


def _r(x: float | None, digits: int | None = None) -> float | None:
    """Numbers of the JSON: full precision unless ``digits`` (shares shown as 0.1234)."""
    if x is None:
        return None
    return round(x, digits) if digits is not None else x


def _num(lang: Lang, x: float, digits: int = 2) -> str:
    """A figure as ``lang`` writes it (4,30 / 4.30)."""
    return number(x, lang, digits)


def _share(lang: Lang, x: float) -> str:
    """A share as a percentage (59 % / 59%)."""
    return percent(x, lang)


def _score(lang: Lang, x: float) -> str:
    """A score as given: 4, 4,5 (at most two decimals)."""
    return number(x, lang, 2, trim=True)


# -- JSON ----------------------------------------------------------------------------------------


def to_data(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    """The JSON object of ``crmkit select --format json`` (DESIGN.md: ranking, knocked_out,
    sensitivity, weights, scores — and the rest of the steps)."""
    m = result.step4
    data: dict[str, Any] = {
        "title": result.selection.title,
        "ranking": _ranking_data(result, lang),
        "knocked_out": _knocked_data(result, lang),
        "sensitivity": [
            {
                "criterion": f.criterion,
                "weight": _r(f.weight),
                "flip_weight": _r(f.flip_weight),
                "flip_points": _r(flip_points(f, m.points)) if m else None,
                "flips_to": f.flips_to,
                "relative_move": None
                if f.relative_move is None or math.isinf(f.relative_move)
                else _r(f.relative_move),
            }
            for f in (m.sensitivity if m else ())
        ],
        "weights": {c: _r(w) for c, w in (m.weights.items() if m else ())},
        "scores": {s: {c: row[c].value for c in row} for s, row in (m.scores.items() if m else ())},
    }
    if m:
        data.update(_matrix_data(result, m, lang))
    data["steps"] = {
        "problems": result.step1.to_dict(lang),
        "deployment": result.step2.to_dict(lang),
        "shortlist": _shortlist_data(result, lang),
        "vendor": [
            {
                "system": sh.system,
                "name": result.name(sh.system, lang),
                "finalist": sh.finalist,
                "questions": [q.to_dict(lang) for q in sh.questions],
                "other_answers": dict(sh.other_answers),
            }
            for sh in result.step5
        ],
    }
    data["finalists"] = list(result.finalists)
    data["warnings"] = [w.get(lang) for w in result.warnings]
    data["open_scores"] = [o.to_dict() for o in result.open_scores]
    data["cost"] = cost_data(result, lang)
    return data


def _ranking_data(result: SelectionResult, lang: Lang) -> list[dict[str, Any]]:
    m = result.step4
    if m is None:
        return []
    return [
        {
            "system": r.system,
            "name": result.name(r.system, lang),
            "score": _r(r.score),
            "rank": r.rank,
            "contributions": {c: _r(v) for c, v in r.contributions.items()},
            "win_probability": _r(m.robustness.win.get(r.system, 0.0), 4),
        }
        for r in m.ranking
    ]


def _knocked_data(result: SelectionResult, lang: Lang) -> list[dict[str, Any]]:
    """Knock-outs of step 3 (those the matrix did not see) and of the matrix."""
    m = result.step4
    knocked: list[dict[str, Any]] = []
    matrix_out = {e.system for e in m.excluded} if m else set()
    for ko in result.step3.knocked_out:
        if ko.system in matrix_out:
            continue
        knocked.append(
            {
                "system": ko.system,
                "name": result.name(ko.system, lang),
                "reason": ko.reason(lang),
                "stage": "shortlist",
                "verified": ko.verified,
                "score": None,
                "would_rank": None,
            }
        )
    for e in m.excluded if m else ():
        early = result.step3.knockout(e.system)
        knocked.append(
            {
                "system": e.system,
                "name": result.name(e.system, lang),
                "reason": e.reason.get(lang),
                "stage": "shortlist" if early else "matrix",
                "verified": early.verified if early else True,
                "score": _r(e.score),
                "would_rank": e.would_rank,
            }
        )
    return knocked


def _matrix_data(result: SelectionResult, m: MatrixResult, lang: Lang) -> dict[str, Any]:
    """Step 4 beyond the stable keys: weights as given, AHP, criteria, evidence, robustness."""
    data: dict[str, Any] = {
        "weight_method": result.selection.weight_method,
        "weight_points": {c: _r(p) for c, p in m.points.items()},
        "ahp": {
            "lambda_max": _r(m.ahp.lambda_max),
            "ci": _r(m.ahp.ci),
            "ri": m.ahp.ri,
            "cr": _r(m.ahp.cr),
            "consistent": m.ahp.consistent,
            "n": m.ahp.n,
            "random_index_table": "Saaty (1980)",
        }
        if m.ahp
        else None,
        "criteria": [
            {
                "id": c.id,
                "name": c.name.get(lang),
                "rubric": [t.get(lang) for t in c.rubric],
                "min_score": c.min_score,
                "custom": c.custom,
            }
            for c in m.criteria
        ],
        "evidence": {
            s: {
                c: {"evidence": sc.evidence, "confidence": sc.confidence, "note": sc.note}
                for c, sc in row.items()
            }
            for s, row in m.scores.items()
        },
    }
    data["robustness"] = _robustness_data(m)
    return data


def _robustness_data(m: MatrixResult) -> dict[str, Any]:
    rob = m.robustness
    crit = rob.critical
    return {
        "gap": _r(rob.gap),
        "critical": crit.criterion if crit else None,
        "critical_flip_weight": _r(crit.flip_weight) if crit else None,
        "critical_flips_to": crit.flips_to if crit else None,
        "win_probability": {s: _r(p, 4) for s, p in rob.win.items()},
        "spread": rob.spread,
        # what the Monte-Carlo varied: the weights by ±spread, and each score by ± these
        # points of the 1–5 scale by its confidence (uniform, cut to the scale)
        "varied": ["weights", "scores"] if rob.score_spread else ["weights"],
        "score_spread": dict(rob.score_spread) if rob.score_spread else None,
        "distribution": "uniform",
        "draws": rob.draws,
        "seed": rob.seed,
        "verdict": rob.verdict,
        "verdict_basis": rob.verdict_basis,
        "ties": [
            {
                "systems": list(t.systems),
                "score": _r(t.score),
                "rank": t.rank,
                "differences": [
                    {"criterion": c, "ahead": s, "gap": _r(g)} for c, s, g in t.differences
                ],
            }
            for t in rob.ties
        ],
    }


def _shortlist_data(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    return {
        "size": result.step3.size,
        "chosen": [
            {
                "system": c.system,
                "name": result.name(c.system, lang),
                # the share of step-1 needs the catalog confirms ("fit": its older name)
                "confirmed": _r(c.confirmed, 4),
                "unknown": _r(c.unknown, 4),
                "lacking": _r(c.lacking, 4),
                "fit": _r(c.confirmed, 4),
                "added": c.added,
                "little_known": c.little_known,
                "reserved": c.reserved,
                "open_checks": [k.to_dict(lang) for k in c.open_checks],
                "unconfirmed_needs": [k.to_dict(lang) for k in c.need_checks],
            }
            for c in result.step3.chosen
        ],
        "others": [
            {
                "system": c.system,
                "confirmed": _r(c.confirmed, 4),
                "unknown": _r(c.unknown, 4),
                "lacking": _r(c.lacking, 4),
                "fit": _r(c.confirmed, 4),
                "little_known": c.little_known,
            }
            for c in result.step3.others
        ],
        "leads_in_deals": [
            leads_in_deals_text(result.catalog, s).get(lang)
            for s in leads_in_deals(result.catalog, result.step3.ids)
        ],
    }


def cost_data(result: SelectionResult, lang: Lang) -> dict[str, Any] | None:
    """The ``cost`` object of the JSON (None without ``[cost]``): amounts over the years."""
    cost = result.cost
    if cost is None:
        return None
    return {
        "users": cost.users,
        "years": cost.years,
        "currency": cost.currency,
        "budget": cost.budget,
        "criterion": cost.criterion,
        "systems": [
            {
                "system": c.system,
                "name": result.name(c.system, lang),
                "finalist": c.system in result.finalists,
                "items": {
                    i.item: {
                        "amount": _r(i.amount),
                        "origin": i.origin,
                        "unit_price": i.unit_price,
                        "basis": i.basis or None,
                        "as_of": i.as_of or None,
                    }
                    for i in c.items
                },
                "known": _r(c.known),
                "total": _r(c.total),
                "per_user_month": _r(c.per_user_month),
                "over_budget": c.over_budget,
                "score": _r(cost.scores.get(c.system)),
            }
            for c in cost.systems
        ],
    }


# -- the localized view shared by text and Markdown ----------------------------------------------


def _dep(value: str, lang: Lang) -> str:
    return msg(f"select.text.dep_{value}", lang)


def flip_points(f: Flip, points: dict[str, float]) -> float | None:
    """``flip_weight`` in the points a consultant gives (and edits in the XLSX).

    ``flip_weight`` is on the scale of the normalised weights with every other weight
    unchanged; the other points unchanged is the same move, so in points it is
    ``flip_weight × sum(points)``.
    """
    if f.flip_weight is None:
        return None
    return f.flip_weight * math.fsum(points.values())


def _points(x: float, lang: Lang) -> str:
    """Points to three (below 1) or four significant digits, as ``lang`` writes them."""
    rounded = float(f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}")
    return number(rounded, lang, 6, trim=True)


def _move(f: Flip, lang: Lang) -> str:
    rel = f.relative_move
    if rel is None:
        return "—"
    sign = "+" if (f.flip_weight or 0) >= f.weight else "−"
    return sign + _share(lang, rel)


def _says(question: Question, side: str, lang: Lang) -> str:
    said = {"cloud": question.cloud, "boxed": question.boxed}.get(side)
    return said.get(lang) if said is not None else "—"


def _view_step1(
    result: SelectionResult, lang: Lang
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Step 1 of the view: problems and the functions that solve them."""
    lib_modules = {key: text.get(lang) for key, text in library().modules.items()}
    s1 = [
        {
            "problem": row.problem.text.get(lang),
            "functions": [f.name.get(lang) for f in row.functions],
        }
        for row in result.step1.rows
    ]
    s1_functions = [
        {
            "name": f.name.get(lang),
            "module": lib_modules.get(f.module, f.module),
            "solves": result.step1.solves[f.id],
        }
        for f in result.step1.functions
    ]
    return s1, s1_functions


def _view_step2(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    """Step 2 of the view: the deployment type and its reasons."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    rec = result.step2
    s2 = {
        "recommend": t(
            "select.text.recommend",
            deployment=_dep(rec.deployment, lang),
            basis=t(f"select.text.basis_{rec.basis}"),
            cloud=rec.cloud_votes,
            boxed=rec.boxed_votes,
        ),
        "reasons": [
            {
                "criterion": r.question.criterion.get(lang),
                "answer": _dep(r.side, lang),
                "says": _says(r.question, r.side, lang),
            }
            for r in rec.reasons
        ],
        "cloud_smb": t("select.text.cloud_smb"),
        "dropped": t(f"select.text.dropped_{rec.deployment}")
        if rec.deployment in ("cloud", "boxed")
        else "",
        "boxed_advice": t("select.text.boxed_advice") if rec.deployment == "boxed" else "",
    }
    return s2


def _view_step3(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    """Step 3 of the view: the shortlist, the others and the knock-outs."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731

    def name(system: str) -> str:
        return result.name(system, lang)

    shortlist = result.step3
    described = [c for c in shortlist.others if not c.little_known]
    little = [c for c in shortlist.others if c.little_known]
    others = [
        t("select.text.others_confirmed", system=name(c.system), share=_share(lang, c.confirmed))
        for c in described
    ]
    if little:
        others.append(
            t("select.text.little_known", systems=", ".join(name(c.system) for c in little))
        )
    s3 = {
        "rule": t("select.text.shortlist_rule"),
        "trial": t("select.text.trial"),
        "beginners": t("select.text.beginners"),
        "show_lacking": any(c.lacking for c in shortlist.chosen),
        "chosen": [
            {
                "name": name(c.system),
                "fit": _share(lang, c.confirmed),
                "unknown": _share(lang, c.unknown),
                "lacking": _share(lang, c.lacking),
                "open": "; ".join(
                    [k.text.get(lang) for k in c.open_checks]
                    + ([t("select.text.reserved")] if c.reserved else [])
                )
                or "—",
            }
            for c in shortlist.chosen
        ],
        "others": "; ".join(others),
        "leads_in_deals": [
            leads_in_deals_text(result.catalog, s).get(lang)
            for s in leads_in_deals(result.catalog, shortlist.ids)
        ],
        "knocked": [
            {
                "name": name(k.system),
                "reason": k.reason(lang),
                "verified": t("select.yes") if k.verified else t("select.no"),
            }
            for k in result.step3.knocked_out
        ],
    }
    return s3


def _robustness_lines(result: SelectionResult, m: MatrixResult, lang: Lang) -> list[str]:
    """How sure the ranking is: the gap, the critical criterion, Monte-Carlo and the ties."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731

    def name(system: str) -> str:
        return result.name(system, lang)

    crit_name = {c.id: c.name.get(lang) for c in m.criteria}
    rob = m.robustness
    lines = [t("select.text.absolute")]
    if rob.gap is not None:
        lines.append(t("select.text.gap", gap=_num(lang, rob.gap)))
    c = rob.critical
    if c is not None and m.ranking:
        lines.append(
            t(
                "select.text.critical",
                criterion=crit_name[c.criterion],
                leader=name(m.ranking[0].system),
                flip=_num(lang, c.flip_weight or 0.0, 3),
                weight=_num(lang, c.weight, 3),
                move=_move(c, lang),
                to=name(c.flips_to or ""),
            )
        )
    elif len(m.ranking) > 1:
        lines.append(t("select.text.no_critical"))
    if m.ranking:
        lines.append(
            t(
                "select.text.montecarlo",
                **_spreads(rob, lang),
                draws=rob.draws,
                leader=name(m.ranking[0].system),
                p=_share(lang, rob.win.get(m.ranking[0].system, 0.0)),
            )
        )
    for tie in rob.ties:
        lines.append(
            t(
                "select.text.tie",
                systems=", ".join(name(s) for s in tie.systems),
                rank=tie.rank,
                score=_num(lang, tie.score),
            )
        )
        if tie.differences:
            diffs = ", ".join(
                t(
                    "select.text.tie_ahead",
                    criterion=crit_name[cid],
                    system=name(s),
                    gap=_num(lang, g, 3),
                )
                for cid, s, g in tie.differences[:4]
            )
            lines.append(t("select.text.tie_diff", diffs=diffs))
        else:
            lines.append(t("select.text.tie_same"))
    return lines


def _weights_note(m: MatrixResult, lang: Lang) -> tuple[str, list[str]]:
    """How the weights were set (points, or AHP with its consistency) and the AHP lines."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    weights_note = t("select.text.weights_points")
    ahp_lines: list[str] = []
    if m.ahp is not None:
        a = m.ahp
        weights_note = t(
            "select.text.weights_ahp",
            lmax=_num(lang, a.lambda_max, 3),
            ci=_num(lang, a.ci, 3),
            n=a.n,
            ri=_num(lang, a.ri, 2),
            cr=_num(lang, a.cr, 3),
        )
        ahp_lines.append(t("select.text.ahp_ok") if a.consistent else t("select.text.ahp_bad"))
        table = ", ".join(f"{n}: {_score(lang, v)}" for n, v in SAATY_RANDOM_INDEX.items())
        ahp_lines.append(t("select.text.ri_table", table=table))
    return weights_note, ahp_lines


def _view_step4(result: SelectionResult, lang: Lang) -> dict[str, Any] | None:
    """Step 4 of the view: weights, scores, ranking, robustness (None before any score)."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731

    def name(system: str) -> str:
        return result.name(system, lang)

    m = result.step4
    s4: dict[str, Any] | None = None
    if m is not None:
        crit_name = {c.id: c.name.get(lang) for c in m.criteria}
        rob = m.robustness
        ranked_names = [name(r.system) for r in m.ranking]
        lines = _robustness_lines(result, m, lang)
        verdict = t(
            f"select.text.verdict_{rob.verdict}",
            leader=ranked_names[0] if ranked_names else "",
            second=ranked_names[1] if len(ranked_names) > 1 else "",
        )
        named = ranked_names[: 2 if rob.verdict == "pilot_top_two" else 1]
        verdict_notes = [
            leads_in_deals_text(result.catalog, sid).get(lang)
            for sid in leads_in_deals(result.catalog, [r.system for r in m.ranking[: len(named)]])
        ]
        weights_note, ahp_lines = _weights_note(m, lang)
        s4 = {
            "criteria": [
                {
                    "name": cr.name.get(lang),
                    "rubric": [f"{i + 1} — {x.get(lang)}" for i, x in enumerate(cr.rubric)],
                    "min": _num(lang, cr.min_score, 1) if cr.min_score is not None else "—",
                }
                for cr in m.criteria
            ],
            "weights": [
                {
                    "name": crit_name[cid],
                    "points": _score(lang, m.points[cid])
                    if m.ahp is None
                    else _num(lang, m.points[cid], 3),
                    "weight": _num(lang, w, 3),
                }
                for cid, w in m.weights.items()
            ],
            "weights_note": weights_note,
            "ahp": ahp_lines,
            "systems": ranked_names,
            "matrix": [
                {
                    "name": crit_name[cid],
                    "weight": _num(lang, w, 3),
                    "cells": [_score(lang, m.scores[r.system][cid].value) for r in m.ranking],
                }
                for cid, w in m.weights.items()
            ],
            "totals": [_num(lang, r.score) for r in m.ranking],
            "ranking": [
                {
                    "rank": r.rank,
                    "name": name(r.system),
                    "score": _num(lang, r.score),
                    "win": _share(lang, rob.win.get(r.system, 0.0)),
                    "contributions": " + ".join(
                        f"{crit_name[cid]} {_num(lang, v)}" for cid, v in r.contributions.items()
                    ),
                }
                for r in m.ranking
            ],
            "evidence": [
                {
                    "system": name(sys),
                    "criterion": crit_name[cid],
                    "score": _score(lang, sc.value),
                    "evidence": t(f"select.ev.{sc.evidence}"),
                    "confidence": t(f"select.conf.{sc.confidence}"),
                    "note": sc.note or "—",
                }
                for sys, row in m.scores.items()
                for cid, sc in row.items()
            ],
            "excluded": [
                {
                    "name": name(e.system),
                    "reason": e.reason.get(lang),
                    "score": _num(lang, e.score) if e.score is not None else "—",
                    "would_rank": str(e.would_rank) if e.would_rank is not None else "—",
                }
                for e in m.excluded
            ],
            "robustness": lines,
            "sensitivity": [
                {
                    "name": crit_name[f.criterion],
                    "weight": _num(lang, f.weight, 3),
                    "flip": _num(lang, f.flip_weight, 3) if f.flip_weight is not None else "—",
                    "flip_points": _points(fp, lang)
                    if (fp := flip_points(f, m.points)) is not None
                    else "—",
                    "flip_points_value": flip_points(f, m.points),
                    "to": name(f.flips_to) if f.flips_to else "—",
                    "move": _move(f, lang),
                }
                for f in m.sensitivity
            ],
            "flip_rule": t("select.text.flip_rule"),
            "verdict": verdict,
            "verdict_notes": verdict_notes,
            "verdict_rule": t("select.text.verdict_rule", p=_share(lang, DECIDE_NOW)),
            # the terminal's only: a client document does not speak of seeds
            "seed_note": t("select.report.seed", seed=rob.seed),
            "contributions": _contributions_view(result, m, lang),
        }
    return s4


def _spreads(rob: Robustness, lang: Lang) -> dict[str, str]:
    """What the Monte-Carlo varied, as the messages name it: the weights' ±share and the
    scores' ± points by confidence."""
    points = rob.score_spread or {}
    return {
        "spread": _share(lang, rob.spread),
        **{k: _score(lang, points.get(k, 0.0)) for k in ("high", "medium", "low")},
    }


def varied_text(result: SelectionResult, lang: Lang) -> str:
    """«веса ±20 % и оценки по их уверенности: высокая ±0,25, средняя ±0,5, низкая ±1»."""
    m = result.step4
    if m is None:
        return ""
    return msg("select.report.varied", lang, **_spreads(m.robustness, lang))


def _contributions_view(result: SelectionResult, m: MatrixResult, lang: Lang) -> dict[str, Any]:
    """Weight × score per criterion (rows) and system (columns), with the totals: the table
    beside the stacked bars (and instead of them in Markdown)."""
    return {
        "systems": [result.name(r.system, lang) for r in m.ranking],
        "rows": [
            {
                "name": c.name.get(lang),
                "cells": [_num(lang, r.contributions[c.id]) for r in m.ranking],
            }
            for c in m.criteria
            if c.id in m.weights
        ],
        "totals": [_num(lang, r.score) for r in m.ranking],
        "note": msg("select.report.contributions_note", lang),
    }


def _view_cost(result: SelectionResult, lang: Lang) -> dict[str, Any] | None:
    """The cost of ownership of each finalist: one column a finalist, one row an item."""
    cost = result.cost
    if cost is None:
        return None
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    shown = [c for c in (cost.of(s) for s in result.finalists) if c is not None]
    cur = cost.currency

    def amount(value: float | None, missing: str) -> str:
        return money(value, lang, cur) if value is not None else missing

    rows = []
    for index, item in enumerate(ITEMS):
        cells = [amount(c.items[index].amount, t("select.report.not_entered")) for c in shown]
        if item == "licences":
            cells = [amount(c.items[0].amount, t("select.report.unknown")) for c in shown]
        rows.append({"name": t(f"select.report.item_{item}"), "cells": cells, "strong": False})
        if item == "licences":
            rows.append(
                {
                    "name": t("select.report.licence_source"),
                    "cells": [_licence_source(c.items[0], cur, lang) for c in shown],
                    "strong": False,
                }
            )
    rows.append(
        {
            "name": t("select.report.total_row", years=cost.years),
            "cells": [
                money(c.total, lang, cur)
                if c.total is not None
                else t("select.report.at_least", amount=money(c.known, lang, cur))
                for c in shown
            ],
            "strong": True,
        }
    )
    rows.append(
        {
            "name": t("select.report.per_user_row"),
            "cells": [amount(c.per_user_month, "—") for c in shown],
            "strong": False,
        }
    )
    notes = []
    if cost.budget is not None:
        notes.append(
            t("select.report.budget", years=cost.years, budget=money(cost.budget, lang, cur))
        )
        over = [c for c in cost.systems if c.over_budget]
        if over:
            names = ", ".join(
                f"{result.name(c.system, lang)} ({money(c.known, lang, cur)})" for c in over
            )
            notes.append(t("select.report.over_budget", systems=names))
    criterion = next((c for c in result.selection.criteria if c.id == cost.criterion), None)
    if criterion is not None:
        notes.append(
            t("select.report.cost_criterion", criterion=criterion.name.get(lang), years=cost.years)
        )
    intro = (
        t("select.report.cost_intro", users=cost.users, years=cost.years)
        if cost.users
        else t("select.report.cost_intro_no_users", years=cost.years)
    )
    return {
        "head": t("select.report.cost_head", years=cost.years),
        "intro": intro,
        "item": t("select.report.item"),
        "systems": [result.name(c.system, lang) for c in shown],
        "rows": rows,
        "notes": notes,
    }


def _licence_source(item: CostItem, currency: str, lang: Lang) -> str:
    """Where a licence amount comes from, with its unit price: «990 ₽ за пользователя в месяц;
    введено консультантом» or «…; каталог, цена на 2024-05»."""
    if item.origin == "unknown" or item.unit_price is None:
        return msg("select.report.origin_unknown", lang)
    key = "per_user_price" if item.basis == "per_user_month" else "plan_price"
    price = msg(f"select.report.{key}", lang, price=money(item.unit_price, lang, currency))
    origin = msg(f"select.report.origin_{item.origin}", lang, as_of=item.as_of)
    return f"{price}; {origin}"


def _view_step5(result: SelectionResult, lang: Lang) -> list[dict[str, Any]]:
    """Step 5 of the view: the vendor sheets."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731

    def name(system: str) -> str:
        return result.name(system, lang)

    s5 = [
        {
            "name": name(sh.system),
            "finalist": sh.finalist,
            "questions": [
                {
                    "kind": t(f"select.text.kind_{q.kind}"),
                    "question": q.text.get(lang),
                    "answer": q.answer or t("select.text.not_asked"),
                }
                for q in sh.questions
            ],
            "other": [f"{qid}: {a}" for qid, a in sh.other_answers],
        }
        for sh in result.step5
    ]
    return s5


def view(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    """Everything the text, Markdown and HTML reports show, in ``lang``, step by step."""
    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    s1, s1_functions = _view_step1(result, lang)
    s2 = _view_step2(result, lang)
    s3 = _view_step3(result, lang)
    s4 = _view_step4(result, lang)
    s5 = _view_step5(result, lang)
    return {
        "summary": summary_markdown(result, lang),
        "cost": _view_cost(result, lang),
        "title": result.selection.title or t("select.head.title"),
        "h": {
            k: t(f"select.head.{k}")
            for k in (
                "title",
                "step1",
                "step2",
                "step3",
                "step4",
                "step5",
                "criteria",
                "weights",
                "ranking",
                "contributions",
                "evidence",
                "knocked_out",
                "robustness",
                "sensitivity",
                "warnings",
                "others",
            )
        },
        "col": {
            k: t(f"select.col.{k}")
            for k in (
                "problem",
                "function",
                "module",
                "solves",
                "criterion",
                "answer",
                "means",
                "system",
                "fit",
                "unknown_share",
                "lacking_share",
                "open",
                "reason",
                "verified",
                "would_rank",
                "score",
                "rank",
                "weight",
                "points",
                "flip",
                "flip_points",
                "flips_to",
                "move",
                "win",
                "evidence",
                "confidence",
                "note",
                "question",
                "minimum",
                "rubric",
            )
        },
        "s1_intro": [t("select.text.process_map"), t("select.text.crm_kinds")],
        "s1": s1,
        "s1_functions": s1_functions,
        "s2": s2,
        "s3": s3,
        "s4": s4,
        "s5": s5,
        "s5_intro": t("select.text.describe_problems"),
        "no_matrix": t("select.text.no_matrix"),
        "facts_note": t("select.text.facts_note"),
        "other_answers": t("select.text.other_answers"),
        "finalist": t("select.text.finalist"),
        "warnings": [w.get(lang) for w in result.warnings],
    }


# -- text ----------------------------------------------------------------------------------------


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    from crmkit.terminal import table

    return table(headers, rows)


def render_text(result: SelectionResult, lang: Lang) -> str:
    v = view(result, lang)
    h, col = v["h"], v["col"]
    out = [v["title"], "=" * len(v["title"]), ""]
    out += [h["step1"], "", *v["s1_intro"], ""]
    out += _table(
        [col["problem"], col["function"]],
        [[r["problem"], ", ".join(r["functions"])] for r in v["s1"]],
    )
    out += ["", h["step2"], "", v["s2"]["recommend"]]
    out += [f"  {r['criterion']}: {r['answer']} — {r['says']}" for r in v["s2"]["reasons"]]
    out += [x for x in (v["s2"]["dropped"], v["s2"]["boxed_advice"]) if x]
    out += [v["s2"]["cloud_smb"]]
    s3 = v["s3"]
    out += ["", h["step3"], "", s3["rule"], s3["trial"], s3["beginners"], ""]
    lacking = [col["lacking_share"]] if s3["show_lacking"] else []
    out += _table(
        [col["system"], col["fit"], col["unknown_share"], *lacking, col["open"]],
        [
            [r["name"], r["fit"], r["unknown"], *([r["lacking"]] if lacking else []), r["open"]]
            for r in s3["chosen"]
        ],
    )
    if s3["leads_in_deals"]:
        out += ["", *s3["leads_in_deals"]]
    if s3["others"]:
        out += ["", f"{h['others']}: {s3['others']}"]
    if v["s3"]["knocked"]:
        out += ["", h["knocked_out"] + ":"]
        out += _table(
            [col["system"], col["reason"], col["verified"]],
            [[r["name"], r["reason"], r["verified"]] for r in v["s3"]["knocked"]],
        )
    out += ["", h["step4"], ""]
    s4 = v["s4"]
    if s4 is None:
        out.append(v["no_matrix"])
    else:
        out += [s4["weights_note"], *s4["ahp"], ""]
        out += _table(
            [col["criterion"], col["weight"], *s4["systems"]],
            [[r["name"], r["weight"], *r["cells"]] for r in s4["matrix"]]
            + [["=", "", *s4["totals"]]],
        )
        out += ["", h["ranking"] + ":"]
        out += _table(
            [col["rank"], col["system"], col["score"], col["win"]],
            [[str(r["rank"]), r["name"], r["score"], r["win"]] for r in s4["ranking"]],
        )
        out += ["", h["contributions"] + ":"]
        out += [f"  {r['name']} = {r['contributions']}" for r in s4["ranking"]]
        if s4["excluded"]:
            out += ["", h["knocked_out"] + ":"]
            out += _table(
                [col["system"], col["reason"], col["score"], col["would_rank"]],
                [[r["name"], r["reason"], r["score"], r["would_rank"]] for r in s4["excluded"]],
            )
        out += ["", h["sensitivity"] + ":"]
        out += _table(
            [
                col["criterion"],
                col["weight"],
                col["flip"],
                col["flip_points"],
                col["flips_to"],
                col["move"],
            ],
            [
                [r["name"], r["weight"], r["flip"], r["flip_points"], r["to"], r["move"]]
                for r in s4["sensitivity"]
            ],
        )
        out += [s4["flip_rule"]]
        out += ["", h["robustness"] + ":", *s4["robustness"], s4["seed_note"], "", s4["verdict"]]
        out += [*s4["verdict_notes"], s4["verdict_rule"]]
    cost = v["cost"]
    if cost is not None:
        out += ["", cost["head"], "", cost["intro"], ""]
        out += _table(
            [cost["item"], *cost["systems"]], [[r["name"], *r["cells"]] for r in cost["rows"]]
        )
        out += cost["notes"]
    out += ["", h["step5"], "", v["s5_intro"], ""]
    for sheet in v["s5"]:
        mark = f" ({v['finalist']})" if sheet["finalist"] else ""
        out.append(f"{sheet['name']}{mark}:")
        for i, q in enumerate(sheet["questions"], 1):
            out.append(f"  {i}. [{q['kind']}] {q['question']}")
            out.append(f"     → {q['answer']}")
        if sheet["other"]:
            out.append(f"  {v['other_answers']}: " + "; ".join(sheet["other"]))
    if v["warnings"]:
        out += ["", h["warnings"] + ":", *(f"  ! {w}" for w in v["warnings"])]
    out += ["", v["facts_note"]]
    from crmkit.terminal import fit

    return fit("\n".join(out)) + "\n"


# -- Markdown and HTML ---------------------------------------------------------------------------


def render_markdown(
    result: SelectionResult,
    lang: Lang,
    parts: tuple[str, ...] = (
        "title",
        "summary",
        "intro",
        "matrix",
        "contributions",
        "evidence",
        "robustness",
        "cost",
        "vendor",
    ),
) -> str:
    """The selection as Markdown; ``parts`` picks sections (HTML splices figures between them;
    "summary" is the answer for page one, which a document frame may place itself)."""
    from crmkit.export.markdown import render_template

    return render_template("selection.md.j2", v=view(result, lang), parts=parts)


def score_bars_svg(result: SelectionResult, lang: Lang) -> str:
    from crmkit.export.svg import hbar_chart

    m = result.step4
    assert m is not None
    rows = [(result.name(r.system, lang), r.score) for r in m.ranking]
    rows += [
        (f"{result.name(e.system, lang)} ✕", e.score) for e in m.excluded if e.score is not None
    ]
    label = msg("select.text.score_bars", lang)
    return hbar_chart(rows, 5.0, label, format_value=lambda v: number(v, lang))


def sensitivity_svg(result: SelectionResult, lang: Lang) -> str:
    """One row per criterion: a scale of weights, the current weight and the flip weight; a
    criterion's name wraps onto as many lines as it needs (never cut)."""
    from crmkit.export.svg import esc, svg_open, text_lines, wrap_text

    m = result.step4
    assert m is not None
    names = {c.id: c.name.get(lang) for c in m.criteria}
    top = max(
        [f.weight for f in m.sensitivity] + [f.flip_weight or 0 for f in m.sensitivity] + [0.01]
    )
    top = min(1.0, top * 1.15) if top <= 1 else top * 1.15
    width, label_w = 760, 260
    scale_w = width - label_w - 150
    labels = [wrap_text(names[f.criterion], label_w - 16, 13) for f in m.sensitivity]
    rows = [max(28, 16 * len(lines) + 12) for lines in labels]
    height = sum(rows) + 34
    x = lambda w: label_w + scale_w * min(w, top) / top  # noqa: E731
    parts = [svg_open(width, height, msg("select.text.sens_chart", lang))]
    top_y = 10.0
    for f, lines, row_h in zip(m.sensitivity, labels, rows, strict=True):
        y = top_y + row_h / 2
        top_y += row_h
        first = y + 4 - 8 * (len(lines) - 1)  # the lines centred on the row
        parts.append(
            text_lines(label_w - 8, first, lines, anchor="end")
            + f'<line x1="{label_w}" y1="{y:.1f}" x2="{label_w + scale_w}" y2="{y:.1f}" '
            'stroke="#d5dde6" stroke-width="6" stroke-linecap="round"/>'
        )
        if f.flip_weight is not None:
            fx = x(f.flip_weight)
            parts.append(
                f'<line x1="{x(f.weight):.1f}" y1="{y:.1f}" x2="{fx:.1f}" y2="{y:.1f}" '
                'stroke="#e0a030" stroke-width="6"/>'
                f'<path d="M{fx:.1f} {y - 7:.1f} L{fx + 7:.1f} {y:.1f} L{fx:.1f} {y + 7:.1f} '
                f'L{fx - 7:.1f} {y:.1f} Z" fill="#c0392b"/>'
                f'<text x="{label_w + scale_w + 10}" y="{y + 4:.1f}" font-size="12" '
                'fill="#b0341f">'
                f"{esc(_num(lang, f.flip_weight, 3))} → "
                f"{esc(result.name(f.flips_to or '', lang))}</text>"
            )
        else:
            parts.append(
                f'<text x="{label_w + scale_w + 10}" y="{y + 4:.1f}" font-size="12" '
                'fill="#4f5d6b">—</text>'
            )
        parts.append(f'<circle cx="{x(f.weight):.1f}" cy="{y:.1f}" r="6" fill="#2067b0"/>')
    axis_y = top_y + 12
    for k in range(5):
        w = top * k / 4
        parts.append(
            f'<text x="{x(w):.1f}" y="{axis_y:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#4f5d6b">{esc(_num(lang, w, 2))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def render_html(result: SelectionResult, lang: Lang, meta: DocumentMeta | None = None) -> str:
    return selection_document(result, lang, meta).render()


def selection_document(
    result: SelectionResult, lang: Lang, meta: DocumentMeta | None = None
) -> HtmlDocument:
    """The selection in the document frame (``render`` it, or put it in the combined report)."""
    from crmkit.export.markdown import html_values

    with html_values():
        return _selection_document(result, lang, meta or DocumentMeta())


def _selection_document(result: SelectionResult, lang: Lang, meta: DocumentMeta) -> HtmlDocument:
    from crmkit.export.html import HtmlDocument

    v = view(result, lang)
    doc = HtmlDocument(v["title"], lang, kind=msg("select.doc.kind", lang), meta=meta)
    doc.summarize(summary_markdown(result, lang))
    doc.markdown(render_markdown(result, lang, ("title", "intro", "matrix")))
    if result.step4 is not None and result.step4.ranking:
        doc.figure(contributions_svg(result, lang), msg("select.report.contributions_chart", lang))
        doc.figure(heatmap_svg(result, lang), msg("select.report.heatmap", lang))
    doc.markdown(render_markdown(result, lang, ("contributions", "evidence", "robustness")))
    if result.step4 is not None and result.step4.sensitivity:
        doc.figure(sensitivity_svg(result, lang), msg("select.text.sens_chart", lang))
    doc.markdown(render_markdown(result, lang, ("cost", "vendor")))
    return doc


def contributions_svg(result: SelectionResult, lang: Lang) -> str:
    """Stacked bars: per ranked system one segment per criterion (weight × score), the total
    at the end, on the 1–5 scale's width."""
    from crmkit.export.svg import stacked_bars

    m = result.step4
    assert m is not None
    criteria = [c for c in m.criteria if c.id in m.weights]
    rows = [
        (
            result.name(r.system, lang),
            [r.contributions[c.id] for c in criteria],
            _num(lang, r.score),
        )
        for r in m.ranking
    ]
    legend = [c.name.get(lang) for c in criteria]
    return stacked_bars(rows, legend, SCORE_MAX, msg("select.report.contributions_chart", lang))


def heatmap_svg(result: SelectionResult, lang: Lang) -> str:
    """The scores as a heatmap: a row per criterion, a column per ranked system."""
    from crmkit.export.svg import heatmap

    m = result.step4
    assert m is not None
    criteria = [c for c in m.criteria if c.id in m.weights]
    columns = [result.name(r.system, lang) for r in m.ranking]
    cells: list[list[tuple[float, str] | None]] = [
        [
            (m.scores[r.system][c.id].value, _score(lang, m.scores[r.system][c.id].value))
            if c.id in m.scores[r.system]
            else None
            for r in m.ranking
        ]
        for c in criteria
    ]
    names = [c.name.get(lang) for c in criteria]
    return heatmap(names, columns, cells, msg("select.report.heatmap", lang))


def summary_markdown(result: SelectionResult, lang: Lang) -> str:
    """The answer for page one, as 3–6 Markdown bullets (no heading): the recommended system
    and by how much, how robust (the win probability, what was varied, the critical weight),
    the verdict, the knock-outs, and the winner's cost of ownership when known."""
    from crmkit.export.markdown import md_escape as e

    t = lambda key, **kw: msg(key, lang, **kw)  # noqa: E731
    m = result.step4
    if m is None or not m.ranking:
        return f"- {t('select.report.sum_none')}\n"
    name = lambda system: e(result.name(system, lang))  # noqa: E731
    leader, rob = m.ranking[0], m.robustness
    lines = [_summary_leader(result, m, lang)]
    if len(m.ranking) > 1:
        p = _share(lang, rob.win.get(leader.system, 0.0))
        lines.append(
            t(
                "select.report.sum_robust",
                leader=name(leader.system),
                p=p,
                varied=e(varied_text(result, lang)),
            )
        )
        crit = rob.critical
        if crit is not None and crit.flips_to:
            criterion = next(c.name.get(lang) for c in m.criteria if c.id == crit.criterion)
            lines.append(
                t(
                    "select.report.sum_critical",
                    criterion=e(criterion),
                    flip=_num(lang, crit.flip_weight or 0.0, 3),
                    weight=_num(lang, crit.weight, 3),
                    move=_move(crit, lang),
                    to=name(crit.flips_to),
                )
            )
        else:
            lines.append(t("select.report.sum_no_critical"))
    second = m.ranking[1].system if len(m.ranking) > 1 else ""
    verdict = t(
        f"select.text.verdict_{rob.verdict}",
        leader=result.name(leader.system, lang),
        second=result.name(second, lang) if second else "",
    )
    lines.append(f"**{e(verdict)}**")
    knocked = _summary_knocked(result, lang)
    if knocked:
        lines.append(knocked)
    cost = result.cost.of(leader.system) if result.cost is not None else None
    if cost is not None and result.cost is not None:
        cur, years = result.cost.currency, result.cost.years
        if cost.total is not None:
            per_user = money(cost.per_user_month, lang, cur) if cost.per_user_month else "—"
            line = t(
                "select.report.sum_cost",
                leader=name(leader.system),
                years=years,
                total=money(cost.total, lang, cur),
                per_user=per_user,
            )
        else:
            line = t(
                "select.report.sum_cost_part",
                leader=name(leader.system),
                years=years,
                known=money(cost.known, lang, cur),
            )
        lines.append(line)
    return "".join(f"- {line}\n" for line in lines)


def _summary_leader(result: SelectionResult, m: MatrixResult, lang: Lang) -> str:
    from crmkit.export.markdown import md_escape as e

    leader = m.ranking[0]
    score = _num(lang, leader.score)
    if len(m.ranking) == 1:
        return msg(
            "select.report.sum_single",
            lang,
            leader=e(result.name(leader.system, lang)),
            score=score,
        )
    second = m.ranking[1]
    if second.rank == 1:
        tied = [r.system for r in m.ranking if r.rank == 1]
        systems = ", ".join(result.name(s, lang) for s in tied)
        return msg("select.report.sum_tie", lang, systems=e(systems), score=score)
    gap = leader.score - second.score
    return msg(
        "select.report.sum_leader",
        lang,
        leader=e(result.name(leader.system, lang)),
        score=score,
        gap=_num(lang, gap),
        share=_share(lang, gap / second.score) if second.score else "—",
        second=e(result.name(second.system, lang)),
    )


#: at most this many knock-outs are named on page one
_SUMMARY_KNOCKED = 4


def _summary_knocked(result: SelectionResult, lang: Lang) -> str:
    """«Выбыли: Мегаплан (…), FreshOffice (…).» — step 3 and the matrix, the first few."""
    from crmkit.export.markdown import md_escape as e

    out: list[str] = []
    m = result.step4
    in_matrix = {x.system for x in m.excluded} if m else set()
    for ko in result.step3.knocked_out:
        if ko.system not in in_matrix:
            out.append(f"{result.name(ko.system, lang)} ({ko.reason(lang)})")
    for x in m.excluded if m else ():
        out.append(f"{result.name(x.system, lang)} ({x.reason.get(lang)})")
    if not out:
        return ""
    shown = "; ".join(out[:_SUMMARY_KNOCKED])
    if len(out) > _SUMMARY_KNOCKED:
        shown += " " + msg("select.report.sum_more", lang, count=len(out) - _SUMMARY_KNOCKED)
    return msg("select.report.sum_knocked", lang, systems=e(shown))


# -- the catalog ---------------------------------------------------------------------------------


def catalog_data(catalog: Catalog, lang: Lang) -> list[dict[str, Any]]:
    return [s.to_dict(lang) for s in catalog]


def _free(s: System, lang: Lang) -> str:
    fp = s.free_plan
    if fp.available == "unknown":
        return msg("select.unknown", lang)
    if fp.available == "no":
        return msg("select.no", lang)
    users = (
        fp.users
        if isinstance(fp.users, int)
        else msg("select.unknown", lang)
        if fp.users == "unknown"
        else "∞"
    )
    return f"{msg('select.yes', lang)} ({users})"


def catalog_text(catalog: Catalog, lang: Lang) -> str:
    col = lambda k: msg(f"select.col.{k}", lang)  # noqa: E731
    unknown = msg("select.unknown", lang)
    tri = {"yes": "+", "no": "−", "unknown": "?"}
    rows = []
    for s in catalog:
        rows.append(
            [
                s.display(lang),
                msg(f"select.text.dep_{s.deployment}", lang),
                _free(s, lang),
                str(s.trial_days) if s.trial_days is not None else unknown,
                msg(f"select.focus.{s.focus}", lang),
                " ".join(
                    tri[s.integrations[k]] for k in ("telephony", "one_c", "email", "site_forms")
                ),
                {"yes": msg("select.yes", lang), "no": msg("select.no", lang)}.get(
                    s.leads_deals_separate, unknown
                ),
            ]
        )
    head = msg("select.head.catalog", lang)
    lines = [head, "=" * len(head), ""]
    lines += _table(
        [
            col("system"),
            col("deployment"),
            col("free_plan"),
            col("trial"),
            col("focus"),
            col("integrations"),
            col("leads_deals"),
        ],
        rows,
    )
    lines += [
        "",
        "+ " + msg("select.yes", lang) + ", − " + msg("select.no", lang) + ", ? " + unknown + ".",
        msg("select.text.facts_note", lang),
    ]
    from crmkit.terminal import fit

    return fit("\n".join(lines)) + "\n"

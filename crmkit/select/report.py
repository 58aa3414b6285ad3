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
from crmkit.select.catalog import Catalog, System
from crmkit.select.deployment import Question
from crmkit.select.matrix import DECIDE_NOW, SAATY_RANDOM_INDEX, Flip, MatrixResult
from crmkit.select.problems import library
from crmkit.select.run import SelectionResult, leads_in_deals, leads_in_deals_text

if TYPE_CHECKING:
    from crmkit.export.html import HtmlDocument


def _r(x: float | None, digits: int | None = None) -> float | None:
    """Numbers of the JSON: full precision unless ``digits`` (shares shown as 0.1234)."""
    if x is None:
        return None
    return round(x, digits) if digits is not None else x


def _fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _pct(x: float) -> str:
    return "∞" if math.isinf(x) else f"{x * 100:.0f}%"


# -- JSON ----------------------------------------------------------------------------------------


def to_data(result: SelectionResult, lang: Lang) -> dict[str, Any]:
    """The JSON object of ``crmkit select --format json`` (DESIGN.md: ranking, knocked_out,
    sensitivity, weights, scores — and the rest of the steps)."""
    m = result.step4

    def name(system: str) -> str:
        return result.name(system, lang)

    knocked: list[dict[str, Any]] = []
    matrix_out = {e.system for e in m.excluded} if m else set()
    for ko in result.step3.knocked_out:
        if ko.system in matrix_out:
            continue
        knocked.append(
            {
                "system": ko.system,
                "name": name(ko.system),
                "reason": ko.reason(lang),
                "stage": "shortlist",
                "verified": ko.verified,
                "score": None,
                "would_rank": None,
            }
        )
    if m:
        for e in m.excluded:
            early = result.step3.knockout(e.system)
            knocked.append(
                {
                    "system": e.system,
                    "name": name(e.system),
                    "reason": e.reason.get(lang),
                    "stage": "shortlist" if early else "matrix",
                    "verified": early.verified if early else True,
                    "score": _r(e.score),
                    "would_rank": e.would_rank,
                }
            )
    data: dict[str, Any] = {
        "title": result.selection.title,
        "ranking": [
            {
                "system": r.system,
                "name": name(r.system),
                "score": _r(r.score),
                "rank": r.rank,
                "contributions": {c: _r(v) for c, v in r.contributions.items()},
                "win_probability": _r(m.robustness.win.get(r.system, 0.0), 4) if m else None,
            }
            for r in (m.ranking if m else ())
        ],
        "knocked_out": knocked,
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
        rob = m.robustness
        crit = rob.critical
        data["weight_method"] = result.selection.weight_method
        data["weight_points"] = {c: _r(p) for c, p in m.points.items()}
        data["ahp"] = (
            {
                "lambda_max": _r(m.ahp.lambda_max),
                "ci": _r(m.ahp.ci),
                "ri": m.ahp.ri,
                "cr": _r(m.ahp.cr),
                "consistent": m.ahp.consistent,
                "n": m.ahp.n,
                "random_index_table": "Saaty (1980)",
            }
            if m.ahp
            else None
        )
        data["criteria"] = [
            {
                "id": c.id,
                "name": c.name.get(lang),
                "rubric": [t.get(lang) for t in c.rubric],
                "min_score": c.min_score,
                "custom": c.custom,
            }
            for c in m.criteria
        ]
        data["evidence"] = {
            s: {
                c: {"evidence": sc.evidence, "confidence": sc.confidence, "note": sc.note}
                for c, sc in row.items()
            }
            for s, row in m.scores.items()
        }
        data["robustness"] = {
            "gap": _r(rob.gap),
            "critical": crit.criterion if crit else None,
            "critical_flip_weight": _r(crit.flip_weight) if crit else None,
            "critical_flips_to": crit.flips_to if crit else None,
            "win_probability": {s: _r(p, 4) for s, p in rob.win.items()},
            "spread": rob.spread,
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
    data["steps"] = {
        "problems": result.step1.to_dict(lang),
        "deployment": result.step2.to_dict(lang),
        "shortlist": {
            "size": result.step3.size,
            "chosen": [
                {
                    "system": c.system,
                    "name": name(c.system),
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
        },
        "vendor": [
            {
                "system": sh.system,
                "name": name(sh.system),
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
    return data


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


def _points(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 1 else f"{x:.4g}"


def _move(f: Flip) -> str:
    rel = f.relative_move
    if rel is None:
        return "—"
    sign = "+" if (f.flip_weight or 0) >= f.weight else "−"
    return sign + _pct(rel)


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
        t("select.text.others_confirmed", system=name(c.system), share=_pct(c.confirmed))
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
                "fit": _pct(c.confirmed),
                "unknown": _pct(c.unknown),
                "lacking": _pct(c.lacking),
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
        lines.append(t("select.text.gap", gap=_fmt(rob.gap)))
    c = rob.critical
    if c is not None and m.ranking:
        lines.append(
            t(
                "select.text.critical",
                criterion=crit_name[c.criterion],
                leader=name(m.ranking[0].system),
                flip=_fmt(c.flip_weight or 0.0, 3),
                weight=_fmt(c.weight, 3),
                move=_move(c),
                to=name(c.flips_to or ""),
            )
        )
    elif len(m.ranking) > 1:
        lines.append(t("select.text.no_critical"))
    if m.ranking:
        lines.append(
            t(
                "select.text.montecarlo",
                spread=round(rob.spread * 100),
                draws=rob.draws,
                seed=rob.seed,
                leader=name(m.ranking[0].system),
                p=_pct(rob.win.get(m.ranking[0].system, 0.0)),
            )
        )
    for tie in rob.ties:
        lines.append(
            t(
                "select.text.tie",
                systems=", ".join(name(s) for s in tie.systems),
                rank=tie.rank,
                score=_fmt(tie.score),
            )
        )
        if tie.differences:
            diffs = ", ".join(
                t(
                    "select.text.tie_ahead",
                    criterion=crit_name[cid],
                    system=name(s),
                    gap=_fmt(g, 3),
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
            lmax=_fmt(a.lambda_max, 3),
            ci=_fmt(a.ci, 3),
            n=a.n,
            ri=_fmt(a.ri, 2),
            cr=_fmt(a.cr, 3),
        )
        ahp_lines.append(t("select.text.ahp_ok") if a.consistent else t("select.text.ahp_bad"))
        table = ", ".join(f"{n}: {v:g}" for n, v in SAATY_RANDOM_INDEX.items())
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
                    "min": _fmt(cr.min_score, 1) if cr.min_score is not None else "—",
                }
                for cr in m.criteria
            ],
            "weights": [
                {
                    "name": crit_name[cid],
                    "points": f"{m.points[cid]:g}" if m.ahp is None else _fmt(m.points[cid], 3),
                    "weight": _fmt(w, 3),
                }
                for cid, w in m.weights.items()
            ],
            "weights_note": weights_note,
            "ahp": ahp_lines,
            "systems": ranked_names,
            "matrix": [
                {
                    "name": crit_name[cid],
                    "weight": _fmt(w, 3),
                    "cells": [f"{m.scores[r.system][cid].value:g}" for r in m.ranking],
                }
                for cid, w in m.weights.items()
            ],
            "totals": [_fmt(r.score) for r in m.ranking],
            "ranking": [
                {
                    "rank": r.rank,
                    "name": name(r.system),
                    "score": _fmt(r.score),
                    "win": _pct(rob.win.get(r.system, 0.0)),
                    "contributions": " + ".join(
                        f"{crit_name[cid]} {_fmt(v)}" for cid, v in r.contributions.items()
                    ),
                }
                for r in m.ranking
            ],
            "evidence": [
                {
                    "system": name(sys),
                    "criterion": crit_name[cid],
                    "score": f"{sc.value:g}",
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
                    "score": _fmt(e.score) if e.score is not None else "—",
                    "would_rank": str(e.would_rank) if e.would_rank is not None else "—",
                }
                for e in m.excluded
            ],
            "robustness": lines,
            "sensitivity": [
                {
                    "name": crit_name[f.criterion],
                    "weight": _fmt(f.weight, 3),
                    "flip": _fmt(f.flip_weight, 3) if f.flip_weight is not None else "—",
                    "flip_points": _points(fp)
                    if (fp := flip_points(f, m.points)) is not None
                    else "—",
                    "flip_points_value": flip_points(f, m.points),
                    "to": name(f.flips_to) if f.flips_to else "—",
                    "move": _move(f),
                }
                for f in m.sensitivity
            ],
            "flip_rule": t("select.text.flip_rule"),
            "verdict": verdict,
            "verdict_notes": verdict_notes,
            "verdict_rule": t("select.text.verdict_rule", p=_pct(DECIDE_NOW)),
        }
    return s4


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
        out += ["", h["robustness"] + ":", *s4["robustness"], "", s4["verdict"]]
        out += [*s4["verdict_notes"], s4["verdict_rule"]]
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
    parts: tuple[str, ...] = ("intro", "matrix", "robustness", "vendor"),
) -> str:
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
    return hbar_chart(rows, 5.0, msg("select.text.score_bars", lang), value_format="{:.2f}")


def sensitivity_svg(result: SelectionResult, lang: Lang) -> str:
    """One row per criterion: a scale of weights, the current weight and the flip weight."""
    from crmkit.export.svg import esc, svg_open

    m = result.step4
    assert m is not None
    names = {c.id: c.name.get(lang) for c in m.criteria}
    top = max(
        [f.weight for f in m.sensitivity] + [f.flip_weight or 0 for f in m.sensitivity] + [0.01]
    )
    top = min(1.0, top * 1.15) if top <= 1 else top * 1.15
    width, label_w, row_h = 760, 260, 28
    scale_w = width - label_w - 150
    height = row_h * len(m.sensitivity) + 34
    x = lambda w: label_w + scale_w * min(w, top) / top  # noqa: E731
    parts = [svg_open(width, height, msg("select.text.sens_chart", lang))]
    for i, f in enumerate(m.sensitivity):
        y = 10 + i * row_h + row_h / 2
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 4:.1f}" font-size="13" text-anchor="end" '
            f'fill="#1d2733">{esc(names[f.criterion][:38])}</text>'
            f'<line x1="{label_w}" y1="{y:.1f}" x2="{label_w + scale_w}" y2="{y:.1f}" '
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
                'fill="#c0392b">'
                f"{esc(_fmt(f.flip_weight, 3))} → {esc(result.name(f.flips_to or '', lang))}</text>"
            )
        else:
            parts.append(
                f'<text x="{label_w + scale_w + 10}" y="{y + 4:.1f}" font-size="12" '
                'fill="#5b6b7c">—</text>'
            )
        parts.append(f'<circle cx="{x(f.weight):.1f}" cy="{y:.1f}" r="6" fill="#2067b0"/>')
    axis_y = 10 + len(m.sensitivity) * row_h + 12
    for k in range(5):
        w = top * k / 4
        parts.append(
            f'<text x="{x(w):.1f}" y="{axis_y:.1f}" font-size="11" text-anchor="middle" '
            f'fill="#5b6b7c">{w:.2f}</text>'
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
    doc.markdown(render_markdown(result, lang, ("intro", "matrix")))
    if result.step4 is not None and (result.step4.ranking or result.step4.excluded):
        doc.figure(score_bars_svg(result, lang), msg("select.text.score_bars", lang))
    doc.markdown(render_markdown(result, lang, ("robustness",)))
    if result.step4 is not None and result.step4.sensitivity:
        doc.figure(sensitivity_svg(result, lang), msg("select.text.sens_chart", lang))
    doc.markdown(render_markdown(result, lang, ("vendor",)))
    return doc


def summary_markdown(result: SelectionResult, lang: Lang) -> str:
    """The answer on page one (the frame's first version: the leader; the selection's own
    summary replaces it)."""
    from crmkit.export.markdown import md_escape

    step4 = result.step4
    if step4 is None or not step4.ranking:
        return ""
    return "**" + md_escape(result.name(step4.ranking[0].system, lang)) + "**"


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

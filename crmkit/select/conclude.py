"""What each step of the selection concludes, in a few lines for the wizard's review screen.

Pure: a (partial) selection in, the lines out. The same results the report gives, said short:
step 1 the functions the problems need, step 2 the deployment type and why, step 3 why these
systems, step 4 the leader and how sure, step 5 how many vendor questions have an answer.
"""

from __future__ import annotations

from crmkit.i18n import Lang, msg
from crmkit.select.catalog import Catalog
from crmkit.select.problems import Library
from crmkit.select.run import (
    first_steps,
    leads_in_deals,
    leads_in_deals_text,
    open_score_text,
    run_selection,
)
from crmkit.select.selection import Selection

#: at most this many knocked-out systems are named in the step-3 conclusion
_KNOCKED_SHOWN = 4


def _number(value: float, lang: Lang, digits: int = 2) -> str:
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "ru" else text


def conclude(
    step: int, selection: Selection, catalog: Catalog, lib: Library, lang: Lang
) -> list[str]:
    if step == 1:
        return _step1(selection, catalog, lib, lang)
    if step == 2:
        return _step2(selection, catalog, lib, lang)
    if step == 3:
        return _step3(selection, catalog, lib, lang)
    if step == 4:
        return _step4(selection, catalog, lib, lang)
    return _step5(selection, catalog, lib, lang)


def _step1(selection: Selection, catalog: Catalog, lib: Library, lang: Lang) -> list[str]:
    step1 = first_steps(selection, catalog, lib)[0]
    functions = ", ".join(
        f"{f.name.get(lang)} ({step1.solves[f.id]})" if step1.solves[f.id] > 1 else f.name.get(lang)
        for f in step1.functions
    )
    return [
        msg("select.wiz.c1_problems", lang, count=len(step1.rows)),
        msg("select.wiz.c1_functions", lang, functions=functions or "—"),
    ]


def _step2(selection: Selection, catalog: Catalog, lib: Library, lang: Lang) -> list[str]:
    rec = first_steps(selection, catalog, lib)[1]
    kind = msg(f"select.wiz.kind_{rec.deployment}", lang)
    if rec.basis == "decisive":
        said = []
        for r in rec.reasons:
            if r.question.id in rec.decisive:
                answer = r.question.cloud if r.side == "cloud" else r.question.boxed
                said.append(f"{r.question.criterion.get(lang)}: «{answer.get(lang)}»")
        return [msg("select.wiz.c2_decisive", lang, kind=kind, why="; ".join(said))]
    if rec.basis == "majority":
        side = rec.deployment
        criteria = ", ".join(r.question.criterion.get(lang) for r in rec.reasons if r.side == side)
        votes = rec.cloud_votes if side == "cloud" else rec.boxed_votes
        return [
            msg(
                "select.wiz.c2_majority",
                lang,
                kind=kind,
                votes=votes,
                total=rec.cloud_votes + rec.boxed_votes,
                criteria=criteria,
            )
        ]
    if rec.basis == "draw":
        return [msg("select.wiz.c2_draw", lang, kind=kind, votes=rec.cloud_votes)]
    if rec.basis == "chosen":
        return [msg("select.wiz.c2_chosen", lang, kind=kind)]
    return [msg("select.wiz.c2_none", lang)]


def _step3(selection: Selection, catalog: Catalog, lib: Library, lang: Lang) -> list[str]:
    shortlist = first_steps(selection, catalog, lib)[2]
    lines = [msg("select.wiz.c3_rule", lang)]
    for candidate in shortlist.chosen:
        name = catalog.name(candidate.system, lang)
        if candidate.added:
            why = msg("select.wiz.c3_added", lang)
        elif candidate.reserved:
            why = msg("select.wiz.c3_reserved", lang)
        else:
            why = msg("select.wiz.c3_fit", lang, share=round(candidate.confirmed * 100))
            if candidate.unknown:
                why += ", " + msg(
                    "select.wiz.c3_unknown", lang, share=round(candidate.unknown * 100)
                )
        if candidate.open_checks:
            why += "; " + msg("select.wiz.c3_open", lang, count=len(candidate.open_checks))
        lines.append(f"• {name} — {why}")
    knocked = [k for k in shortlist.knocked_out if k.checks[0].rule != "removed"]
    if knocked:
        shown = "; ".join(
            f"{catalog.name(k.system, lang)} ({k.reason(lang)})" for k in knocked[:_KNOCKED_SHOWN]
        )
        more = len(knocked) - _KNOCKED_SHOWN
        if more > 0:
            shown += " " + msg("select.wiz.c3_more", lang, count=more)
        lines.append(msg("select.wiz.c3_knocked", lang, systems=shown))
    for system in leads_in_deals(catalog, shortlist.ids):
        lines.append(leads_in_deals_text(catalog, system).get(lang))
    return lines


def _step4(selection: Selection, catalog: Catalog, lib: Library, lang: Lang) -> list[str]:
    result = run_selection(selection, catalog, lib)
    lines = []
    m = result.step4
    if m is None or not m.ranking:
        lines.append(msg("select.wiz.c4_none", lang))
    else:
        leader = m.ranking[0]
        win = m.robustness.win.get(leader.system, 0.0)
        lines.append(
            msg(
                "select.wiz.c4_leader",
                lang,
                system=catalog.name(leader.system, lang),
                score=_number(leader.score, lang),
                share=round(win * 100),
            )
        )
        if len(m.ranking) > 1:
            second = m.ranking[1]
            lines.append(
                msg(
                    "select.wiz.c4_second",
                    lang,
                    system=catalog.name(second.system, lang),
                    gap=_number(leader.score - second.score, lang),
                )
            )
        lines.append(msg(f"select.wiz.c4_{m.robustness.verdict}", lang))
        named = 2 if m.robustness.verdict == "pilot_top_two" else 1
        for system in leads_in_deals(catalog, [r.system for r in m.ranking[:named]]):
            lines.append(leads_in_deals_text(catalog, system).get(lang))
    for item in result.open_scores:
        lines.append("! " + open_score_text(item, catalog, selection).get(lang))
    return lines


def _step5(selection: Selection, catalog: Catalog, lib: Library, lang: Lang) -> list[str]:
    result = run_selection(selection, catalog, lib)
    asked = [q for sheet in result.step5 if sheet.finalist for q in sheet.questions]
    answered = sum(1 for q in asked if q.answer)
    return [msg("select.wiz.c5_answers", lang, answered=answered, total=len(asked))]

"""The five steps in order: a selection and the catalog in, one ``SelectionResult`` out. Pure."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

from crmkit.i18n import Lang, Text
from crmkit.numbers import money
from crmkit.select.catalog import Catalog
from crmkit.select.cost import CostResult, cost_of_ownership, cost_scores
from crmkit.select.deployment import Recommendation, recommend
from crmkit.select.matrix import (
    SCORE_MAX,
    SCORE_MIN,
    Ahp,
    MatrixResult,
    Score,
    ahp,
    evaluate,
    normalise,
    weighted_mean,
)
from crmkit.select.problems import Library, Step1, step1_table
from crmkit.select.selection import Selection, chosen_problems
from crmkit.select.shortlist import Requirements, Shortlist, make_shortlist
from crmkit.select.vendor import VendorSheet, questions


@dataclass(frozen=True)
class OpenScore:
    """A system whose scores are partly left for later: the totals it could reach."""

    system: str
    criteria: tuple[str, ...]
    #: the weighted total with every open score at the lowest / highest mark (None: other
    #: criteria are not scored either, so no range can be given)
    low: float | None
    high: float | None
    leader: str | None
    leader_score: float | None

    def to_dict(self) -> dict[str, object]:
        return {
            "system": self.system,
            "criteria": list(self.criteria),
            "low": self.low,
            "high": self.high,
            "leader": self.leader,
            "leader_score": self.leader_score,
        }


@dataclass(frozen=True)
class SelectionResult:
    selection: Selection
    catalog: Catalog
    step1: Step1
    step2: Recommendation
    step3: Shortlist
    step4: MatrixResult | None
    step5: tuple[VendorSheet, ...]
    finalists: tuple[str, ...]
    warnings: tuple[Text, ...] = field(default=())
    open_scores: tuple[OpenScore, ...] = field(default=())
    #: the cost of ownership (None: the selection has no ``[cost]``)
    cost: CostResult | None = None

    def name(self, system: str, lang: Lang | None = None) -> str:
        """The system's name in ``lang`` (by default the run's language)."""
        return self.catalog.name(system, lang)


def first_steps(
    selection: Selection, catalog: Catalog, lib: Library
) -> tuple[Step1, Recommendation, Shortlist]:
    """Steps 1–3 alone: cheap (no matrix), for a wizard that needs the shortlist as it asks."""
    problems = chosen_problems(selection, lib)
    step1 = step1_table(problems, lib)
    step2 = recommend(selection.deployment_answers, selection.deployment_decision)
    req = Requirements(
        deployment=step2.deployment,
        functions=selection.functions,
        integrations=selection.integrations,
        free_plan_users=selection.free_plan_users,
        needs=dict(step1.solves),
        add=selection.add,
        remove=selection.remove,
        size=selection.size,
        verified=selection.verified,
    )
    return step1, step2, make_shortlist(catalog, req, lib)


def run_selection(
    selection: Selection, catalog: Catalog, lib: Library, *, seed: int | None = None
) -> SelectionResult:
    warnings: list[Text] = []
    step1, step2, step3 = first_steps(selection, catalog, lib)
    cost = _cost(selection, catalog, step3)
    over_budget = _over_budget(cost)
    selection, cost_points = _with_cost_scores(selection, cost, step3, over_budget)
    if cost is not None and cost_points:
        cost = dataclasses.replace(cost, scores=cost_points)
    step4 = None
    if selection.scores and selection.criteria:
        step4 = _step4(selection, catalog, step3, over_budget, warnings, seed)

    open_scores = _open_scores(selection, step4)
    warnings += [open_score_text(o, catalog, selection) for o in open_scores]

    if selection.finalists:
        finalists = selection.finalists
    elif step4 is not None and step4.ranking:
        finalists = tuple(r.system for r in step4.ranking[:2])
    else:
        finalists = step3.ids
    open_checks = {c.system: c.open_checks for c in (*step3.chosen, *step3.others)}
    need_checks = {c.system: c.need_checks for c in (*step3.chosen, *step3.others)}
    unverified = [
        ko for ko in step3.knocked_out if not ko.verified and ko.checks[0].rule != "removed"
    ]
    crit = {c.id: c for c in selection.criteria}
    step5 = questions(
        finalists=finalists,
        names={s.id: catalog.names(s.id) for s in catalog},
        criteria=crit,
        scores=step4.scores if step4 else {},
        low_confidence=step4.low_confidence if step4 else (),
        leader=step4.ranking[0].system if step4 and step4.ranking else None,
        critical=step4.robustness.critical if step4 else None,
        open_checks=open_checks,
        unverified=unverified,
        answers=selection.answers,
        open_scores={o.system: o.criteria for o in open_scores},
        need_checks=need_checks,
        leads_in_deals=leads_in_deals(catalog, finalists),
        licence_unknown=tuple(c.system for c in cost.systems if c.licence_unknown)
        if cost is not None
        else (),
        users=cost.users if cost is not None else None,
    )
    return SelectionResult(
        selection,
        catalog,
        step1,
        step2,
        step3,
        step4,
        tuple(step5),
        finalists,
        tuple(warnings),
        tuple(open_scores),
        cost,
    )


def _step4(
    selection: Selection,
    catalog: Catalog,
    step3: Shortlist,
    over_budget: dict[str, Text],
    warnings: list[Text],
    seed: int | None,
) -> MatrixResult:
    """The matrix of the complete rows; what is incomplete or inconsistent goes to ``warnings``."""
    points = dict(selection.points)
    ahp_result: Ahp | None = None
    ids = [c.id for c in selection.criteria]
    if selection.weight_method == "ahp" and selection.comparisons:
        ahp_result = ahp(ids, selection.comparisons)
        points = dict(ahp_result.weights)
    points = {c: points.get(c, 0.0) for c in ids}
    excluded: dict[str, Text] = {}
    for ko in step3.knocked_out:
        if ko.system in selection.scores:
            excluded[ko.system] = Text(
                "шаг 3: " + ko.reason("ru"),
                "step 3: " + ko.reason("en"),
                "крок 3: " + ko.reason("uk"),
            )
    for system, reason in over_budget.items():
        if system in selection.scores:
            excluded.setdefault(system, reason)
    complete = {
        s: row for s, row in selection.scores.items() if all(c in row for c in ids) or s in excluded
    }
    warnings += _score_warnings(selection, catalog, step3, complete, excluded)
    step4 = evaluate(
        selection.criteria,
        points,
        complete,
        excluded=excluded,
        ahp_result=ahp_result,
        seed=seed if seed is not None else (selection.seed or 0),
    )
    if ahp_result is not None and not ahp_result.consistent:
        cr = f"{ahp_result.cr:.3f}"
        comma = cr.replace(".", ",")  # Russian and Ukrainian write a decimal comma
        warnings.append(
            Text(
                f"Отношение согласованности попарных сравнений CR = {comma} выше 0,1: "
                "сравнения противоречат друг другу, пересмотрите их",
                f"The consistency ratio of the pairwise comparisons is CR = {cr}, above 0.1: "
                "the comparisons contradict each other; revisit them",
                f"Відношення узгодженості попарних порівнянь CR = {comma} вище 0,1: "
                "порівняння суперечать одне одному, перегляньте їх",
            )
        )
    return step4


def _score_warnings(
    selection: Selection,
    catalog: Catalog,
    step3: Shortlist,
    complete: dict[str, dict[str, Score]],
    excluded: dict[str, Text],
) -> list[Text]:
    """Systems not ranked for want of scores, scored off the shortlist, or not scored yet."""
    warnings = []
    for s in selection.scores:
        if s not in complete and s not in selection.open_scores:
            n = catalog.names(s)
            warnings.append(
                Text(
                    f"{n.ru}: оценены не все критерии — не ранжируется",
                    f"{n.en}: not every criterion is scored, so it is not ranked",
                    f"{n.get('uk')}: оцінено не всі критерії — не ранжується",
                )
            )
    for s in complete:
        if s not in excluded and s not in step3.ids:
            n = catalog.names(s)
            warnings.append(
                Text(
                    f"{n.ru} оценена, хотя не вошла в шорт-лист шага 3",
                    f"{n.en} is scored although step 3 did not shortlist it",
                    f"{n.get('uk')} оцінена, хоча не потрапила до шорт-листа кроку 3",
                )
            )
    for s in step3.ids:
        if s not in selection.scores:
            n = catalog.names(s)
            warnings.append(
                Text(
                    f"{n.ru} в шорт-листе, но ещё не оценена",
                    f"{n.en} is on the shortlist but not scored yet",
                    f"{n.get('uk')} у шорт-листі, але ще не оцінена",
                )
            )
    return warnings


# -- the cost of ownership -------------------------------------------------------------------


def _cost(selection: Selection, catalog: Catalog, step3: Shortlist) -> CostResult | None:
    """The cost table of every system the selection names (None without ``[cost]``)."""
    inputs = selection.cost
    if inputs is None:
        return None
    systems = [*selection.finalists, *selection.scores, *inputs.systems, *step3.ids]
    facts = {s: catalog.get(s).licence for s in systems if s in catalog}
    return cost_of_ownership(inputs, systems, facts, users=selection.users)


def _over_budget(cost: CostResult | None) -> dict[str, Text]:
    """System → why the budget knocks it out: its known cost alone is above the budget."""
    if cost is None or cost.budget is None:
        return {}
    out = {}
    for item in cost.systems:
        if item.over_budget:
            texts = {
                lang: (
                    money(item.known, lang, cost.currency),
                    money(cost.budget, lang, cost.currency),
                )
                for lang in ("ru", "en", "uk")
            }
            out[item.system] = Text(
                f"стоимость владения за {cost.years} г. — {texts['ru'][0]}, выше бюджета "
                f"{texts['ru'][1]}",
                f"the cost of ownership over {cost.years} years is {texts['en'][0]}, above "
                f"the budget of {texts['en'][1]}",
                f"вартість володіння за {cost.years} р. — {texts['uk'][0]}, вище за бюджет "
                f"{texts['uk'][1]}",
            )
    return out


def _with_cost_scores(
    selection: Selection,
    cost: CostResult | None,
    step3: Shortlist,
    over_budget: dict[str, Text],
) -> tuple[Selection, dict[str, float]]:
    """The selection with the cost criterion scored from the totals: among the systems still
    in (scored, not knocked out at step 3 or by the budget) with a known total; a system
    whose total is unknown has that score left open (its vendor is asked the price)."""
    if (
        cost is None
        or not cost.criterion
        or cost.criterion not in {c.id for c in selection.criteria}
    ):
        return selection, {}
    cid = cost.criterion
    out = set(over_budget) | {k.system for k in step3.knocked_out}
    pool = [c for c in cost.systems if c.system in selection.scores and c.system not in out]
    scored = cost_scores(pool)
    scores = dict(selection.scores)
    open_scores = dict(selection.open_scores)
    order = [c.id for c in selection.criteria]
    for system, row in selection.scores.items():
        if system in scored:
            scores[system] = {**row, cid: Score(scored[system], "docs", "high")}
        elif system not in out:
            left = {*open_scores.get(system, ()), cid}
            open_scores[system] = tuple(c for c in order if c in left)
    return dataclasses.replace(selection, scores=scores, open_scores=open_scores), scored


def leads_in_deals(catalog: Catalog, systems: Iterable[str]) -> tuple[str, ...]:
    """The ``systems`` where leads and deals are not separate entities (amoCRM, seed 002):
    there, leads need a pipeline of their own."""
    return tuple(s for s in systems if s in catalog and catalog.get(s).leads_deals_separate == "no")


def leads_in_deals_text(catalog: Catalog, system: str) -> Text:
    """The remark seed 002 makes of such a system, wherever it is chosen."""
    name = catalog.names(system)
    return Text(
        f"{name.ru}: лиды и сделки не разделены — для лидов понадобится отдельная воронка.",
        f"{name.en}: leads and deals are not separate; leads will need a pipeline of their own.",
        f"{name.uk}: ліди й угоди не розділені — для лідів знадобиться окрема воронка.",
    )


def _open_scores(selection: Selection, step4: MatrixResult | None) -> list[OpenScore]:
    """The range each partly scored system could reach, beside the leader's total."""
    out = []
    ids = [c.id for c in selection.criteria]
    leader = step4.ranking[0] if step4 is not None and step4.ranking else None
    for system, left_open in selection.open_scores.items():
        row = selection.scores.get(system, {})
        low = high = None
        if step4 is not None and all(c in row or c in left_open for c in ids):
            weights = normalise(step4.points) if any(step4.points.values()) else {}
            if weights:
                given = {c: row[c].value for c in ids if c in row}
                low = weighted_mean(weights, {**given, **dict.fromkeys(left_open, SCORE_MIN)})
                high = weighted_mean(weights, {**given, **dict.fromkeys(left_open, SCORE_MAX)})
        out.append(
            OpenScore(
                system,
                left_open,
                low,
                high,
                leader.system if leader else None,
                leader.score if leader else None,
            )
        )
    return out


def open_score_text(item: OpenScore, catalog: Catalog, selection: Selection) -> Text:
    """The open question a partly scored system leaves: what is open, and what it could change."""
    names = {c.id: c.name for c in selection.criteria}
    ru_list = ", ".join(f"«{names[c].ru}»" for c in item.criteria if c in names)
    en_list = ", ".join(f"'{names[c].en}'" for c in item.criteria if c in names)
    uk_list = ", ".join(f"«{names[c].get('uk')}»" for c in item.criteria if c in names)
    name = catalog.names(item.system)
    ru = f"{name.ru}: оценка отложена ({ru_list}) — система не ранжируется, пока её нет"
    en = f"{name.en}: scoring left for later ({en_list}); not ranked until it is given"
    uk = f"{name.get('uk')}: оцінку відкладено ({uk_list}) — система не ранжується, доки її немає"
    if item.low is not None and item.high is not None:
        ru += f"; с ней итог будет от {_ru(item.low)} до {_ru(item.high)}"
        en += f"; with it the total will be {item.low:.2f} to {item.high:.2f}"
        uk += f"; з нею підсумок буде від {_ru(item.low)} до {_ru(item.high)}"
        if item.leader and item.leader_score is not None and item.leader != item.system:
            leader = catalog.names(item.leader)
            ru += f" (лидер {leader.ru}: {_ru(item.leader_score)})"
            en += f" (leader {leader.en}: {item.leader_score:.2f})"
            uk += f" (лідер {leader.get('uk')}: {_ru(item.leader_score)})"
    return Text(ru, en, uk)


def _ru(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")

"""The five steps in order: a selection and the catalog in, one ``SelectionResult`` out. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field

from crmkit.i18n import Text
from crmkit.select.catalog import Catalog
from crmkit.select.deployment import Recommendation, recommend
from crmkit.select.matrix import Ahp, MatrixResult, ahp, evaluate
from crmkit.select.problems import Library, Step1, step1_table
from crmkit.select.selection import Selection, chosen_problems
from crmkit.select.shortlist import Requirements, Shortlist, make_shortlist
from crmkit.select.vendor import VendorSheet, questions


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

    def name(self, system: str) -> str:
        return self.catalog.name(system)


def run_selection(
    selection: Selection, catalog: Catalog, lib: Library, *, seed: int | None = None
) -> SelectionResult:
    warnings: list[Text] = []
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
    step3 = make_shortlist(catalog, req, lib)

    step4: MatrixResult | None = None
    if selection.scores and selection.criteria:
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
                    "шаг 3: " + ko.reason("ru"), "step 3: " + ko.reason("en")
                )
        complete = {
            s: row
            for s, row in selection.scores.items()
            if all(c in row for c in ids) or s in excluded
        }
        for s in selection.scores:
            if s not in complete:
                warnings.append(
                    Text(
                        f"{catalog.name(s)}: оценены не все критерии — не ранжируется",
                        f"{catalog.name(s)}: not every criterion is scored, so it is not ranked",
                    )
                )
        for s in complete:
            if s not in excluded and s not in step3.ids:
                warnings.append(
                    Text(
                        f"{catalog.name(s)} оценена, хотя не вошла в шорт-лист шага 3",
                        f"{catalog.name(s)} is scored although step 3 did not shortlist it",
                    )
                )
        for s in step3.ids:
            if s not in selection.scores:
                warnings.append(
                    Text(
                        f"{catalog.name(s)} в шорт-листе, но ещё не оценена",
                        f"{catalog.name(s)} is on the shortlist but not scored yet",
                    )
                )
        step4 = evaluate(
            selection.criteria,
            points,
            complete,
            excluded=excluded,
            ahp_result=ahp_result,
            seed=seed if seed is not None else (selection.seed or 0),
        )
        if ahp_result is not None and not ahp_result.consistent:
            warnings.append(
                Text(
                    f"Индекс согласованности попарных сравнений CR = {ahp_result.cr:.3f} выше 0,1: "
                    "сравнения противоречат друг другу, пересмотрите их",
                    "The consistency ratio of the pairwise comparisons is "
                    f"CR = {ahp_result.cr:.3f}, above 0.1: "
                    "the comparisons contradict each other; revisit them",
                )
            )

    if selection.finalists:
        finalists = selection.finalists
    elif step4 is not None and step4.ranking:
        finalists = tuple(r.system for r in step4.ranking[:2])
    else:
        finalists = step3.ids
    open_checks = {c.system: c.open_checks for c in (*step3.chosen, *step3.others)}
    unverified = [
        ko for ko in step3.knocked_out if not ko.verified and ko.checks[0].rule != "removed"
    ]
    crit = {c.id: c for c in selection.criteria}
    step5 = questions(
        finalists=finalists,
        names={s.id: s.name for s in catalog},
        criteria=crit,
        scores=step4.scores if step4 else {},
        low_confidence=step4.low_confidence if step4 else (),
        leader=step4.ranking[0].system if step4 and step4.ranking else None,
        critical=step4.robustness.critical if step4 else None,
        open_checks=open_checks,
        unverified=unverified,
        answers=selection.answers,
    )
    return SelectionResult(
        selection, catalog, step1, step2, step3, step4, tuple(step5), finalists, tuple(warnings)
    )

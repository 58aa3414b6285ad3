"""Is it time for a CRM? The readiness check of DOMAIN.md §2, from the answers. Pure.

The questionnaire marks choices as signs *for* a CRM ("a sales manager appears", "50 requests per
manager", …) or *against* it ("one and a half clients", an MVP, turnover below 100,000 RUB, …).
The verdict weighs them; it is shown before the maturity part when the company has no CRM yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from crmkit.assess.model import DONT_KNOW, NO_CRM, Answers, Questionnaire, tags_of
from crmkit.i18n import Text

#: introduce: signs for and none against; wait: signs against, or no sign at all;
#: weigh: signs both ways — the consultant decides with the owner.
Verdict = Literal["introduce", "wait", "weigh"]


@dataclass(frozen=True)
class Readiness:
    verdict: Verdict
    reasons_for: tuple[Text, ...] = ()
    reasons_against: tuple[Text, ...] = ()
    #: the company has no CRM yet: show this before the maturity part
    applies: bool = False
    #: a readiness question was answered "don't know"
    unsure: bool = False


def check_readiness(questionnaire: Questionnaire, answers: Answers) -> Readiness:
    reasons_for: list[Text] = []
    reasons_against: list[Text] = []
    unsure = False
    for question in questionnaire.questions:
        chosen = answers.get(question.id, ())
        if DONT_KNOW in chosen and any(c.readiness for c in question.choices):
            unsure = True
        for choice_id in chosen:
            choice = question.choice(choice_id)
            if choice is None or choice.readiness is None:
                continue
            reason = choice.reason or choice.text
            (reasons_for if choice.readiness == "for" else reasons_against).append(reason)
    verdict: Verdict
    if reasons_for and reasons_against:
        verdict = "weigh"
    elif reasons_for:
        verdict = "introduce"
    else:
        verdict = "wait"
    return Readiness(
        verdict=verdict,
        reasons_for=tuple(reasons_for),
        reasons_against=tuple(reasons_against),
        applies=NO_CRM in tags_of(questionnaire, answers),
        unsure=unsure,
    )

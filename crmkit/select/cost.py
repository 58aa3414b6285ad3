"""The cost of ownership of each finalist over a few years (three by default). Pure.

The consultant enters estimates in the selection file (``[cost]``); a licence price may also
come from the catalog (``[systems.<id>.licence]``, with the date it was true). Per system::

    licences      = per user per month × users × 12 × years    (or a plan per month × 12 × years)
    implementation, integrations, training                      (once)
    add-ons       = per year × years
    total         = the sum; per user per month = total / (users × 12 × years)

An item neither entered nor in the catalog is unknown — never a guess: the total is then
unknown (only the known part is shown), and for the licence price the vendor is asked.

Optional uses: ``budget`` knocks out a system whose known cost over the years already exceeds
it; ``criterion`` names a criterion of the matrix scored from the totals: the cheapest system
scores 5, the dearest 1, the others linearly between (all equal: 5), among the systems being
ranked whose total is known.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from crmkit.i18n import Text
from crmkit.select.matrix import SCORE_MAX, SCORE_MIN

#: the rows of the table, in order
ITEMS: tuple[str, ...] = ("licences", "implementation", "integrations", "training", "addons")
#: items paid once (the others recur)
ONE_OFF: tuple[str, ...] = ("implementation", "integrations", "training")
DEFAULT_YEARS = 3
MAX_YEARS = 10
DEFAULT_CURRENCY = "₽"


@dataclass(frozen=True)
class LicencePrice:
    """A licence price as a fact of the catalog: per user per month, or a plan per month."""

    per_user_month: float | None = None
    plan_month: float | None = None
    plan: Text = field(default_factory=Text)  # the plan's name
    currency: str = DEFAULT_CURRENCY
    as_of: str = ""  # when the price was true, as written ("2024-05")
    source: Text = field(default_factory=Text)

    def to_dict(self) -> dict[str, object]:
        return {
            "per_user_month": self.per_user_month,
            "plan_month": self.plan_month,
            "plan": self.plan.to_dict() or None,
            "currency": self.currency,
            "as_of": self.as_of,
            "source": self.source.to_dict() or None,
        }


@dataclass(frozen=True)
class SystemCostInput:
    """What the consultant entered for one system (None: not entered)."""

    licence_per_user_month: float | None = None
    licence_plan_month: float | None = None
    implementation: float | None = None
    integrations: float | None = None
    training: float | None = None
    addons_per_year: float | None = None


@dataclass(frozen=True)
class CostInputs:
    """The ``[cost]`` table of a selection."""

    users: int | None = None  # None: the selection's ``users``
    years: int = DEFAULT_YEARS
    currency: str = DEFAULT_CURRENCY
    budget: float | None = None
    criterion: str | None = None  # a criterion scored from the totals
    systems: dict[str, SystemCostInput] = field(default_factory=dict)


@dataclass(frozen=True)
class CostItem:
    item: str  # one of ITEMS
    amount: float | None  # over the years; None: unknown
    origin: str  # input | catalog | unknown
    #: the price per unit the amount comes from: per user or plan per month, per year, once
    unit_price: float | None = None
    basis: str = ""  # per_user_month | plan_month | per_year | once | "" (unknown)
    as_of: str = ""  # the catalog's date, when origin is catalog


@dataclass(frozen=True)
class SystemCost:
    system: str
    items: tuple[CostItem, ...]
    known: float  # the sum of the known amounts
    total: float | None  # None unless every item is known
    per_user_month: float | None
    over_budget: bool  # the known part alone is above the budget

    @property
    def licence_unknown(self) -> bool:
        return self.items[0].amount is None


@dataclass(frozen=True)
class CostResult:
    users: int | None
    years: int
    currency: str
    budget: float | None
    criterion: str | None
    systems: tuple[SystemCost, ...]
    #: the cost criterion's score of each system with a known total (criterion only)
    scores: dict[str, float] = field(default_factory=dict)

    def of(self, system: str) -> SystemCost | None:
        return next((c for c in self.systems if c.system == system), None)


def _licences(
    entered: SystemCostInput, fact: LicencePrice | None, users: int | None, months: int, cur: str
) -> CostItem:
    if entered.licence_per_user_month is not None:
        price = entered.licence_per_user_month
        amount = price * users * months if users is not None else None
        return CostItem("licences", amount, "input", price, "per_user_month")
    if entered.licence_plan_month is not None:
        price = entered.licence_plan_month
        return CostItem("licences", price * months, "input", price, "plan_month")
    if fact is not None and fact.currency == cur:
        if fact.per_user_month is not None and users is not None:
            amount = fact.per_user_month * users * months
            return CostItem(
                "licences", amount, "catalog", fact.per_user_month, "per_user_month", fact.as_of
            )
        if fact.plan_month is not None:
            amount = fact.plan_month * months
            return CostItem(
                "licences", amount, "catalog", fact.plan_month, "plan_month", fact.as_of
            )
    return CostItem("licences", None, "unknown")


def system_cost(
    system: str,
    entered: SystemCostInput,
    fact: LicencePrice | None,
    *,
    users: int | None,
    years: int,
    currency: str,
    budget: float | None,
) -> SystemCost:
    months = 12 * years
    items = [_licences(entered, fact, users, months, currency)]
    for item in ONE_OFF:
        value = getattr(entered, item)
        items.append(
            CostItem(item, value, "input", value, "once")
            if value is not None
            else CostItem(item, None, "unknown")
        )
    per_year = entered.addons_per_year
    items.append(
        CostItem("addons", per_year * years, "input", per_year, "per_year")
        if per_year is not None
        else CostItem("addons", None, "unknown")
    )
    known = math.fsum(i.amount for i in items if i.amount is not None)
    total = known if all(i.amount is not None for i in items) else None
    per_user = total / (users * months) if total is not None and users else None
    over = budget is not None and known > budget
    return SystemCost(system, tuple(items), known, total, per_user, over)


def cost_of_ownership(
    inputs: CostInputs,
    systems: Iterable[str],
    facts: Mapping[str, LicencePrice | None],
    *,
    users: int | None,
) -> CostResult:
    """The table for ``systems`` (in that order, each once). ``users``: the selection's own,
    used where ``[cost]`` does not give its number."""
    count = inputs.users if inputs.users is not None else users
    rows = []
    for system in dict.fromkeys(systems):
        rows.append(
            system_cost(
                system,
                inputs.systems.get(system, SystemCostInput()),
                facts.get(system),
                users=count,
                years=inputs.years,
                currency=inputs.currency,
                budget=inputs.budget,
            )
        )
    return CostResult(
        count, inputs.years, inputs.currency, inputs.budget, inputs.criterion, tuple(rows)
    )


def cost_scores(costs: Iterable[SystemCost]) -> dict[str, float]:
    """The cost criterion's scores: the cheapest known total 5, the dearest 1, linear between
    (all equal: 5). Systems with an unknown total get none."""
    known = {c.system: c.total for c in costs if c.total is not None}
    if not known:
        return {}
    cheapest, dearest = min(known.values()), max(known.values())
    if dearest - cheapest <= 0:
        return dict.fromkeys(known, SCORE_MAX)
    spread = SCORE_MAX - SCORE_MIN
    return {
        s: SCORE_MAX - spread * (total - cheapest) / (dearest - cheapest)
        for s, total in known.items()
    }

"""Step 3: the shortlist of 5–7 systems by knock-outs and fit to step 1.

Pure. A knock-out needs a fact that says *no* (the catalog's facts are the seed's and dated, so
a knock-out stays *unverified* until the consultant confirms it). A fact that is *unknown* never
knocks a system out: it becomes an open check, asked of the vendor in step 5. Among the systems
left, the fit is the share of step-1 needs (weighted by how many problems each function solves)
the catalog confirms; the best fits fill the list. The user's additions and removals win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from crmkit.i18n import Lang, Text

if TYPE_CHECKING:  # types only: the pure core does not load the data adapters
    from crmkit.select.catalog import Catalog, System
    from crmkit.select.problems import Library

DEFAULT_SIZE = 6
MIN_SIZE, MAX_SIZE = 5, 7

_INTEGRATION_NAMES = {
    "telephony": Text("IP-телефония", "telephony"),
    "one_c": Text("интеграция с 1С", "1C integration"),
    "email": Text("интеграция с почтой", "e-mail integration"),
    "site_forms": Text("формы заявок с сайта", "site forms"),
}
_DEPLOYMENT_NAMES = {
    "cloud": Text("облачная версия", "a cloud edition"),
    "boxed": Text("коробочная версия", "a boxed edition"),
}


@dataclass(frozen=True)
class Requirements:
    deployment: str = "either"  # cloud | boxed | either
    functions: tuple[str, ...] = ()
    integrations: tuple[str, ...] = ()
    #: users who must fit on a free plan (None: a free plan is not required)
    free_plan_users: int | None = None
    #: step-1 needs: function id → problems it solves
    needs: dict[str, int] = field(default_factory=dict)
    add: tuple[str, ...] = ()
    remove: dict[str, str] = field(default_factory=dict)  # system → reason
    size: int = DEFAULT_SIZE
    #: knock-outs the consultant has confirmed (system ids)
    verified: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """One must-have checked against one system's facts."""

    rule: str  # deployment | function | integration | free_plan | removed
    subject: str  # cloud, funnel, one_c, users count...
    fact: str  # yes | no | unknown
    text: Text

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "subject": self.subject,
            "fact": self.fact,
            "text": self.text.get(lang),
        }


@dataclass(frozen=True)
class Candidate:
    system: str
    fit: float  # 0..1
    open_checks: tuple[Check, ...] = ()
    added: bool = False


@dataclass(frozen=True)
class KnockOut:
    system: str
    checks: tuple[Check, ...]
    verified: bool
    #: would the system have been shortlisted without the knock-out (its fit)
    fit: float = 0.0

    def reason(self, lang: Lang) -> str:
        return "; ".join(c.text.get(lang) for c in self.checks)


@dataclass(frozen=True)
class Shortlist:
    chosen: tuple[Candidate, ...]
    others: tuple[Candidate, ...]  # passed the knock-outs but did not make the list
    knocked_out: tuple[KnockOut, ...]
    size: int

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.system for c in self.chosen)

    def candidate(self, system: str) -> Candidate | None:
        return next((c for c in (*self.chosen, *self.others) if c.system == system), None)

    def knockout(self, system: str) -> KnockOut | None:
        return next((k for k in self.knocked_out if k.system == system), None)


def _checks(system: System, req: Requirements, lib: Library) -> list[Check]:
    checks: list[Check] = []
    if req.deployment in ("cloud", "boxed"):
        fact = system.offers(req.deployment)
        name = _DEPLOYMENT_NAMES[req.deployment]
        checks.append(Check("deployment", req.deployment, fact, _state(name, fact)))
    for fn in req.functions:
        fact = system.has_function(fn)
        function = lib.functions.get(fn)
        name = function.name if function else Text(fn, fn)
        if req.free_plan_users is not None and fn in system.free_plan.lacks:
            fact = "no"
            name = Text(f"{name.ru} (на бесплатном тарифе)", f"{name.en} (on the free plan)")
        checks.append(Check("function", fn, fact, _state(name, fact)))
    for integration in req.integrations:
        fact = system.integrations.get(integration, "unknown")
        name = _INTEGRATION_NAMES.get(integration, Text(integration, integration))
        checks.append(Check("integration", integration, fact, _state(name, fact)))
    if req.free_plan_users is not None:
        fact = system.free_plan.covers_users(req.free_plan_users)
        n = req.free_plan_users
        users = system.free_plan.users
        if system.free_plan.available == "no":
            text = Text("нет бесплатного тарифа", "no free plan")
        elif fact == "no":
            text = Text(
                f"бесплатный тариф — до {users} пользователей, нужно {n}",
                f"the free plan covers {users} users, {n} needed",
            )
        else:
            text = _state(
                Text(f"бесплатный тариф на {n} пользователей", f"a free plan for {n} users"), fact
            )
        checks.append(Check("free_plan", str(n), fact, text))
    return checks


def _state(name: Text, fact: str) -> Text:
    if fact == "no":
        return Text(f"нет: {name.ru}", f"no {name.en}")
    if fact == "unknown":
        return Text(f"не подтверждено: {name.ru}", f"not confirmed: {name.en}")
    return Text(f"есть: {name.ru}", f"has {name.en}")


def fit(system: System, needs: dict[str, int]) -> float:
    """The share of step-1 needs the catalog confirms, weighted by problems solved."""
    total = sum(needs.values())
    if total == 0:
        return 0.0
    return sum(n for fn, n in needs.items() if system.has_function(fn) == "yes") / total


def make_shortlist(catalog: Catalog, req: Requirements, lib: Library) -> Shortlist:
    passed: list[Candidate] = []
    knocked: list[KnockOut] = []
    for system in catalog:
        checks = _checks(system, req, lib)
        score = fit(system, req.needs)
        if system.id in req.remove:
            reason = req.remove[system.id]
            removed = Check(
                "removed",
                system.id,
                "no",
                Text(
                    f"убрана вами: {reason}" if reason else "убрана вами",
                    f"removed by you: {reason}" if reason else "removed by you",
                ),
            )
            knocked.append(KnockOut(system.id, (removed,), True, score))
            continue
        failed = tuple(c for c in checks if c.fact == "no")
        open_checks = tuple(c for c in checks if c.fact == "unknown")
        if failed and system.id not in req.add:
            knocked.append(KnockOut(system.id, failed, system.id in req.verified, score))
            continue
        passed.append(Candidate(system.id, score, open_checks + failed, system.id in req.add))
    order = {s.id: i for i, s in enumerate(catalog)}
    passed.sort(key=lambda c: (not c.added, -c.fit, len(c.open_checks), order[c.system]))
    size = max(req.size, sum(1 for c in passed if c.added))
    return Shortlist(tuple(passed[:size]), tuple(passed[size:]), tuple(knocked), req.size)

"""Step 3: the shortlist of 5–7 systems by knock-outs and what the catalog confirms of step 1.

Pure. A knock-out needs a fact that says *no* (the catalog's facts are the seed's and dated, so
a knock-out stays *unverified* until the consultant confirms it). A fact that is *unknown* never
knocks a system out: it becomes an open check, asked of the vendor in step 5. Among the systems
left, each step-1 need (a function, weighted by how many problems it solves) is *confirmed* by
the catalog, *unknown* to it, or *lacking* (a fact says no); the shares are kept apart, because
the confirmed share measures how much the catalog says about a system, not how well it fits.
The list is filled by the confirmed share; with no must-have, one place goes to a system of which
the catalog knows only the name (the first one the source lists), unless one is already on the
list or the consultant removed one: what it can do is found out by its trial and the vendor's
answers, and its unknown needs are asked of the vendor like the others' (``need_checks``).
The user's additions and removals win.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from crmkit.i18n import Lang, Text

if TYPE_CHECKING:  # types only: the pure core does not load the data adapters
    from crmkit.select.catalog import Catalog, System
    from crmkit.select.problems import Library

DEFAULT_SIZE = 6
MIN_SIZE, MAX_SIZE = 5, 7

_INTEGRATION_NAMES = {
    "telephony": Text("IP-телефония", "telephony", "IP-телефонія"),
    "one_c": Text("интеграция с 1С", "1C integration", "інтеграція з 1С/BAS"),
    "email": Text("интеграция с почтой", "e-mail integration", "інтеграція з поштою"),
    "site_forms": Text("формы заявок с сайта", "site forms", "форми заявок із сайту"),
}
#: the step-1 function each must-have integration is (its check answers for the function)
_INTEGRATION_FUNCTION = {
    "telephony": "telephony",
    "one_c": "one_c",
    "email": "email",
    "site_forms": "web_forms",
}
_DEPLOYMENT_NAMES = {
    "cloud": Text("облачная версия", "a cloud edition", "хмарна версія"),
    "boxed": Text("коробочная версия", "a boxed edition", "коробкова версія"),
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
    #: what is checked, bare (the function of a step-1 need)
    name: Text = Text()

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
    #: the share of step-1 needs the catalog confirms (0..1): what it knows, not how well it fits
    confirmed: float
    open_checks: tuple[Check, ...] = ()
    added: bool = False
    #: the share of step-1 needs the catalog says nothing about, and the share a fact says no to
    unknown: float = 0.0
    lacking: float = 0.0
    #: step-1 needs the catalog does not confirm (must-haves aside): questions for the vendor
    need_checks: tuple[Check, ...] = ()
    #: the catalog knows only the system's name
    little_known: bool = False
    #: the place kept for a little-known system
    reserved: bool = False

    @property
    def fit(self) -> float:
        """The confirmed share (the name of older versions; it never meant suitability)."""
        return self.confirmed


@dataclass(frozen=True)
class KnockOut:
    system: str
    checks: tuple[Check, ...]
    verified: bool
    #: the share of step-1 needs the catalog confirms for it (as ``Candidate.confirmed``)
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
            name = Text(
                f"{name.ru} (на бесплатном тарифе)",
                f"{name.en} (on the free plan)",
                f"{name.get('uk')} (на безкоштовному тарифі)",
            )
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
            text = Text("нет бесплатного тарифа", "no free plan", "немає безкоштовного тарифу")
        elif fact == "no":
            text = Text(
                f"бесплатный тариф — до {users} пользователей, нужно {n}",
                f"the free plan covers {users} users, {n} needed",
                f"безкоштовний тариф — до {users} користувачів, потрібно {n}",
            )
        else:
            text = _state(
                Text(
                    f"бесплатный тариф на {n} пользователей",
                    f"a free plan for {n} users",
                    f"безкоштовний тариф на {n} користувачів",
                ),
                fact,
            )
        checks.append(Check("free_plan", str(n), fact, text))
    return checks


def _state(name: Text, fact: str) -> Text:
    uk = name.uk or name.ru
    if fact == "no":
        return Text(f"нет: {name.ru}", f"no {name.en}", f"немає: {uk}")
    if fact == "unknown":
        return Text(
            f"не подтверждено: {name.ru}", f"not confirmed: {name.en}", f"не підтверджено: {uk}"
        )
    return Text(f"есть: {name.ru}", f"has {name.en}", f"є: {uk}")


def need_facts(system: System, req: Requirements) -> dict[str, str]:
    """What the catalog says of each step-1 need: ``yes``, ``no`` or ``unknown``."""
    facts: dict[str, str] = {}
    for fn in req.needs:
        fact: str = system.has_function(fn)
        if req.free_plan_users is not None and fn in system.free_plan.lacks:
            fact = "no"
        facts[fn] = fact
    return facts


def shares(facts: dict[str, str], needs: dict[str, int]) -> tuple[float, float, float]:
    """The confirmed, unknown and lacking shares of ``needs``, weighted by problems solved."""
    total = sum(needs.values())
    if total == 0:
        return 0.0, 0.0, 0.0
    share = {
        fact: sum(n for fn, n in needs.items() if facts.get(fn) == fact) / total
        for fact in ("yes", "unknown", "no")
    }
    return share["yes"], share["unknown"], share["no"]


def fit(system: System, needs: dict[str, int]) -> float:
    """The share of step-1 needs the catalog confirms, weighted by problems solved: a measure
    of what the catalog says about the system, not of how well it fits."""
    return shares(need_facts(system, Requirements(needs=needs)), needs)[0]


def _need_checks(
    facts: dict[str, str], needs: dict[str, int], checked: set[str], lib: Library
) -> tuple[Check, ...]:
    """The step-1 needs the catalog does not confirm, most problems first (a must-have is
    asked once, as its own check)."""
    out = []
    for fn in sorted(needs, key=lambda f: -needs[f]):
        if facts.get(fn) == "yes" or fn in checked:
            continue
        function = lib.functions.get(fn)
        name = function.name if function else Text(fn, fn, fn)
        fact = facts.get(fn, "unknown")
        out.append(Check("need", fn, fact, _state(name, fact), name))
    return tuple(out)


def make_shortlist(catalog: Catalog, req: Requirements, lib: Library) -> Shortlist:
    passed: list[Candidate] = []
    knocked: list[KnockOut] = []
    for system in catalog:
        checks = _checks(system, req, lib)
        facts = need_facts(system, req)
        score, unknown, lacking = shares(facts, req.needs)
        if system.id in req.remove:
            reason = req.remove[system.id]
            removed = Check(
                "removed",
                system.id,
                "no",
                Text(
                    f"убрана вами: {reason}" if reason else "убрана вами",
                    f"removed by you: {reason}" if reason else "removed by you",
                    f"прибрана вами: {reason}" if reason else "прибрана вами",
                ),
            )
            knocked.append(KnockOut(system.id, (removed,), True, score))
            continue
        failed = tuple(c for c in checks if c.fact == "no")
        open_checks = tuple(c for c in checks if c.fact == "unknown")
        if failed and system.id not in req.add:
            knocked.append(KnockOut(system.id, failed, system.id in req.verified, score))
            continue
        checked = {c.subject for c in checks if c.rule == "function"}
        checked |= {_INTEGRATION_FUNCTION[c.subject] for c in checks if c.rule == "integration"}
        passed.append(
            Candidate(
                system.id,
                score,
                open_checks + failed,
                system.id in req.add,
                unknown=unknown,
                lacking=lacking,
                need_checks=_need_checks(facts, req.needs, checked, lib),
                little_known=not system.described,
            )
        )
    order = {s.id: i for i, s in enumerate(catalog)}
    passed.sort(key=lambda c: (not c.added, -c.confirmed, len(c.open_checks), order[c.system]))
    size = max(req.size, sum(1 for c in passed if c.added))
    chosen, others = passed[:size], passed[size:]
    must_haves = req.functions or req.integrations or req.free_plan_users is not None
    removed_little = any(not catalog.get(s).described for s in req.remove if s in catalog)
    seat = next((c for c in others if c.little_known), None)
    last = next((i for i in range(len(chosen) - 1, -1, -1) if not chosen[i].added), None)
    if (
        not must_haves
        and not removed_little
        and seat is not None
        and last is not None
        and not any(c.little_known for c in chosen)
    ):
        # the catalog confirms nothing of a system it knows only by name, so the confirmed
        # share alone would never let one in: the last place is kept for the first of them
        bumped = chosen[last]
        chosen[last] = replace(seat, reserved=True)
        others = [bumped] + [c for c in others if c is not seat]
    return Shortlist(tuple(chosen), tuple(others), tuple(knocked), req.size)

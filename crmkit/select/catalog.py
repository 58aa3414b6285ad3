"""The catalog of CRM systems: the model, and the loader of ``catalog.toml``.

The shipped catalog (package data) holds every system seed 001 names with the facts the seeds
state; where they state nothing a fact is ``"unknown"``. ``--catalog FILE`` extends it: a system
given there replaces the fields it names, a new id adds a system.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from crmkit.files import TomlDocument, parse_toml, read_toml
from crmkit.i18n import Lang, Text, run_lang, run_msg
from crmkit.schema import Node, root
from crmkit.select.cost import DEFAULT_CURRENCY, LicencePrice

Tri = Literal["yes", "no", "unknown"]
TRI: tuple[str, ...] = ("yes", "no", "unknown")
FOCUSES: tuple[str, ...] = ("universal", "sales", "service", "projects", "unknown")
INTEGRATIONS: tuple[str, ...] = ("telephony", "one_c", "email", "site_forms")
DEPLOYMENTS: tuple[str, ...] = ("cloud", "boxed")
PACKAGE_CATALOG = "crmkit/select/catalog.toml"

#: users on a free plan: a number, or one of these words
Users = int | Literal["unlimited", "unknown"]


@dataclass(frozen=True)
class FreePlan:
    available: Tri = "unknown"
    users: Users = "unknown"
    limits: Text = field(default_factory=Text)
    #: functions the free plan is said to lack
    lacks: tuple[str, ...] = ()

    def covers_users(self, users: int) -> Tri:
        """Whether the free plan is known to cover ``users`` people."""
        if self.available == "no":
            return "no"
        if self.users == "unlimited":
            return "yes" if self.available == "yes" else "unknown"
        if isinstance(self.users, int) and self.available == "yes":
            return "yes" if self.users >= users else "no"
        return "unknown"

    def to_dict(self) -> dict[str, Any]:
        return {
            "available": self.available,
            "users": self.users,
            "limits": self.limits.to_dict() or "unknown",
            "lacks": list(self.lacks),
        }


@dataclass(frozen=True)
class System:
    id: str
    #: the name as its vendor writes it in Latin letters (ids, JSON, matching)
    name: str
    aliases: tuple[str, ...] = ()
    cloud: Tri = "unknown"
    boxed: Tri = "unknown"
    free_plan: FreePlan = field(default_factory=FreePlan)
    trial_days: int | None = None  # None: unknown
    focus: str = "unknown"
    integrations: dict[str, Tri] = field(
        default_factory=lambda: {k: "unknown" for k in INTEGRATIONS}
    )
    leads_deals_separate: Tri = "unknown"
    functions: tuple[str, ...] = ()
    support: Text = field(default_factory=Text)
    notes: Text = field(default_factory=Text)
    #: when the facts were true, and where they are written, as a person reads it
    facts_as_of: Text = field(default_factory=Text)
    source: Text = field(default_factory=Text)
    #: the name a person reads in each language (Мегаплан in Russian, Megaplan in English);
    #: empty: ``name`` in every language
    title: Text = field(default_factory=Text)
    #: a licence price with the date it was true (None: not recorded — the seeds give none)
    licence: LicencePrice | None = None

    def display(self, lang: Lang) -> str:
        """The system's name in ``lang``."""
        return self.title.get(lang) or self.name

    @property
    def deployment(self) -> str:
        """``both``, ``cloud``, ``boxed`` or ``unknown`` (an edition not stated is unknown)."""
        if self.cloud == "yes" and self.boxed == "yes":
            return "both"
        if self.cloud == "yes":
            return "cloud"
        if self.boxed == "yes":
            return "boxed"
        return "unknown"

    @property
    def described(self) -> bool:
        """The catalog states some fact of the system beyond its name (the sixteen systems
        seed 001 only names have none: everything about them is unknown)."""
        return bool(
            self.functions
            or self.cloud != "unknown"
            or self.boxed != "unknown"
            or self.free_plan.available != "unknown"
            or self.trial_days is not None
            or self.focus != "unknown"
            or self.leads_deals_separate != "unknown"
            or any(v != "unknown" for v in self.integrations.values())
        )

    def offers(self, deployment: str) -> Tri:
        return self.cloud if deployment == "cloud" else self.boxed

    def has_function(self, function: str) -> Tri:
        """Known to have the function (``yes``) or not stated (``unknown``); never ``no``:
        the seeds list what systems have, not what they lack."""
        if function in self.functions:
            return "yes"
        integration = _FUNCTION_INTEGRATION.get(function)
        if integration is not None:
            return self.integrations.get(integration, "unknown")
        return "unknown"

    def to_dict(self, lang: Lang) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.display(lang),
            "aliases": list(self.aliases),
            "deployment": self.deployment,
            "cloud": self.cloud,
            "boxed": self.boxed,
            "free_plan": self.free_plan.to_dict(),
            "trial_days": self.trial_days if self.trial_days is not None else "unknown",
            "focus": self.focus,
            "integrations": dict(self.integrations),
            "leads_deals_separate": self.leads_deals_separate,
            "functions": list(self.functions),
            "support": self.support.get(lang) or "unknown",
            "notes": self.notes.get(lang),
            "facts_as_of": self.facts_as_of.get(lang) or "unknown",
            "source": self.source.get(lang) or "unknown",
            "licence": self.licence.to_dict() if self.licence is not None else "unknown",
        }


#: functions that are integrations: the integration fact answers for them
_FUNCTION_INTEGRATION = {
    "telephony": "telephony",
    "one_c": "one_c",
    "email": "email",
    "web_forms": "site_forms",
}


def function_integration(function: str) -> str | None:
    """The integration a function is (telephony, 1C, e-mail, site forms), or None."""
    return _FUNCTION_INTEGRATION.get(function)


@dataclass(frozen=True)
class Catalog:
    systems: dict[str, System]
    sources: tuple[str, ...] = ()

    def __iter__(self) -> Iterator[System]:
        return iter(self.systems.values())

    def __len__(self) -> int:
        return len(self.systems)

    def __contains__(self, system_id: object) -> bool:
        return system_id in self.systems

    def get(self, system_id: str) -> System:
        return self.systems[system_id]

    def name(self, system_id: str, lang: Lang | None = None) -> str:
        """The name of the system in ``lang`` (by default the run's language)."""
        system = self.systems.get(system_id)
        if system is None:
            return system_id
        return system.display(lang if lang is not None else run_lang())

    def names(self, system_id: str) -> Text:
        """The name of the system in every language (for texts built in all of them)."""
        system = self.systems.get(system_id)
        if system is None:
            return Text(system_id, system_id, system_id)
        return Text(system.display("ru"), system.display("en"), system.display("uk"))

    def find(self, text: str) -> str | None:
        """The id of the system named ``text`` (id, name in any language or alias, any case)."""
        wanted = text.strip().casefold()
        for system in self.systems.values():
            names = (system.id, system.name, *system.title.to_dict().values(), *system.aliases)
            if any(n.casefold() == wanted for n in names):
                return system.id
        return None


def _tri(node: Node, key: str, base: Tri) -> Tri:
    return cast(Tri, node.str(key, choices=TRI, default=base))


def _read_system(node: Node, system_id: str, base: System | None, facts_as_of: Text) -> System:
    start = base or System(id=system_id, name=system_id, facts_as_of=facts_as_of)
    fields: dict[str, Any] = {}
    if node.has("name") and isinstance(node.value["name"], dict):
        # a name per language: {ru = "Мегаплан", en = "Megaplan"}; the Latin one is ``name``
        title = node.text("name", required=True)
        fields["title"] = title
        fields["name"] = title.en or title.get("en")
    else:
        name = node.str("name", required=base is None)
        if name is not None:
            fields["name"] = name
            fields["title"] = Text()
    if node.has("aliases"):
        fields["aliases"] = tuple(node.str_list("aliases"))
    for key in ("cloud", "boxed", "leads_deals_separate"):
        if node.has(key):
            fields[key] = _tri(node, key, getattr(start, key))
    if node.has("trial_days"):
        raw = node.raw("trial_days")
        if raw == "unknown":
            fields["trial_days"] = None
        elif isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0:
            fields["trial_days"] = raw
        else:
            node.error(run_msg("load.catalog.trial_days"), "trial_days")
    if node.has("focus"):
        fields["focus"] = node.str("focus", choices=FOCUSES, default=start.focus)
    if node.has("functions"):
        fields["functions"] = tuple(node.str_list("functions"))
    for key in ("support", "notes"):
        if node.has(key):
            fields[key] = node.text(key)
    for key in ("facts_as_of", "source"):
        if node.has(key):
            fields[key] = node.text(key) or getattr(start, key)
    free = node.table("free_plan")
    if free is not None:
        fields["free_plan"] = _read_free_plan(free, start.free_plan)
    licence = node.table("licence")
    if licence is not None:
        fields["licence"] = _read_licence(licence)
    integrations = node.table("integrations")
    if integrations is not None:
        merged = dict(start.integrations)
        for key in INTEGRATIONS:
            if integrations.has(key):
                merged[key] = _tri(integrations, key, merged[key])
        integrations.done()
        fields["integrations"] = merged
    node.done()
    return dataclasses.replace(start, **fields)


def _price(node: Node, key: str) -> float | None:
    """A price: a finite number, not negative."""
    value = node.float(key)
    if value is not None and (not math.isfinite(value) or value < 0):
        node.error(run_msg("load.catalog.price"), key)
        return None
    return value


def _read_licence(node: Node) -> LicencePrice | None:
    """``[systems.<id>.licence]``: ``per_user_month`` or ``plan_month`` (one of them), the
    ``as_of`` date it was true (required), ``currency``, ``plan``, ``source``."""
    per_user = _price(node, "per_user_month")
    plan_month = _price(node, "plan_month")
    if per_user is not None and plan_month is not None:
        node.error(run_msg("load.catalog.one_price"), "plan_month")
    if not node.has("per_user_month") and not node.has("plan_month"):
        node.error(run_msg("load.catalog.no_price"))
    as_of = node.raw("as_of", required=True)
    if as_of is not None and not isinstance(as_of, str):
        as_of = str(as_of)  # a TOML date (2024-05-01) is kept as written
    currency = node.str("currency", default=DEFAULT_CURRENCY) or DEFAULT_CURRENCY
    plan = node.text("plan")
    source = node.text("source")
    node.done()
    if as_of is None or (per_user is None and plan_month is None):
        return None
    return LicencePrice(per_user, plan_month, plan, currency, as_of, source)


def _read_free_plan(node: Node, base: FreePlan) -> FreePlan:
    fields: dict[str, Any] = {}
    if node.has("available"):
        fields["available"] = _tri(node, "available", base.available)
    if node.has("users"):
        raw = node.raw("users")
        if raw in ("unlimited", "unknown") or (
            isinstance(raw, int) and not isinstance(raw, bool) and raw >= 0
        ):
            fields["users"] = raw
        else:
            node.error(run_msg("load.catalog.users"), "users")
    if node.has("limits"):
        fields["limits"] = node.text("limits")
    if node.has("lacks"):
        fields["lacks"] = tuple(node.str_list("lacks"))
    node.done()
    return dataclasses.replace(base, **fields)


def read_catalog(doc: TomlDocument, base: Catalog | None = None) -> Catalog:
    """The catalog in ``doc``; with ``base``, ``doc`` extends and overrides it."""
    top = root(doc.data, doc.source)
    facts_as_of = top.text("facts_as_of")
    systems = dict(base.systems) if base is not None else {}
    table = top.table("systems", required=base is None)
    if table is not None:
        for system_id, value in table.value.items():
            if not isinstance(value, dict):
                table.error(run_msg("load.catalog.system"), system_id)
                continue
            node = table.child(value, table.path + (system_id,))
            systems[system_id] = _read_system(node, system_id, systems.get(system_id), facts_as_of)
    top.done()
    top.problems.raise_if_any()
    sources = (*(base.sources if base else ()), doc.source.name)
    return Catalog(systems=systems, sources=sources)


def shipped_catalog() -> Catalog:
    text = resources.files("crmkit.select").joinpath("catalog.toml").read_text(encoding="utf-8")
    return read_catalog(parse_toml(text, PACKAGE_CATALOG))


def load_catalog(extra: Path | None = None) -> Catalog:
    """The shipped catalog, extended by ``extra`` when given."""
    catalog = shipped_catalog()
    if extra is not None:
        catalog = read_catalog(read_toml(extra), catalog)
    return catalog

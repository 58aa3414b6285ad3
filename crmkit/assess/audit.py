"""The audit: a portal's maturity measured from its data. Pure: configuration and usage figures
in, an ``Audit`` out.

The findings are rules kept as data (``audit_rules.toml``): each measures one thing (a value over
its denominator, or a median), gets a status by its bands — OK, review, action needed — or
"not applicable" (nothing to measure) or "could not analyse" (the webhook could not see it), and
keeps up to ten example records with links. The level estimate maps what the data shows onto the
criteria of DOMAIN.md §1, dimension by dimension: the data sets a ceiling (it can show that a
company is *not* yet at a level, rarely that it is), and the level is the lowest ceiling, as in
the staged model. Given the answers of the questionnaire, it puts "the team says" beside "the
data says" for each dimension both speak of.
"""

from __future__ import annotations

import re
import statistics
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any, Literal

from crmkit.assess.scoring import Assessment
from crmkit.blueprints.model import Blueprint
from crmkit.i18n import LANGS, Lang, Text, msg
from crmkit.push.state import PortalState, strip_prefix
from crmkit.push.usage import Sampled, Usage

Status = Literal["ok", "review", "action", "not_applicable", "unknown"]
STATUSES: tuple[Status, ...] = ("action", "review", "ok", "unknown", "not_applicable")
#: failure reasons named like "Other" (seed 002: a reason that teaches nothing)
_GENERIC = re.compile(r"^\s*(other|others|misc|другое|другая|прочее|прочие|иное|інше)\b", re.I)


@dataclass(frozen=True)
class Rule:
    id: str
    key: str
    category: str
    level: int
    unit: str
    better: str
    ok: float
    review: float
    source: str
    fix: tuple[str, ...]
    title: Text
    why: Text

    def status(self, value: float) -> Status:
        if self.better == "lower":
            return "ok" if value <= self.ok else "review" if value <= self.review else "action"
        return "ok" if value >= self.ok else "review" if value >= self.review else "action"


def _text(value: Any) -> Text:
    return Text(**{lang: str(value.get(lang, "")) for lang in LANGS})


def rules_from(data: Mapping[str, Any]) -> list[Rule]:
    return [
        Rule(
            id=r["id"],
            key=r["key"],
            category=r["category"],
            level=int(r["level"]),
            unit=r["unit"],
            better=r["better"],
            ok=float(r["ok"]),
            review=float(r["review"]),
            source=r["source"],
            fix=tuple(r.get("fix", ())),
            title=_text(r["title"]),
            why=_text(r["why"]),
        )
        for r in data["rules"]
    ]


def shipped_rules() -> list[Rule]:
    text = resources.files("crmkit.assess").joinpath("audit_rules.toml").read_text("utf-8")
    return rules_from(tomllib.loads(text))


def with_thresholds(rules: list[Rule], thresholds: Mapping[str, Mapping[str, float]]) -> list[Rule]:
    """The rules with the bands of ``thresholds`` (rule id or key → ok/review) put in."""
    out = []
    for rule in rules:
        given = thresholds.get(rule.id) or thresholds.get(rule.key) or {}
        out.append(
            replace(
                rule,
                ok=float(given.get("ok", rule.ok)),
                review=float(given.get("review", rule.review)),
            )
        )
    return out


@dataclass(frozen=True)
class Finding:
    rule: Rule
    status: Status
    value: float | None = None
    denominator: int | None = None
    samples: tuple[int, ...] = ()
    #: what kind of record the samples are ("deal", "lead")
    sample_kind: str = "deal"
    partial: bool = False
    #: more numbers behind the value (per pipeline, per field)
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def weight(self) -> float:
        """How much it costs, to rank findings: the records it concerns, action before review."""
        rank = {"action": 2.0, "review": 1.0}.get(self.status, 0.0)
        affected = (self.value or 0) * (self.denominator or 1) if self.rule.unit == "share" else 1
        return rank * 1_000_000 + affected


@dataclass(frozen=True)
class Dimension:
    id: str
    #: the level the data supports at most (None: the data cannot tell)
    level: int | None
    #: message keys (audit.evidence.*) with values, what the data shows
    evidence: tuple[tuple[str, tuple[tuple[str, Any], ...]], ...] = ()


@dataclass(frozen=True)
class Audit:
    portal: str
    at: float
    lang: Lang
    state: PortalState
    usage: Usage
    findings: tuple[Finding, ...]
    dimensions: tuple[Dimension, ...]
    level: int | None
    #: dimension → level the questionnaire gives (with --answers)
    says: Mapping[str, int] = field(default_factory=dict)
    says_level: int | None = None
    declared_robots: tuple[str, ...] = ()
    #: HTTP requests for the core figures: preflight, the configuration, counts and walks
    requests: int = 0

    def costliest(self, count: int = 3) -> list[Finding]:
        bad = [f for f in self.findings if f.status in ("action", "review")]
        return sorted(bad, key=lambda f: -f.weight)[:count]

    def link(self, kind: str, rid: int) -> str:
        if self.state.target == "amocrm":  # leads and deals are both amoCRM's leads
            return f"{self.portal.rstrip('/')}/leads/detail/{rid}"
        return f"{self.portal.rstrip('/')}/crm/{kind}/details/{rid}/"


# -- measuring ------------------------------------------------------------------------------------


def _share(part: Sampled, whole: int | None) -> tuple[float | None, int | None]:
    if not whole:
        return None, whole
    return part.count / whole, whole


def _failures(state: PortalState, usage: Usage) -> tuple[dict[str, dict[str, int]], int, int]:
    """Failures by reason, leads' and deals' apart (their codes may be the same), all
    failures, and those in reasons named like "Other"."""
    leads: dict[str, int] = {}
    deals: dict[str, int] = {}
    generic = 0
    lead = state.lead_funnel()
    if lead is not None:
        for stage in lead.stages:
            if stage.semantics == "failure" and stage.status_id in usage.leads_by_status:
                leads[stage.status_id] = usage.leads_by_status[stage.status_id]
                if _GENERIC.match(stage.name):
                    generic += leads[stage.status_id]
    for funnel in state.deal_funnels():
        for stage in funnel.stages:
            count = usage.deals_by_stage.get((funnel.category_id or 0, stage.status_id))
            if stage.semantics == "failure" and count is not None:
                deals[stage.status_id] = count
                if _GENERIC.match(stage.name):
                    generic += count
    total = sum(leads.values()) + sum(deals.values())
    return {"leads": leads, "deals": deals}, total, generic


def _finding(
    rule: Rule,
    value: float | None,
    denominator: int | None,
    *,
    samples: Any = (),
    kind: str = "deal",
    partial: bool = False,
    unknown: bool = False,
    detail: Mapping[str, Any] | None = None,
) -> Finding:
    if unknown:
        return Finding(rule, "unknown", None, denominator, partial=True, detail=detail or {})
    if value is None:
        return Finding(rule, "not_applicable", None, denominator, detail=detail or {})
    return Finding(
        rule,
        rule.status(value),
        value,
        denominator,
        tuple(samples)[:10],
        kind,
        partial,
        detail or {},
    )


def _stuck(usage: Usage, bp: Blueprint | None) -> tuple[Sampled, int, bool]:
    """Open deals in their stage longer than twice its median stay (or the blueprint's limit)."""
    limits: dict[str, int] = {}
    if bp is not None:
        for pipe in bp.pipelines:
            for declared in pipe.stages:
                if declared.max_minutes:
                    limits[declared.code] = declared.max_minutes
    history = usage.deal_history
    stuck = Sampled()
    measured = 0
    for rid, cid, stage, minutes in usage.open_deals.in_stage:
        limit = limits.get(strip_prefix(stage))
        if limit is None and history is not None:
            stays = history.stays.get((cid, stage), [])
            if len(stays) >= 5:
                limit = int(2 * statistics.median(stays))
        if limit is None:
            continue
        measured += 1
        if minutes > limit:
            stuck.add(rid)
    return stuck, measured, history is None and not limits


def conversion_steps(funnel: Any, history: Any) -> list[dict[str, Any]]:
    """Stage by stage along a pipeline's path: how many deals of the window got at least that
    far, and the share of them that went further (from each deal's furthest stage)."""
    cid = funnel.category_id or 0
    path = [s for s in funnel.stages if s.semantics == "process"]
    path += [s for s in funnel.stages if s.semantics == "success"]
    furthest = history.furthest.get(cid, {}) if history is not None else {}
    steps = []
    for index, stage in enumerate(path):
        entered = sum(n for position, n in furthest.items() if position >= index)
        went_on = sum(n for position, n in furthest.items() if position > index)
        last = index == len(path) - 1
        steps.append(
            {
                "stage": stage.status_id,
                "name": stage.name,
                "entered": entered,
                "conversion": None if last or not entered else round(went_on / entered, 4),
            }
        )
    return steps


def _conversion(state: PortalState, usage: Usage) -> tuple[float | None, dict[str, Any]]:
    """The lowest stage-to-stage conversion among the pipelines with enough new deals."""
    history = usage.deal_history
    if history is None:
        return None, {}
    detail: dict[str, Any] = {}
    lowest: float | None = None
    for funnel in state.deal_funnels():
        cid = funnel.category_id or 0
        started = history.started.get(cid, 0)
        steps = conversion_steps(funnel, history)
        detail[funnel.name or str(cid)] = {"started": started, "steps": steps}
        rates = [float(s["conversion"]) for s in steps if s["conversion"] is not None]
        if started >= 20 and rates:
            lowest = min(rates) if lowest is None else min(lowest, min(rates))
    return lowest, detail


def _shape(state: PortalState, usage: Usage) -> tuple[float | None, int, dict[str, Any]]:
    funnels = state.deal_funnels()
    if not funnels:
        return None, 0, {}
    problems: dict[str, Any] = {}
    for funnel in funnels:
        process = [s for s in funnel.stages if s.semantics == "process"]
        cid = funnel.category_id or 0
        open_here = sum(v for (c, _s), v in usage.open_deals.by_stage.items() if c == cid)
        first = usage.open_deals.by_stage.get((cid, process[0].status_id), 0) if process else 0
        reasons = []
        if len(process) < 3:
            reasons.append("too_few_stages")
        if len(process) > 12:
            reasons.append("too_many_stages")
        if open_here >= 10 and first / open_here > 0.5:
            reasons.append("stuck_in_first_stage")
        if reasons:
            problems[funnel.name or str(cid)] = reasons
    return len(problems) / len(funnels), len(funnels), problems


def measure(
    state: PortalState, usage: Usage, rules: list[Rule], bp: Blueprint | None = None
) -> tuple[Finding, ...]:
    deals = usage.open_deals
    walked = deals.walked if usage.deals_open is not None else None
    by_key = {r.key: r for r in rules}
    out: list[Finding] = []

    def add(key: str, *args: Any, **kwargs: Any) -> None:
        if key in by_key and key in usage.no_counterpart:
            reason = {"no_counterpart": usage.no_counterpart[key]}
            out.append(Finding(by_key[key], "not_applicable", detail=reason))
        elif key in by_key:
            out.append(_finding(by_key[key], *args, **kwargs))

    value, whole = _share(deals.without_open_activity, walked)
    add("deals_without_open_activity", value, whole, samples=deals.without_open_activity.ids)
    value, whole = _share(deals.with_overdue_activity, walked)
    add("overdue_activities", value, whole, samples=deals.with_overdue_activity.ids)
    first = usage.leads_in_first_status
    value, whole = _share(usage.stale_leads, first)
    add("stale_leads", value, whole, samples=usage.stale_leads.ids, kind="lead")
    stuck, measured, unknown = _stuck(usage, bp)
    value, whole = _share(stuck, measured)
    add("stuck_deals", value, whole, samples=stuck.ids, unknown=unknown and bool(walked))
    response = usage.lead_response
    add(
        "speed_to_lead",
        float(statistics.median(response)) if response else None,
        len(response),
        unknown=usage.deal_history is None,
    )
    lowest, detail = _conversion(state, usage)
    add("conversion", lowest, None, detail=detail, unknown=usage.deal_history is None)
    by_reason, failures, generic = _failures(state, usage)
    add("generic_failures", generic / failures if failures else None, failures)
    value, whole = _share(deals.without_client, walked)
    add("deals_without_client", value, whole, samples=deals.without_client.ids)
    value, whole = _share(deals.past_close_date, walked)
    add("past_close_date", value, whole, samples=deals.past_close_date.ids)
    if deals.filled and walked:
        rates = {name: filled / walked for name, filled in deals.filled.items()}
        add(
            "required_fill",
            min(rates.values()),
            walked,
            detail={k: round(v, 4) for k, v in rates.items()},
        )
    else:
        add("required_fill", None, walked)
    top = max(deals.by_owner.values(), default=0)
    add("owner_concentration", top / walked if walked else None, walked)
    value, whole = _share(deals.owned_by_inactive, walked)
    add(
        "inactive_owners",
        value,
        whole,
        samples=deals.owned_by_inactive.ids,
        unknown="inactive_users" in usage.partial and bool(walked),
    )
    share, pipelines, problems = _shape(state, usage)
    add("pipeline_shape", share, pipelines, detail=problems)
    leads, all_deals = usage.leads_total or 0, usage.deals_total
    if all_deals is None:
        add("only_leads", None, None, unknown=True)
    else:
        only = None if not leads and not all_deals else float(bool(leads) and not all_deals)
        add("only_leads", only, 1)
    partial = bool(usage.partial)
    return tuple(replace(f, partial=f.partial or partial) for f in out)


# -- the level ------------------------------------------------------------------------------------

_REPEAT = re.compile(r"повтор|repeat|upsell|допрод", re.I)
_MARKETING = re.compile(r"маркет|marketing|прогрев|nurtur", re.I)
_REANIMATION = re.compile(r"реаним|возврат|reanimat|win.?back|reactivat", re.I)


def dimensions(state: PortalState, usage: Usage, findings: tuple[Finding, ...]) -> list[Dimension]:
    """What the data shows of each dimension of DOMAIN.md §1 it can speak of (a ceiling)."""
    by_key = {f.rule.key: f for f in findings}
    out: list[Dimension] = []
    leads, deals = usage.leads_total, usage.deals_total
    if leads is not None and deals is not None:
        contacts = (usage.contacts_total or 0) + (usage.companies_total or 0)
        if not leads and not deals:
            out.append(Dimension("data", 0, (("empty", ()),)))
        elif not deals:
            out.append(Dimension("data", 1, (("only_leads", (("leads", leads),)),)))
        else:
            out.append(
                Dimension(
                    "data",
                    None if contacts else 1,
                    (("in_crm", (("deals", deals), ("clients", contacts))),),
                )
            )
    names = [f.name for f in state.deal_funnels()]
    kinds = {
        "repeat": any(_REPEAT.search(n) for n in names),
        "marketing": any(_MARKETING.search(n) for n in names),
        "reanimation": any(_REANIMATION.search(n) for n in names),
        "auxiliary": bool(state.processes),
    }
    if names:
        if kinds["repeat"] and kinds["marketing"]:
            funnel_level = 5 if kinds["reanimation"] and kinds["auxiliary"] else 4
        else:
            funnel_level = 3
        found = ",".join(k for k, v in kinds.items() if v) or "-"
        out.append(
            Dimension(
                "funnels", funnel_level, (("funnels", (("count", len(names)), ("kinds", found))),)
            )
        )
    if leads is not None:
        stale = by_key.get("stale_leads")
        if leads == 0:
            out.append(Dimension("leads", 1, (("no_leads", ()),)))
        elif stale is not None and stale.value is not None:
            out.append(
                Dimension(
                    "leads",
                    2 if stale.status == "action" else None,
                    (("stale", (("share", _pct(stale.value)),)),),
                )
            )
    if deals is not None:
        client = by_key.get("deals_without_client")
        if deals == 0:
            out.append(Dimension("deals", 1, (("no_deals", ()),)))
        elif client is not None and client.value is not None:
            deal_level = 2 if client.status == "action" else None
            evidence = (("without_client", (("share", _pct(client.value)),)),)
            out.append(Dimension("deals", deal_level, evidence))
    without = by_key.get("deals_without_open_activity")
    overdue = by_key.get("overdue_activities")
    if without and overdue and without.value is not None and overdue.value is not None:
        if "action" in (without.status, overdue.status):
            level: int | None = 2
        elif without.status == "ok" and overdue.status == "ok":
            level = None
        else:
            level = 3
        out.append(
            Dimension(
                "activities",
                level,
                (
                    (
                        "activities",
                        (("without", _pct(without.value)), ("overdue", _pct(overdue.value))),
                    ),
                ),
            )
        )
    fill = by_key.get("required_fill")
    mandatory = [f for f in state.fields if f.mandatory]
    if not mandatory:
        out.append(Dimension("fields", 2, (("no_mandatory", ()),)))
    elif fill is not None and fill.value is not None:
        fill_level = 2 if fill.status == "action" else None
        out.append(Dimension("fields", fill_level, (("fill", (("share", _pct(fill.value)),)),)))
    out.append(Dimension("automation", None, (("robots_unreadable", ()),)))
    return out


def evidence_text(key: str, values: tuple[tuple[str, Any], ...], lang: Lang) -> str:
    """One line of evidence in ``lang`` (kinds of pipelines named, not coded)."""
    shown = dict(values)
    if "kinds" in shown:
        codes = [c for c in str(shown["kinds"]).split(",") if c and c != "-"]
        shown["kinds"] = ", ".join(msg(f"audit.kind.{c}", lang) for c in codes) or "—"
    return msg(f"audit.evidence.{key}", lang, **shown)


def _pct(value: float) -> str:
    return f"{value * 100:.0f} %"


def audit(
    state: PortalState,
    usage: Usage,
    *,
    portal: str,
    lang: Lang,
    rules: list[Rule] | None = None,
    blueprint: Blueprint | None = None,
    answers: Assessment | None = None,
    requests: int = 0,
) -> Audit:
    findings = measure(state, usage, rules if rules is not None else shipped_rules(), blueprint)
    dims = dimensions(state, usage, findings)
    ceilings = [d.level for d in dims if d.level is not None]
    level = min(ceilings) if ceilings else 5 if dims else None
    declared: tuple[str, ...] = ()
    if blueprint is not None:
        declared = tuple(
            f"{p.code}.{s.code}: {r.title.get(lang)}"
            for p in blueprint.pipelines
            for s in p.stages
            for r in s.automation
        )
    return Audit(
        portal=portal,
        at=usage.now,
        lang=lang,
        state=state,
        usage=usage,
        findings=findings,
        dimensions=tuple(dims),
        level=level,
        says=dict(answers.dimensions) if answers is not None else {},
        says_level=answers.level if answers is not None else None,
        declared_robots=declared,
        requests=requests,
    )


# -- as data (the stable JSON of DESIGN.md) ------------------------------------------------------


def to_data(result: Audit) -> dict[str, Any]:
    usage, state, lang = result.usage, result.state, result.lang
    partial = bool(usage.partial)
    by_reason, failures, generic = _failures(state, usage)
    data: dict[str, Any] = {
        "portal": result.portal,
        "at": datetime.fromtimestamp(result.at, UTC).isoformat(timespec="seconds"),
        "partial": partial,
        "unread": dict(usage.partial),
        "no_counterpart": dict(usage.no_counterpart),
        "leads": {
            "total": usage.leads_total,
            "by_status": dict(usage.leads_by_status),
            "stale_in_first_stage": usage.stale_leads.count,
            "stale_days": usage.stale_days,
            "partial": partial or "leads" in usage.partial,
        },
        "deals": {
            "total": usage.deals_total,
            "by_stage": {stage: n for (_c, stage), n in usage.deals_by_stage.items()},
            "open": usage.deals_open,
            "open_without_open_activity": usage.open_deals.without_open_activity.count,
            "open_with_overdue_activity": usage.open_deals.with_overdue_activity.count,
            "partial": partial or "deals" in usage.partial,
        },
        "failures": {
            "by_reason": by_reason,
            "total": failures,
            "other_share": None if not failures else round(generic / failures, 6),
        },
        "entities": {
            "leads": usage.leads_total,
            "contacts": usage.contacts_total,
            "companies": usage.companies_total,
            "deals": usage.deals_total,
            "activities": usage.activities_total,
            "only_leads": bool(usage.leads_total) and usage.deals_total == 0,
            "open_deals_without_client": usage.open_deals.without_client.count,
        },
        "configuration": _configuration(result),
        "level_estimate": {
            "level": result.level,
            "dimensions": {
                d.id: {
                    "level": d.level,
                    "evidence": [evidence_text(k, v, lang) for k, v in d.evidence],
                }
                for d in result.dimensions
            },
        },
        "findings": [_finding_data(f, result) for f in result.findings],
        "requests": {"core": result.requests, "stage_history": usage.history_requests},
    }
    if result.says:
        data["level_estimate"]["side_by_side"] = side_by_side(result)
        data["level_estimate"]["says_level"] = result.says_level
    return data


def side_by_side(result: Audit) -> dict[str, dict[str, Any]]:
    """Per dimension both speak of: what the questionnaire says, what the data allows, and
    whether they disagree (the data shows less than the team claims)."""
    out = {}
    for dim in result.dimensions:
        says = result.says.get(dim.id)
        if says is None:
            continue
        data = dim.level
        out[dim.id] = {
            "says": says,
            "data": data,
            "disagree": data is not None and data < says,
        }
    return out


def _finding_data(f: Finding, result: Audit) -> dict[str, Any]:
    lang = result.lang
    return {
        "id": f.rule.id,
        "key": f.rule.key,
        "category": f.rule.category,
        "title": f.rule.title.get(lang),
        "why": f.rule.why.get(lang),
        "status": f.status,
        "value": None if f.value is None else round(f.value, 6),
        "unit": f.rule.unit,
        "denominator": f.denominator,
        "threshold": {"ok": f.rule.ok, "review": f.rule.review, "better": f.rule.better},
        "level": f.rule.level,
        "samples": [{"id": rid, "url": result.link(f.sample_kind, rid)} for rid in f.samples],
        "partial": f.partial,
        "detail": dict(f.detail),
        "source": f.rule.source,
        "fix": list(f.rule.fix),
    }


def robots_note(result: Audit) -> str:
    """Where the stages' automation lives and that the API does not show it, in the CRM's words."""
    key = "audit.amo.robots" if result.state.target == "amocrm" else "audit.robots_unreadable"
    return msg(key, result.lang)


def _configuration(result: Audit) -> dict[str, Any]:
    state = result.state
    pipelines = []
    for funnel in state.funnels:
        pipelines.append(
            {
                "kind": funnel.kind,
                "name": funnel.name,
                "category_id": funnel.category_id,
                "stages": len(funnel.stages),
                "in_progress": sum(1 for s in funnel.stages if s.semantics == "process"),
            }
        )
    return {
        "pipelines": pipelines,
        "smart_processes": [
            {"title": p.title, "entity_type_id": p.entity_type_id} for p in state.processes
        ],
        "user_fields": len(state.fields),
        "mandatory_fields": [f.field_name for f in state.fields if f.mandatory],
        "robots": robots_note(result),
        "declared_robots_not_verified": list(result.declared_robots),
        "unread": list(state.unread),
    }

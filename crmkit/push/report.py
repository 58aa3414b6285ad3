"""A push plan and its outcome as text (for the terminal) and as data (``--format json``, the
stable interface of DESIGN.md: ``{"plan": [{"action", "kind", "key", …}], "summary": {…}}``).
Pure."""

from __future__ import annotations

import json
from typing import Any

from crmkit.i18n import Lang, msg
from crmkit.push.plan import Call, Concat, Drift, Entry, Plan, Ref
from crmkit.push.service import PushOutcome

_SIGNS = {
    "create": "+",
    "update": "~",
    "delete": "-",
    "conflict": "!",
    "manual": "✋",
    "unchanged": " ",
    "unmanaged": "·",
}


def _value(value: Any) -> Any:
    """A call parameter as JSON: a reference reads as the batch writes it."""
    if isinstance(value, Ref):
        return f"$result[{value.label}]" + "".join(f"[{p}]" for p in value.path)
    if isinstance(value, Concat):
        return "".join(str(_value(p)) for p in value.parts)
    if isinstance(value, dict):
        return {k: _value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_value(v) for v in value]
    return value


def _call(call: Call) -> dict[str, Any]:
    return {"label": call.label, "method": call.method, "params": _value(call.params)}


def entry_data(entry: Entry, lang: Lang) -> dict[str, Any]:
    data: dict[str, Any] = {"action": entry.action, "kind": entry.kind, "key": entry.address}
    if entry.portal:
        data["portal"] = entry.portal
    if entry.changes:
        data["changes"] = [
            {"attribute": c.attribute, "before": c.before, "after": c.after} for c in entry.changes
        ]
    if entry.calls:
        data["calls"] = [_call(c) for c in entry.calls]
    if entry.note:
        data["note"] = entry.text(lang)
    if entry.steps:
        data["steps"] = list(entry.steps)
    return data


def _drift(d: Drift) -> dict[str, Any]:
    return {"key": d.address, "attribute": d.attribute, "applied": d.applied, "now": d.now}


def plan_data(plan: Plan) -> dict[str, Any]:
    return {
        "plan": [entry_data(e, plan.lang) for e in plan.entries],
        "summary": plan.summary(),
        "drift": [_drift(d) for d in plan.drift],
    }


def outcome_data(outcome: PushOutcome) -> dict[str, Any]:
    data = {"portal": outcome.portal, **plan_data(outcome.plan)}
    data["fingerprint"] = outcome.fingerprint
    data["webhook"] = {
        "admin": outcome.capabilities.admin,
        "scopes": sorted(outcome.capabilities.scopes),
        "lacks": outcome.capabilities.lacks(),
    }
    if outcome.applied:
        final = outcome.final or outcome.plan
        data["applied"] = {
            "verified": outcome.verified,
            "rounds": outcome.rounds,
            "writes": outcome.writes,
            "requests": outcome.requests,
            "lost_replies": outcome.lost,
            "failures": {a: str(e) for a, e in outcome.failures.items()},
            "left": [entry_data(e, final.lang) for e in final.entries if e.action in _CHANGING],
            "backup": outcome.backup,
        }
    return data


_CHANGING = ("create", "update", "delete")


def to_json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n"


def _shown(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, dict):
        return " / ".join(f"{v}" for v in value.values() if v) or "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "Y" if value else "N"
    return f"«{value}»" if isinstance(value, str) else str(value)


def _line(entry: Entry, lang: Lang, verbose: bool = True) -> list[str]:
    sign = _SIGNS[entry.action]
    head = f"{sign} {entry.address}"
    if entry.portal and entry.portal not in entry.address:
        head += f"  [{entry.portal}]"
    lines = [head]
    for change in entry.changes:
        if entry.action == "create":
            lines.append(f"      {change.attribute}: {_shown(change.after)}")
        elif entry.action == "delete":
            lines.append(f"      {change.attribute}: {_shown(change.before)}")
        else:
            lines.append(
                f"      {change.attribute}: {_shown(change.before)} → {_shown(change.after)}"
            )
    if entry.note and entry.action == "conflict":
        lines.append(f"      {entry.text(lang)}")
    # a manual step: where to do it; what exactly, with --verbose (the documentation has it too)
    for step in entry.steps if verbose else entry.steps[:1]:
        lines.append(f"      {step}")
    return lines


def plan_text(plan: Plan, *, verbose: bool = False) -> str:
    """The plan as a person reads it: changes first, then conflicts, manual steps, drift."""
    lang = plan.lang
    out: list[str] = []
    groups = (
        ("push.report.changes", ("create", "update", "delete")),
        ("push.report.conflicts", ("conflict",)),
        ("push.report.manual", ("manual",)),
    )
    for title, actions in groups:
        entries = [e for e in plan.entries if e.action in actions]
        if not entries:
            continue
        out.append(msg(title, lang, count=len(entries)))
        for entry in entries:
            out.extend(_line(entry, lang, verbose or entry.action != "manual"))
        out.append("")
    if plan.drift:
        out.append(msg("push.report.drift", lang, count=len(plan.drift)))
        for d in plan.drift:
            key = "push.report.drift_gone" if d.attribute == "exists" else "push.report.drift_one"
            out.append(
                "  "
                + msg(
                    key,
                    lang,
                    address=d.address,
                    attribute=d.attribute,
                    applied=_shown(d.applied),
                    now=_shown(d.now),
                )
            )
        out.append("")
    if verbose:
        for action in ("unmanaged", "unchanged"):
            entries = [e for e in plan.entries if e.action == action]
            if entries:
                out.append(msg(f"push.report.{action}", lang, count=len(entries)))
                out.extend(line for e in entries for line in _line(e, lang)[:1])
                out.append("")
    summary = plan.summary()
    out.append(msg("push.report.summary", lang, **summary))
    return "\n".join(out) + "\n"


def preamble(outcome: PushOutcome) -> str:
    """Which portal, and what the webhook lacks (before the plan)."""
    lang = outcome.plan.lang
    lines = [msg("push.report.portal", lang, portal=outcome.portal)]
    lines += ["  " + msg(f"push.preflight.{key}", lang) for key in outcome.capabilities.lacks()]
    return "\n".join(lines) + "\n"


def outcome_text(outcome: PushOutcome, *, with_plan: bool = True, verbose: bool = False) -> str:
    """The plan (unless it was shown already, before asking to apply it) and what was done."""
    lang = outcome.plan.lang
    out: list[str] = []
    if with_plan:
        out.append(preamble(outcome))
        out.append(plan_text(outcome.plan, verbose=verbose).rstrip("\n"))
    if outcome.applied:
        if out:
            out.append("")
        out.append(
            msg(
                "push.report.applied",
                lang,
                writes=outcome.writes,
                requests=outcome.requests,
                rounds=outcome.rounds,
            )
        )
        if outcome.lost:
            out.append(msg("push.report.lost", lang, count=outcome.lost))
        for address, error in outcome.failures.items():
            out.append(f"! {address}: {error}")
        final = outcome.final or outcome.plan
        if outcome.verified:
            out.append(msg("push.report.verified", lang))
        else:
            left = [e for e in final.entries if e.action in _CHANGING]
            out.append(msg("push.report.not_verified", lang, count=len(left)))
            for entry in left:
                out.append(f"  {_SIGNS[entry.action]} {entry.address}")
        if outcome.backup:
            out.append(msg("push.report.backup", lang, path=outcome.backup))
    return "\n".join(out) + "\n"

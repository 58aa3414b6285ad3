"""``crmkit audit`` as a library call: preflight, the shared reader, the usage reader, the pure
audit. The portal comes in as a client; files (thresholds) are read by the caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from crmkit.assess.audit import Audit, Rule, audit, shipped_rules, with_thresholds
from crmkit.assess.scoring import Assessment
from crmkit.blueprints.model import Blueprint
from crmkit.files import TomlDocument
from crmkit.i18n import Lang, run_msg
from crmkit.push.bitrix24.preflight import preflight
from crmkit.push.bitrix24.reader import read_portal
from crmkit.push.bitrix24.usage import read_usage
from crmkit.push.state import PortalState
from crmkit.push.usage import Usage
from crmkit.schema import Problems, root

#: what an audit calls (preflight asks whether the webhook may)
AUDIT_METHODS = (
    "crm.deal.list",
    "crm.lead.list",
    "crm.activity.list",
    "crm.stagehistory.list",
    "user.get",
)


def read_thresholds(doc: TomlDocument, rules: list[Rule]) -> list[Rule]:
    """``[thresholds.AUD001] ok = 0.1, review = 0.2`` (a rule's id or key) onto the rules."""
    problems = Problems()
    top = root(doc.data, doc.source, problems)
    known = {r.id for r in rules} | {r.key for r in rules}
    given: dict[str, dict[str, float]] = {}
    table = top.table("thresholds", required=True)
    if table is not None:
        for name in list(table.value):
            if name not in known:
                known_ids = ", ".join(sorted(r.id for r in rules))
                table.error(run_msg("load.rules.unknown_rule", name=name, known=known_ids), name)
                continue
            node = table.table(name)
            if node is None:
                continue
            values = {k: node.float(k) for k in ("ok", "review") if node.has(k)}
            node.done()
            given[name] = {k: v for k, v in values.items() if v is not None}
        table.done(allowed_extra=known)
    top.done()
    problems.raise_if_any()
    return with_thresholds(rules, given)


def run_audit(
    client: Any,
    *,
    portal: str,
    target: str = "bitrix24",
    lang: Lang,
    now: float,
    stale_days: int = 7,
    history_days: int = 90,
    history: bool = True,
    rules: list[Rule] | None = None,
    blueprint: Blueprint | None = None,
    answers: Assessment | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> Audit:
    before = client.requests_sent
    if target == "amocrm":
        state, usage = _amocrm_figures(
            client,
            now=now,
            stale_days=stale_days,
            history_days=history_days,
            history=history,
            progress=progress,
        )
    else:
        capabilities = preflight(client, AUDIT_METHODS)
        state = read_portal(client)
        usage = read_usage(
            client,
            state,
            now=now,
            admin=capabilities.admin,
            stale_days=stale_days,
            history_days=history_days,
            history=history,
            progress=progress,
        )
        if not capabilities.admin:
            usage.partial.setdefault("all", "not_admin")
    return audit(
        state,
        usage,
        portal=portal,
        lang=lang,
        rules=rules if rules is not None else shipped_rules(),
        blueprint=blueprint,
        answers=answers,
        requests=client.requests_sent - before - usage.history_requests,
    )


def _amocrm_figures(client: Any, *, now: float, **options: Any) -> tuple[PortalState, Usage]:
    """amoCRM as a second source of the same figures: its set-up as the findings engine reads
    it (``audit_view``) and its usage from page scans (``crmkit.push.amocrm.usage``)."""
    from crmkit.push.amocrm.reader import read_account
    from crmkit.push.amocrm.usage import audit_view
    from crmkit.push.amocrm.usage import read_usage as read_amocrm_usage

    view = audit_view(read_account(client))
    return view, read_amocrm_usage(client, view, now=now, **options)

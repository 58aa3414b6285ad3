"""amoCRM's part of ``crmkit push``: the driver the shared apply loop (``crmkit.push.service``)
runs with — the account's preflight, reader, planner and writer, and how the record finds its
objects again. The loop itself (rounds until a fresh plan is empty, backup before the first
write, the record after, lost replies answered by reading again) is the one Bitrix24 uses.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from crmkit.blueprints.model import Blueprint
from crmkit.i18n import Lang
from crmkit.push.amocrm.plan import amo_shape_of, plan_amocrm, still_there
from crmkit.push.amocrm.reader import read_account
from crmkit.push.amocrm.writer import Execution, execute
from crmkit.push.bitrix24.preflight import Capabilities
from crmkit.push.plan import CountKey
from crmkit.push.record import Record
from crmkit.push.service import Driver, Reading, fingerprint

#: an amoCRM token is the whole integration: no scopes to tick; rights are the user's, and a
#: write the user may not make is refused with a one-line 403 (``AmoForbidden``)
AMO_CAPABILITIES = Capabilities(scopes=frozenset({"crm"}), admin=True)


def preflight(client: Any) -> Capabilities:
    """One request that proves the address and the token (a 401/402/403 stops here, before
    anything is read or planned)."""
    client.get("/api/v4/account")
    return AMO_CAPABILITIES


def read_and_plan(
    client: Any,
    bp: Blueprint,
    record: Record,
    *,
    lang: Lang,
    prune: bool,
    capabilities: Capabilities,
) -> Reading:
    """Read the account and plan; a plan under --prune that must know whether a status or
    pipeline holds leads gets it from one bounded list call each, then is made again."""
    del capabilities
    state = read_account(client)
    plan = plan_amocrm(bp, state, lang=lang, record=record, prune=prune)
    counts: dict[CountKey, int] = {}
    if plan.needs:
        counts = count_leads(client, plan.needs)
        plan = plan_amocrm(bp, state, lang=lang, record=record, prune=prune, counts=counts)
    return Reading(state, counts, plan, fingerprint(state, counts, record))


def count_leads(client: Any, keys: Iterable[CountKey]) -> dict[CountKey, int]:
    """Whether leads sit in each status ``("status", pipeline, status)`` or pipeline
    ``("pipeline", pipeline, "")`` of ``keys``: 0 or 1, from one page of one lead (amoCRM gives
    no total for leads, and one is all a delete needs to know; 204 = none)."""
    out: dict[CountKey, int] = {}
    for key in dict.fromkeys(keys):
        kind, pipeline, status = key
        if kind == "status":
            where: dict[str, Any] = {
                "statuses": [{"pipeline_id": int(pipeline), "status_id": int(status)}]
            }
        else:
            where = {"pipeline_id": int(pipeline)}
        body = client.get("/api/v4/leads", params={"limit": 1, "filter": where})
        leads = (body or {}).get("_embedded", {}).get("leads") or []
        out[key] = min(len(leads), 1)
    return out


def amocrm_driver() -> Driver:
    return Driver(
        preflight=preflight,
        read_and_plan=read_and_plan,
        execute=execute,
        new_execution=Execution,
        shape_of=amo_shape_of,
        still_there=still_there,
    )

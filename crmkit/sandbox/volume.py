"""A company of any size, for audits of large portals: ``crmkit sandbox --seed 7 --deals 100000
--leads 20000 --activities 300000``.

Deterministic from the seed and the day. Consistent: every lead and deal has the stage history
its path through the funnel left (created in the first stage, moved stage by stage, closed in a
success or a failure stage), its ``MOVED_TIME`` is its last move. What an audit looks for is in
it, in known shares: open deals without an open activity, overdue activities, deals without a
contact or company, deals past their close date, leads left in the first stage, failures in a
reason named "Other", a mandatory user field not always filled, a manager who left but still
owns open deals. Records go into the store in bulk (no per-record API call), so 100,000 deals
and 300,000 activities take seconds.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from crmkit.sandbox.company import BASE_USERS
from crmkit.sandbox.methods.history import CREATED, FINAL, MOVED, history_row, kind_of
from crmkit.sandbox.portal import Portal
from crmkit.sandbox.seed import _pipelines, _put_user
from crmkit.sandbox.stages import (
    DEAL,
    add_status,
    describe,
    stage_entity_id,
    statuses_of,
)
from crmkit.sandbox.store import Record

#: the name of the "Other" failure reason the seed adds (what an audit calls generic)
OTHER = {"ru": "Другое", "en": "Other"}
#: the mandatory deal field the seed adds, filled in about 70 % of deals
MANDATORY_FIELD = "UF_CRM_DEAL_SOURCE_DETAIL"
#: shares of what an audit must find
NO_CLIENT_SHARE = 0.1
NO_ACTIVITY_SHARE = 0.2
OVERDUE_SHARE = 0.35


@dataclass(frozen=True)
class Volume:
    deals: int = 0
    leads: int = 0
    activities: int = 0

    def __bool__(self) -> bool:
        return bool(self.deals or self.leads or self.activities)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def seed_volume(portal: Portal, seed: int, volume: Volume) -> None:
    rng = random.Random(seed * 7919 + volume.deals * 31 + volume.leads)
    now = portal.now().replace(hour=12, minute=0, second=0)
    store = portal.store
    lang = store.meta("portal_lang") or "en"
    with store.transaction():
        _pipelines(portal, random.Random(seed))
        managers, gone = _staff(portal, now)
        _extra_stages(portal, lang)
        field_id = _mandatory_field(portal)
        companies = max(1, volume.deals // 50)
        contacts = max(1, volume.deals // 20)
        _clients(portal, rng, now, managers, companies, contacts)
        deals = _deals(portal, rng, now, managers + [gone], volume.deals, companies, contacts)
        leads = _leads(portal, rng, now, managers, volume.leads)
        _activities(portal, rng, now, deals, leads, volume.activities)
        store.set_meta("seeded", str(seed))
        store.set_meta("volume", f"{volume.deals},{volume.leads},{volume.activities},{field_id}")


def _staff(portal: Portal, now: datetime) -> tuple[list[int], int]:
    """Managers 3…12 and one who left (ACTIVE false) but still owns deals."""
    store = portal.store
    ids = [3, 4]
    for uid in range(len(BASE_USERS) + 1, 13):
        if store.get("user", uid) is None:
            _put_user(
                store,
                uid,
                "Менеджер",
                f"№{uid}",
                "Менеджер по продажам",
                f"user{uid}@example.com",
                2,
                now,
            )
        ids.append(uid)
    gone = 13
    _put_user(
        store, gone, "Уволен", "Уволенный", "Менеджер по продажам", "former@example.com", 2, now
    )
    row = store.get("user", gone)
    assert row is not None
    row["ACTIVE"] = False
    store.put("user", gone, row)
    return ids, gone


def _extra_stages(portal: Portal, lang: str) -> None:
    """A failure reason named "Other" in every deal pipeline and in the lead funnel."""
    name = OTHER.get(lang, OTHER["en"])
    for entity_id in ["STATUS", "DEAL_STAGE"] + [
        stage_entity_id(DEAL, c["id"])
        for c in portal.store.rows("category")
        if c["entityTypeId"] == DEAL and c["id"] != 0
    ]:
        dictionary = describe(portal.store, entity_id)
        assert dictionary is not None
        code = "OTHER" if not dictionary.prefix else f"{dictionary.prefix}:OTHER"
        if any(r["STATUS_ID"] == code for r in statuses_of(portal.store, entity_id)):
            continue
        top = max(r["SORT"] for r in statuses_of(portal.store, entity_id))
        add_status(portal.store, dictionary, code, name, top + 10, color="#FF5752", semantics="F")


def _mandatory_field(portal: Portal) -> int:
    existing = [r for r in portal.store.rows("userfield") if r["FIELD_NAME"] == MANDATORY_FIELD]
    if existing:
        return int(existing[0]["ID"])
    method = portal.registry.methods["crm.deal.userfield.add"]
    fields = {
        "FIELD_NAME": MANDATORY_FIELD,
        "USER_TYPE_ID": "string",
        "MANDATORY": "Y",
        "EDIT_FORM_LABEL": {"ru": "Откуда узнали", "en": "How they found us"},
    }
    return int(method.fn(portal, {"fields": fields}))


def _clients(
    portal: Portal,
    rng: random.Random,
    now: datetime,
    managers: list[int],
    companies: int,
    contacts: int,
) -> None:
    store = portal.store
    base_company = store.new_id("company") - 1
    rows = []
    for n in range(companies):
        rid = base_company + 1 + n
        rows.append(
            {
                "ID": rid,
                "TITLE": f"ООО «Клиент {rid}»",
                "ASSIGNED_BY_ID": rng.choice(managers),
                "CREATED_BY_ID": 1,
                "DATE_CREATE": _iso(now - timedelta(days=rng.randint(30, 900))),
                "OPENED": "Y",
                "COMPANY_TYPE": "CUSTOMER",
                "CURRENCY_ID": "RUB",
            }
        )
    store.put_many("company", rows)
    store.reserve("company", base_company + companies)
    base_contact = store.new_id("contact") - 1
    rows = []
    for n in range(contacts):
        rid = base_contact + 1 + n
        rows.append(
            {
                "ID": rid,
                "NAME": "Контакт",
                "LAST_NAME": str(rid),
                "COMPANY_ID": base_company + 1 + rng.randrange(companies),
                "ASSIGNED_BY_ID": rng.choice(managers),
                "CREATED_BY_ID": 1,
                "DATE_CREATE": _iso(now - timedelta(days=rng.randint(30, 900))),
                "OPENED": "Y",
                "TYPE_ID": "CLIENT",
            }
        )
    store.put_many("contact", rows)
    store.reserve("contact", base_contact + contacts)
    portal.store.set_meta("volume_clients", f"{base_company},{companies},{base_contact},{contacts}")


def _paths(portal: Portal, entity_id: str) -> tuple[list[Record], list[Record], list[Record]]:
    rows = statuses_of(portal.store, entity_id)
    process = [r for r in rows if not r["SEMANTICS"]]
    success = [r for r in rows if r["SEMANTICS"] == "S"]
    failure = [r for r in rows if r["SEMANTICS"] == "F"]
    return process, success, failure


def _walk(
    rng: random.Random,
    created: datetime,
    now: datetime,
    process: list[Record],
    success: list[Record],
    failure: list[Record],
) -> list[tuple[Record, datetime]]:
    """The stages an item went through, with the moment it entered each (the history)."""
    outcome = rng.random()
    if (now - created).days > 60 and outcome < 0.45 and rng.random() < 0.8:
        outcome = 0.5  # an old deal is mostly closed by now: open deals are mostly recent
    reached = rng.randint(1, len(process))
    path = [(process[0], created)]
    moment = created
    for stage in process[1:reached]:
        moment = moment + timedelta(hours=rng.randint(2, 24 * rng.choice((1, 2, 3, 5, 8))))
        if moment >= now:
            return path
        path.append((stage, moment))
    if outcome < 0.45:  # still open
        return path
    moment = moment + timedelta(hours=rng.randint(2, 24 * 6))
    if moment >= now:
        return path
    if outcome < 0.7:
        final = success[0]
    else:
        weights = [3 if r["STATUS_ID"].endswith("OTHER") else 2 for r in failure]
        final = rng.choices(failure, weights)[0]
    path.append((final, moment))
    return path


def _deals(
    portal: Portal,
    rng: random.Random,
    now: datetime,
    owners: list[int],
    count: int,
    companies: int,
    contacts: int,
) -> list[tuple[int, bool, datetime, int]]:
    """Deals as (id, open, created, responsible)."""
    store = portal.store
    pipelines = [c["id"] for c in store.rows("category") if c["entityTypeId"] == DEAL]
    paths = {cid: _paths(portal, stage_entity_id(DEAL, cid)) for cid in pipelines}
    base_company, _n, base_contact, _m = (
        int(x) for x in (store.meta("volume_clients") or "0,0,0,0").split(",")
    )
    base = store.new_id("deal") - 1
    deals, out = [], []
    history: list[dict[str, Any]] = []
    history_id = store.new_id("history") - 1
    for n in range(count):
        rid = base + 1 + n
        cid = rng.choices(pipelines, [6] + [2] * (len(pipelines) - 1))[0]
        created = now - timedelta(days=rng.randint(0, 365), minutes=rng.randint(0, 1440))
        walked = _walk(rng, created, now, *paths[cid])
        stage, moved = walked[-1]
        semantic = stage["SEMANTICS"] or "P"
        owner = owners[-1] if rng.random() < 0.03 else rng.choice(owners[:-1])
        client = rng.random() >= NO_CLIENT_SHARE
        row = {
            "ID": rid,
            "TITLE": f"Сделка №{rid}",
            "TYPE_ID": "SALE",
            "CATEGORY_ID": cid,
            "STAGE_ID": stage["STATUS_ID"],
            "STAGE_SEMANTIC_ID": semantic,
            "CLOSED": "Y" if semantic in ("S", "F") else "N",
            "OPPORTUNITY": float(rng.randrange(3, 300) * 5_000),
            "CURRENCY_ID": "RUB",
            "COMPANY_ID": base_company + 1 + rng.randrange(companies) if client else None,
            "CONTACT_ID": base_contact + 1 + rng.randrange(contacts) if client else None,
            "ASSIGNED_BY_ID": owner,
            "CREATED_BY_ID": owner,
            "DATE_CREATE": _iso(created),
            "DATE_MODIFY": _iso(moved),
            "BEGINDATE": created.date().isoformat(),
            "CLOSEDATE": (created + timedelta(days=rng.randint(7, 90))).date().isoformat(),
            "MOVED_TIME": _iso(moved),
            "OPENED": "Y",
            "SOURCE_ID": "WEB",
        }
        if rng.random() < 0.7:
            row[MANDATORY_FIELD] = rng.choice(("Выставка", "Сайт", "Рекомендация"))
        deals.append(row)
        history_id = _history_of(history, history_id, 2, walked, {"ID": rid, "CATEGORY_ID": cid})
        out.append((rid, semantic == "P", created, owner))
    store.put_many("deal", deals)
    store.reserve("deal", base + count)
    store.put_many(kind_of(2), history)
    store.reserve("history", history_id)
    return out


def _history_of(
    history: list[dict[str, Any]],
    last_id: int,
    entity_type: int,
    walked: list[tuple[dict[str, Any], datetime]],
    item: dict[str, Any],
) -> int:
    """The stage history rows of one item's walk (created, moved, final), appended; the last id."""
    stage_key = "STAGE" if entity_type == 2 else "STATUS"
    for index, (entered, moment) in enumerate(walked):
        kind = CREATED if index == 0 else FINAL if entered["SEMANTICS"] else MOVED
        last_id += 1
        snapshot = {
            **item,
            f"{stage_key}_ID": entered["STATUS_ID"],
            f"{stage_key}_SEMANTIC_ID": entered["SEMANTICS"] or "P",
        }
        history.append(history_row(last_id, entity_type, kind, snapshot, _iso(moment)))
    return last_id


def _leads(
    portal: Portal, rng: random.Random, now: datetime, managers: list[int], count: int
) -> list[tuple[int, bool, datetime, int]]:
    store = portal.store
    process, success, failure = _paths(portal, "STATUS")
    base = store.new_id("lead") - 1
    leads, out = [], []
    history: list[dict[str, Any]] = []
    history_id = store.new_id("history") - 1
    for n in range(count):
        rid = base + 1 + n
        created = now - timedelta(days=rng.randint(0, 120), minutes=rng.randint(0, 1440))
        walked = _walk(rng, created, now, process, success, failure)
        stage, moved = walked[-1]
        semantic = stage["SEMANTICS"] or "P"
        owner = rng.choice(managers)
        leads.append(
            {
                "ID": rid,
                "TITLE": f"Заявка №{rid}",
                "NAME": "Лид",
                "LAST_NAME": str(rid),
                "STATUS_ID": stage["STATUS_ID"],
                "STATUS_SEMANTIC_ID": semantic,
                "SOURCE_ID": "WEB",
                "OPPORTUNITY": 0.0,
                "CURRENCY_ID": "RUB",
                "ASSIGNED_BY_ID": owner,
                "CREATED_BY_ID": 1,
                "DATE_CREATE": _iso(created),
                "DATE_MODIFY": _iso(moved),
                "MOVED_TIME": _iso(moved),
                "OPENED": "Y",
            }
        )
        history_id = _history_of(history, history_id, 1, walked, {"ID": rid})
        out.append((rid, semantic == "P", created, owner))
    store.put_many("lead", leads)
    store.reserve("lead", base + count)
    store.put_many(kind_of(1), history)
    store.reserve("history", history_id)
    return out


def _activities(
    portal: Portal,
    rng: random.Random,
    now: datetime,
    deals: list[tuple[int, bool, datetime, int]],
    leads: list[tuple[int, bool, datetime, int]],
    count: int,
) -> None:
    """``count`` activities: on deals mostly, some on leads; a share of open deals has none, a
    share of the open activities is overdue."""
    store = portal.store
    owners: list[tuple[int, int, bool, datetime, int]] = []
    for rid, open_, created, owner in deals:
        if open_ and rng.random() < NO_ACTIVITY_SHARE:
            continue
        owners.append((2, rid, open_, created, owner))
    owners += [(1, rid, open_, created, owner) for rid, open_, created, owner in leads[::3]]
    if not owners or count <= 0:
        return
    base = store.new_id("activity") - 1
    rows: list[dict[str, Any]] = []
    for n in range(count):
        # each owner first once, then at random
        owner_type, owner_id, open_, created, responsible = (
            owners[n] if n < len(owners) else rng.choice(owners)
        )
        completed = not open_ or rng.random() < 0.5
        if completed:
            deadline = min(created + timedelta(days=rng.randint(0, 30)), now - timedelta(hours=1))
        elif rng.random() < OVERDUE_SHARE:
            deadline = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(1, 6))
        else:
            deadline = now + timedelta(days=rng.randint(0, 21), hours=rng.randint(1, 6))
        rid = base + 1 + n
        moment = _iso(min(created + timedelta(hours=rng.randint(1, 48)), now))
        rows.append(
            {
                "ID": rid,
                "OWNER_TYPE_ID": owner_type,
                "OWNER_ID": owner_id,
                "_BINDINGS": [{"OWNER_TYPE_ID": owner_type, "OWNER_ID": owner_id}],
                "TYPE_ID": 2,
                "PROVIDER_ID": "VOXIMPLANT_CALL",
                "SUBJECT": "Звонок клиенту",
                "DESCRIPTION": "",
                "COMPLETED": "Y" if completed else "N",
                "STATUS": 2 if completed else 1,
                "RESPONSIBLE_ID": responsible,
                "PRIORITY": 2,
                "DIRECTION": 2,
                "START_TIME": _iso(deadline - timedelta(minutes=30)),
                "END_TIME": _iso(deadline),
                "DEADLINE": _iso(deadline),
                "CREATED": moment,
                "LAST_UPDATED": moment,
                "AUTHOR_ID": responsible,
                "EDITOR_ID": responsible,
            }
        )
    store.put_many("activity", rows)
    store.reserve("activity", base + count)

"""A fresh account's contents, and the synthetic company ``--seed`` fills it with.

Fresh (docs:crm_platform/leads_pipelines.md, custom-fields.md): the users, one main pipeline
«Воронка» with the statuses of the docs' example, the contact fields PHONE and EMAIL.

Seeded: the company every sandbox shares (``crmkit/sandbox/company.py``: people, clients, how
many of each) as amoCRM holds it — no separate lead funnel, so every request is a lead in a
pipeline; the main pipeline and one or two more, loss reasons (the lost leads name one), leads
walked status by status over the last 90 days (each move a ``lead_status_changed`` event), tasks
(some open leads have none, a share of the open tasks is overdue), and requests through the
unsorted status for its summary. Deterministic from the seed and the day.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from crmkit.sandbox.amocrm.account import LOST, PALETTE, WON, Account
from crmkit.sandbox.amocrm.events import record_event
from crmkit.sandbox.amocrm.fields import bootstrap_fields, make_field
from crmkit.sandbox.amocrm.pipelines import (
    bootstrap_pipeline,
    make_loss_reason,
    make_pipeline,
    new_status,
    ordered_statuses,
)
from crmkit.sandbox.company import (
    BASE_USERS,
    CALLS,
    CONTACT_IN_COMPANY,
    CONTACTS,
    DEALS,
    EXTRA_MANAGERS,
    EXTRA_PIPELINES,
    LEADS,
    MEETINGS,
    MORE_MANAGERS,
    TASKS,
    company_names,
    moment,
    person,
)
from crmkit.sandbox.store import Record

#: the main pipeline's statuses a seeded account adds to the two it starts with
MAIN_EXTRA = (("Переговоры", 25, "#ffdc7f"), ("Согласование договора", 40, "#87f2c0"))
EXTRA_STATUSES = (
    ("Квалификация", 20, "#d6eaff"),
    ("Презентация", 30, "#c1e0ff"),
    ("Счёт выставлен", 40, "#deff81"),
)
LOSS_REASONS = ("Дорого", "Выбрали конкурента", "Пропала потребность", "Другое")
SOURCE_FIELD = ("Источник", ("Сайт", "Выставка", "Рекомендация", "Звонок"))
#: the window the leads and their moves fall in
DAYS = 90
NO_TASK_SHARE = 0.2
OVERDUE_SHARE = 0.35
UNSORTED_CATEGORIES = (("forms", 5), ("sip", 3), ("mail", 2), ("chats", 4))


def bootstrap(account: Account) -> None:
    """What a new account holds before anyone works in it."""
    for uid, (first, last, _post, email) in enumerate(BASE_USERS, start=1):
        _put_user(account, uid, f"{first} {last}", email, admin=uid == 1)
    bootstrap_pipeline(account)
    bootstrap_fields(account)


def _put_user(account: Account, uid: int, name: str, email: str, admin: bool = False) -> None:
    record = {"id": uid, "name": name, "email": email, "is_admin": admin, "is_active": True}
    account.store.put("user", uid, record)


def seed_account(account: Account, seed: int) -> None:
    rng = random.Random(seed)
    # anchored at the start of the day: the same company all day, and nothing in the future
    now = account.now_moment().replace(hour=0, minute=0, second=0)
    managers = _managers(account, rng)
    pipelines = _pipelines(account, rng)
    reasons = [make_loss_reason(account, name)["id"] for name in LOSS_REASONS]
    source = make_field(
        account,
        "leads",
        {
            "name": SOURCE_FIELD[0],
            "type": "select",
            "enums": [
                {"id": 0, "value": v, "sort": (i + 1) * 10, "code": None}
                for i, v in enumerate(SOURCE_FIELD[1])
            ],
        },
    )
    companies = _companies(account, rng, now, managers)
    contacts = _contacts(account, rng, now, managers, companies)
    leads = _leads(account, rng, now, managers, pipelines, reasons, source, contacts)
    _tasks(account, rng, now, leads)
    _unsorted(account, rng, now, pipelines[0]["id"])
    account.store.set_meta("seeded", str(seed))


def _managers(account: Account, rng: random.Random) -> list[int]:
    ids = [3, 4]
    for offset, (first, last) in enumerate(rng.sample(MORE_MANAGERS, rng.randint(*EXTRA_MANAGERS))):
        uid = len(BASE_USERS) + 1 + offset
        _put_user(account, uid, f"{first} {last}", f"user{uid}@example.com")
        ids.append(uid)
    return ids


def _pipelines(account: Account, rng: random.Random) -> list[Record]:
    store = account.store
    main = next(p for p in store.rows("pipeline") if p["is_main"])
    main["statuses"] += [new_status(account, *s) for s in MAIN_EXTRA]
    store.put("pipeline", main["id"], main)
    out = [main]
    for index, name in enumerate(EXTRA_PIPELINES[: rng.randint(1, 2)], start=2):
        out.append(make_pipeline(account, name, index, False, True, EXTRA_STATUSES))
    return out


def _ts(moment_: datetime) -> int:
    return int(moment_.timestamp())


def _companies(
    account: Account, rng: random.Random, now: datetime, managers: list[int]
) -> list[int]:
    ids = []
    for name in company_names(rng):
        rid = account.new_id("company")
        created = _ts(moment(now, rng, 365))
        account.store.put("company", rid, _party(rid, name, rng.choice(managers), created))
        ids.append(rid)
    return ids


def _party(rid: int, name: str, owner: int, created: int) -> Record:
    return {
        "id": rid,
        "name": name,
        "responsible_user_id": owner,
        "group_id": 0,
        "created_by": owner,
        "updated_by": owner,
        "created_at": created,
        "updated_at": created,
        "custom_fields_values": None,
    }


def _contacts(
    account: Account,
    rng: random.Random,
    now: datetime,
    managers: list[int],
    companies: list[int],
) -> list[tuple[int, int | None]]:
    phone = account.store.find("field", code="PHONE")[0]
    out = []
    for _ in range(rng.randint(*CONTACTS)):
        first, last = person(rng)
        company = rng.choice(companies) if rng.random() < CONTACT_IN_COMPANY else None
        rid = account.new_id("contact")
        row = _party(rid, f"{first} {last}", rng.choice(managers), _ts(moment(now, rng, 300)))
        digits = [
            rng.randint(10, 99),
            rng.randint(100, 999),
            rng.randint(10, 99),
            rng.randint(10, 99),
        ]
        number = "+7 9{} {}-{}-{}".format(*digits)
        row.update(
            first_name=first,
            last_name=last,
            company_id=company,
            custom_fields_values=[
                {
                    "field_id": phone["id"],
                    "field_name": phone["name"],
                    "field_code": "PHONE",
                    "field_type": "multitext",
                    "values": [{"value": number, "enum_code": "WORK"}],
                }
            ],
        )
        account.store.put("contact", rid, row)
        out.append((rid, company))
    return out


def _walk(
    rng: random.Random, created: datetime, now: datetime, pipeline: Record
) -> list[tuple[Record, datetime]]:
    """The statuses a lead went through and when it entered each."""
    statuses = ordered_statuses(pipeline)
    process = [s for s in statuses if s["type"] == 0 and s["id"] not in (WON, LOST)]
    won, lost = (next(s for s in statuses if s["id"] == i) for i in (WON, LOST))
    outcome = rng.random()
    path = [(process[0], created)]
    when = created
    for status in process[1 : rng.randint(1, len(process))]:
        when += timedelta(hours=rng.randint(2, 24 * rng.choice((1, 2, 3, 5))))
        if when >= now:
            return path
        path.append((status, when))
    if outcome < 0.45:
        return path
    when += timedelta(hours=rng.randint(2, 24 * 6))
    if when >= now:
        return path
    path.append((won if outcome < 0.7 else lost, when))
    return path


def _leads(
    account: Account,
    rng: random.Random,
    now: datetime,
    managers: list[int],
    pipelines: list[Record],
    reasons: list[int],
    source: Record,
    contacts: list[tuple[int, int | None]],
) -> list[tuple[int, bool, int, int]]:
    """Leads as (id, open, responsible, created)."""
    out = []
    weights = [6] + [2] * (len(pipelines) - 1)
    for _ in range(rng.randint(*DEALS)):
        pipeline = rng.choices(pipelines, weights)[0]
        created = now - timedelta(days=rng.randint(0, DAYS - 1), minutes=rng.randint(0, 600))
        walked = _walk(rng, created, now, pipeline)
        status, entered = walked[-1]
        owner = rng.choice(managers)
        contact, company = rng.choice(contacts)
        rid = account.new_id("lead")
        closed = status["id"] in (WON, LOST)
        row: Record = {
            "id": rid,
            "name": f"Сделка №{rng.randint(1000, 9999)}",
            "price": rng.randrange(3, 300) * 5_000,
            "responsible_user_id": owner,
            "group_id": 0,
            "status_id": status["id"],
            "pipeline_id": pipeline["id"],
            "loss_reason_id": rng.choices(reasons, [2, 2, 2, 3])[0]
            if status["id"] == LOST
            else None,
            "created_by": owner,
            "updated_by": owner,
            "created_at": _ts(created),
            "updated_at": _ts(entered),
            "closed_at": _ts(entered) if closed else None,
            "contacts": [{"id": contact, "is_main": True}],
            "company_id": company,
            "custom_fields_values": _source_value(rng, source),
        }
        account.store.put("lead", rid, row)
        _history(account, rid, owner, pipeline["id"], walked)
        out.append((rid, not closed, owner, _ts(created)))
    return out


def _source_value(rng: random.Random, field: Record) -> list[dict[str, Any]] | None:
    if rng.random() >= 0.7:
        return None
    enum = rng.choice(field["enums"])
    return [
        {
            "field_id": field["id"],
            "field_name": field["name"],
            "field_code": None,
            "field_type": "select",
            "values": [{"value": enum["value"], "enum_id": enum["id"], "enum_code": None}],
        }
    ]


def _history(
    account: Account, rid: int, owner: int, pid: int, walked: list[tuple[Record, datetime]]
) -> None:
    record_event(account, "lead_added", "lead", rid, owner, _ts(walked[0][1]))
    for (before, _when), (after, when) in zip(walked, walked[1:], strict=False):
        record_event(
            account,
            "lead_status_changed",
            "lead",
            rid,
            owner,
            _ts(when),
            before=[{"lead_status": {"id": before["id"], "pipeline_id": pid}}],
            after=[{"lead_status": {"id": after["id"], "pipeline_id": pid}}],
        )


def _tasks(
    account: Account, rng: random.Random, now: datetime, leads: list[tuple[int, bool, int, int]]
) -> None:
    kinds = ((1, CALLS), (2, MEETINGS), (1, TASKS))
    stamp = _ts(now)
    for lead_id, open_lead, owner, created in leads:
        if open_lead and rng.random() < NO_TASK_SHARE:
            continue
        for _ in range(rng.randint(1, 3)):
            type_id, texts = rng.choice(kinds)
            done = not open_lead or rng.random() < 0.45
            if done:
                till = min(created + rng.randint(1, 30 * 24) * 3600, stamp - 3600)
            elif rng.random() < OVERDUE_SHARE:
                till = stamp - rng.randint(1, 20) * 86400 - rng.randint(1, 6) * 3600
            else:
                till = stamp + rng.randint(0, 21) * 86400 + rng.randint(1, 6) * 3600
            tid = account.new_id("task")
            account.store.put(
                "task",
                tid,
                {
                    "id": tid,
                    "created_by": owner,
                    "updated_by": owner,
                    "created_at": created,
                    "updated_at": min(max(created, till), stamp),
                    "responsible_user_id": owner,
                    "group_id": 0,
                    "entity_id": lead_id,
                    "entity_type": "leads",
                    "duration": 0,
                    "is_completed": done,
                    "task_type_id": type_id,
                    "text": rng.choice(texts),
                    "result": {"text": "Сделано"} if done else None,
                    "complete_till": till,
                },
            )


def _unsorted(account: Account, rng: random.Random, now: datetime, pid: int) -> None:
    categories = [c for c, _w in UNSORTED_CATEGORIES]
    weights = [w for _c, w in UNSORTED_CATEGORIES]
    for _ in range(rng.randint(*LEADS)):
        rid = account.new_id("unsorted")
        created = _ts(now - timedelta(days=rng.randint(0, DAYS - 1), minutes=rng.randint(0, 600)))
        state = rng.choices(("accepted", "declined", "new"), (7, 1, 2))[0]
        sorted_at = created + rng.randint(300, 2 * 86400) if state != "new" else None
        account.store.put(
            "unsorted",
            rid,
            {
                "id": rid,
                "uid": f"{rid:040x}",
                "category": rng.choices(categories, weights)[0],
                "pipeline_id": pid,
                "created_at": created,
                "state": state,
                "sorted_at": sorted_at,
            },
        )


__all__ = ["PALETTE", "bootstrap", "seed_account"]

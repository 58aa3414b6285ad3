"""A synthetic company for audits and demos, generated deterministically from a seed.

The company itself (people, names, how many of each) is the one every sandbox shares
(``company.py``). The same seed on the same day gives the same portal: users (with a head of sales),
companies, contacts, leads across the lead stages, deals across two or three pipelines with
amounts, and activities with deadlines, some overdue, while some open deals have none (the
things an audit looks for). Everything is written in one transaction, in well under a second.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from crmkit.sandbox.company import (
    BASE_USERS,
    CALLS,
    COMPANIES,
    COMPANY_WORDS,
    CONTACT_IN_COMPANY,
    CONTACTS,
    DEALS,
    EXTRA_MANAGERS,
    EXTRA_PIPELINES,
    HEAD_OF_SALES,
    LEADS,
    LEGAL_FORMS,
    MEETINGS,
    MORE_MANAGERS,
    POSTS,
    TASKS,
    moment,
    person,
)
from crmkit.sandbox.methods.entities import legacy_add
from crmkit.sandbox.portal import Portal
from crmkit.sandbox.stages import DEAL, stage_entity_id, statuses_of
from crmkit.sandbox.store import Store

_SOURCES = ("CALL", "EMAIL", "WEB", "ADVERTISING", "PARTNER", "RECOMMENDATION", "WEBFORM")


def add_base_users(store: Store, now: datetime) -> None:
    """The users and departments of a fresh portal (seeded or not)."""
    now = now.replace(microsecond=0)
    store.put(
        "department", 1, {"ID": 1, "NAME": "Компания", "SORT": 500, "PARENT": None, "UF_HEAD": 1}
    )
    store.put(
        "department",
        2,
        {"ID": 2, "NAME": "Отдел продаж", "SORT": 500, "PARENT": 1, "UF_HEAD": HEAD_OF_SALES},
    )
    for index, (first, last, position, email) in enumerate(BASE_USERS, start=1):
        _put_user(store, index, first, last, position, email, 1 if index == 1 else 2, now)


def _put_user(
    store: Store,
    uid: int,
    first: str,
    last: str,
    position: str,
    email: str,
    department: int,
    now: datetime,
) -> None:
    store.put(
        "user",
        uid,
        {
            "ID": uid,
            "XML_ID": f"user{uid}",
            "ACTIVE": True,
            "NAME": first,
            "LAST_NAME": last,
            "SECOND_NAME": "",
            "EMAIL": email,
            "WORK_POSITION": position,
            "PERSONAL_GENDER": "F" if last.endswith("а") else "M",
            "DATE_REGISTER": (now - timedelta(days=400 - uid)).isoformat(),
            "LAST_LOGIN": (now - timedelta(hours=uid)).isoformat(),
            "IS_ONLINE": "N",
            "TIME_ZONE_OFFSET": 10800,
            "UF_DEPARTMENT": [department],
            "USER_TYPE": "employee",
        },
    )


def seed_portal(portal: Portal, seed: int) -> None:
    """Fill ``portal`` with a synthetic company generated from ``seed``."""
    rng = random.Random(seed)
    # anchored at noon of the current day: deterministic per day, with deadlines both sides
    now = portal.now().replace(hour=12, minute=0, second=0)
    store = portal.store
    with store.transaction():
        managers = _managers(store, rng, now)
        pipelines = _pipelines(portal, rng)
        companies = _companies(portal, rng, now, managers)
        contacts = _contacts(portal, rng, now, managers, companies)
        _leads(portal, rng, now, managers)
        deals = _deals(portal, rng, now, managers, pipelines, companies, contacts)
        _activities(portal, rng, now, deals)
        store.set_meta("seeded", str(seed))


def _managers(store: Store, rng: random.Random, now: datetime) -> list[int]:
    extra = rng.randint(*EXTRA_MANAGERS)
    ids = [3, 4]
    for offset, (first, last) in enumerate(rng.sample(MORE_MANAGERS, extra)):
        uid = len(BASE_USERS) + 1 + offset
        email = f"user{uid}@example.com"
        _put_user(store, uid, first, last, "Менеджер по продажам", email, 2, now)
        ids.append(uid)
    return ids


def _call(portal: Portal, method: str, params: dict[str, Any]) -> Any:
    # handlers directly: seeding is not a client's traffic (no limiter, no budget)
    return portal.registry.methods[method].fn(portal, params)


def _pipelines(portal: Portal, rng: random.Random) -> list[tuple[int, list[dict[str, Any]]]]:
    ids = [0]
    for name in EXTRA_PIPELINES[: rng.randint(1, 2)]:
        ids.append(
            _call(portal, "crm.category.add", {"entityTypeId": DEAL, "fields": {"name": name}})[
                "category"
            ]["id"]
        )
    return [(cid, statuses_of(portal.store, stage_entity_id(DEAL, cid))) for cid in ids]


def _companies(portal: Portal, rng: random.Random, now: datetime, managers: list[int]) -> list[int]:
    ids = []
    for word in rng.sample(COMPANY_WORDS, rng.randint(*COMPANIES)):
        ids.append(
            legacy_add(
                portal,
                "company",
                {
                    "TITLE": f"{rng.choice(LEGAL_FORMS)} «{word}»",
                    "COMPANY_TYPE": rng.choice(("CUSTOMER", "CUSTOMER", "PARTNER", "SUPPLIER")),
                    "INDUSTRY": rng.choice(
                        ("IT", "MANUFACTURING", "RETAIL", "CONSULTING", "BANKING")
                    ),
                    "EMPLOYEES": rng.choice(("EMPLOYEES_1", "EMPLOYEES_2", "EMPLOYEES_3")),
                    "REVENUE": float(rng.randrange(5, 500) * 1_000_000),
                    "CURRENCY_ID": "RUB",
                    "ASSIGNED_BY_ID": rng.choice(managers),
                    "DATE_CREATE": moment(now, rng, 365).isoformat(),
                },
            )
        )
    return ids


def _contacts(
    portal: Portal, rng: random.Random, now: datetime, managers: list[int], companies: list[int]
) -> list[tuple[int, int | None]]:
    out = []
    for _ in range(rng.randint(*CONTACTS)):
        first, last = person(rng)
        company = rng.choice(companies) if rng.random() < CONTACT_IN_COMPANY else None
        cid = legacy_add(
            portal,
            "contact",
            {
                "NAME": first,
                "LAST_NAME": last,
                "POST": rng.choice(POSTS),
                "TYPE_ID": "CLIENT",
                "SOURCE_ID": rng.choice(_SOURCES),
                "COMPANY_ID": company,
                "ASSIGNED_BY_ID": rng.choice(managers),
                "DATE_CREATE": moment(now, rng, 300).isoformat(),
            },
        )
        out.append((cid, company))
    return out


def _leads(portal: Portal, rng: random.Random, now: datetime, managers: list[int]) -> None:
    stages = [r["STATUS_ID"] for r in statuses_of(portal.store, "STATUS")]
    weights = [5 if s == "NEW" else 3 if s in ("IN_PROCESS", "JUNK") else 2 for s in stages]
    for _ in range(rng.randint(*LEADS)):
        first, last = person(rng)
        status = rng.choices(stages, weights)[0]
        created = moment(now, rng, 120)
        legacy_add(
            portal,
            "lead",
            {
                "TITLE": f"Заявка: {first} {last}",
                "NAME": first,
                "LAST_NAME": last,
                "STATUS_ID": status,
                "SOURCE_ID": rng.choice(_SOURCES),
                "OPPORTUNITY": float(rng.randrange(0, 40) * 10_000),
                "ASSIGNED_BY_ID": rng.choice(managers),
                "DATE_CREATE": created.isoformat(),
                "MOVED_TIME": (created + timedelta(days=rng.randint(0, 10))).isoformat(),
            },
        )


def _deals(
    portal: Portal,
    rng: random.Random,
    now: datetime,
    managers: list[int],
    pipelines: list[tuple[int, list[dict[str, Any]]]],
    companies: list[int],
    contacts: list[tuple[int, int | None]],
) -> list[tuple[int, str, int, datetime]]:
    """Deals as (id, semantics P/S/F, responsible, created)."""
    out = []
    for _ in range(rng.randint(*DEALS)):
        category, stages = rng.choices(pipelines, [6] + [2] * (len(pipelines) - 1))[0]
        stage = rng.choices(stages, [4 if s["SEMANTICS"] is None else 2 for s in stages])[0]
        contact, company = rng.choice(contacts)
        created = moment(now, rng, 180)
        manager = rng.choice(managers)
        rid = legacy_add(
            portal,
            "deal",
            {
                "TITLE": f"Сделка №{rng.randint(1000, 9999)}",
                "CATEGORY_ID": category,
                "STAGE_ID": stage["STATUS_ID"],
                "TYPE_ID": rng.choice(("SALE", "COMPLEX", "SERVICES")),
                "OPPORTUNITY": float(rng.randrange(3, 300) * 5_000),
                "CURRENCY_ID": "RUB",
                "COMPANY_ID": company or rng.choice(companies),
                "CONTACT_ID": contact,
                "SOURCE_ID": rng.choice(_SOURCES),
                "ASSIGNED_BY_ID": manager,
                "DATE_CREATE": created.isoformat(),
                "BEGINDATE": created.date().isoformat(),
                "CLOSEDATE": (created + timedelta(days=rng.randint(7, 60))).date().isoformat(),
                "MOVED_TIME": (created + timedelta(days=rng.randint(0, 20))).isoformat(),
            },
        )
        out.append((rid, str(stage["SEMANTICS"] or "P"), manager, created))
    return out


def _activities(
    portal: Portal, rng: random.Random, now: datetime, deals: list[tuple[int, str, int, datetime]]
) -> None:
    kinds = ((2, CALLS, "VOXIMPLANT_CALL"), (1, MEETINGS, "CRM_MEETING"), (6, TASKS, "CRM_TODO"))
    for deal_id, semantics, manager, created in deals:
        open_deal = semantics == "P"
        # about one open deal in five has no activity at all: the audit must find them
        if open_deal and rng.random() < 0.2:
            continue
        for _ in range(rng.randint(1, 3)):
            type_id, subjects, provider = rng.choice(kinds)
            completed = not open_deal or rng.random() < 0.45
            if completed:
                deadline = created + timedelta(days=rng.randint(0, 30), hours=rng.randint(1, 8))
                deadline = min(deadline, now - timedelta(hours=1))
            elif rng.random() < 0.35:  # overdue: the deadline passed, still open
                deadline = now - timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 6))
            else:
                deadline = now + timedelta(days=rng.randint(0, 21), hours=rng.randint(1, 6))
            start = deadline - timedelta(minutes=30 if type_id != 6 else 0)
            legacy_add(
                portal,
                "activity",
                {
                    "OWNER_TYPE_ID": DEAL,
                    "OWNER_ID": deal_id,
                    "TYPE_ID": type_id,
                    "PROVIDER_ID": provider,
                    "SUBJECT": rng.choice(subjects),
                    "START_TIME": start.isoformat(),
                    "END_TIME": deadline.isoformat(),
                    "DEADLINE": deadline.isoformat(),
                    "COMPLETED": "Y" if completed else "N",
                    "RESPONSIBLE_ID": manager,
                    "DIRECTION": 2 if type_id == 2 else 0,
                },
            )

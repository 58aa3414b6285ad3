"""Helpers for the push tests: pushing a blueprint to a sandbox with the real client, reading the
portal back, and what "the portal holds the blueprint" means."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmkit.blueprints.library import Library
from crmkit.blueprints.model import Blueprint
from crmkit.push.bitrix24.client import Bitrix24Client
from crmkit.push.bitrix24.reader import read_portal
from crmkit.push.bitrix24.webhook import parse_webhook
from crmkit.push.folder import PushFolder
from crmkit.push.pull import pull_portal
from crmkit.push.service import PushOutcome, push
from crmkit.push.state import PortalState
from crmkit.sandbox import Sandbox

LIBRARY = Library.default()


def client_for(sb: Sandbox, **kwargs: Any) -> Bitrix24Client:
    kwargs.setdefault("rate", None)
    return Bitrix24Client(parse_webhook(sb.webhook_url), **kwargs)


def push_to(
    sb: Sandbox,
    bp: Blueprint,
    folder: Path,
    *,
    lang: str = "ru",
    apply: bool = True,
    prune: bool = False,
    **client: Any,
) -> PushOutcome:
    with client_for(sb, **client) as c:
        return push(
            c,
            bp,
            PushFolder(folder, sb.base_url, 1_760_000_000.0),
            portal=sb.base_url,
            lang=lang,  # type: ignore[arg-type]
            now="2026-12-01T00:00:00+00:00",
            apply=apply,
            prune=prune,
        )


def state_of(sb: Sandbox) -> PortalState:
    with client_for(sb) as c:
        return read_portal(c)


def pulled(sb: Sandbox, lang: str = "ru") -> Blueprint:
    with client_for(sb) as c:
        return pull_portal(c, source=sb.base_url, lang=lang, now=0).blueprint  # type: ignore[arg-type]


@dataclass(frozen=True)
class Shape:
    """What a portal holds, without ids: funnels by kind and name with their stages in order
    (name, semantics, colour), smart processes by title, fields by owner and name."""

    funnels: dict[tuple[str, str], list[tuple[str, str, str]]]
    processes: set[str]
    fields: dict[tuple[str, str], tuple[str, str, str, tuple[str, ...]]]


def shape(state: PortalState) -> Shape:
    titles = {p.owner: p.title for p in state.processes}
    funnels = {}
    for funnel in state.funnels:
        key = (funnel.kind, funnel.name if funnel.kind != "lead" else "")
        funnels[key] = [(s.name, s.semantics, s.color) for s in funnel.stages]
    fields = {}
    for f in state.fields:
        owner = titles.get(f.owner, f.owner)
        name = f.field_name.split("_", 3)[-1] if f.owner.startswith("sp:") else f.field_name
        fields[(owner, name)] = (
            f.type,
            f.label("ru"),
            f.label("en"),
            tuple(i.value for i in f.items),
        )
    return Shape(funnels, {p.title for p in state.processes}, fields)


def assert_holds(state: PortalState, bp: Blueprint, lang: str) -> None:
    """Every pipeline, stage (name, order, semantics, colour), smart process and field of
    ``bp`` is on the portal of ``state``."""
    holds = shape(state)
    titles = {p.code: p.title.get(lang) for p in bp.smart_processes}
    for pipe in bp.pipelines:
        key = (pipe.kind, pipe.name.get(lang) if pipe.kind != "lead" else "")  # type: ignore[arg-type]
        assert key in holds.funnels, (key, sorted(holds.funnels))
        stages = holds.funnels[key]
        wanted = [(s.name.get(lang), s.semantics, s.shown_color.upper()) for s in pipe.stages]  # type: ignore[arg-type]
        present = [s for s in stages if s[0] in {w[0] for w in wanted}]
        assert present == wanted, (pipe.code, present, wanted)
    assert set(titles.values()) <= holds.processes
    for field in bp.fields:
        owner = titles.get(field.entity, field.entity)
        name = field.field_name if field.entity not in titles else field.code.upper()
        assert (owner, name) in holds.fields, (owner, name)
        kind, ru, en, items = holds.fields[(owner, name)]
        assert kind == field.type
        assert (ru, en) == (field.label.get("ru"), field.label.get("en"))
        assert items == tuple(i.value.get(lang) for i in field.items)  # type: ignore[arg-type]


def counts(state: PortalState) -> dict[str, int]:
    """How many of each thing the portal holds (duplicates show here)."""
    return {
        "funnels": len(state.funnels),
        "stages": sum(len(f.stages) for f in state.funnels),
        "processes": len(state.processes),
        "fields": len(state.fields),
    }

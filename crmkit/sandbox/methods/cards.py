"""Card layouts: ``crm.item.details.configuration.get/set/reset/forceCommonScopeForAll``
(docs: api-reference/crm/universal/item-details-configuration/).

A layout is kept per entity type, funnel (``extras``), scope (``P`` personal, the default, or
``C`` common) and, for personal ones, user. ``get`` answers ``null`` when nothing was saved (the
portal then shows its default card, which REST cannot read) and gives ``optionFlags`` as a
string; ``set`` takes it as a number. Every refusal has an empty code. Common layouts, and
another user's, need an administrator.
"""

from __future__ import annotations

import json
from typing import Any

from crmkit.sandbox.errors import legacy
from crmkit.sandbox.params import as_int, as_mapping, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.stages import COMPANY, CONTACT, DEAL, LEAD, smart_type

registry = Registry()

_NAMES = {LEAD: "Lead", DEAL: "Deal", CONTACT: "Contact", COMPANY: "Company"}
_EXTRAS = {LEAD: "leadCustomerType", DEAL: "dealCategoryId"}


def _target(
    portal: Portal, params: dict[str, Any], *, scoped: bool = True, write: bool = True
) -> str:
    """The store key of the layout a call is about, after the checks the portal makes."""
    raw = pick(params, "entityTypeId")
    if raw is None or raw == "":
        raise legacy("Parameter 'entityTypeId' is not defined")
    etid = as_int(raw)
    if etid is None or (etid not in _NAMES and smart_type(portal.store, etid) is None):
        raise legacy(f"The entity type '{raw}' is not supported in current context.")
    extras = as_mapping(pick(params, "extras"), "extras")
    wanted = _EXTRAS.get(etid, "categoryId")
    funnel = as_int(extras.get(wanted)) if wanted in extras else None
    if funnel is None:  # no extras: the default funnel (extras_notice.md)
        funnel = _default_funnel(portal, etid)
    if not scoped:
        return f"{etid}|{funnel}"
    scope = str(pick(params, "scope") or "P").upper()
    user = as_int(pick(params, "userId"), portal.user_id)
    if scope not in ("P", "C"):
        raise legacy(f"The scope '{scope}' is not supported.")
    # anyone reads the common layout; writing it, or touching another user's, needs an admin
    if ((scope == "C" and write) or user != portal.user_id) and not portal.admin:
        raise legacy("Access denied.")
    owner = "C" if scope == "C" else f"P{user}"
    return f"{etid}|{funnel}|{owner}"


def _default_funnel(portal: Portal, etid: int) -> int | None:
    if etid == DEAL:
        return 0
    if etid == LEAD:
        return 1  # leadCustomerType 1: simple leads
    if etid in (CONTACT, COMPANY):
        return None
    default = portal.store.find("category", entityTypeId=etid, isDefault="Y")
    return default[0]["id"] if default else None


def _layouts(portal: Portal) -> dict[str, Any]:
    saved = portal.store.meta("card_layouts")
    return json.loads(saved) if saved else {}


def _save(portal: Portal, layouts: dict[str, Any]) -> None:
    portal.store.set_meta("card_layouts", json.dumps(layouts, ensure_ascii=False))


def _checked(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, list):
        if isinstance(data, dict) and all(str(k).isdigit() for k in data):
            data = [data[k] for k in sorted(data, key=int)]
        else:
            raise legacy("Parameter 'data' must be array.")
    if not data:
        raise legacy("There are no data to write.")
    sections = []
    for index, section in enumerate(data):
        if not isinstance(section, dict):
            raise legacy("The data must be indexed array.")
        if str(section.get("type") or "") != "section":
            raise legacy(
                f"Section at index {index} have type {section.get('type')}. "
                "The expected type is 'section'."
            )
        if not section.get("name"):
            raise legacy(f"Section at index {index} does not have name.")
        if not section.get("title"):
            raise legacy(f"Section at index {index} does not have title.")
        elements = section.get("elements") or []
        if isinstance(elements, dict):
            elements = [elements[k] for k in sorted(elements, key=lambda k: int(k))]
        kept = []
        for position, element in enumerate(elements):
            if not isinstance(element, dict) or not element.get("name"):
                raise legacy(
                    f"Element at index {position} in section at index {index} does not have name."
                )
            item: dict[str, Any] = {
                "name": str(element["name"]),
                "optionFlags": str(as_int(element.get("optionFlags"), 0) or 0),
            }
            if isinstance(element.get("options"), dict):
                item["options"] = element["options"]
            kept.append(item)
        sections.append(
            {
                "name": str(section["name"]),
                "title": str(section["title"]),
                "type": "section",
                "elements": kept,
            }
        )
    return sections


@registry.method("crm.item.details.configuration.get")
def config_get(portal: Portal, params: dict[str, Any]) -> list[dict[str, Any]] | None:
    key = _target(portal, params, write=False)
    return _layouts(portal).get(key)


@registry.method("crm.item.details.configuration.set")
def config_set(portal: Portal, params: dict[str, Any]) -> bool:
    key = _target(portal, params)
    sections = _checked(pick(params, "data"))
    layouts = _layouts(portal)
    layouts[key] = sections
    _save(portal, layouts)
    return True


@registry.method("crm.item.details.configuration.reset")
def config_reset(portal: Portal, params: dict[str, Any]) -> bool:
    key = _target(portal, params)
    layouts = _layouts(portal)
    layouts.pop(key, None)
    _save(portal, layouts)
    return True


@registry.method("crm.item.details.configuration.forceCommonScopeForAll")
def config_force(portal: Portal, params: dict[str, Any]) -> bool:
    base = _target(portal, params, scoped=False)
    if not portal.admin:
        raise legacy("Access denied.")
    layouts = {k: v for k, v in _layouts(portal).items() if not k.startswith(base + "|P")}
    _save(portal, layouts)
    return True

"""Users and departments (``user.get``, ``user.current``, ``department.get``) and the methods a
webhook may not call at all (app-only automation: robots, triggers, workflow templates)."""

from __future__ import annotations

from typing import Any

from crmkit.sandbox.errors import ApiError, app_context_required
from crmkit.sandbox.listing import Page, apply_filter, apply_order, page_of
from crmkit.sandbox.params import as_mapping, pick
from crmkit.sandbox.portal import Portal, Registry
from crmkit.sandbox.store import Record

registry = Registry()

#: user.get's filter may also come as top-level keys; these are the call's own parameters
_USER_PARAMS = {"sort", "order", "filter", "admin_mode", "start", "select", "image_resize"}


def render_user(row: Record) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key in ("ACTIVE",) or isinstance(value, list):
            out[key] = value  # ACTIVE is a real boolean, UF_DEPARTMENT a list of numbers
        else:
            out[key] = None if value is None else str(value)
    return out


@registry.method("user.get", "user")
def user_get(portal: Portal, params: dict[str, Any]) -> Page:
    conditions = dict(as_mapping(pick(params, "filter"), "filter"))
    conditions.update({k: v for k, v in params.items() if k.lower() not in _USER_PARAMS})
    if "ACTIVE" in {k.upper() for k in conditions}:
        wanted = next(v for k, v in conditions.items() if k.upper() == "ACTIVE")
        conditions = {k: v for k, v in conditions.items() if k.upper() != "ACTIVE"}
        active = str(wanted).lower() in ("true", "y", "1")
        rows = [r for r in portal.store.rows("user") if r["ACTIVE"] is active]
    else:
        rows = portal.store.rows("user")
    rows = apply_filter(rows, conditions)
    # sort/order are plain strings here, not objects (user-get.md)
    sort = str(pick(params, "sort") or "ID")
    order = str(pick(params, "order") or "ASC")
    rows = apply_order(rows, {sort: order})
    page = page_of(rows, pick(params, "start"))
    return Page([render_user(r) for r in page.result], page.total, page.next)


@registry.method("user.current", "user")
def user_current(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    row = portal.store.get("user", portal.user_id)
    if row is None:
        raise ApiError("NOT_FOUND", "User not found")
    return render_user(row)


@registry.method("department.get", "department")
def department_get(portal: Portal, params: dict[str, Any]) -> Page:
    rows = portal.store.rows("department")
    rows = apply_filter(rows, {k: v for k, v in params.items() if k.upper() in ("ID", "PARENT")})
    page = page_of(rows, pick(params, "start"))
    out = [
        {k: (v if k == "SORT" else (None if v is None else str(v))) for k, v in r.items()}
        for r in page.result
    ]
    return Page(out, page.total, page.next)


@registry.method("bizproc.workflow.template.list", "bizproc")
def workflow_template_list(portal: Portal, params: dict[str, Any]) -> Page:
    return Page([], 0)  # the sandbox has no business processes


def _app_only(portal: Portal, params: dict[str, Any]) -> Any:
    raise app_context_required()


# webhooks cannot place robots, register triggers or upload workflow templates (§3.7)
for _name in (
    "bizproc.robot.add",
    "bizproc.robot.update",
    "bizproc.robot.delete",
    "bizproc.robot.list",
    "bizproc.workflow.template.add",
    "bizproc.workflow.template.update",
    "bizproc.workflow.template.delete",
):
    registry.method(_name, "bizproc")(_app_only)
for _name in (
    "crm.automation.trigger.add",
    "crm.automation.trigger.list",
    "crm.automation.trigger.delete",
    "crm.automation.trigger.execute",
):
    registry.method(_name, "crm")(_app_only)

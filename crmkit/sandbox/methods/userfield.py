"""User fields: ``crm.{lead,deal,contact,company}.userfield.*`` and ``userfieldconfig.*``.

Both families read and write the same fields. The legacy family normalises names (``UF_CRM_``
prefix, upper case), hides labels from ``list`` unless ``filter[LANG]`` is given and returns
lang maps from ``get``; ``userfieldconfig`` does no prefixing, speaks camelCase and pages.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from crmkit.sandbox.errors import ApiError, legacy
from crmkit.sandbox.listing import Page, apply_filter, apply_order, list_params, page_of
from crmkit.sandbox.params import as_int, as_yn, pick
from crmkit.sandbox.portal import LANGS, Portal, Registry
from crmkit.sandbox.store import Record

registry = Registry()

ENTITIES = {
    "lead": "CRM_LEAD",
    "deal": "CRM_DEAL",
    "contact": "CRM_CONTACT",
    "company": "CRM_COMPANY",
}
USER_TYPES = (
    "string",
    "integer",
    "double",
    "boolean",
    "datetime",
    "date",
    "money",
    "url",
    "address",
    "enumeration",
    "file",
    "employee",
    "crm_status",
    "iblock_section",
    "iblock_element",
    "crm",
)
LABELS = (
    "EDIT_FORM_LABEL",
    "LIST_COLUMN_LABEL",
    "LIST_FILTER_LABEL",
    "ERROR_MESSAGE",
    "HELP_MESSAGE",
)
#: userfieldconfig's camelCase names of the label fields
CAMEL_LABELS = {
    "EDIT_FORM_LABEL": "editFormLabel",
    "LIST_COLUMN_LABEL": "listColumnLabel",
    "LIST_FILTER_LABEL": "listFilterLabel",
    "ERROR_MESSAGE": "errorMessage",
    "HELP_MESSAGE": "helpMessage",
}
FLAGS = ("MULTIPLE", "MANDATORY", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE")
_FLAG_DEFAULTS = {
    "MULTIPLE": "N",
    "MANDATORY": "N",
    "SHOW_IN_LIST": "Y",
    "EDIT_IN_LIST": "Y",
    "IS_SEARCHABLE": "N",
}
_DEFAULT_SETTINGS: dict[str, dict[str, Any]] = {
    "string": {
        "SIZE": 20,
        "ROWS": 1,
        "REGEXP": "",
        "MIN_LENGTH": 0,
        "MAX_LENGTH": 0,
        "DEFAULT_VALUE": "",
    },
    "integer": {"SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "double": {"PRECISION": 2, "SIZE": 20, "MIN_VALUE": 0, "MAX_VALUE": 0, "DEFAULT_VALUE": None},
    "boolean": {"DEFAULT_VALUE": 0, "DISPLAY": "CHECKBOX", "LABEL": ["", ""], "LABEL_CHECKBOX": ""},
    "enumeration": {
        "DISPLAY": "LIST",
        "LIST_HEIGHT": 1,
        "CAPTION_NO_VALUE": "",
        "SHOW_NO_VALUE": "Y",
    },
    "date": {"DEFAULT_VALUE": {"VALUE": "", "TYPE": "NONE"}},
    "datetime": {
        "DEFAULT_VALUE": {"VALUE": "", "TYPE": "NONE"},
        "USE_SECOND": "Y",
        "USE_TIMEZONE": "N",
    },
    "crm": {"LEAD": "N", "CONTACT": "N", "COMPANY": "N", "DEAL": "N"},
}
_ENUM_KEYS = {"XMLID": "XML_ID"}
_NAME_CHARS = re.compile(r"^[A-Z0-9_]+$")
MAX_NAME = 50


# --- shared rules -------------------------------------------------------------------------
def _lang_map(value: Any, fallback: dict[str, str] | None) -> dict[str, str]:
    """A label as stored: one text per portal language."""
    if isinstance(value, dict):
        return {lang: str(value.get(lang, (fallback or {}).get(lang, "")) or "") for lang in LANGS}
    if value is None:
        return dict(fallback) if fallback else dict.fromkeys(LANGS, "")
    return dict.fromkeys(LANGS, str(value))


def _replace_map(value: Any) -> dict[str, str]:
    """On update a label *replaces* the old one: languages not passed become ''."""
    if isinstance(value, dict):
        return {lang: str(value.get(lang, "") or "") for lang in LANGS}
    return dict.fromkeys(LANGS, "" if value is None else str(value))


def _check_name(name: str, core_code: str) -> None:
    if len(name) > MAX_NAME:
        raise ApiError(core_code, f"The field name is too long (max. {MAX_NAME} characters).")
    if not _NAME_CHARS.match(name):
        raise ApiError(
            core_code,
            "The field name contains invalid characters. Only A-Z, 0-9 and _ are allowed.",
        )


def _enum_items(
    portal: Portal, items: Any, multiple: bool, known: list[Record] | None = None
) -> list[Record]:
    """Apply LIST/enum changes: items with ID update (``DEL=Y`` deletes), items without ID are
    added, items not mentioned stay; empty VALUEs are dropped silently."""
    result = [dict(i) for i in (known or [])]
    # anything but an array (a number, a string, true) carries no items, as in PHP's is_array
    if isinstance(items, dict):
        entries = list(items.values())
    elif isinstance(items, list):
        entries = items
    else:
        entries = []
    for raw in entries:
        if not isinstance(raw, dict):
            continue
        # LIST items are UPPER_CASE, userfieldconfig's enum items camelCase (xmlId)
        entry = {_ENUM_KEYS.get(str(k).upper(), str(k).upper()): v for k, v in raw.items()}
        iid = as_int(entry.get("ID"))
        if iid is not None:
            target = next((i for i in result if i["ID"] == iid), None)
            if target is None:
                continue
            if as_yn(entry.get("DEL")) == "Y":
                result.remove(target)
                continue
            for key in ("VALUE", "XML_ID"):
                if key in entry and entry[key] not in (None, ""):
                    target[key] = str(entry[key])
            if "SORT" in entry:
                target["SORT"] = as_int(entry["SORT"], target["SORT"])
            if "DEF" in entry:
                target["DEF"] = as_yn(entry["DEF"])
            continue
        value = str(entry.get("VALUE") or "").strip()
        if not value:
            continue
        new_id = portal.store.new_id("enum")
        xml_id = (
            str(entry.get("XML_ID") or "") or hashlib.md5(f"{new_id}:{value}".encode()).hexdigest()
        )
        result.append(
            {
                "ID": new_id,
                "VALUE": value,
                # an item sent without SORT sorts first: SORT 0 (crm-deal-userfield-add.md)
                "SORT": as_int(entry.get("SORT"), 0),
                "DEF": as_yn(entry.get("DEF")),
                "XML_ID": xml_id,
            }
        )
    seen: set[str] = set()
    for item in result:
        if item["XML_ID"] in seen:
            raise ApiError("ERROR_CORE", f"List item with XML_ID={item['XML_ID']} already exists")
        seen.add(item["XML_ID"])
    if not multiple:  # a single-value field has at most one default item: the first wins
        first = True
        for item in sorted(result, key=lambda i: (i["SORT"], i["ID"])):
            if item["DEF"] == "Y":
                item["DEF"] = "Y" if first else "N"
                first = False
    return sorted(result, key=lambda i: (i["SORT"], i["ID"]))


def _settings(user_type: str, given: Any, old: dict[str, Any] | None = None) -> dict[str, Any]:
    settings = dict(old) if old is not None else dict(_DEFAULT_SETTINGS.get(user_type, {}))
    if isinstance(given, dict):
        settings.update(given)  # only the keys passed are overwritten
    if (
        user_type == "crm"
        and old is None
        and not any(as_yn(settings.get(k)) == "Y" for k in ("LEAD", "CONTACT", "COMPANY", "DEAL"))
    ):
        settings["LEAD"] = "Y"  # no entity ticked: the portal assumes leads
    return settings


def _show_filter(value: Any, user_type: str) -> str:
    if as_yn(value) != "Y":
        return "N"
    return "I" if user_type == "employee" else "E"


def _create(
    portal: Portal,
    entity_id: str,
    name: str,
    user_type: str,
    fields: dict[str, Any],
    labels: dict[str, Any],
    items: Any,
) -> Record:
    multiple = as_yn(fields.get("MULTIPLE")) == "Y" and user_type != "boolean"
    base = labels.get("LABEL")
    fallback = _lang_map(base, None) if base is not None else None
    rid = portal.store.new_id("userfield")
    record: Record = {
        "ID": rid,
        "ENTITY_ID": entity_id,
        "FIELD_NAME": name,
        "USER_TYPE_ID": user_type,
        "XML_ID": str(fields.get("XML_ID") or "") or None,
        "SORT": max(as_int(fields.get("SORT"), 100) or 100, 1),
        "MULTIPLE": "Y" if multiple else "N",
        "MANDATORY": as_yn(fields.get("MANDATORY")),
        "SHOW_FILTER": _show_filter(fields.get("SHOW_FILTER"), user_type),
        # SHOW_IN_LIST defaults to N (crm-deal-userfield-add.md)
        "SHOW_IN_LIST": as_yn(fields.get("SHOW_IN_LIST"), "N"),
        "EDIT_IN_LIST": as_yn(fields.get("EDIT_IN_LIST"), "Y"),
        "IS_SEARCHABLE": as_yn(fields.get("IS_SEARCHABLE")),
        "SETTINGS": _settings(user_type, fields.get("SETTINGS")),
        "LABELS": {label: _lang_map(labels.get(label), fallback) for label in LABELS},
        "LIST": _enum_items(portal, items, multiple) if user_type == "enumeration" else [],
    }
    portal.store.put("userfield", rid, record)
    return record


def _update(
    portal: Portal,
    record: Record,
    fields: dict[str, Any],
    labels: dict[str, Any],
    items: Any,
    touch_items: bool,
) -> Record:
    # FIELD_NAME, USER_TYPE_ID, MULTIPLE and ENTITY_ID are immutable: silently kept
    for flag in ("MANDATORY", "SHOW_IN_LIST", "EDIT_IN_LIST", "IS_SEARCHABLE"):
        if flag in fields:
            record[flag] = as_yn(fields[flag])
    if "SHOW_FILTER" in fields:
        record["SHOW_FILTER"] = _show_filter(fields["SHOW_FILTER"], record["USER_TYPE_ID"])
    if "XML_ID" in fields:
        record["XML_ID"] = str(fields["XML_ID"] or "") or None
    if "SORT" in fields:
        record["SORT"] = max(as_int(fields["SORT"], record["SORT"]) or 1, 1)
    if "SETTINGS" in fields:
        record["SETTINGS"] = _settings(
            record["USER_TYPE_ID"], fields["SETTINGS"], record["SETTINGS"]
        )
    for label in LABELS:
        if label in labels:
            record["LABELS"][label] = _replace_map(labels[label])
    if touch_items and record["USER_TYPE_ID"] == "enumeration":
        record["LIST"] = _enum_items(portal, items, record["MULTIPLE"] == "Y", record["LIST"])
    portal.store.put("userfield", record["ID"], record)
    return record


def _duplicate(portal: Portal, entity_id: str, name: str) -> bool:
    return any(
        r["ENTITY_ID"] == entity_id and r["FIELD_NAME"] == name
        for r in portal.store.rows("userfield")
    )


# --- crm.<entity>.userfield.* ---------------------------------------------------------------
def normalise_name(raw: str) -> str:
    """``manager_note`` / ``UF_MANAGER_NOTE`` → ``UF_CRM_MANAGER_NOTE``; ``UF_CRM_X`` kept."""
    name = raw.strip().upper()
    if name.startswith("UF_CRM_"):
        return name
    if name.startswith("UF_"):
        return "UF_CRM_" + name[3:]
    return "UF_CRM_" + name


def _legacy_out(record: Record, lang: str | None, with_maps: bool) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ID": str(record["ID"]),
        "ENTITY_ID": record["ENTITY_ID"],
        "FIELD_NAME": record["FIELD_NAME"],
        "USER_TYPE_ID": record["USER_TYPE_ID"],
        "XML_ID": record["XML_ID"],
        "SORT": str(record["SORT"]),
        "MULTIPLE": record["MULTIPLE"],
        "MANDATORY": record["MANDATORY"],
        "SHOW_FILTER": record["SHOW_FILTER"],
        "SHOW_IN_LIST": record["SHOW_IN_LIST"],
        "EDIT_IN_LIST": record["EDIT_IN_LIST"],
        "IS_SEARCHABLE": record["IS_SEARCHABLE"],
        "SETTINGS": record["SETTINGS"],
    }
    if with_maps:
        for label in LABELS:
            out[label] = dict(record["LABELS"][label])
    elif lang is not None:
        for label in LABELS:
            out[label] = record["LABELS"][label].get(lang, "")
    if record["USER_TYPE_ID"] == "enumeration":
        out["LIST"] = [
            {
                "ID": str(i["ID"]),
                "SORT": str(i["SORT"]),
                "VALUE": i["VALUE"],
                "DEF": i["DEF"],
                "XML_ID": i["XML_ID"],
            }
            for i in record["LIST"]
        ]
    return out


def _legacy_record(portal: Portal, entity_id: str, params: dict[str, Any]) -> Record:
    rid = as_int(pick(params, "id"))
    if rid is None or rid <= 0:
        raise legacy("ID is not defined or invalid.")
    record = portal.store.get("userfield", rid)
    if record is None:
        raise ApiError("ERROR_NOT_FOUND", f"The entity with ID '{rid}' is not found.")
    if record["ENTITY_ID"] != entity_id:
        raise ApiError("ACCESS_DENIED", "Access denied.", 403)
    return record


def _register_legacy(entity: str, entity_id: str) -> None:
    prefix = f"crm.{entity}.userfield"

    @registry.method(f"{prefix}.list")
    def uf_list(portal: Portal, params: dict[str, Any]) -> Page:
        conditions, order, _ = list_params(params)
        lang = next((str(v) for k, v in conditions.items() if k.upper() == "LANG"), None)
        conditions = {k: v for k, v in conditions.items() if k.upper() != "LANG"}
        rows = [r for r in portal.store.rows("userfield") if r["ENTITY_ID"] == entity_id]
        rows = apply_filter(rows, conditions)
        rows = apply_order(rows, order or {"SORT": "ASC", "ID": "ASC"})
        out = [_legacy_out(r, lang, with_maps=False) for r in rows]
        return Page(out, len(out))  # not paged: every field in one answer

    @registry.method(f"{prefix}.get")
    def uf_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
        return _legacy_out(_legacy_record(portal, entity_id, params), None, with_maps=True)

    @registry.method(f"{prefix}.add")
    def uf_add(portal: Portal, params: dict[str, Any]) -> int:
        fields = pick(params, "fields")
        if not isinstance(fields, dict):
            raise legacy("The parameter 'fields' must be array.")
        fields = {str(k).upper(): v for k, v in fields.items()}
        raw_name = str(fields.get("FIELD_NAME") or "").strip()
        user_type = str(fields.get("USER_TYPE_ID") or "").strip()
        missing = []
        if not raw_name:
            missing.append("The 'FIELD_NAME' field is not found.")
        if not user_type:
            missing.append("The 'USER_TYPE_ID' field is not found.")
        if missing:
            raise legacy(*missing)
        name = normalise_name(raw_name)
        _check_name(name, "ERROR_CORE")
        if user_type not in USER_TYPES and not user_type.startswith("rest_"):
            raise ApiError("ERROR_CORE", f"The user type '{user_type}' is not registered.")
        if _duplicate(portal, entity_id, name):
            raise ApiError(
                "ERROR_CORE", f'The field "{name}" already exists for the object "{entity_id}".'
            )
        labels = {k: fields[k] for k in (*LABELS, "LABEL") if k in fields}
        record = _create(portal, entity_id, name, user_type, fields, labels, fields.get("LIST"))
        return int(record["ID"])

    @registry.method(f"{prefix}.update")
    def uf_update(portal: Portal, params: dict[str, Any]) -> bool:
        record = _legacy_record(portal, entity_id, params)
        fields = pick(params, "fields")
        if not isinstance(fields, dict):
            raise legacy("The parameter 'fields' must be array.")
        fields = {str(k).upper(): v for k, v in fields.items()}
        labels = {k: fields[k] for k in LABELS if k in fields}
        _update(portal, record, fields, labels, fields.get("LIST"), "LIST" in fields)
        return True

    @registry.method(f"{prefix}.delete")
    def uf_delete(portal: Portal, params: dict[str, Any]) -> bool:
        record = _legacy_record(portal, entity_id, params)
        portal.store.delete("userfield", record["ID"])
        return True


for _entity, _entity_id in ENTITIES.items():
    _register_legacy(_entity, _entity_id)


# --- userfieldconfig.* ------------------------------------------------------------------------
_CAMEL = {
    "entityId": "ENTITY_ID",
    "fieldName": "FIELD_NAME",
    "userTypeId": "USER_TYPE_ID",
    "xmlId": "XML_ID",
    "sort": "SORT",
    "multiple": "MULTIPLE",
    "mandatory": "MANDATORY",
    "showFilter": "SHOW_FILTER",
    "showInList": "SHOW_IN_LIST",
    "editInList": "EDIT_IN_LIST",
    "isSearchable": "IS_SEARCHABLE",
    "settings": "SETTINGS",
    "id": "ID",
}


def _config_out(record: Record) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": record["ID"],
        "entityId": record["ENTITY_ID"],
        "fieldName": record["FIELD_NAME"],
        "userTypeId": record["USER_TYPE_ID"],
        "xmlId": record["XML_ID"],
        "sort": record["SORT"],
        "multiple": record["MULTIPLE"],
        "mandatory": record["MANDATORY"],
        "showFilter": record["SHOW_FILTER"],
        "showInList": record["SHOW_IN_LIST"],
        "editInList": record["EDIT_IN_LIST"],
        "isSearchable": record["IS_SEARCHABLE"],
        "settings": record["SETTINGS"],
        "languageId": {lang: lang for lang in LANGS},
    }
    for label, camel in CAMEL_LABELS.items():
        out[camel] = dict(record["LABELS"][label])
    if record["USER_TYPE_ID"] == "enumeration":
        out["enum"] = [
            {
                "id": i["ID"],
                "userFieldId": record["ID"],
                "value": i["VALUE"],
                "def": i["DEF"],
                "sort": i["SORT"],
                "xmlId": i["XML_ID"],
            }
            for i in record["LIST"]
        ]
    return out


def _module(params: dict[str, Any]) -> None:
    module = pick(params, "moduleId")
    if not module:
        raise ApiError("100", "Could not find value for parameter {moduleId}")
    if str(module) != "crm":
        raise legacy("Access denied")


#: userfieldconfig.* answer an unknown (or deleted) id like a refusal: no "not found" (§7.3)
_CONFIG_REFUSALS = {
    "get": "You do not have permission to view user field settings",
    "update": "You cannot change the settings of the user field",
    "delete": "You cannot delete the user field",
}


def _config_record(portal: Portal, params: dict[str, Any], verb: str) -> Record:
    rid = as_int(pick(params, "id"))
    record = portal.store.get("userfield", rid) if rid is not None else None
    if record is None:
        raise legacy(_CONFIG_REFUSALS[verb])
    return record


def _upper_fields(field: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], Any]:
    fields = {_CAMEL[k]: v for k, v in field.items() if k in _CAMEL}
    labels = {upper: field[camel] for upper, camel in CAMEL_LABELS.items() if camel in field}
    items = field.get("enum")
    return fields, labels, items


def _field_param(params: dict[str, Any]) -> dict[str, Any]:
    field = pick(params, "field")
    if not isinstance(field, dict):
        raise ApiError("100", "Could not find value for parameter {field}")
    return field


@registry.method("userfieldconfig.add", "userfieldconfig", "crm")
def config_add(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _module(params)
    field = _field_param(params)
    fields, labels, items = _upper_fields(field)
    entity_id = str(fields.get("ENTITY_ID") or "")
    name = str(fields.get("FIELD_NAME") or "")
    user_type = str(fields.get("USER_TYPE_ID") or "")
    if not name:
        raise legacy("The 'FIELD_NAME' field is not found")
    if not entity_id or not name.startswith(f"UF_{entity_id}_"):
        # no prefixing here: the name must already carry UF_<entityId>_
        raise legacy("You cannot create custom fields")
    _check_name(name, "")
    if user_type not in USER_TYPES and not user_type.startswith("rest_"):
        raise legacy("Fail to create new user field")
    if _duplicate(portal, entity_id, name):
        raise legacy(f"Field {name} already exists")
    # add ignores showInList and the list/filter/error labels (userfieldconfig-add.md)
    fields.pop("SHOW_IN_LIST", None)
    for ignored in ("LIST_COLUMN_LABEL", "LIST_FILTER_LABEL", "ERROR_MESSAGE"):
        labels.pop(ignored, None)
    record = _create(portal, entity_id, name, user_type, fields, labels, items)
    return {"field": _config_out(record)}


@registry.method("userfieldconfig.update", "userfieldconfig", "crm")
def config_update(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _module(params)
    record = _config_record(portal, params, "update")
    field = _field_param(params)
    fields, labels, items = _upper_fields(field)
    # enum items are touched only when the call names the type as well
    touch = "enum" in field and field.get("userTypeId") == "enumeration"
    record = _update(portal, record, fields, labels, items, touch)
    return {"field": _config_out(record)}


@registry.method("userfieldconfig.get", "userfieldconfig", "crm")
def config_get(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _module(params)
    return {"field": _config_out(_config_record(portal, params, "get"))}


@registry.method("userfieldconfig.delete", "userfieldconfig", "crm")
def config_delete(portal: Portal, params: dict[str, Any]) -> None:
    _module(params)
    record = _config_record(portal, params, "delete")
    portal.store.delete("userfield", record["ID"])
    return None


def _config_getter(row: dict[str, Any], name: str) -> Any:
    return row.get(name)


@registry.method("userfieldconfig.list", "userfieldconfig", "crm")
def config_list(portal: Portal, params: dict[str, Any]) -> Page:
    _module(params)
    conditions, order, select = list_params(params)
    rows = [_config_out(r) for r in portal.store.rows("userfield")]
    rows = apply_filter(rows, conditions, _config_getter, fold_case=False)
    rows = apply_order(rows, order, _config_getter, id_field="id", fold_case=False)
    if select and "*" not in select:
        rows = [{k: v for k, v in r.items() if k in select or k == "id"} for r in rows]
    page = page_of(rows, pick(params, "start"))
    return Page({"fields": page.result}, page.total, page.next)


@registry.method("userfieldconfig.getTypes", "userfieldconfig", "crm")
def config_types(portal: Portal, params: dict[str, Any]) -> dict[str, Any]:
    _module(params)
    return {"types": [{"userTypeId": t, "description": t} for t in USER_TYPES]}


@registry.method("crm.userfield.types")
def crm_uf_types(portal: Portal, params: dict[str, Any]) -> list[dict[str, str]]:
    return [{"ID": t, "title": t} for t in USER_TYPES]

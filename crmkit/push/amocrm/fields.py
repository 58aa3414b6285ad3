"""amoCRM's custom-field types beside the blueprint's (Bitrix24's) vocabulary. Data, pure.

amoCRM's types: crm_platform/custom-fields, "Доступные типы полей"; which entity may hold which:
the table under it. Reading maps each amoCRM type onto the blueprint type that means the same;
writing picks the amoCRM type for a blueprint type. Several amoCRM types read as one blueprint
type (``text`` and ``textarea`` are both ``string``), so the reader keeps the amoCRM name too
(``FieldState.native_type``). A type with no counterpart is not pulled (the pull's header names
it) and not pushed (the plan marks it manual).
"""

from __future__ import annotations

#: amoCRM type → (blueprint type, multiple)
READ_TYPES: dict[str, tuple[str, bool]] = {
    "text": ("string", False),
    "textarea": ("string", False),
    "numeric": ("double", False),
    "checkbox": ("boolean", False),
    "select": ("enumeration", False),
    "radiobutton": ("enumeration", False),
    "multiselect": ("enumeration", True),
    "date": ("date", False),
    "birthday": ("date", False),
    "date_time": ("datetime", False),
    "url": ("url", False),
    "streetaddress": ("string", False),
    "smart_address": ("address", False),
    "monetary": ("money", False),
    "file": ("file", False),
}

#: blueprint type → amoCRM type (``enumeration`` with ``multiple`` → ``multiselect``); a type
#: missing here has no amoCRM counterpart (employee, crm_status, iblock_*, crm links)
WRITE_TYPES: dict[str, str] = {
    "string": "text",
    "integer": "numeric",
    "double": "numeric",
    "boolean": "checkbox",
    "enumeration": "select",
    "date": "date",
    "datetime": "date_time",
    "url": "url",
    "address": "smart_address",
    "money": "monetary",
    "file": "file",
}

#: the amoCRM entities whose fields a blueprint's fields land on: amoCRM keeps one entity for
#: leads and deals ("сделки", API ``leads``), so both the blueprint's lead and deal fields go
#: there and a pull reads them back as deal fields
ENTITY_PATHS: dict[str, str] = {"deal": "leads", "contact": "contacts", "company": "companies"}


def write_type(blueprint_type: str, multiple: bool) -> str | None:
    """The amoCRM type for a blueprint field, or None when amoCRM has none."""
    if blueprint_type == "enumeration" and multiple:
        return "multiselect"
    return WRITE_TYPES.get(blueprint_type)
